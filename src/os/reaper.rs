//! The one place that calls `waitpid`.
//!
//! Owns: draining every exited child of this process — our instances, and the orphans the
//! kernel re-parents onto us as PID 1 or as a child subreaper — and turning a wait status into
//! an [`Exit`] and its shell status.
//!
//! Must not: know which pid is which instance (the supervisor matches pids), or wait on one
//! pid alone. Two reapers steal each other's statuses (go-reaper#2, athens#2049), so nothing
//! else in formation may wait; that is why `std::process::Child::wait` is never called.
//!
//! Kernel facts: SIGCHLD is not queued, so one signal can stand for many exits — hence a drain
//! with `WNOHANG` until nothing is left. `__WALL` also reaps children whose exit signal is not
//! SIGCHLD (clone(2) users), which an init must collect too.

use crate::engine::exit::Exit;
use nix::errno::Errno;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

/// What one drain found.
#[derive(Debug, Default)]
pub struct Drain {
    /// Every child that ended, in the order the kernel reported them.
    pub exits: Vec<(Pid, Exit)>,
    /// False once `waitpid` said ECHILD: no child of ours is left at all.
    pub children_left: bool,
}

/// Reaps every child that has ended, without blocking.
pub fn drain() -> Drain {
    let mut found = Drain::default();
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG | WaitPidFlag::__WALL)) {
            Ok(WaitStatus::Exited(pid, code)) => found.exits.push((pid, Exit::Code(code))),
            Ok(WaitStatus::Signaled(pid, sig, _core)) => {
                found.exits.push((pid, Exit::Signal(sig as i32)))
            }
            Ok(WaitStatus::StillAlive) => {
                found.children_left = true;
                return found;
            }
            // Stopped/continued are not reported without WUNTRACED/WCONTINUED; ignore any.
            Ok(_) => continue,
            Err(Errno::EINTR) => continue,
            Err(_) => {
                // ECHILD: nothing left to wait for.
                found.children_left = false;
                return found;
            }
        }
    }
}
