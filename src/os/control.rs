//! The control socket (SPEC §10): an abstract unix stream socket named after our pid
//! namespace, served from the loop as a [`conns::Server`], and the client side that the
//! control commands (`formation restart …`) use to reach it.
//!
//! Owns: the name (`formation/` and the decimal inode of `/proc/self/ns/pid`: a client in the
//! same container computes the same one), the bind, the peer check, the limits (at most
//! [`MAX_CONNS`] connections, a request line within [`IDLE`]),
//! and the blocking client.
//!
//! Must not: parse a request or decide what to answer (`serve::control`, the supervisor and
//! the engine do).
//!
//! Kernel facts relied on:
//! - An abstract name has no file: a read-only root works, nothing is left stale, no
//!   directory must exist; it is reachable from the whole network namespace (containerd
//!   CVE-2020-15257), so the peer check is the security.
//! - `SO_PEERCRED` holds the peer's credentials from its `connect`, with its pid translated
//!   into the pid namespace of whoever asks (`pid_vnr`): a peer outside ours — another
//!   container sharing the network namespace, `--network host`, a pod's sidecar — is seen
//!   with pid 0. Its uid is translated into our user namespace likewise.
//! - std's `UnixListener::accept` uses accept4(SOCK_CLOEXEC); std's `UnixStream` writes
//!   with write(2), which raises SIGPIPE at a peer that went away, so ours sends with
//!   `send(MSG_NOSIGNAL)` instead.

use super::conns::{self, Admit, Limits, Server};
use nix::sys::socket::{MsgFlags, getsockopt, send, sockopt};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::time::Duration;

/// The most connections open at once.
pub const MAX_CONNS: usize = 16;
/// How long a connection may take to send its request, and stay silent while its answer is
/// written.
pub const IDLE: Duration = Duration::from_secs(5);
/// What a refused peer reads.
const DENIED: &[u8] = b"error: permission denied\n";

/// The abstract name of the control socket of the pid namespace we are in:
/// `formation/4026532283`.
pub fn name() -> std::io::Result<String> {
    use std::os::unix::fs::MetadataExt;
    let ino = std::fs::metadata("/proc/self/ns/pid")?.ino();
    Ok(format!("formation/{ino}"))
}

fn address() -> std::io::Result<SocketAddr> {
    SocketAddr::from_abstract_name(name()?.as_bytes())
}

/// The listening control socket.
pub struct ControlSocket {
    socket: UnixListener,
    /// Our effective uid: the one besides root that may control us.
    uid: u32,
}

/// The control socket and its connections.
pub type Control = Server<ControlSocket>;

/// Binds the control socket of our pid namespace (non-blocking). EADDRINUSE: another
/// formation of this pid namespace has it.
pub fn bind() -> std::io::Result<Control> {
    let socket = UnixListener::bind_addr(&address()?)?;
    socket.set_nonblocking(true)?;
    let uid = nix::unistd::geteuid().as_raw();
    let limits = Limits {
        max_conns: MAX_CONNS,
        max_request: crate::serve::control::MAX_LINE,
        idle: IDLE,
        complete: |line| line.contains(&b'\n'),
    };
    Ok(Server::new(ControlSocket { socket, uid }, limits))
}

