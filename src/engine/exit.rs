//! How a process ended, and the status a shell would report for it: shared by the pure
//! rules (policy, stop) and the reaper that observes exits.

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
