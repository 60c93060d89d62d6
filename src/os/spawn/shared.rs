//! What a child shares with us across its clone, kept apart from the clone itself.
//!
//! Owns: the *window* of three low fds through which a child gets its stdio, and the page of
//! shared memory in which a child that has a copy of our memory reports a failure before its
//! exec (both explained in the essay of `spawn`).
//!
//! Must not: clone, or run in the child.

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl, open};
use nix::libc;
use nix::sys::stat::Mode;
use nix::unistd::dup3;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Mutex;

/// The three low fds through which a child gets its stdio (see the module essay).
pub(super) struct Window {
    pub null: OwnedFd,
    pub out: OwnedFd,
    pub err: OwnedFd,
}

impl Window {
    pub fn open() -> nix::Result<Window> {
        let dev_null = open(
            "/dev/null",
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )?;
        // At 3 or above even when formation was started with 0, 1 or 2 closed: a slot must
        // never be one of our own stdio fds.
        let low = |fd: &OwnedFd| -> nix::Result<OwnedFd> {
            let raw = fcntl(fd, FcntlArg::F_DUPFD_CLOEXEC(3))?;
            #[allow(unsafe_code)]
            // SAFETY: `raw` was just returned by F_DUPFD_CLOEXEC, so it is open and owned by
            // nothing else.
            Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(raw) })
        };
        Ok(Window {
            null: low(&dev_null)?,
            out: low(&dev_null)?,
            err: low(&dev_null)?,
        })
    }

    /// The lowest fd the child does not need: its table keeps only the fds below it.
    pub fn bound(&self) -> RawFd {
        [&self.null, &self.out, &self.err]
            .iter()
            .map(|fd| fd.as_raw_fd())
            .max()
            .unwrap_or(2)
            + 1
    }
}

/// Opens the window on first use and puts `outputs` (stdout, stderr) in its slots, or leaves
/// /dev/null there for `None`. Returns (null, out, err, bound) as raw numbers for the child,
/// which must not touch the lock.
pub(super) fn fill(
    window: &mut Option<Window>,
    outputs: Option<(&OwnedFd, &OwnedFd)>,
) -> Result<(RawFd, RawFd, RawFd, RawFd), Errno> {
    if window.is_none() {
        *window = Some(Window::open()?);
    }
    let w = window.as_mut().expect("the window was just opened");
    let null = w.null.as_raw_fd();
    let Some((out, err)) = outputs else {
        return Ok((null, null, null, w.bound()));
    };
    dup3(out, &mut w.out, OFlag::O_CLOEXEC)?;
    dup3(err, &mut w.err, OFlag::O_CLOEXEC)?;
    Ok((null, w.out.as_raw_fd(), w.err.as_raw_fd(), w.bound()))
}

/// The window, opened by the first spawn that pipes or nulls its stdio.
pub(super) static WINDOW: Mutex<Option<Window>> = Mutex::new(None);

/// One page of memory shared with a child that has a copy of the rest: its failure record.
pub(super) struct SharedPage {
    pub words: *mut i32,
}

impl SharedPage {
    const LEN: usize = 4096;

    pub fn new() -> Result<SharedPage, Errno> {
        #[allow(unsafe_code)]
        // SAFETY: a fresh anonymous mapping at an address the kernel picks: it aliases nothing.
        let addr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                Self::LEN,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if addr == libc::MAP_FAILED {
            return Err(Errno::last());
        }
        // Zero-filled by the kernel: "no failure".
        Ok(SharedPage { words: addr.cast() })
    }
}

impl Drop for SharedPage {
    fn drop(&mut self) {
        #[allow(unsafe_code)]
        // SAFETY: the mapping made in `new`, unmapped once; nothing points into it any more.
        unsafe {
            libc::munmap(self.words.cast(), Self::LEN);
        }
    }
}