impl std::os::fd::AsFd for ControlSocket {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl conns::Socket for ControlSocket {
    type Stream = UnixStream;
    fn accept(&self) -> std::io::Result<UnixStream> {
        self.socket.accept().map(|(stream, _)| stream)
    }
    fn admit(&self, stream: &UnixStream) -> Admit {
        let Ok(cred) = getsockopt(stream, sockopt::PeerCredentials) else {
            // Cannot fail on a connected unix socket; refusing is the safe side.
            return refuse(u32::MAX, "its credentials cannot be read");
        };
        admit(cred.uid(), cred.pid(), self.uid)
    }
}

/// Who may control us: root or our own uid, from our own pid namespace (pid 0: outside it).
fn admit(uid: u32, pid: i32, ours: u32) -> Admit {
    if pid == 0 {
        return refuse(uid, "it is outside formation's pid namespace");
    }
    if uid != 0 && uid != ours {
        return refuse(uid, "only root and formation's own uid may control it");
    }
    Admit::Yes { uid: Some(uid) }
}

fn refuse(uid: u32, why: &'static str) -> Admit {
    Admit::No {
        uid,
        answer: DENIED,
        why,
    }
}

impl conns::Stream for UnixStream {
    fn recv(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.read(buf)
    }
    fn send(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        use std::os::fd::AsRawFd;
        send(self.as_raw_fd(), buf, MsgFlags::MSG_NOSIGNAL).map_err(std::io::Error::from)
    }
    fn set_nonblocking(&self) -> std::io::Result<()> {
        UnixStream::set_nonblocking(self, true)
    }
    fn close_write(&self) {
        let _ = self.shutdown(std::net::Shutdown::Write);
    }
}

/// A connection to the control socket of our pid namespace, from a client (blocking).
pub struct Client {
    reader: BufReader<UnixStream>,
}

/// Why a client could not reach formation.
#[derive(Debug)]
pub enum Unreachable {
    /// Nothing listens on the name: control is off, or formation is not what runs here.
    NoSocket,
    /// Anything else (permissions of /proc, resources).
    Other(std::io::Error),
}

impl Client {
    /// Connects and sends `words` as one request line. Every later read waits at most
    /// `timeout` for a line.
    pub fn request(words: &[String], timeout: Duration) -> Result<Client, Unreachable> {
        let addr = address().map_err(Unreachable::Other)?;
        let mut stream = UnixStream::connect_addr(&addr).map_err(|e| match e.kind() {
            std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound => {
                Unreachable::NoSocket
            }
            _ => Unreachable::Other(e),
        })?;
        let setup = |s: &UnixStream| {
            s.set_read_timeout(Some(timeout))?;
            s.set_write_timeout(Some(timeout))
        };
        setup(&stream).map_err(Unreachable::Other)?;
        let line = format!("{}\n", words.join("\t"));
        match stream.write_all(line.as_bytes()) {
            // A refused client is answered and closed before its request is read: the
            // answer waits in our socket, and is what to show.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            other => other.map_err(Unreachable::Other)?,
        }
        Ok(Client {
            reader: BufReader::new(stream),
        })
    }

    /// Whether more of the answer has arrived already (read with the last line).
    pub fn more_here(&self) -> bool {
        !self.reader.buffer().is_empty()
    }

    /// The next line of the answer, without its newline; None at its end.
    pub fn line(&mut self) -> std::io::Result<Option<String>> {
        let mut line = Vec::new();
        // An answer line is a few KiB at most; 1 MiB bounds a socket that is not ours.
        let n = (&mut self.reader)
            .take(1 << 20)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(None);
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        Ok(Some(String::from_utf8_lossy(&line).into_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_our_uid_from_our_namespace_only() {
        let table = [
            // (uid, pid, ours, admitted)
            (0, 12, 1000, true),
            (1000, 12, 1000, true),
            (1001, 12, 1000, false),
            (0, 0, 0, false),
            (0, 0, 1000, false),
            (1000, 0, 1000, false),
            (0, 1, 0, true),
        ];
        for (uid, pid, ours, admitted) in table {
            let got = admit(uid, pid, ours);
            assert_eq!(
                matches!(got, Admit::Yes { .. }),
                admitted,
                "{uid} {pid} {ours}"
            );
            if let Admit::No { uid: seen, .. } = got {
                assert_eq!(seen, uid);
            }
        }
    }

    #[test]
    fn the_name_is_the_pid_namespace_inode() {
        let link = std::fs::read_link("/proc/self/ns/pid").expect("readlink");
        let ino = link
            .to_str()
            .and_then(|l| l.strip_prefix("pid:["))
            .and_then(|l| l.strip_suffix(']'))
            .expect("pid:[N]");
        assert_eq!(name().expect("name"), format!("formation/{ino}"));
    }
}
