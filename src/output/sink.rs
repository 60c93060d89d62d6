//! Our stdout or stderr as a destination that never blocks the loop.
//!
//! Owns: a queue of formatted bytes for one of our outputs and the writes that empty it.
//!
//! Must not: read from children or format lines.
//!
//! The design problem: `O_NONBLOCK` is a flag of the *open file description*, which fd 1
//! shares with whoever else holds it (the shell, `docker logs`' pipe, a sibling). Setting it
//! on fd 1 itself would make their writes fail with EAGAIN. So formation leaves fd 1 and 2
//! alone and picks, once at start-up, by what the fd is:
//! - a pipe, FIFO or terminal: open `/proc/self/fd/N` again, which gives a *new* open file
//!   description of the same pipe or terminal that is ours alone, and make that non-blocking
//!   (`O_NOCTTY`, so PID 1 never acquires a controlling terminal by it);
//! - a socket: `send(MSG_DONTWAIT)`, which is non-blocking per call;
//! - a regular file or /dev/null: plain writes, which do not block for long;
//! - a pipe or terminal that cannot be reopened (no /proc, or a pipe owned by another user):
//!   one write of at most PIPE_BUF bytes each time poll reports POLLOUT, which a pipe accepts
//!   without blocking.
//!
//! Each write starts at a line boundary; within PIPE_BUF, a pipe write is atomic.

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::sys::socket::{MsgFlags, send};
use nix::sys::stat::{Mode, SFlag, fstat};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

/// Atomic pipe write size on Linux (pipe(7)).
const PIPE_BUF: usize = 4096;

/// How writes reach the fd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Our own non-blocking open file description.
    Own,
    /// A socket: `send` with MSG_DONTWAIT.
    Socket,
    /// A file: plain writes.
    File,
    /// A pipe or terminal we could not reopen: ≤ PIPE_BUF per POLLOUT.
    Chunked,
}

/// One of our outputs with the bytes waiting for it.
pub struct Sink {
    fd: OwnedFd,
    kind: Kind,
    queue: Vec<u8>,
    /// How much of `queue` is already written.
    sent: usize,
    /// The reader is gone (EPIPE or another write error): output is discarded from now on.
    closed: bool,
    /// The output fails for now (a full disk, EIO) and may work again: since when (the
    /// error) and how many lines were dropped since.
    failing: Option<(Errno, usize)>,
    /// What the owner should say about failures, in order.
    notices: Vec<Notice>,
}

/// A change in how an output fails, for one of formation's own lines (issue #26).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    /// Writes began to fail with this error: lines are dropped (and counted) from now on.
    Failing(Errno),
    /// Writes failing with this error dropped this many lines; they work again, or formation
    /// is exiting.
    Dropped(Errno, usize),
}

impl Notice {
    /// The line about output `name` (stdout, stderr).
    pub fn describe(self, name: &str) -> String {
        match self {
            Notice::Failing(errno) => format!(
                "{name}: cannot write ({}): its lines are dropped and counted until it can be written again",
                describe(errno)
            ),
            Notice::Dropped(errno, lines) => {
                format!("{name}: {lines} line(s) dropped ({})", describe(errno))
            }
        }
    }
}

/// An errno as the lines say it: `no space left on device (ENOSPC)`.
fn describe(errno: Errno) -> String {
    format!("{} ({errno:?})", errno.desc().to_ascii_lowercase())
}

/// Errors after which an output may work again: a full disk or quota (a log driver's file,
/// a `> file` on a small tmpfs) frees up, a file under its size limit again, a terminal or
/// device error. Anything else (EPIPE: the reader is gone) closes the output for good.
fn transient(errno: Errno) -> bool {
    matches!(
        errno,
        Errno::ENOSPC | Errno::EDQUOT | Errno::EFBIG | Errno::EIO
    )
}

