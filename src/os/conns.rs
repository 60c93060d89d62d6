//! Stream connections served from the loop: what the status listener (SPEC §9) and the
//! control socket (§10) share — accepting, the connection limit, one request read whole
//! within a deadline, the answer written as the peer takes it, and the linger after it.
//!
//! Owns: a listening socket and its connections, each with a poll token ([`Token`]), its
//! buffer and its deadline; the limits — at most `max_conns` open connections (more are
//! closed at once), `idle` for a whole request, `idle` of silence while an answer is written,
//! [`LINGER`] after it.
//!
//! Must not: block the loop or decide what to answer. Every socket is non-blocking, each poll
//! readiness is met with one `read`, `write` or a bounded run of `accept`s. Whether the bytes
//! so far are a whole request is the protocol's (`Limits::complete`); the answer is the
//! caller's, handed back with [`Server::answer`].
//!
//! Kernel facts relied on:
//! - poll is level-triggered: a socket left with bytes unread is reported again next turn,
//!   so one read per readiness is enough and no client can hold the loop in a read loop.
//! - closing a TCP socket with unread received bytes sends RST, which can destroy the answer
//!   in flight (an over-long request answered while its sender is still sending). So after
//!   the answer we shut our side for writing — a FIN after the answer — and read and discard
//!   until the peer's EOF, for at most [`LINGER`].
//! - accept failing for lack of fds (EMFILE, ENFILE) leaves the listening socket readable:
//!   polling it again at once would spin, so accepting pauses for [`PAUSE`].
//! - A request is read whole within `idle` of the accept, whatever its pace: a client sending
//!   a byte a second (slowloris) does not keep its connection.
//! - An answer that goes on (`--wait`) is polled for no event while nothing is left to
//!   write: poll still reports POLLHUP when the peer closes its socket, and a peer that only
//!   shut its writing side (POLLIN at EOF) cannot make the loop spin.

use nix::poll::PollFlags;
use std::io::ErrorKind;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

/// How long after its answer a connection is read and discarded, waiting for the peer's EOF.
const LINGER: Duration = Duration::from_secs(1);
/// How long accepting pauses after accept failed for lack of resources.
const PAUSE: Duration = Duration::from_millis(100);
/// The most connections taken from the accept queue per turn of the loop.
const ACCEPTS_PER_TURN: usize = 256;

/// A listening socket.
pub trait Socket: AsFd {
    /// Its connections.
    type Stream: Stream;
    /// Takes one connection from the queue (non-blocking, close-on-exec).
    fn accept(&self) -> std::io::Result<Self::Stream>;
    /// Whether to serve this peer (checked before a byte of it is read): its identity, or
    /// the bytes to send it before closing, and why.
    fn admit(&self, stream: &Self::Stream) -> Admit;
}

/// A connection's byte stream.
pub trait Stream: AsFd {
    fn recv(&mut self, buf: &mut [u8]) -> std::io::Result<usize>;
    /// Sends without raising SIGPIPE at a peer that went away (EPIPE instead).
    fn send(&mut self, buf: &[u8]) -> std::io::Result<usize>;
    fn set_nonblocking(&self) -> std::io::Result<()>;
    /// Shuts our writing side: the peer reads EOF after the answer.
    fn close_write(&self);
}

/// What [`Socket::admit`] says of a new peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admit {
    /// Served; `uid` is who it is, when the socket can tell.
    Yes { uid: Option<u32> },
    /// Refused: `answer` is sent (one try, never waited for) and the connection closed.
    No {
        uid: u32,
        answer: &'static [u8],
        why: &'static str,
    },
}

/// The limits of a server.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_conns: usize,
    /// The longest request read: a request is handed over once `complete` says so, or at
    /// `max_request + 1` bytes (the protocol then refuses it).
    pub max_request: usize,
    /// How long a connection may take to send its whole request, and stay silent while its
    /// answer is written.
    pub idle: Duration,
    /// Whether the bytes received so far are a whole request.
    pub complete: fn(&[u8]) -> bool,
}

/// What a poll entry of a server is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token {
    /// The listening socket: connections to accept.
    Socket,
    /// The connection in this place.
    Conn(usize),
}

/// A connection, for as long as it is open: never reused for another (a place is).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConnId(u64);

/// Something that happened on a server's sockets.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// A whole request (or `max_request + 1` bytes of one): answer it with
    /// [`Server::answer`].
    Request {
        conn: ConnId,
        uid: Option<u32>,
        bytes: Vec<u8>,
    },
    /// A peer was refused (and told).
    Refused { uid: u32, why: &'static str },
    /// A connection waiting for the rest of its answer is gone.
    Gone(ConnId),
}

