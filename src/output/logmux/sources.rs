//! The child pipes the mux reads, kept so that no turn of the loop costs more with 20,000
//! pipes than with 2.
//!
//! Owns: the table of sources (id → label, stream, fd, unemitted bytes), the reuse of free
//! ids, and one epoll set per stream in which every open pipe is registered once, when it is
//! added, and leaves once, at its end.
//!
//! Why epoll and one set per stream: a `poll` set rebuilt each turn costs O(pipes) per turn,
//! and the stop of a formation takes a turn per batch of exits — quadratic (measured: stop of
//! 9,000 instances, 18,000 pipes, spent most of its loop building poll sets). Here the
//! supervisor polls two epoll fds, which are readable when any pipe of their set is, and
//! `epoll_wait` hands over only the pipes that are. Backpressure stays per stream: while a
//! stream's sink is full, the supervisor leaves that stream's set out of its poll — one
//! decision, not one per pipe. A single pipe whose unemitted bytes exceed one line is
//! disarmed (registered with no events) until they are emitted.

use super::{MAX_LINE, Stream};
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// At most this many ready pipes are taken per call; level-triggered epoll keeps the rest
/// (and rotates its ready list, so every pipe gets its turn).
const BATCH: usize = 256;

/// One child pipe.
pub(super) struct Source {
    pub label: usize,
    pub stream: Stream,
    /// None after EOF.
    pub fd: Option<OwnedFd>,
    /// Bytes read but not yet emitted: an unfinished line, or lines held back by a full sink.
    pub pending: Vec<u8>,
    /// The master end of a pseudo-terminal (`tty = true`), not a pipe: its lines end in
    /// `\r\n`, and its colours may have to go.
    pub tty: bool,
    /// The last piece emitted was cut from a line that goes on: the next piece is not a
    /// whole line (and so never a JSON object to merge).
    pub mid_line: bool,
    /// Registered for input (false: registered with no events, or no fd).
    armed: bool,
}

/// The sources, by id.
pub(super) struct Sources {
    list: Vec<Option<Source>>,
    /// Ids of `list` that are free, for reuse: an add costs the same at 20,000 sources as
    /// at 2 (a scan for a free entry made starting N instances quadratic).
    free: Vec<usize>,
    /// How many entries of `list` are in use (open, or holding unemitted bytes).
    open: usize,
    /// Per stream: the epoll set of its open pipes (created with its first pipe: single-command
    /// mode has none), and how many are in it.
    sets: [Option<(Epoll, usize)>; 2],
    /// Per label: the id of its latest stdout and stderr source ([`NONE`]: none in use), so
    /// that the pipes of one instance are found without a scan of all of them.
    by_label: Vec<[u32; 2]>,
}

/// No source, in [`Sources::by_label`].
const NONE: u32 = u32::MAX;

impl Sources {
    /// An empty table.
    pub fn new() -> Sources {
        Sources {
            list: Vec::new(),
            free: Vec::new(),
            open: 0,
            sets: [None, None],
            by_label: Vec::new(),
        }
    }

    /// Adds a pipe. When it cannot be registered (no fd or memory left for the epoll set), the
    /// pipe is dropped — its writer then sees EPIPE rather than a pipe that nobody reads — and
    /// the error is returned.
    pub fn add(&mut self, label: usize, stream: Stream, fd: OwnedFd, tty: bool) -> nix::Result<()> {
        let id = self.free.last().copied().unwrap_or(self.list.len());
        let slot = &mut self.sets[stream as usize];
        if slot.is_none() {
            *slot = Some((Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?, 0));
        }
        let Some((set, members)) = slot else {
            return Err(nix::errno::Errno::EBADF);
        };
        set.add(fd.as_fd(), EpollEvent::new(EpollFlags::EPOLLIN, id as u64))?;
        *members += 1;
        let source = Source {
            label,
            stream,
            fd: Some(fd),
            pending: Vec::new(),
            tty,
            mid_line: false,
            armed: true,
        };
        match self.free.pop() {
            Some(free) => self.list[free] = Some(source),
            None => self.list.push(Some(source)),
        }
        if self.by_label.len() <= label {
            self.by_label.resize(label + 1, [NONE; 2]);
        }
        self.by_label[label][stream as usize] = u32::try_from(id).unwrap_or(NONE);
        self.open += 1;
        Ok(())
    }