impl Sink {
    /// Sets up writing to `fd` (1 or 2). Returns None when the fd is not open at all.
    pub fn new(fd: BorrowedFd<'_>) -> Option<Sink> {
        let stat = fstat(fd).ok()?;
        let file_type = SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT;
        let (fd, kind) = if file_type == SFlag::S_IFIFO || file_type == SFlag::S_IFCHR {
            let path = format!("/proc/self/fd/{}", fd.as_raw_fd());
            let flags = OFlag::O_WRONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
            if file_type == SFlag::S_IFIFO {
                widen_pipe(fd);
            }
            match open(path.as_str(), flags, Mode::empty()) {
                Ok(own) => (own, Kind::Own),
                Err(_) => (fd.try_clone_to_owned().ok()?, Kind::Chunked),
            }
        } else if file_type == SFlag::S_IFSOCK {
            (fd.try_clone_to_owned().ok()?, Kind::Socket)
        } else {
            (fd.try_clone_to_owned().ok()?, Kind::File)
        };
        Some(Sink {
            fd,
            kind,
            queue: Vec::new(),
            sent: 0,
            closed: false,
            failing: None,
            notices: Vec::new(),
        })
    }

    /// The bytes not yet written; formatters append here.
    pub fn queue(&mut self) -> &mut Vec<u8> {
        &mut self.queue
    }

    /// How many bytes wait to be written.
    pub fn backlog(&self) -> usize {
        self.queue.len() - self.sent
    }

    /// Gives up on what is still queued: how many lines it held (a piece of a line counts as
    /// one).
    pub fn drop_queue(&mut self) -> usize {
        let left = &self.queue[self.sent..];
        let lines = memchr::memchr_iter(b'\n', left).count();
        let partial = usize::from(left.last().is_some_and(|b| *b != b'\n'));
        self.queue.clear();
        self.sent = 0;
        lines + partial
    }

    /// What to say about this output's failures since the last call. `at_exit`: formation
    /// is exiting, so a failure still going on is counted now.
    pub fn take_notices(&mut self, at_exit: bool) -> Vec<Notice> {
        if at_exit && let Some((errno, dropped)) = self.failing.take() {
            self.notices.push(Notice::Dropped(errno, dropped));
        }
        std::mem::take(&mut self.notices)
    }

    /// True once the reader is gone; callers may skip formatting.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// True when the loop should poll this fd for POLLOUT.
    pub fn wants_write(&self) -> bool {
        !self.closed && self.backlog() > 0
    }

    /// The fd to poll.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Writes what it can without blocking. `ready` is true when poll reported POLLOUT; a
    /// `Chunked` sink writes only then.
    pub fn flush(&mut self, ready: bool) {
        if self.closed {
            self.queue.clear();
            self.sent = 0;
            return;
        }
        while self.sent < self.queue.len() {
            let pending = &self.queue[self.sent..];
            let result = match self.kind {
                Kind::Own | Kind::File => nix::unistd::write(&self.fd, pending),
                Kind::Socket => send(
                    self.fd.as_raw_fd(),
                    pending,
                    MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL,
                ),
                Kind::Chunked if ready => nix::unistd::write(&self.fd, chunk(pending)),
                Kind::Chunked => break,
            };
            match result {
                Ok(n) => {
                    self.sent += n;
                    if let Some((errno, dropped)) = self.failing.take() {
                        self.notices.push(Notice::Dropped(errno, dropped));
                    }
                }
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => break,
                Err(errno) if transient(errno) => {
                    // Nothing blocks and nothing piles up: what is queued is dropped and
                    // counted, and the next line tries again.
                    let lines = self.drop_queue();
                    match self.failing.as_mut() {
                        Some((_, dropped)) => *dropped += lines,
                        None => {
                            self.failing = Some((errno, lines));
                            self.notices.push(Notice::Failing(errno));
                        }
                    }
                    return;
                }
                Err(_) => {
                    // EPIPE and the like: nobody reads our output any more. Supervision goes
                    // on (SPEC §5); what is written from now on is dropped.
                    self.closed = true;
                    self.queue = Vec::new();
                    self.sent = 0;
                    return;
                }
            }
            if self.kind == Kind::Chunked {
                break;
            }
        }
        if self.sent == self.queue.len() {
            self.queue.clear();
            self.sent = 0;
        } else if self.sent >= self.queue.len() / 2 {
            self.queue.drain(..self.sent);
            self.sent = 0;
        }
    }
}

