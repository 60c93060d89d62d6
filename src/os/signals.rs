//! Signals as data: the signal mask, the signalfd, and what each signal means.
//!
//! Owns: blocking every signal at start-up and reading them, a batch of `siginfo`s per read,
//! from a signalfd that the loop polls (or reads at once, when it is all there is to wait
//! for). No code runs in a signal handler, so nothing here has to be async-signal-safe (tini
//! and catatonit block and wait the same way).
//!
//! Must not: wait for children or send signals; the supervisor acts on what [`classify`] says.
//!
//! Kernel facts: blocked signals stay pending until read from the signalfd; SIGKILL and SIGSTOP
//! cannot be blocked (the mask silently leaves them out). SIGPIPE is blocked like the rest, so
//! that one someone sends us (`kill -PIPE`) is read and forwarded; the one our own write to a
//! closed stdout raises is read too, and told apart by its sender: the kernel raises it with
//! `send_sig(SIGPIPE, current, 0)`, which fills in SI_USER and the pid of `current` — our own
//! pid, as seen in our own pid namespace (1 as PID 1; checked on Linux 6.18). A sender outside
//! our namespace shows as pid 0, so pid 0 is someone else, not us. Two SIGPIPEs pending at
//! once are one (standard signals do not queue): the first one's sender is the one read.
//! Each child gets an empty mask and default dispositions (`spawn/`, [`reset_dispositions`]).

use crate::engine::signal_rules::Sender;
use nix::sys::signal::{SigSet, SigmaskHow, sigprocmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use std::os::fd::{AsFd, BorrowedFd};

/// The size of the kernel's `struct signalfd_siginfo`, and where its `ssi_signo` and `ssi_pid`
/// (both u32) sit in it.
const SIGINFO: usize = std::mem::size_of::<nix::libc::signalfd_siginfo>();
const SSI_SIGNO: usize = std::mem::offset_of!(nix::libc::signalfd_siginfo, ssi_signo);
const SSI_PID: usize = std::mem::offset_of!(nix::libc::signalfd_siginfo, ssi_pid);
/// How many signals one read may take.
const BATCH: usize = 16;

/// The blocked mask and the signalfd that delivers what it holds back.
pub struct Signals {
    fd: SignalFd,
    /// Our pid, as the kernel writes it into the siginfo of what we raise ourselves.
    me: u32,
}

impl Signals {
    /// Blocks every signal in this (single-threaded) process and opens a blocking,
    /// close-on-exec signalfd for all of them. Call before the first child is spawned, so no
    /// SIGCHLD can be lost.
    pub fn install() -> nix::Result<Self> {
        reset_dispositions();
        // SIGPIPE too: a blocked signal is queued even though it is ignored (the kernel's
        // sig_ignored() says "blocked signals are never ignored"), so ours is read here and
        // dropped by its sender, and anyone else's is forwarded.
        let mask = SigSet::all();
        sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask), None)?;
        let fd = SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC)?;
        let me = nix::unistd::getpid().as_raw().unsigned_abs();
        Ok(Signals { fd, me })
    }

    /// Reads pending signals — up to [`BATCH`] of them, in one `read` — each with who sent it.
    /// The signalfd blocks: call this when `poll` said it is readable (then it returns at
    /// once), or to wait for the next signal when there is nothing else to wait for (then it
    /// is the loop's one blocking call, as catatonit's is, with no `poll` before it). More
    /// than a batch pending leaves the fd readable for the next turn.
    pub fn pending(&self) -> Vec<(i32, Sender)> {
        let mut signals = Vec::new();
        let mut buf = [0u8; BATCH * SIGINFO];
        // EINTR cannot happen with every signal blocked, nor any other error on a valid
        // signalfd: nothing is read then.
        if let Ok(n) = nix::unistd::read(&self.fd, &mut buf) {
            for info in buf[..n].chunks_exact(SIGINFO) {
                let field = |at: usize| {
                    u32::from_ne_bytes([info[at], info[at + 1], info[at + 2], info[at + 3]])
                };
                let sender = if field(SSI_PID) == self.me {
                    Sender::Ourselves
                } else {
                    Sender::Other
                };
                signals.push((field(SSI_SIGNO) as i32, sender));
            }
        }
        signals
    }
}

/// Stops formation itself until a SIGCONT (the end of a suspend). SIGSTOP cannot be blocked
/// or caught, so this returns once we are continued; the SIGCONT that did it is then pending
/// on the signalfd, to be forwarded.
pub fn stop_self() {
    let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGSTOP);
}

/// Sets every signal but SIGPIPE back to SIG_DFL. A disposition of SIG_IGN survives exec, so
/// whatever our parent ignored (`nohup` ignores HUP; some supervisors ignore the real-time
/// signals) would otherwise be discarded before it reached our signalfd, and be ignored in
/// every instance too. SIGPIPE stays ignored here (Rust's runtime set it, so that a closed
/// stdout is an EPIPE, not our death, should it ever be unblocked); the child puts it back to
/// SIG_DFL before its exec (`spawn/`).
///
/// The raw `rt_sigaction` system call is used because libc refuses to touch the signals it
/// reserves for threads (32–34), which an inherited SIG_IGN may still cover.
fn reset_dispositions() {
    /// The kernel's `struct sigaction` on Linux (x86_64 and aarch64 share this layout).
    #[repr(C)]
    struct KernelSigaction {
        handler: usize,
        flags: u64,
        restorer: usize,
        mask: u64,
    }
    let default = KernelSigaction {
        handler: nix::libc::SIG_DFL,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    // Right after exec every disposition is SIG_DFL or SIG_IGN (handlers do not survive exec),
    // so only the ignored ones need a call; /proc/self/status lists them (SigIgn). Without
    // /proc, reset all 64.
    let ignored = ignored_signals().unwrap_or(u64::MAX);
    for signo in 1..=64 {
        let keep = [nix::libc::SIGKILL, nix::libc::SIGSTOP, nix::libc::SIGPIPE];
        if keep.contains(&signo) || ignored & (1u64 << (signo - 1)) == 0 {
            continue;
        }
        #[allow(unsafe_code)]
        // SAFETY: installs SIG_DFL (no handler code) from a valid struct that outlives the
        // call, with no old action requested; 8 is the kernel's sigset size. formation is
        // single-threaded and starts no thread, so libc's own uses of signals 32–34 (thread
        // cancellation, set*id broadcast) never happen in this process.
        unsafe {
            nix::libc::syscall(
                nix::libc::SYS_rt_sigaction,
                signo,
                &default as *const KernelSigaction,
                std::ptr::null_mut::<KernelSigaction>(),
                8usize,
            );
        }
    }
}

/// The SigIgn mask of /proc/self/status: bit N-1 set when signal N is ignored.
fn ignored_signals() -> Option<u64> {
    // One read of a buffer that fits the file: /proc reports a size of 0, so
    // `read_to_string` would grow its buffer from 32 bytes, one read per doubling.
    let mut status = Vec::with_capacity(4096);
    std::io::Read::read_to_end(
        &mut std::fs::File::open("/proc/self/status").ok()?,
        &mut status,
    )
    .ok()?;
    let status = String::from_utf8_lossy(&status);
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))?
        .trim();
    u64::from_str_radix(hex, 16).ok()
}

impl AsFd for Signals {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