    /// The ids of label `label`'s latest sources still in use (its stdout's, its stderr's).
    pub fn of_label(&self, label: usize) -> impl Iterator<Item = usize> + use<> {
        let ids = self.by_label.get(label).copied().unwrap_or([NONE; 2]);
        ids.into_iter()
            .filter(|&id| id != NONE)
            .map(|id| id as usize)
    }

    pub fn get(&self, id: usize) -> Option<&Source> {
        self.list.get(id)?.as_ref()
    }

    pub fn get_mut(&mut self, id: usize) -> Option<&mut Source> {
        self.list.get_mut(id)?.as_mut()
    }

    /// Every id that may be in use.
    pub fn ids(&self) -> std::ops::Range<usize> {
        0..self.list.len()
    }

    /// How many sources are open or hold unemitted bytes.
    pub fn open(&self) -> usize {
        self.open
    }

    /// The epoll fd of `stream`'s pipes, when it has any.
    pub fn set_fd(&self, stream: Stream) -> Option<BorrowedFd<'_>> {
        match &self.sets[stream as usize] {
            Some((set, members)) if *members > 0 => Some(set.0.as_fd()),
            _ => None,
        }
    }

    /// Ids of `stream`'s pipes that are readable (or at EOF) now, into `out`.
    pub fn ready(&self, stream: Stream, out: &mut Vec<usize>) {
        let Some((set, _)) = &self.sets[stream as usize] else {
            return;
        };
        let mut events = [EpollEvent::empty(); BATCH];
        let n = set.wait(&mut events, EpollTimeout::ZERO).unwrap_or(0);
        out.extend(events[..n].iter().map(|e| e.data() as usize));
    }

    /// Source `id`'s pipe reached its end: it leaves its set, and its fd is given back (to
    /// be dropped, or kept: a terminal's master).
    pub fn close(&mut self, id: usize) -> Option<OwnedFd> {
        let Some(Some(source)) = self.list.get_mut(id) else {
            return None;
        };
        let fd = source.fd.take();
        if let (Some(fd), Some((set, members))) = (&fd, &mut self.sets[source.stream as usize]) {
            let _ = set.delete(fd.as_fd());
            *members -= 1;
        }
        source.armed = false;
        fd
    }

    /// Arms source `id` while it holds at most one line's worth of unemitted bytes, disarms
    /// it beyond; forgets it once it is closed and holds nothing.
    pub fn settle(&mut self, id: usize) {
        let Some(Some(source)) = self.list.get_mut(id) else {
            return;
        };
        match &source.fd {
            None if source.pending.is_empty() => {
                if let Some(ids) = self.by_label.get_mut(source.label)
                    && ids[source.stream as usize] == id as u32
                {
                    ids[source.stream as usize] = NONE;
                }
                self.list[id] = None;
                self.free.push(id);
                self.open -= 1;
            }
            None => {}
            Some(fd) => {
                let want = source.pending.len() <= MAX_LINE;
                if want != source.armed {
                    let flags = if want {
                        EpollFlags::EPOLLIN
                    } else {
                        EpollFlags::empty()
                    };
                    let mut event = EpollEvent::new(flags, id as u64);
                    let set = &self.sets[source.stream as usize];
                    if let Some((set, _)) = set
                        && set.modify(fd.as_fd(), &mut event).is_ok()
                    {
                        source.armed = want;
                    }
                }
            }
        }
    }
}
