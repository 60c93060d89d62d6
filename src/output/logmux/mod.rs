//! Child pipes → whole prefixed lines on our stdout and stderr, with backpressure.
//!
//! Owns: the read ends of every instance's stdout and stderr pipes, or the master end of its
//! terminal (`tty = true`, read like a stdout pipe) (the *sources*), the framing of their
//! bytes into lines and 16 KiB pieces (`output::lines`), and our two outputs (the *sinks*).
//! formation's own lines go through the same path (`own`).
//!
//! Must not: know pids or instances; a source is a label, a stream and an fd. It never blocks:
//! the supervisor polls what [`LogMux::interest`] lists and calls [`LogMux::ready`].
//!
//! Backpressure: a source is read only while its sink holds less than `HIGH_WATER` bytes.
//! When our output is slow, the sinks fill, the pipes fill, and the children block in their
//! own `write` — no line is dropped, and the loop goes on serving signals and timers.
//!
//! Memory bound: each sink queue holds at most `HIGH_WATER` plus one formatted line; each
//! source keeps at most one read (`READ_SIZE`) plus one unfinished line (`MAX_LINE`), and
//! allocates nothing until its process writes.

use crate::output::format::{self, Style};
pub use crate::output::format::{LogFormat, Stream};
use crate::output::json;
pub use crate::output::lines::MAX_LINE;
use crate::output::lines::{self, frame};
use crate::output::sink::Sink;
use labels::Labels;
use nix::errno::Errno;
use nix::poll::PollFlags;
use sources::Sources;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// How much one `read` from a child takes.
const READ_SIZE: usize = 64 * 1024;
/// A source is not read while its sink holds this much.
const HIGH_WATER: usize = 64 * 1024;
/// At most this many reads of one pipe when its instance ends: 1 MiB, the largest pipe a
/// process may ask for without privilege (`/proc/sys/fs/pipe-max-size`).
const DRAIN_READS: usize = 1024 * 1024 / READ_SIZE;

/// What a poll entry of the mux is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token {
    /// The epoll set of the pipes of this stream: some of them are readable.
    Sources(Stream),
    /// Our stdout or stderr.
    Sink(Stream),
}

/// What the instances wrote on one stream, for the status listener's metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Whole lines emitted (a line cut into 16 KiB pieces counts once), or discarded unseen.
    pub lines: u64,
    /// Bytes read from the instances' pipes, newlines included.
    pub bytes: u64,
}

/// One of our outputs, opened on first use.
enum Lazy {
    /// Not needed yet.
    Unopened,
    /// Set up (None: the fd is not open at all, so output to it is dropped).
    Opened(Option<Sink>),
}

impl Lazy {
    /// The sink, setting it up on first use.
    fn open(&mut self, stream: Stream) -> Option<&mut Sink> {
        if let Lazy::Unopened = self {
            *self = Lazy::Opened(match stream {
                Stream::Stdout => Sink::new(std::io::stdout().as_fd()),
                Stream::Stderr => Sink::new(std::io::stderr().as_fd()),
            });
        }
        self.get_mut()
    }

    fn get(&self) -> Option<&Sink> {
        match self {
            Lazy::Opened(sink) => sink.as_ref(),
            Lazy::Unopened => None,
        }
    }

    fn get_mut(&mut self) -> Option<&mut Sink> {
        match self {
            Lazy::Opened(sink) => sink.as_mut(),
            Lazy::Unopened => None,
        }
    }
}

