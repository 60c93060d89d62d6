//! The pseudo-terminal of a `tty = true` instance (SPEC §5).
//!
//! Owns: opening a terminal pair of the instance's size — the master end ours, read like a
//! pipe; the slave end the child's stdout and stderr — and the size itself.
//!
//! Must not: spawn, or read from the terminal (the child makes it its controlling terminal
//! in `spawn/`; the log mux reads the master).
//!
//! Kernel facts relied on (pty(7), n_tty): the master reads what the child writes, after the
//! line discipline's output processing (ONLCR: `\n` arrives as `\r\n`, which the mux reads as
//! `\n`). Once every holder of the slave has closed it, a read of the master returns what is
//! still buffered and then fails with EIO, never 0: the mux treats EIO as the end. Nothing
//! ever writes into the master, so the child's stdin, which stays /dev/null anyway, would see
//! no input.

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::libc;
use nix::sys::stat::Mode;
use std::ffi::OsStr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// A terminal's size when the instance's environment does not give one: VT100's.
const DEFAULT_SIZE: (u16, u16) = (80, 24);

/// An open terminal pair.
pub struct Terminal {
    /// Ours: non-blocking, close-on-exec.
    pub master: OwnedFd,
    /// The child's stdout and stderr: close-on-exec (the child `dup2`s it to 1 and 2).
    pub slave: OwnedFd,
}

/// Opens a terminal of `cols` × `rows`.
///
/// By hand rather than with openpty(3): musl's finds the slave's path with `snprintf`, which
/// alone linked ~8 KB of printf into the binary. Both ends are opened close-on-exec at once,
/// the master non-blocking, neither becoming formation's controlling terminal.
#[allow(unsafe_code)]
pub fn open(cols: u16, rows: u16) -> nix::Result<Terminal> {
    let flags = OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
    let master = nix::fcntl::open("/dev/ptmx", flags | OFlag::O_NONBLOCK, Mode::empty())?;
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads one int through the pointer, which outlives the call.
    Errno::result(unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) })?;
    // SAFETY: TIOCGPTPEER takes open flags by value and returns a new fd, ours to own.
    let peer = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTPEER, flags.bits()) };
    let slave = if peer >= 0 {
        // SAFETY: `peer` is a new open fd that nothing else owns.
        unsafe { OwnedFd::from_raw_fd(peer) }
    } else {
        // Linux before 4.13: the slave by its number under /dev/pts.
        let mut number: libc::c_uint = 0;
        // SAFETY: TIOCGPTN writes one unsigned int through the pointer.
        Errno::result(unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTN, &mut number) })?;
        nix::fcntl::open(format!("/dev/pts/{number}").as_str(), flags, Mode::empty())?
    };
    let size = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one winsize through the pointer.
    Errno::result(unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSWINSZ, &size) })?;
    Ok(Terminal { master, slave })
}

/// The terminal size for an instance whose environment has `columns` (`COLUMNS`) and `lines`
/// (`LINES`): each taken when it is a number from 1 to 65,535, else 80 × 24's.
pub fn size(columns: Option<&OsStr>, lines: Option<&OsStr>) -> (u16, u16) {
    let number = |v: Option<&OsStr>| v?.to_str()?.trim().parse::<u16>().ok().filter(|n| *n > 0);
    (
        number(columns).unwrap_or(DEFAULT_SIZE.0),
        number(lines).unwrap_or(DEFAULT_SIZE.1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_size_is_80_by_24_unless_columns_and_lines_say_otherwise() {
        let os = |s: &'static str| Some(OsStr::new(s));
        let table = [
            (None, None, (80, 24)),
            (os("132"), None, (132, 24)),
            (None, os("50"), (80, 50)),
            (os("200"), os("60"), (200, 60)),
            (os("0"), os("-1"), (80, 24)),
            (os("wide"), os("70000"), (80, 24)),
        ];
        for (columns, lines, want) in table {
            assert_eq!(size(columns, lines), want, "{columns:?} {lines:?}");
        }
    }

    #[test]
    fn a_terminal_opens_with_its_size_and_reads_eio_once_the_slave_is_closed() {
        let t = open(100, 30).expect("a pseudo-terminal (is /dev/pts mounted?)");
        use nix::fcntl::{FcntlArg, FdFlag, fcntl};
        for fd in [&t.master, &t.slave] {
            let fd_flags = FdFlag::from_bits_truncate(fcntl(fd, FcntlArg::F_GETFD).expect("fd"));
            assert!(
                fd_flags.contains(FdFlag::FD_CLOEXEC),
                "both ends close on exec"
            );
        }
        let status = OFlag::from_bits_truncate(fcntl(&t.master, FcntlArg::F_GETFL).expect("fl"));
        assert!(
            status.contains(OFlag::O_NONBLOCK),
            "the master is non-blocking"
        );
        let got = nix::sys::termios::tcgetattr(&t.slave).expect("a terminal");
        assert!(
            got.output_flags
                .contains(nix::sys::termios::OutputFlags::ONLCR)
        );
        nix::unistd::write(&t.slave, b"hi\n").expect("write");
        drop(t.slave);
        let mut buf = [0u8; 64];
        let n = nix::unistd::read(&t.master, &mut buf).expect("buffered bytes first");
        assert_eq!(&buf[..n], b"hi\r\n");
        assert_eq!(
            nix::unistd::read(&t.master, &mut buf),
            Err(nix::errno::Errno::EIO)
        );
    }
}
