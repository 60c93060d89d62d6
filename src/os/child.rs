//! Spawning one instance, and signalling its process group.
//!
//! Owns: the `fork`+`exec` of an instance through `std::process::Command` — its own process
//! group, its stdio, environment, working directory and credentials — and `killpg`.
//!
//! Must not: wait for the child (the reaper owns every `waitpid`; the `Child` handle is dropped
//! unwaited, which std allows) or decide anything about restarts.
//!
//! Kernel and std facts this relies on:
//! - std creates every fd of ours close-on-exec and reports a failed `exec` through a
//!   close-on-exec pipe, reaping that short-lived child itself before `spawn` returns; its
//!   errno tells "not found" (127) from "cannot run" (126).
//! - In the child std runs, in order: dup2 of stdio, setgid/setuid (we do not use those),
//!   chdir, `setpgid(0, 0)`, SIGPIPE back to SIG_DFL, then our `pre_exec` hook. std passes
//!   the parent's signal mask on (by design), so the hook empties it: ours blocks everything.
//!   Credentials are switched in the hook too, because std's stable API cannot set
//!   supplementary groups (SPEC §3.4: the user's memberships from /etc/group). Having a hook
//!   makes std fork instead of posix_spawn.
//! - `tcsetpgrp` from a background group raises SIGTTOU unless it is blocked, so the hook
//!   blocks it around the call (tini's `isolate_child` ignores it for the same reason).

use crate::config::users::Credentials;
use crate::plan::StdioMode;
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, killpg, sigprocmask};
use nix::unistd::{Pid, getpgrp, setgid, setgroups, setuid, tcsetpgrp};
use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// Everything needed to start one instance.
pub struct Launch<'a> {
    /// The program (looked up in PATH when it has no `/`) and its arguments.
    pub argv: &'a [OsString],
    /// The whole environment of the child; `None` passes ours on unchanged.
    pub env: Option<&'a [(OsString, OsString)]>,
    /// The working directory; `None` keeps ours.
    pub cwd: Option<&'a Path>,
    /// The user to become; `None` keeps ours.
    pub user: Option<&'a Credentials>,
    /// Where its stdio goes.
    pub stdio: StdioMode,
}

/// A running instance, fresh from `spawn`.
pub struct Started {
    /// Its pid, which is also its process group id.
    pub pid: Pid,
    /// The non-blocking read end of its stdout pipe (piped mode only).
    pub stdout: Option<OwnedFd>,
    /// The non-blocking read end of its stderr pipe (piped mode only).
    pub stderr: Option<OwnedFd>,
}

/// Why an instance could not start, as an exit status and a reason for the log.
#[derive(Debug, PartialEq, Eq)]
pub struct SpawnError {
    /// 127 when the program was not found, 126 for anything else that prevents the exec.
    pub status: i32,
    /// A short reason, e.g. `not found`.
    pub reason: String,
}

/// Starts one instance in a new process group.
pub fn spawn(launch: &Launch) -> Result<Started, SpawnError> {
    let (program, args) = launch.argv.split_first().ok_or_else(|| SpawnError {
        status: 127,
        reason: "empty command".into(),
    })?;
    let mut cmd = Command::new(program);
    cmd.args(args).process_group(0);
    if let Some(env) = launch.env {
        cmd.env_clear().envs(env.iter().map(|(k, v)| (k, v)));
    }
    if let Some(cwd) = launch.cwd {
        // std reports a failed chdir with the bare errno, which would read as "not found"
        // (127) for a missing directory; SPEC §4 makes a bad cwd a 126.
        if !cwd.is_dir() {
            return Err(SpawnError {
                status: 126,
                reason: format!("cannot change directory to {}", cwd.display()),
            });
        }
        cmd.current_dir(cwd);
    }
    match launch.stdio {
        StdioMode::Inherit { .. } => {}
        StdioMode::Piped => {
            cmd.stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
        }
        StdioMode::Null => {
            cmd.stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
        }
    }
    let take_terminal = matches!(
        launch.stdio,
        StdioMode::Inherit {
            take_terminal: true
        }
    );
    let user = launch.user.cloned();
    #[allow(unsafe_code)]
    // SAFETY: the hook runs in the forked child before exec. formation is single-threaded,
    // so no lock can be held by another thread at the fork; the hook only makes direct
    // system calls (sigprocmask, tcsetpgrp, setgroups, setgid, setuid) on data prepared
    // before the fork, and allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            // std deliberately passes the parent's signal mask on; ours blocks everything.
            sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)?;
            if take_terminal {
                hand_over_terminal();
            }
            if let Some(user) = &user {
                setgroups(&user.groups)?;
                setgid(user.gid)?;
                setuid(user.uid)?;
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|err| SpawnError {
        status: if err.kind() == io::ErrorKind::NotFound {
            127
        } else {
            126
        },
        reason: describe(&err),
    })?;
    let pid = Pid::from_raw(child.id() as i32);
    let stdout = child.stdout.take().map(OwnedFd::from);
    let stderr = child.stderr.take().map(OwnedFd::from);
    for fd in stdout.iter().chain(stderr.iter()) {
        set_nonblocking(fd);
    }
    // Dropping `child` neither waits nor kills: the reaper collects it.
    Ok(Started {
        pid,
        stdout,
        stderr,
    })
}

