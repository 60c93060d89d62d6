//! The clone and exec of one child, at a cost that does not grow with what formation holds.
//!
//! Owns: the `clone(CLONE_VM | CLONE_VFORK | CLONE_FILES)` of a child, everything that child
//! does before its `execve` (its own small fd table, stdio, working directory, process group —
//! or, with `tty = true`, a session whose controlling terminal is its stdout —, terminal,
//! credentials, fd limit, signal disposition and mask), and formation's own
//! `RLIMIT_NOFILE`. What the child shares with us — the *window* of three fds through which the
//! pipes reach it, the page of a copied child's failure record — is `shared.rs`.
//!
//! Must not: allocate, lock, format or panic in the child. The child shares our memory (or has
//! a copy of it) until it execs, so it only reads what the parent prepared ([`Program`]) and
//! makes direct system calls; a failure is written where the parent reads it and the child
//! `_exit`s.
//!
//! Why not `fork` (std's path once there is a `pre_exec` hook) or `posix_spawn`: both give the
//! child a *copy* of our fd table, and its `execve` then closes every close-on-exec fd of that
//! copy. A formation holds two pipe ends per instance, so each spawn paid for every instance
//! already started — quadratic: measured on 2 cores, the 5,000th instance cost ~5× the
//! 1,000th. `fork` also copies the page tables of our heap, which grows with the formation.
//! Here the child shares the parent's table (`CLONE_FILES`) and its first act is
//! `close_range(bound, ~0, CLOSE_RANGE_UNSHARE)`, which (Linux ≥ 5.9, kernel `__close_range`)
//! gives it a private table holding only the fds below `bound` — at most one 64-fd word —
//! instead of a copy of all of them. So the fds the child needs must sit below `bound`: the
//! window is three fds opened once, low in the table (≥ 3), and before each spawn the pipe
//! write ends are `dup3`ed into its two output slots, and put back to `/dev/null` afterwards
//! (a slot is never closed, so no other fd can take its number). Older kernels fall back to
//! `unshare(CLONE_FILES)`: a full copy, correct and as slow as before.
//!
//! Kernel and libc facts relied on: with `CLONE_VFORK` the parent sleeps until the child has
//! exec'd or exited, so the child's stack (an array in the parent's frame, as musl's own
//! `posix_spawn` does) and the failure record stay valid, and the record is read only after.
//! Without `CLONE_SIGHAND` and `CLONE_THREAD`, the child's signal dispositions and rlimits are
//! its own copies. libc's `setgroups`/`setuid` broadcast to every thread of the process (and
//! would touch libc's locks in the shared memory), so credentials are switched with the raw
//! system calls, which change the calling task only. Every fd of ours is close-on-exec (the
//! inherited ones are made so at start-up), so after the `dup2`s the child's small table needs
//! no closing.
//!
//! One child may get a *copy* of our memory instead ([`Memory::Copied`], single-command mode):
//! the child of `CLONE_VM` runs its few system calls on whichever CPU is idle, in our address
//! space, and that CPU stays in our address space's CPU mask (since Linux 6.10 the mask is
//! trimmed at most once a second). When we exit, the kernel frees our page tables and must
//! interrupt every CPU in the mask to flush it: in a VM an interrupt to an idle vCPU costs tens
//! of microseconds, and a single-command formation's exit is its stop latency (measured on a
//! 2-vCPU Firecracker VM: 0.213 ms with `CLONE_VM`, 0.188 with a copy, catatonit's `fork`
//! 0.200). A copy costs the page tables of our heap, which is small with one child. With
//! `CLONE_VFORK` we still sleep until the child has exec'd; its failure record is then written
//! into a shared page instead of our stack.

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::libc::{self, c_char};
use nix::sched::CloneFlags;
use nix::sys::resource::{Resource, getrlimit, rlim_t, setrlimit};
use nix::unistd::{Pid, dup3};
use std::ffi::CString;
use std::os::fd::OwnedFd;
use std::sync::OnceLock;

mod shared;
use shared::{SharedPage, WINDOW, fill};

/// The child's stack. It runs a handful of system calls; musl's `posix_spawn` gives its child
/// 1 KiB plus PATH_MAX. Generous, because there is no guard page below it.
const CHILD_STACK: usize = 32 * 1024;

