//! The status listener's sockets (SPEC §9): a TCP listening socket served from the loop as
//! a [`conns::Server`] (the connections, their limits and deadlines are its), plus the one
//! blocking client call `formation status` makes.
//!
//! Limits: at most [`MAX_CONNS`] open connections (more are closed at once), [`IDLE`] for a
//! whole request head, [`IDLE`] of silence while the answer is written.
//!
//! Library facts relied on: std's `TcpListener::accept` uses accept4(SOCK_CLOEXEC) and its
//! sockets are created CLOEXEC: no instance inherits one. std's `TcpStream` writes with
//! `send(MSG_NOSIGNAL)`: a peer that went away is EPIPE, never a SIGPIPE landing in our
//! signalfd.

use super::conns::{self, Admit, Limits, Server};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// The most connections open at once.
pub const MAX_CONNS: usize = 64;
/// How long a connection may take to send its whole head, and stay silent while its answer
/// is written.
pub const IDLE: Duration = Duration::from_secs(5);

/// The listening socket and its connections.
pub type Listener = Server<TcpListener>;

/// Binds `addr` (non-blocking). Port 0 takes a free port: see [`TcpListener::local_addr`].
pub fn bind(addr: SocketAddr) -> std::io::Result<Listener> {
    let socket = TcpListener::bind(addr)?;
    socket.set_nonblocking(true)?;
    let limits = Limits {
        max_conns: MAX_CONNS,
        max_request: crate::serve::MAX_HEAD,
        idle: IDLE,
        complete: |head| crate::serve::parse(head) != crate::serve::Head::Partial,
    };
    Ok(Server::new(socket, limits))
}

impl conns::Socket for TcpListener {
    type Stream = TcpStream;
    fn accept(&self) -> std::io::Result<TcpStream> {
        TcpListener::accept(self).map(|(stream, _)| stream)
    }
    /// Anyone who can reach the address: what it shows is no secret (SPEC §9).
    fn admit(&self, _: &TcpStream) -> Admit {
        Admit::Yes { uid: None }
    }
}

impl conns::Stream for TcpStream {
    fn recv(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.read(buf)
    }
    fn send(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write(buf)
    }
    fn set_nonblocking(&self) -> std::io::Result<()> {
        TcpStream::set_nonblocking(self, true)
    }
    fn close_write(&self) {
        let _ = self.shutdown(Shutdown::Write);
    }
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