/// The log multiplexer.
pub struct LogMux {
    style: Style,
    /// Each instance's prefix and formation's own.
    labels: Labels,
    /// Single-command mode's own lines read `formation: text`, with no prefix column.
    plain_own: bool,
    /// Our stdout and stderr, set up on first use (single-command mode usually never writes).
    sinks: [Lazy; 2],
    sources: Sources,
    /// Ids of sources that hold whole lines back because their sink was full: what `pump`
    /// looks at (not every source, on every turn of the loop). An id may appear twice.
    held: Vec<usize>,
    scratch: Vec<u8>,
    /// A terminal's line without its colour sequences, reused from line to line.
    plain: Vec<u8>,
    /// Ready ids taken from an epoll set, reused from turn to turn.
    ready: Vec<usize>,
    /// Per label: text whose appearance in a line makes a `log` readiness check pass.
    watches: std::collections::HashMap<usize, Vec<u8>>,
    /// Labels whose watched text has appeared since [`LogMux::take_matches`].
    matched: Vec<usize>,
    /// Per stream (indexed by `Stream`): two additions per read and per line, nothing more.
    counts: [Counts; 2],
    /// Terminal masters read to their end (every holder of the slave closed it), by label,
    /// kept open until their instance ends ([`LogMux::drain`]): closing a master hangs its
    /// terminal up, which sends SIGHUP to the session — an instance that closed its stdout
    /// and stderr and goes on (`exec >/dev/null`, or coreutils closing them just before
    /// exit) would be killed by it.
    hung: Vec<(usize, OwnedFd)>,
}

impl LogMux {
    /// A mux writing to our fds 1 and 2. `names` are the instance names with their process
    /// type index (for the colour); label ids are indexes into it.
    pub fn new(style: Style, names: &[(String, usize)], plain_own: bool) -> LogMux {
        LogMux {
            labels: Labels::new(names, &style),
            style,
            plain_own,
            sinks: [Lazy::Unopened, Lazy::Unopened],
            sources: Sources::new(),
            held: Vec::new(),
            scratch: Vec::new(),
            plain: Vec::new(),
            ready: Vec::new(),
            watches: std::collections::HashMap::new(),
            matched: Vec::new(),
            counts: [Counts::default(); 2],
            hung: Vec::new(),
        }
    }

    /// Starts reading a child pipe (non-blocking) under `label`.
    pub fn add_source(&mut self, label: usize, stream: Stream, fd: OwnedFd) -> nix::Result<()> {
        self.sinks[stream as usize].open(stream);
        self.sources.add(label, stream, fd, false)
    }

    /// Starts reading the master end of a child's pseudo-terminal (non-blocking) under
    /// `label`: its lines go to our stdout (SPEC §5 `tty`).
    pub fn add_terminal(&mut self, label: usize, fd: OwnedFd) -> nix::Result<()> {
        self.sinks[Stream::Stdout as usize].open(Stream::Stdout);
        self.sources.add(label, Stream::Stdout, fd, true)
    }

    /// Sets label `id` for an instance added while running (`scale`, `reload`), named `name`
    /// with the colour of type `type_index`, at its spawn ([`Labels::set`]).
    pub fn label(&mut self, id: usize, name: &str, type_index: usize) {
        self.labels.set(id, name, type_index, &self.style);
    }

    /// What the instances wrote so far: stdout's counts, then stderr's.
    pub fn counts(&self) -> [Counts; 2] {
        self.counts
    }

    /// Watches label `label`'s lines for `text` (once: the watch ends at the first match).
    pub fn watch(&mut self, label: usize, text: &str) {
        self.watches.insert(label, text.as_bytes().to_vec());
    }

    /// The labels whose watched text appeared since the last call.
    pub fn take_matches(&mut self) -> Vec<usize> {
        std::mem::take(&mut self.matched)
    }

    /// How many child pipes are still open or hold unwritten lines.
    pub fn open_sources(&self) -> usize {
        self.sources.open()
    }

    /// One of formation's own lines, on our stderr. It is queued even past the high-water
    /// mark: there are few of them, and they must not be lost.
    pub fn own(&mut self, text: &str) {
        let Some(sink) = self.sinks[Stream::Stderr as usize].open(Stream::Stderr) else {
            return;
        };
        if self.plain_own && self.style.format == LogFormat::Text {
            let queue = sink.queue();
            queue.extend_from_slice(b"formation: ");
            queue.extend_from_slice(text.as_bytes());
            queue.push(b'\n');
        } else {
            let time = format::now();
            let payload = text.as_bytes();
            format::line(
                sink.queue(),
                &self.style,
                self.labels.own(),
                Stream::Stderr,
                payload,
                false,
                &time,
            );
        }
        sink.flush(false);
    }