/// What the child execs, prepared by the parent so that the child allocates nothing.
pub struct Program<'a> {
    /// The paths to try with `execve`, in order: the program itself when it names a path,
    /// else one per PATH entry.
    pub candidates: &'a [CString],
    /// Whether `candidates` come from a PATH search (then, as execvp does, ENOENT and ENOTDIR
    /// move on to the next entry, and an EACCES seen on the way is the final error).
    pub search: bool,
    /// The argument vector, NULL-terminated.
    pub argv: &'a [*const c_char],
    /// The environment, NULL-terminated.
    pub envp: &'a [*const c_char],
    /// The working directory to change to.
    pub cwd: Option<&'a CString>,
    /// The credentials to switch to: uid, gid and the supplementary groups.
    pub user: Option<(libc::uid_t, libc::gid_t, &'a [libc::gid_t])>,
    /// Make the child's new process group the foreground group of the terminal on fd 0.
    pub take_terminal: bool,
    /// Whether the child runs in our memory or in a copy of it until its exec.
    pub memory: Memory,
}

/// Whether a child runs in our memory until its exec, or in a copy (see the module essay).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Memory {
    /// `CLONE_VM`: nothing copied, so a spawn costs the same however much formation holds.
    Shared,
    /// A copy of our memory, as `fork` makes: no other CPU enters our address space.
    Copied,
}

/// Where the child's stdio goes.
#[derive(Clone, Copy)]
pub enum Stdio<'a> {
    /// Ours, unchanged.
    Inherit,
    /// stdin from /dev/null, stdout and stderr into these pipe write ends.
    Piped { out: &'a OwnedFd, err: &'a OwnedFd },
    /// stdin from /dev/null, stdout and stderr on this terminal (the slave end of a pseudo-
    /// terminal), which becomes the controlling terminal of the child's new session.
    Terminal { tty: &'a OwnedFd },
    /// stdin, stdout and stderr all /dev/null (a check's command).
    Null,
}

/// The step at which a child failed before its program ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Setting up its fd table or stdio.
    Fds,
    /// `chdir` to its working directory.
    Cwd,
    /// Starting its session and taking its terminal as the controlling one.
    Terminal,
    /// Switching to its user.
    User,
    /// `execve` of its program.
    Exec,
}

/// Why a spawn failed: the step and its errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failure {
    /// What failed (`None`: the clone itself, or the fds of the parent).
    pub step: Option<Step>,
    /// The error.
    pub errno: Errno,
}

/// The `RLIMIT_NOFILE` formation was started with, when [`raise_fd_limit`] changed it: each
/// child gets it back.
static CHILD_NOFILE: OnceLock<(rlim_t, rlim_t)> = OnceLock::new();

/// Raises formation's own soft `RLIMIT_NOFILE` to its hard limit: a formation holds two pipe
/// ends per instance, so 10,000 instances need more than the usual soft limit of 1,024 (or
/// Docker's 1,048,576 / 1,048,576 leaves nothing to do). Every child gets the original soft
/// limit back before its exec, as if formation were not there: a program that `select()`s, or
/// sizes a table by the limit, sees what it would have seen.
pub fn raise_fd_limit() {
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return;
    };
    if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
        let _ = CHILD_NOFILE.set((soft, hard));
    }
}

/// The `oom_score_adj` formation was started with, as the text to write back, once
/// [`lower_oom_score`] has lowered formation's own.
static CHILD_OOM_SCORE: OnceLock<Vec<u8>> = OnceLock::new();

const OOM_SCORE_ADJ: &str = "/proc/self/oom_score_adj";

/// Lowers formation's own `oom_score_adj` as far as it may (issue #26): under a container's
/// memory limit the OOM killer must take an instance, never PID 1 (which would take the whole
/// container with it). -1000 (never chosen) needs CAP_SYS_RESOURCE; without it the kernel
/// allows no lower than the floor a privileged writer set (`oom_score_adj_min`, e.g. runc's
/// value for the container), which cannot be read: a binary search of writes finds it (at
/// most 11, once). Every child gets back the value formation was started with, so an instance
/// is as likely a victim as it would be without formation.
pub fn lower_oom_score() {
    let Ok(text) = std::fs::read_to_string(OOM_SCORE_ADJ) else {
        return;
    };
    let Ok(start) = text.trim().parse::<i32>() else {
        return;
    };
    let write = |v: i32| std::fs::write(OOM_SCORE_ADJ, v.to_string()).is_ok();
    // The lowest value known to be allowed, and the highest known to be refused.
    let (mut allowed, mut refused) = match write(-1000) {
        true => (-1000, -1001),
        false => (start, -1000),
    };
    while allowed - refused > 1 {
        let mid = refused + (allowed - refused) / 2;
        if write(mid) {
            allowed = mid;
        } else {
            refused = mid;
        }
    }
    // The last write may have been a refused one: the last success stands (writes that fail
    // change nothing), so the value is `allowed`.
    if allowed < start {
        let _ = CHILD_OOM_SCORE.set(start.to_string().into_bytes());
    }
}