/// Pipe capacity we ask for on our stdout/stderr pipe. The default 64 KiB couples formation
/// tightly to a reader that drains in bursts (docker's log copier, a `| tee`); 1 MiB (the
/// unprivileged maximum, /proc/sys/fs/pipe-max-size) lets both sides run at full speed.
const PIPE_SIZE: i32 = 1 << 20;

/// Grows the pipe behind `fd` to [`PIPE_SIZE`] if it is smaller. Growing a pipe that others
/// share only gives them more buffer; failure (EPERM over a lowered limit) is harmless.
fn widen_pipe(fd: BorrowedFd<'_>) {
    use nix::fcntl::{FcntlArg, fcntl};
    if fcntl(fd, FcntlArg::F_GETPIPE_SZ).is_ok_and(|size| size < PIPE_SIZE) {
        let _ = fcntl(fd, FcntlArg::F_SETPIPE_SZ(PIPE_SIZE));
    }
}

/// The longest prefix of `pending` that fits in PIPE_BUF and ends at a line end, if any.
fn chunk(pending: &[u8]) -> &[u8] {
    let head = &pending[..pending.len().min(PIPE_BUF)];
    match memchr::memrchr(b'\n', head) {
        Some(end) if head.len() < pending.len() => &head[..=end],
        _ => head,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_end_at_a_line_end_within_pipe_buf() {
        let mut data = vec![b'a'; 3000];
        data.push(b'\n');
        data.extend(vec![b'b'; 3000]);
        data.push(b'\n');
        assert_eq!(chunk(&data).len(), 3001);
        assert_eq!(chunk(&data[..100]).len(), 100);
        let long = vec![b'c'; 10_000];
        assert_eq!(chunk(&long).len(), PIPE_BUF);
    }

    /// A terminal whose other side is gone fails with EIO: lines are dropped and counted, the
    /// sink stays open, and it says so once when it begins and once with the count.
    #[test]
    fn eio_drops_and_counts_lines_without_closing() {
        let pty = nix::pty::openpty(None, None).expect("openpty");
        drop(pty.master);
        let mut sink = Sink::new(pty.slave.as_fd()).expect("sink");
        for _ in 0..3 {
            sink.queue().extend_from_slice(b"one\ntwo\n");
            sink.flush(true);
            assert!(!sink.is_closed() && !sink.wants_write(), "nothing waits");
        }
        assert_eq!(sink.take_notices(false), [Notice::Failing(Errno::EIO)]);
        assert_eq!(sink.take_notices(true), [Notice::Dropped(Errno::EIO, 6)]);
        assert_eq!(
            Notice::Dropped(Errno::EIO, 6).describe("stdout"),
            "stdout: 6 line(s) dropped (i/o error (EIO))"
        );
    }

    /// /dev/full fails every write with ENOSPC; an output that works again ends the count.
    #[test]
    fn a_full_disk_is_counted_until_writes_work_again() {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let mut sink = Sink::new(full.as_fd()).expect("sink");
        sink.queue().extend_from_slice(b"a\nb\npartial");
        sink.flush(true);
        assert_eq!(sink.take_notices(false), [Notice::Failing(Errno::ENOSPC)]);
        // The same sink on a file that takes writes: the failure is over.
        let ok = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/null")
            .expect("/dev/null");
        sink.fd = ok.into();
        sink.queue().extend_from_slice(b"c\n");
        sink.flush(true);
        assert_eq!(sink.take_notices(true), [Notice::Dropped(Errno::ENOSPC, 3)]);
        assert_eq!(
            Notice::Failing(Errno::ENOSPC).describe("stdout"),
            "stdout: cannot write (no space left on device (ENOSPC)): its lines are dropped and counted until it can be written again"
        );
    }
}