/// Where a connection is.
enum Phase {
    /// Reading its request: the bytes so far (at most `max_request + 1`).
    Request(Vec<u8>),
    /// Its request was handed over; no answer yet.
    Asked,
    /// Writing its answer: the bytes, how many are written, and whether that is all of it.
    Answer {
        bytes: Vec<u8>,
        sent: usize,
        last: bool,
    },
    /// The answer is written and our side shut: discarding what the peer sends until its EOF.
    Drain,
}

struct Conn<S> {
    id: ConnId,
    uid: Option<u32>,
    stream: S,
    phase: Phase,
    /// When the connection is closed if it has not finished by then (None: while its answer
    /// waits for the caller, whose own deadline it is).
    deadline: Option<Instant>,
}

/// A listening socket and its connections.
pub struct Server<L: Socket> {
    socket: L,
    limits: Limits,
    conns: Vec<Option<Conn<L::Stream>>>,
    /// Accepting pauses until then (EMFILE and the like).
    paused_until: Option<Instant>,
    next_id: u64,
}

impl<L: Socket> Server<L> {
    /// Serves `socket`, which must be non-blocking.
    pub fn new(socket: L, limits: Limits) -> Server<L> {
        Server {
            socket,
            limits,
            conns: Vec::new(),
            paused_until: None,
            next_id: 0,
        }
    }

    /// The listening socket.
    pub fn socket(&self) -> &L {
        &self.socket
    }

    /// The fds to poll and for what.
    pub fn interest(
        &self,
        now: Instant,
    ) -> impl Iterator<Item = (Token, BorrowedFd<'_>, PollFlags)> {
        let listening = self
            .paused_until
            .is_none_or(|until| until <= now)
            .then(|| (Token::Socket, self.socket.as_fd(), PollFlags::POLLIN));
        let conns = self.conns.iter().enumerate().filter_map(|(place, c)| {
            let c = c.as_ref()?;
            let flags = match &c.phase {
                Phase::Answer { bytes, sent, .. } if *sent < bytes.len() => PollFlags::POLLOUT,
                // Nothing to write yet: only the peer's hang-up (always reported) matters.
                Phase::Answer { .. } | Phase::Asked => PollFlags::empty(),
                Phase::Request(_) | Phase::Drain => PollFlags::POLLIN,
            };
            Some((Token::Conn(place), c.stream.as_fd(), flags))
        });
        listening.into_iter().chain(conns)
    }

    /// The earliest deadline of a connection or of the pause, if any.
    pub fn next_deadline(&self) -> Option<Instant> {
        let conns = self.conns.iter().flatten().filter_map(|c| c.deadline);
        conns.chain(self.paused_until).min()
    }

    /// Closes the connections whose deadline has come.
    pub fn expire(&mut self, now: Instant) {
        for slot in &mut self.conns {
            if slot
                .as_ref()
                .is_some_and(|c| c.deadline.is_some_and(|d| d <= now))
            {
                *slot = None;
            }
        }
        if self.paused_until.is_some_and(|until| until <= now) {
            self.paused_until = None;
        }
    }

    /// Acts on a poll result for `token`; what came of it goes to `events`.
    pub fn ready(&mut self, token: Token, now: Instant, events: &mut Vec<Event>) {
        match token {
            Token::Socket => self.accept(now, events),
            Token::Conn(place) => {
                let Some(conn) = self.conns.get_mut(place).and_then(Option::as_mut) else {
                    return;
                };
                if !conn.step(now, &self.limits, events) {
                    if matches!(conn.phase, Phase::Asked | Phase::Answer { last: false, .. }) {
                        events.push(Event::Gone(conn.id));
                    }
                    self.conns[place] = None;
                }
            }
        }
    }

