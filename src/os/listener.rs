//! The status listener's sockets (SPEC §9): the listening socket, the connections it accepts,
//! and their limits; plus the one blocking client call `formation status` makes.
//!
//! Owns: every socket of the listener, each with a poll token ([`Token::Listener`],
//! [`Token::Conn`]), its buffer and its deadline; the limits — at most [`MAX_CONNS`] open
//! connections (more are closed at once), [`IDLE`] for a whole request head, [`IDLE`] of
//! silence while the answer is written, [`LINGER`] after it.
//!
//! Must not: block the loop or decide what to answer. Every socket is non-blocking, each
//! poll readiness is met with one `read`, `write` or a bounded run of `accept`s, and the
//! answer to the bytes of a head comes from the caller (`serve::answer`).
//!
//! Kernel and library facts relied on:
//! - std's `TcpListener::accept` uses accept4(SOCK_CLOEXEC) and its sockets are created
//!   CLOEXEC: no instance inherits one. std's `TcpStream` writes with `send(MSG_NOSIGNAL)`:
//!   a peer that went away is EPIPE, never a SIGPIPE landing in our signalfd.
//! - poll is level-triggered: a socket left with bytes unread is reported again next turn,
//!   so one read per readiness is enough and no client can hold the loop in a read loop.
//! - closing a socket with unread received bytes sends RST, which can destroy the answer
//!   in flight (an over-long head gets 431 while its sender is still sending). So after the
//!   answer we `shutdown(Write)` — a FIN after the answer — and read and discard until the
//!   peer's EOF, for at most [`LINGER`].
//! - accept failing for lack of fds (EMFILE, ENFILE) leaves the listening socket readable:
//!   polling it again at once would spin, so accepting pauses for [`PAUSE`].
//! - A head is read whole within [`IDLE`] of the accept, whatever its pace: a client sending
//!   a byte a second (slowloris) does not keep its connection.

use nix::poll::PollFlags;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

/// The most connections open at once.
pub const MAX_CONNS: usize = 64;
/// How long a connection may take to send its whole head, and stay silent while its answer
/// is written.
pub const IDLE: Duration = Duration::from_secs(5);
/// How long after its answer a connection is read and discarded, waiting for the peer's EOF.
const LINGER: Duration = Duration::from_secs(1);
/// How long accepting pauses after accept failed for lack of resources.
const PAUSE: Duration = Duration::from_millis(100);
/// The most connections taken from the accept queue per turn of the loop.
const ACCEPTS_PER_TURN: usize = 256;

/// What a poll entry of the listener is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token {
    /// The listening socket: connections to accept.
    Listener,
    /// The connection with this id.
    Conn(usize),
}

/// Where a connection is.
enum Phase {
    /// Reading its request head: the bytes so far (at most `MAX_HEAD + 1`).
    Head(Vec<u8>),
    /// Writing the answer: the bytes and how many are written.
    Answer(Vec<u8>, usize),
    /// The answer is written and our side shut: discarding what the peer sends until its EOF.
    Drain,
}

struct Conn {
    stream: TcpStream,
    phase: Phase,
    /// When the connection is closed if it has not finished by then.
    deadline: Instant,
}

/// The listening socket and its connections.
pub struct Listener {
    socket: TcpListener,
    conns: Vec<Option<Conn>>,
    /// Accepting pauses until then (EMFILE and the like).
    paused_until: Option<Instant>,
}

impl Listener {
    /// Binds `addr` (non-blocking). Port 0 takes a free port: see [`Listener::local_addr`].
    pub fn bind(addr: SocketAddr) -> std::io::Result<Listener> {
        let socket = TcpListener::bind(addr)?;
        socket.set_nonblocking(true)?;
        Ok(Listener {
            socket,
            conns: Vec::new(),
            paused_until: None,
        })
    }

    /// The address bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// The fds to poll and for what.
    pub fn interest(
        &self,
        now: Instant,
    ) -> impl Iterator<Item = (Token, BorrowedFd<'_>, PollFlags)> {
        let listening = self
            .paused_until
            .is_none_or(|until| until <= now)
            .then(|| (Token::Listener, self.socket.as_fd(), PollFlags::POLLIN));
        let conns = self.conns.iter().enumerate().filter_map(|(id, c)| {
            let c = c.as_ref()?;
            let flags = match c.phase {
                Phase::Answer(..) => PollFlags::POLLOUT,
                Phase::Head(_) | Phase::Drain => PollFlags::POLLIN,
            };
            Some((Token::Conn(id), c.stream.as_fd(), flags))
        });
        listening.into_iter().chain(conns)
    }

