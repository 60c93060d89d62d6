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

use nix::errno::Errno;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use std::fmt;

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// It called `exit` with this code (0–255).
    Code(i32),
    /// A signal with this number killed it.
    Signal(i32),
}

impl Exit {
    /// The status a shell would report: the code, or 128+N for death by signal N.
    pub fn status(self) -> i32 {
        match self {
            Exit::Code(code) => code,
            Exit::Signal(signo) => 128 + signo,
        }
    }

    /// True for a clean `exit(0)`.
    pub fn success(self) -> bool {
        self == Exit::Code(0)
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Exit::Code(code) => write!(f, "exited with code {code}"),
            Exit::Signal(signo) => match nix::sys::signal::Signal::try_from(signo) {
                Ok(sig) => write!(f, "was killed by {}", sig.as_str()),
                Err(_) => write!(f, "was killed by signal {signo}"),
            },
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_status_of_exits() {
        let table = [
            (Exit::Code(0), 0),
            (Exit::Code(1), 1),
            (Exit::Code(255), 255),
            (Exit::Signal(15), 143),
            (Exit::Signal(9), 137),
            (Exit::Signal(11), 139),
        ];
        for (exit, status) in table {
            assert_eq!(exit.status(), status, "{exit:?}");
        }
    }

    #[test]
    fn exits_describe_themselves() {
        assert_eq!(Exit::Code(3).to_string(), "exited with code 3");
        assert_eq!(Exit::Signal(9).to_string(), "was killed by SIGKILL");
        assert_eq!(Exit::Signal(40).to_string(), "was killed by signal 40");
    }
}
