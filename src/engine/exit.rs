//! How a process ended, and the status a shell would report for it: shared by the pure
//! rules (policy, stop) and the reaper that observes exits.

use std::fmt;

/// SIGKILL's number (the same on every Linux architecture).
const SIGKILL: i32 = 9;

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// It called `exit` with this code (0–255).
    Code(i32),
    /// A signal with this number killed it.
    Signal(i32),
    /// The OOM killer's SIGKILL: the container's memory group counted a kill when it died.
    /// With the group's limit in bytes, when it has one.
    OutOfMemory(Option<u64>),
}

impl Exit {
    /// The status a shell would report: the code, or 128+N for death by signal N.
    pub fn status(self) -> i32 {
        match self {
            Exit::Code(code) => code,
            Exit::Signal(signo) => 128 + signo,
            Exit::OutOfMemory(_) => 128 + SIGKILL,
        }
    }

    /// What an exit read from `waitpid` was, given the container's OOM-kill count before
    /// (`seen`) and after (`now`) it and the memory limit (asked only then): a SIGKILL while the count rose is
    /// the OOM killer's (issue #26). Any other exit, or a count that cannot be read, is as
    /// it was.
    pub fn attributed(
        self,
        seen: Option<u64>,
        now: Option<u64>,
        limit: impl FnOnce() -> Option<u64>,
    ) -> Exit {
        match (self, seen, now) {
            (Exit::Signal(SIGKILL), Some(seen), Some(now)) if now > seen => {
                Exit::OutOfMemory(limit())
            }
            _ => self,
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
            Exit::OutOfMemory(None) => write!(f, "was killed by SIGKILL (out of memory)"),
            Exit::OutOfMemory(Some(limit)) => write!(
                f,
                "was killed by SIGKILL (out of memory: the container's limit is {})",
                Bytes(limit)
            ),
        }
    }
}

/// A memory size as a person writes it: whole GiB or MiB when it is one, else MiB with one
/// decimal (KiB below a MiB).
struct Bytes(u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const KIB: u64 = 1024;
        const MIB: u64 = 1024 * KIB;
        const GIB: u64 = 1024 * MIB;
        let b = self.0;
        if b >= GIB && b.is_multiple_of(GIB) {
            write!(f, "{} GiB", b / GIB)
        } else if b.is_multiple_of(MIB) {
            write!(f, "{} MiB", b / MIB)
        } else if b >= MIB {
            let tenths = (b * 10 + MIB / 2) / MIB;
            write!(f, "{}.{} MiB", tenths / 10, tenths % 10)
        } else {
            write!(f, "{} KiB", b.div_ceil(KIB))
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
        let mib = 1 << 20;
        let table = [
            (
                Some(256 * mib),
                "out of memory: the container's limit is 256 MiB",
            ),
            (
                Some(2048 * mib),
                "out of memory: the container's limit is 2 GiB",
            ),
            (
                Some(1536 * mib),
                "out of memory: the container's limit is 1536 MiB",
            ),
            (
                Some(mib + mib / 2),
                "out of memory: the container's limit is 1.5 MiB",
            ),
            (
                Some(100_000_000),
                "out of memory: the container's limit is 95.4 MiB",
            ),
            (
                Some(4096 * 3),
                "out of memory: the container's limit is 12 KiB",
            ),
            (None, "out of memory"),
        ];
        for (limit, why) in table {
            let text = Exit::OutOfMemory(limit).to_string();
            assert_eq!(text, format!("was killed by SIGKILL ({why})"), "{limit:?}");
            assert_eq!(Exit::OutOfMemory(limit).status(), 137);
        }
    }

    #[test]
    fn only_a_sigkill_while_the_oom_count_rose_is_out_of_memory() {
        let limit = Some(1 << 28);
        let oom = Exit::OutOfMemory(limit);
        let table = [
            (Exit::Signal(9), Some(0), Some(1), oom),
            (Exit::Signal(9), Some(4), Some(6), oom),
            // The count did not move: someone else's SIGKILL (ours at a grace, `docker kill`).
            (Exit::Signal(9), Some(1), Some(1), Exit::Signal(9)),
            // Unreadable before or after: say what is known.
            (Exit::Signal(9), None, Some(1), Exit::Signal(9)),
            (Exit::Signal(9), Some(0), None, Exit::Signal(9)),
            // The OOM killer sends only SIGKILL; other deaths are never its.
            (Exit::Signal(15), Some(0), Some(1), Exit::Signal(15)),
            (Exit::Code(137), Some(0), Some(1), Exit::Code(137)),
        ];
        for (exit, seen, now, want) in table {
            assert_eq!(
                exit.attributed(seen, now, || limit),
                want,
                "{exit:?} {seen:?}→{now:?}"
            );
        }
    }
}