    /// The earliest deadline of a connection or of the pause, if any.
    pub fn next_deadline(&self) -> Option<Instant> {
        let conns = self.conns.iter().flatten().map(|c| c.deadline);
        conns.chain(self.paused_until).min()
    }

    /// Closes the connections whose deadline has come.
    pub fn expire(&mut self, now: Instant) {
        for slot in &mut self.conns {
            if slot.as_ref().is_some_and(|c| c.deadline <= now) {
                *slot = None;
            }
        }
        if self.paused_until.is_some_and(|until| until <= now) {
            self.paused_until = None;
        }
    }

    /// Acts on a poll result for `token`. `answer` turns the bytes of a head received so far
    /// into the whole response, once there is one.
    pub fn ready(
        &mut self,
        token: Token,
        now: Instant,
        answer: &mut dyn FnMut(&[u8]) -> Option<Vec<u8>>,
    ) {
        match token {
            Token::Listener => self.accept(now),
            Token::Conn(id) => {
                let Some(conn) = self.conns.get_mut(id).and_then(Option::as_mut) else {
                    return;
                };
                if !conn.step(now, answer) {
                    self.conns[id] = None;
                }
            }
        }
    }

    fn accept(&mut self, now: Instant) {
        for _ in 0..ACCEPTS_PER_TURN {
            match self.socket.accept() {
                Ok((stream, _)) => {
                    let open = self.conns.iter().flatten().count();
                    // Over the limit: dropped, so closed at once.
                    if open >= MAX_CONNS || stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    let conn = Conn {
                        stream,
                        phase: Phase::Head(Vec::new()),
                        deadline: now + IDLE,
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

impl Conn {
    /// One read or write as the phase needs; false when the connection is done with.
    fn step(&mut self, now: Instant, answer: &mut dyn FnMut(&[u8]) -> Option<Vec<u8>>) -> bool {
        match &mut self.phase {
            Phase::Head(buf) => {
                let mut chunk = [0u8; 4096];
                let room = (crate::serve::MAX_HEAD + 1 - buf.len()).min(chunk.len());
                match self.stream.read(&mut chunk[..room]) {
                    // EOF before a whole head (a half-closed or silent client): nothing to answer.
                    Ok(0) => false,
                    Ok(n) => {
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(response) = answer(buf) {
                            self.phase = Phase::Answer(response, 0);
                            self.deadline = now + IDLE;
                            return self.step(now, answer);
                        }
                        true
                    }
                    Err(e) => retry(&e),
                }
            }
            Phase::Answer(bytes, sent) => match self.stream.write(&bytes[*sent..]) {
                Ok(n) => {
                    *sent += n;
                    self.deadline = now + IDLE;
                    if *sent == bytes.len() {
                        let _ = self.stream.shutdown(Shutdown::Write);
                        self.phase = Phase::Drain;
                        self.deadline = now + LINGER;
                    }
                    true
                }
                Err(e) => retry(&e),
            },
            Phase::Drain => {
                let mut chunk = [0u8; 4096];
                match self.stream.read(&mut chunk) {
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

/// Where to connect to reach a listener bound to `addr`: a wildcard address (`0.0.0.0`,
/// `[::]`) is reached on loopback.
pub fn reach(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

/// `GET path` from the listener bound to `addr`: the whole response, read until the listener
/// closes (it answers once per connection). Blocking, each step bounded by `timeout`; for
/// `formation status`, never the loop.
pub fn get(addr: SocketAddr, path: &str, timeout: Duration) -> std::io::Result<Vec<u8>> {
    let target = reach(addr);
    let mut stream = TcpStream::connect_timeout(&target, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = Vec::new();
    // An answer is a few KiB per instance; 64 MiB bounds a listener that is not ours.
    stream.take(64 << 20).read_to_end(&mut response)?;
    Ok(response)
}