/// Clones a child that sets itself up as `program` and `stdio` say and execs it. Returns its
/// pid once it has exec'd; a failure before that is reported with its step (the child is then
/// already reaped).
pub fn clone_exec(program: &Program, stdio: Stdio) -> Result<Pid, Failure> {
    let parent = |errno| Failure { step: None, errno };
    let mut window = WINDOW
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // (null, out, err, bound): raw numbers for the child, which must not touch the lock.
    let session = matches!(stdio, Stdio::Terminal { .. });
    let fds = match stdio {
        Stdio::Inherit => None,
        Stdio::Piped { out, err } => Some(fill(&mut window, Some((out, err))).map_err(parent)?),
        Stdio::Terminal { tty } => Some(fill(&mut window, Some((tty, tty))).map_err(parent)?),
        Stdio::Null => Some(fill(&mut window, None).map_err(parent)?),
    };
    let nofile = CHILD_NOFILE.get().map(|&(soft, hard)| libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    });
    let oom_score = CHILD_OOM_SCORE.get().map(Vec::as_slice);
    // Where the child writes the step and errno of a failure: our stack when it shares our
    // memory, a shared page when it has a copy.
    let mut failed: [i32; 2] = [0; 2];
    let page = match program.memory {
        Memory::Shared => None,
        Memory::Copied => Some(SharedPage::new().map_err(parent)?),
    };
    let report = page.as_ref().map_or(failed.as_mut_ptr(), |p| p.words);
    let mut stack = [0u8; CHILD_STACK];
    // A child sharing our memory that switches its uid makes that memory non-dumpable
    // (kernel `commit_creds`: `set_dumpable(task->mm, suid_dumpable)`), and the memory is ours:
    // formation's /proc/1/environ and /proc/1/status would then need CAP_SYS_PTRACE, which
    // `docker exec` lacks (SPEC §4 "credentials"). Non-dumpable is right while the child runs in
    // our memory as the other user; once it has exec'd (CLONE_VFORK), the memory holds only
    // ours again, and our own dumpable flag is put back.
    let dumpable = (program.user.is_some() && program.memory == Memory::Shared)
        .then(nix::sys::prctl::get_dumpable)
        .and_then(Result::ok);

    #[allow(unsafe_code)]
    // SAFETY: the child runs on `stack`, in our memory or in a copy of it, while we sleep
    // (CLONE_VFORK) until it has exec'd or exited: everything it reads (`program`, `fds`,
    // `nofile`, `oom_score`) outlives it, and `report` points at `failed` or at the shared page, which it
    // alone writes and we read only after `clone` returns. It makes direct system calls only
    // — no allocation, no lock, no libc state (see the module essay for setgroups/setuid) and
    // nothing that can panic: slices are walked by iterators, never indexed. Every pointer
    // handed to the kernel is a NUL-terminated CString or a NULL-terminated pointer array built
    // by the caller. It ends in `execve` or `_exit`, never by returning into code that expects
    // our stack. formation is single-threaded, so no other thread can touch the shared fd table
    // or memory meanwhile.
    let pid = unsafe {
        let child = || {
            Box::new(|| -> isize {
                let step = 'setup: {
                    let low = fds.map_or(3, |(.., bound)| bound);
                    let unshared = libc::syscall(
                        libc::SYS_close_range,
                        low as libc::c_uint,
                        libc::c_uint::MAX,
                        libc::CLOSE_RANGE_UNSHARE,
                    ) == 0;
                    if !unshared && libc::unshare(libc::CLONE_FILES) != 0 {
                        break 'setup Step::Fds;
                    }
                    if let Some((null, out, err, _)) = fds
                        && (libc::dup2(null, 0) < 0
                            || libc::dup2(out, 1) < 0
                            || libc::dup2(err, 2) < 0)
                    {
                        break 'setup Step::Fds;
                    }
                    if let Some(cwd) = program.cwd
                        && libc::chdir(cwd.as_ptr()) != 0
                    {
                        break 'setup Step::Cwd;
                    }
                    if !session {
                        libc::setpgid(0, 0);
                    } else if libc::setsid() < 0 || libc::ioctl(1, libc::TIOCSCTTY, 0) != 0 {
                        // A new session (its own group, as setpgid would make) whose
                        // controlling terminal is the one on fd 1: so its group is the
                        // terminal's foreground group, as a program started in a shell is.
                        break 'setup Step::Terminal;
                    }
                    libc::signal(libc::SIGPIPE, libc::SIG_DFL);
                    if program.take_terminal {
                        // SIGTTOU is still blocked (our mask), so a background group may do this.
                        // Failure (no terminal after all) is harmless.
                        libc::tcsetpgrp(0, libc::getpid());
                    }
                    // Before the switch of user: raising it back is allowed to the owner,
                    // but /proc/self of a process that changed uid may not be writable.
                    if let Some(score) = oom_score {
                        let fd = libc::open(
                            c"/proc/self/oom_score_adj".as_ptr(),
                            libc::O_WRONLY | libc::O_CLOEXEC,
                        );
                        if fd >= 0 {
                            libc::write(fd, score.as_ptr().cast(), score.len());
                            libc::close(fd);
                        }
                    }
                    if let Some((uid, gid, groups)) = program.user
                        && (libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) != 0
                            || libc::syscall(libc::SYS_setresgid, gid, gid, gid) != 0
                            || libc::syscall(libc::SYS_setresuid, uid, uid, uid) != 0)
                    {
                        break 'setup Step::User;
                    }
                    if let Some(limit) = &nofile {
                        libc::syscall(
                            libc::SYS_prlimit64,
                            0,
                            libc::RLIMIT_NOFILE,
                            limit as *const libc::rlimit,
                            std::ptr::null_mut::<libc::rlimit>(),
                        );
                    }
                    let empty: libc::sigset_t = std::mem::zeroed();
                    libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
                    let mut seen_eacces = false;
                    for path in program.candidates {
                        libc::execve(path.as_ptr(), program.argv.as_ptr(), program.envp.as_ptr());
                        let errno = Errno::last_raw();
                        match errno {
                            libc::EACCES if program.search => seen_eacces = true,
                            libc::ENOENT | libc::ENOTDIR if program.search => {}
                            _ => break 'setup Step::Exec,
                        }
                    }
                    *libc::__errno_location() = if seen_eacces {
                        libc::EACCES
                    } else {
                        libc::ENOENT
                    };
                    Step::Exec
                };
                std::ptr::write_volatile(report, step as i32 + 1);
                std::ptr::write_volatile(report.add(1), Errno::last_raw());
                libc::_exit(127)
            })
        };
        let vfork = match program.memory {
            Memory::Shared => CloneFlags::CLONE_VM | CloneFlags::CLONE_VFORK,
            Memory::Copied => CloneFlags::CLONE_VFORK,
        };
        let shared = vfork | CloneFlags::CLONE_FILES;
        match nix::sched::clone(child(), &mut stack, shared, Some(libc::SIGCHLD)) {
            // qemu-user refuses CLONE_FILES outside thread creation (and runs a vfork as a
            // fork): then the child copies the fd table, as a fork does — correct, only O(n).
            // Under such a fork we do not wait for the exec: the record is read before the
            // child could write it, and an exec that fails is seen as the child's exit status
            // 127 by the reaper instead.
            Err(Errno::EINVAL) => {
                nix::sched::clone(child(), &mut stack, vfork, Some(libc::SIGCHLD))
            }
            other => other,
        }
    };
    // Put the slots back to /dev/null at once: our copies of the write ends must close, or
    // the pipes would never reach EOF. (A failure here cannot happen: both fds are open.)
    if let Some(w) = window.as_mut() {
        let _ = dup3(&w.null, &mut w.out, OFlag::O_CLOEXEC);
        let _ = dup3(&w.null, &mut w.err, OFlag::O_CLOEXEC);
    }
    if dumpable == Some(true) && nix::sys::prctl::get_dumpable() == Ok(false) {
        let _ = nix::sys::prctl::set_dumpable(true);
    }
    let pid = pid.map_err(parent)?;
    // The child has exec'd or exited (CLONE_VFORK): the record is final.
    #[allow(unsafe_code)]
    // SAFETY: `report` points at two i32s that live until the end of this function (`failed`
    // or `page`), and the child no longer runs in them.
    let (step, errno) = unsafe {
        (
            std::ptr::read_volatile(report),
            std::ptr::read_volatile(report.add(1)),
        )
    };
    drop(page);
    if step == 0 {
        return Ok(pid);
    }
    // It exited at once with 127; collect it here so that the loop never sees this pid (std
    // reaps a child whose exec failed in the same way).
    let _ = nix::sys::wait::waitpid(pid, Some(nix::sys::wait::WaitPidFlag::__WALL));
    let step = [Step::Fds, Step::Cwd, Step::Terminal, Step::User, Step::Exec]
        .into_iter()
        .find(|s| *s as i32 + 1 == step);
    Err(Failure {
        step,
        errno: Errno::from_raw(errno),
    })
}
