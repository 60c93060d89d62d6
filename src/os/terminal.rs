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

use nix::fcntl::{FcntlArg, FdFlag, OFlag, fcntl};
use nix::pty::{Winsize, openpty};
use std::ffi::OsStr;
use std::os::fd::OwnedFd;

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
pub fn open(cols: u16, rows: u16) -> nix::Result<Terminal> {
    let size = Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // openpty(3) opens both ends without O_CLOEXEC; formation is single-threaded, so no spawn
    // can run between the open and the fcntl.
    let pair = openpty(&size, None)?;
    for fd in [&pair.master, &pair.slave] {
        fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))?;
    }
    fcntl(&pair.master, FcntlArg::F_SETFL(OFlag::O_NONBLOCK))?;
    Ok(Terminal {
        master: pair.master,
        slave: pair.slave,
    })
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