/// In the child: makes its new process group the terminal's foreground group, so that ^C on
/// the terminal reaches it. Failure (no terminal after all) is harmless and ignored.
fn hand_over_terminal() {
    let mut ttou = SigSet::empty();
    ttou.add(Signal::SIGTTOU);
    let _ = sigprocmask(SigmaskHow::SIG_BLOCK, Some(&ttou), None);
    let _ = tcsetpgrp(io::stdin().as_fd(), getpgrp());
    let _ = sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&ttou), None);
}

fn set_nonblocking(fd: &OwnedFd) {
    // Our own end of a fresh pipe: no one else shares its open file description.
    if let Ok(flags) = fcntl(fd, FcntlArg::F_GETFL) {
        let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
        let _ = fcntl(fd, FcntlArg::F_SETFL(flags));
    }
}

fn describe(err: &io::Error) -> String {
    match err.raw_os_error().map(Errno::from_raw) {
        Some(Errno::ENOENT) => "not found".into(),
        Some(Errno::EACCES) => "permission denied".into(),
        Some(Errno::EPERM) => "operation not permitted (switching user?)".into(),
        Some(Errno::ENOEXEC) => "not an executable format".into(),
        Some(Errno::EAGAIN) => "cannot fork: too many processes (EAGAIN)".into(),
        Some(Errno::EMFILE | Errno::ENFILE) => "too many open files".into(),
        Some(errno) => errno.desc().to_lowercase(),
        None => err.to_string(),
    }
}

/// Marks every fd above 2 that we inherited close-on-exec, so an instance inherits only
/// 0, 1 and 2 even when whoever started formation leaked descriptors into it (our own fds are
/// created close-on-exec already). One `close_range(CLOSE_RANGE_CLOEXEC)` (Linux 5.11); on an
/// older kernel, one fcntl per fd listed in /proc/self/fd.
pub fn close_inherited_fds_on_exec() {
    #[allow(unsafe_code)]
    // SAFETY: close_range only sets a flag on descriptors of this process; no memory is passed.
    let done = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_close_range,
            3u32,
            u32::MAX,
            nix::libc::CLOSE_RANGE_CLOEXEC,
        )
    } == 0;
    if done {
        return;
    }
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    let fds: Vec<i32> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter(|fd| *fd > 2)
        .collect();
    for fd in fds {
        #[allow(unsafe_code)]
        // SAFETY: `fd` was listed open in /proc/self/fd a moment ago and formation is
        // single-threaded, so nothing closed it since; the borrow lives for this one fcntl.
        // (The fd of the directory listing itself is closed by now: fcntl then fails, EBADF.)
        let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        let _ = fcntl(fd, FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC));
    }
}

/// Whether process group `pgid` still has a member (signal 0 checks without sending; a
/// group of other users' processes answers EPERM, which also means it exists).
pub fn group_alive(pgid: Pid) -> bool {
    !matches!(killpg(pgid, None), Err(Errno::ESRCH))
}

/// Sends `sig` to the process group `pgid`. Returns false when the group is gone (ESRCH).
pub fn signal_group(pgid: Pid, sig: Signal) -> bool {
    killpg(pgid, sig).is_ok()
}