    /// Adds `bytes` to the answer of `conn`; `last`: that is all of it. A connection that is
    /// gone is not an error: its answer is dropped.
    pub fn answer(&mut self, conn: ConnId, bytes: &[u8], last: bool, now: Instant) {
        let Some(c) = self.conns.iter_mut().flatten().find(|c| c.id == conn) else {
            return;
        };
        match &mut c.phase {
            Phase::Answer {
                bytes: queued,
                sent,
                last: was_last,
            } if !*was_last => {
                queued.drain(..*sent);
                *sent = 0;
                queued.extend_from_slice(bytes);
                *was_last = last;
            }
            Phase::Asked => {
                c.phase = Phase::Answer {
                    bytes: bytes.to_vec(),
                    sent: 0,
                    last,
                };
            }
            _ => return,
        }
        let Phase::Answer { bytes, sent, last } = &c.phase else {
            return;
        };
        if *sent == bytes.len() && !*last {
            // Nothing to write yet: the caller's deadline, not ours.
            c.deadline = None;
            return;
        }
        // The first write at once: most answers fit in the socket's buffer, and the peer
        // has them without waiting for the next turn of the loop.
        let mut events = Vec::new();
        if !c.step(now, &self.limits, &mut events) {
            self.conns.iter_mut().for_each(|slot| {
                if slot.as_ref().is_some_and(|c| c.id == conn) {
                    *slot = None;
                }
            });
        }
    }

    fn accept(&mut self, now: Instant, events: &mut Vec<Event>) {
        for _ in 0..ACCEPTS_PER_TURN {
            match self.socket.accept() {
                Ok(mut stream) => {
                    let uid = match self.socket.admit(&stream) {
                        Admit::Yes { uid } => uid,
                        Admit::No { uid, answer, why } => {
                            let _ = stream.set_nonblocking();
                            let _ = stream.send(answer);
                            events.push(Event::Refused { uid, why });
                            continue;
                        }
                    };
                    let open = self.conns.iter().flatten().count();
                    // Over the limit: dropped, so closed at once.
                    if open >= self.limits.max_conns || stream.set_nonblocking().is_err() {
                        continue;
                    }
                    self.next_id += 1;
                    let conn = Conn {
                        id: ConnId(self.next_id),
                        uid,
                        stream,
                        phase: Phase::Request(Vec::new()),
                        deadline: Some(now + self.limits.idle),
                    };
                    match self.conns.iter().position(Option::is_none) {
                        Some(free) => self.conns[free] = Some(conn),
                        None => self.conns.push(Some(conn)),
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                // A connection reset before we took it, or a signal: take the next one.
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::ConnectionAborted | ErrorKind::Interrupted
                    ) => {}
                Err(_) => {
                    self.paused_until = Some(now + PAUSE);
                    return;
                }
            }
        }
    }
}

impl<S: Stream> Conn<S> {
    /// One read or write as the phase needs; false when the connection is done with.
    fn step(&mut self, now: Instant, limits: &Limits, events: &mut Vec<Event>) -> bool {
        let idle = limits.idle;
        match &mut self.phase {
            Phase::Request(buf) => {
                let mut chunk = [0u8; 4096];
                let room = (limits.max_request + 1 - buf.len()).min(chunk.len());
                match self.stream.recv(&mut chunk[..room]) {
                    // EOF before a whole request (a half-closed or silent client): nothing to
                    // answer.
                    Ok(0) => false,
                    Ok(n) => {
                        buf.extend_from_slice(&chunk[..n]);
                        if (limits.complete)(buf) || buf.len() > limits.max_request {
                            let bytes = std::mem::take(buf);
                            events.push(Event::Request {
                                conn: self.id,
                                uid: self.uid,
                                bytes,
                            });
                            self.phase = Phase::Asked;
                            self.deadline = None;
                        }
                        true
                    }
                    Err(e) => retry(&e),
                }
            }
            Phase::Answer { bytes, sent, last } if *sent < bytes.len() || *last => {
                if *sent < bytes.len() {
                    match self.stream.send(&bytes[*sent..]) {
                        Ok(n) => *sent += n,
                        Err(e) => return retry(&e),
                    }
                }
                // Silence is counted from the last write.
                self.deadline = Some(now + idle);
                if *sent == bytes.len() {
                    if *last {
                        self.stream.close_write();
                        self.phase = Phase::Drain;
                        self.deadline = Some(now + LINGER);
                    } else {
                        self.deadline = None;
                    }
                }
                true
            }
            // Waiting for the caller: only a hang-up wakes us here. Whatever the peer still
            // sends is discarded; its EOF or an error ends the connection.
            Phase::Asked | Phase::Answer { .. } | Phase::Drain => {
                let mut chunk = [0u8; 4096];
                match self.stream.recv(&mut chunk) {
                    Ok(0) => false,
                    Ok(_) => true,
                    Err(e) => retry(&e),
                }
            }
        }
    }
}

/// Whether a socket error leaves the connection worth polling again.
fn retry(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted)
}