    /// The fds to poll and for what: the pipes of each stream whose sink has room (one epoll
    /// fd per stream), sinks with bytes waiting. At most four, however many pipes there are.
    pub fn interest(&self) -> impl Iterator<Item = (Token, BorrowedFd<'_>, PollFlags)> {
        let sources = [Stream::Stdout, Stream::Stderr]
            .into_iter()
            .filter(|stream| self.has_room(*stream))
            .filter_map(|stream| {
                let fd = self.sources.set_fd(stream)?;
                Some((Token::Sources(stream), fd, PollFlags::POLLIN))
            });
        let sinks = [Stream::Stdout, Stream::Stderr]
            .into_iter()
            .filter_map(|stream| {
                let sink = self.sinks[stream as usize].get()?;
                sink.wants_write()
                    .then(|| (Token::Sink(stream), sink.fd(), PollFlags::POLLOUT))
            });
        sources.chain(sinks)
    }

    fn has_room(&self, stream: Stream) -> bool {
        self.sinks[stream as usize]
            .get()
            .is_none_or(|sink| sink.backlog() < HIGH_WATER)
    }

    /// Acts on a poll result for `token`.
    pub fn ready(&mut self, token: Token) {
        match token {
            Token::Sources(stream) => {
                let mut ready = std::mem::take(&mut self.ready);
                self.sources.ready(stream, &mut ready);
                for id in ready.drain(..) {
                    self.read(id);
                }
                self.ready = ready;
            }
            Token::Sink(stream) => {
                if let Some(sink) = self.sinks[stream as usize].get_mut() {
                    sink.flush(true);
                }
            }
        }
    }

    /// Emits lines that were held back while a sink was full, now that it may have room. The
    /// supervisor calls this once per turn of the loop, before it sleeps: so this goes on
    /// while the sinks take what it emits. It stops with lines still held only when a sink
    /// holds a backlog — which the sink's POLLOUT then wakes the loop for. (Stopping earlier
    /// could sleep forever: a sink that took everything at once asks for no POLLOUT, and
    /// pipes at EOF have no fd to wake the loop.)
    pub fn pump(&mut self) {
        self.say_failures(false);
        while !self.held.is_empty() {
            let mut held = std::mem::take(&mut self.held);
            held.sort_unstable();
            held.dedup();
            let mut progress = false;
            for id in held {
                let Some(source) = self.sources.get(id) else {
                    continue;
                };
                let before = source.pending.len();
                if before == 0 {
                    continue;
                }
                if self.has_room(source.stream) {
                    self.emit(id, false);
                    progress |= self
                        .sources
                        .get(id)
                        .is_none_or(|s| s.pending.len() < before);
                } else {
                    // Still no room: look again once the sink has written some.
                    self.held.push(id);
                }
            }
            if !progress {
                return;
            }
        }
    }

    /// Reads once from source `id` and emits the whole lines it completes.
    fn read(&mut self, id: usize) {
        if self.fill(id) != Fill::Nothing {
            self.emit(id, false);
        }
    }

