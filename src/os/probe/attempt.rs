//! One check attempt's own protocol: a non-blocking TCP connect, an HTTP/1.0 GET and its
//! status line, and what its socket waits for at each step. The bookkeeping of many attempts
//! (the set, the bounds, the reports) is `probe/mod.rs`'s.

use crate::config::listen::{check_address, http_parts};
use nix::errno::Errno;
use nix::sys::epoll::EpollFlags;
use nix::sys::socket::{
    AddressFamily, SockFlag, SockType, SockaddrStorage, connect, getsockopt, socket, sockopt,
};
use nix::unistd::Pid;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsFd, BorrowedFd};

/// How an attempt is being made.
pub(super) enum How {
    /// Connecting (`request` empty) or exchanging an HTTP request and its answer.
    Socket {
        stream: TcpStream,
        connected: bool,
        request: Vec<u8>,
        answer: Vec<u8>,
    },
    /// A command running as this process (and group).
    Exec(Pid),
}

/// What to wait for on an attempt's socket: writable while connecting or sending, readable
/// while the answer comes. None for an exec attempt (its exit is reaped).
pub(super) fn wants(how: &How) -> Option<(BorrowedFd<'_>, EpollFlags)> {
    match how {
        How::Socket {
            stream,
            connected,
            request,
            ..
        } => {
            let flags = if !connected || !request.is_empty() {
                EpollFlags::EPOLLOUT
            } else {
                EpollFlags::EPOLLIN
            };
            Some((stream.as_fd(), flags))
        }
        How::Exec(_) => None,
    }
}

/// Starts a non-blocking connect to `addr` (`host:port`).
pub(super) fn connect_to(addr: &str) -> Result<TcpStream, String> {
    let target = check_address(addr)?;
    let family = if target.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    let flags = SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC;
    let fd = socket(family, SockType::Stream, flags, None).map_err(|e| e.desc().to_string())?;
    match connect(
        std::os::fd::AsRawFd::as_raw_fd(&fd),
        &SockaddrStorage::from(target),
    ) {
        Ok(()) | Err(Errno::EINPROGRESS) => Ok(TcpStream::from(fd)),
        Err(e) => Err(format!("{addr}: {}", e.desc().to_ascii_lowercase())),
    }
}

/// Starts an HTTP GET of `url` (`http://host[:port]/path`).
pub(super) fn http(url: &str) -> Result<How, String> {
    let (authority, path, host) =
        http_parts(url).ok_or_else(|| format!("{url}: only http:// URLs can be checked"))?;
    let addr = if host.len() < authority.len() {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let stream = connect_to(&addr)?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: formation\r\nConnection: close\r\n\r\n"
    );
    Ok(How::Socket {
        stream,
        connected: false,
        request: request.into_bytes(),
        answer: Vec::new(),
    })
}

/// Moves a socket attempt on after poll said its fd is ready; Some once it has a result.
pub(super) fn advance(how: &mut How) -> Option<Result<(), String>> {
    let How::Socket {
        stream,
        connected,
        request,
        answer,
    } = how
    else {
        return None;
    };
    if !*connected {
        match getsockopt(&*stream, sockopt::SocketError) {
            Ok(0) => *connected = true,
            Ok(errno) => return Some(Err(Errno::from_raw(errno).desc().to_ascii_lowercase())),
            Err(e) => return Some(Err(e.desc().to_ascii_lowercase())),
        }
        if request.is_empty() && answer.is_empty() {
            return Some(Ok(())); // tcp: connected is all we asked
        }
    }
    if !request.is_empty() {
        match stream.write(request) {
            Ok(n) => {
                request.drain(..n);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Some(Err(e.to_string())),
        }
        return None;
    }
    let mut buf = [0u8; 1024];
    match stream.read(&mut buf) {
        Ok(0) => Some(status(answer)),
        Ok(n) => {
            answer.extend_from_slice(&buf[..n]);
            (answer.contains(&b'\n') || answer.len() > 8192).then(|| status(answer))
        }
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => None,
        Err(e) => Some(Err(e.to_string())),
    }
}

/// The verdict on an HTTP answer's status line: 2xx and 3xx are ready.
pub fn status(answer: &[u8]) -> Result<(), String> {
    let line = answer.split(|b| *b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let code = line
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|c| c.parse::<u16>().ok());
    match code {
        Some(200..=399) => Ok(()),
        Some(code) => Err(format!("answered {code}")),
        None if answer.is_empty() => Err("closed without an answer".into()),
        None => Err(format!("not an HTTP answer: {:?}", line.trim_end())),
    }
}