    /// Reads once from source `id` into its pending bytes; closes it at EOF.
    fn fill(&mut self, id: usize) -> Fill {
        let Some(source) = self.sources.get_mut(id) else {
            return Fill::Nothing;
        };
        let Some(fd) = source.fd.as_ref() else {
            return Fill::Nothing;
        };
        self.scratch.resize(READ_SIZE, 0);
        match nix::unistd::read(fd, &mut self.scratch) {
            Ok(0) => {}
            Ok(n) => {
                source.pending.extend_from_slice(&self.scratch[..n]);
                self.counts[source.stream as usize].bytes += n as u64;
                return Fill::Data;
            }
            Err(Errno::EAGAIN | Errno::EINTR) => return Fill::Nothing,
            // EIO and the like: treat as the end of the stream.
            Err(_) => {}
        }
        let (label, tty) = (source.label, source.tty);
        if let Some(master) = self.sources.close(id).filter(|_| tty) {
            self.hung.push((label, master));
        }
        Fill::End
    }

    /// Emits the whole lines of source `id` while its sink has room (all of them with
    /// `force`), the last unfinished one too once the source is at EOF; forgets the source
    /// when nothing of it is left.
    fn emit(&mut self, id: usize, force: bool) {
        let Some(source) = self.sources.get_mut(id) else {
            return;
        };
        let at_eof = source.fd.is_none();
        if let Some(needle) = self.watches.get(&source.label) {
            // Lines are looked at before framing: a match needs no sink with room.
            let whole = match source.pending.iter().rposition(|b| *b == b'\n') {
                Some(end) => &source.pending[..end],
                None if at_eof => &source.pending[..],
                None => &[][..],
            };
            if crate::output::lines::contains(whole, needle) {
                self.matched.push(source.label);
                self.watches.remove(&source.label);
            }
        }
        let sink = self.sinks[source.stream as usize].get_mut();
        let lines = &mut self.counts[source.stream as usize].lines;
        let used = match sink {
            Some(sink) if !sink.is_closed() => {
                let label = self.labels.get(source.label);
                let (style, stream) = (&self.style, source.stream);
                let time = format::now_if(style.timestamps || style.format == LogFormat::Json);
                // Room as `has_room` counts it: bytes not yet written (the queue also keeps
                // written ones until it is compacted).
                let room = HIGH_WATER.saturating_sub(sink.backlog());
                let queue = sink.queue();
                let limit = queue.len() + room;
                let held = &mut self.held;
                let json = style.format == LogFormat::Json;
                let mid_line = &mut source.mid_line;
                // SPEC §5: a terminal's colours stay only where ours are on.
                let strip = source.tty && (json || !style.color[stream as usize]);
                let plain = &mut self.plain;
                let used = frame(&source.pending, at_eof, source.tty, |piece, partial| {
                    if !force && queue.len() >= limit {
                        held.push(id);
                        return false;
                    }
                    let piece = if strip {
                        plain.clear();
                        lines::strip_colours(piece, plain);
                        &plain[..]
                    } else {
                        piece
                    };
                    // SPEC §5: a whole line (not the last piece of a cut one) that is one JSON
                    // object is merged with formation's fields instead of escaped.
                    let object = (json && !partial && !*mid_line)
                        .then(|| json::object(piece))
                        .flatten();
                    match object {
                        Some(obj) => format::merged(queue, label, stream, piece, &obj, &time),
                        None => format::line(queue, style, label, stream, piece, partial, &time),
                    }
                    *mid_line = partial;
                    *lines += u64::from(!partial);
                    true
                });
                sink.flush(false);
                used
            }
            // Nobody reads this output: consume everything unseen (but count it).
            _ => {
                let pending = &source.pending;
                let newlines = memchr::memchr_iter(b'\n', pending).count();
                let unfinished = at_eof && !pending.is_empty() && !pending.ends_with(b"\n");
                *lines += (newlines + usize::from(unfinished)) as u64;
                pending.len()
            }
        };
        source.pending.drain(..used);
        self.sources.settle(id);
    }
}

/// What one read from a pipe gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fill {
    /// Bytes, now pending.
    Data,
    /// Nothing for now (or no pipe any more).
    Nothing,
    /// Its end: the source is closed.
    End,
}

/// The name of formation's own lines.
pub const OWN_NAME: &str = "formation";

mod end;
mod labels;
mod sources;
#[cfg(test)]
mod tests;
