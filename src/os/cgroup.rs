//! The container's memory control group, read to tell an OOM kill from any other SIGKILL
//! (issue #26): cgroup v2's `memory.events` and v1's `memory.oom_control` both count the
//! processes the OOM killer took (`oom_kill N`); `memory.max` / `memory.limit_in_bytes` hold
//! the limit the line names.
//!
//! Owns: finding the group's directory once, at start-up, and reading its two files when
//! asked — once per SIGKILL exit, never on a timer (no polling: a container that never OOMs
//! costs nothing).
//!
//! Must not: decide what a rise of the count means (`engine::exit::Exit::attributed` does).
//!
//! Which group: the one `/proc/self/cgroup` names, under the usual mount point. Inside a
//! container the group is often the mount's root instead (Docker with cgroup v1 mounts the
//! container's own group at `/sys/fs/cgroup/memory` while `/proc/self/cgroup` shows the host's
//! path `/docker/ID`; with v2 and a private cgroup namespace the path is `/`): when the named
//! directory does not exist, the mount's root is the container's group.

use std::fs;
use std::path::{Path, PathBuf};

/// The memory control group formation runs in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryGroup {
    dir: PathBuf,
    /// The unified hierarchy (v2) rather than v1's memory controller.
    v2: bool,
}

/// v1 reports "no limit" as the largest page-aligned counter, which is far above any real
/// memory: anything from 2^60 bytes (an exbibyte) up is no limit.
const UNLIMITED: u64 = 1 << 60;

impl MemoryGroup {
    /// The group of this process, or None without a memory controller (no /sys, no cgroup
    /// memory accounting, a mount elsewhere).
    pub fn find() -> Option<MemoryGroup> {
        let own = fs::read_to_string("/proc/self/cgroup").ok()?;
        let root = Path::new("/sys/fs/cgroup");
        let (v1, v2) = paths(&own);
        let candidates = [
            v1.map(|p| (root.join("memory").join(p), false)),
            Some((root.join("memory"), false)),
            v2.map(|p| (root.join(p), true)),
            Some((root.to_path_buf(), true)),
        ];
        candidates.into_iter().flatten().find_map(|(dir, v2)| {
            let file = if v2 {
                "memory.events"
            } else {
                "memory.oom_control"
            };
            dir.join(file).exists().then_some(MemoryGroup { dir, v2 })
        })
    }

    /// How many processes of the group the OOM killer has killed so far (one read).
    pub fn oom_kills(&self) -> Option<u64> {
        let file = if self.v2 {
            "memory.events"
        } else {
            "memory.oom_control"
        };
        oom_kill_count(&fs::read_to_string(self.dir.join(file)).ok()?)
    }

    /// The group's memory limit in bytes, None when it has none.
    pub fn limit(&self) -> Option<u64> {
        let file = if self.v2 {
            "memory.max"
        } else {
            "memory.limit_in_bytes"
        };
        limit_bytes(&fs::read_to_string(self.dir.join(file)).ok()?)
    }
}

/// The group paths in a `/proc/self/cgroup` text: (v1's memory controller, v2's unified).
/// Each line is `ID:CONTROLLERS:PATH`; v2's has ID 0 and no controllers.
fn paths(text: &str) -> (Option<&str>, Option<&str>) {
    let (mut v1, mut v2) = (None, None);
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let path = path.trim_start_matches('/');
        if controllers.split(',').any(|c| c == "memory") {
            v1 = Some(path);
        } else if id == "0" && controllers.is_empty() {
            v2 = Some(path);
        }
    }
    (v1, v2)
}

/// The `oom_kill N` figure of a `memory.events` or `memory.oom_control` text.
fn oom_kill_count(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix("oom_kill "))
        .and_then(|n| n.trim().parse().ok())
}

/// A limit file's bytes: `max` (v2) or v1's huge figure is no limit.
fn limit_bytes(text: &str) -> Option<u64> {
    let bytes: u64 = text.trim().parse().ok()?;
    (bytes < UNLIMITED).then_some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_group_is_found_in_proc_self_cgroup() {
        type Paths<'a> = (Option<&'a str>, Option<&'a str>);
        let table: &[(&str, Paths)] = &[
            // cgroup v1, with the systemd named hierarchy and v2's empty line beside it.
            (
                "9:name=systemd:/\n4:memory:/docker/abc\n1:cpu,cpuacct:/docker/abc\n0::/\n",
                (Some("docker/abc"), Some("")),
            ),
            ("5:cpuacct,memory:/a/b\n", (Some("a/b"), None)),
            // cgroup v2 only.
            (
                "0::/system.slice/x.service\n",
                (None, Some("system.slice/x.service")),
            ),
            ("0::/\n", (None, Some(""))),
            ("", (None, None)),
            ("garbage\n", (None, None)),
        ];
        for (text, want) in table {
            assert_eq!(paths(text), *want, "{text:?}");
        }
    }

    #[test]
    fn oom_kills_are_read_from_v1_and_v2_files() {
        let table = [
            ("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n", Some(3)),
            (
                "low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n",
                Some(2),
            ),
            ("oom_kill_disable 0\nunder_oom 0\n", None),
            ("oom_kill x\n", None),
        ];
        for (text, want) in table {
            assert_eq!(oom_kill_count(text), want, "{text:?}");
        }
    }

    #[test]
    fn limits_say_none_when_unlimited() {
        let table = [
            ("268435456\n", Some(268_435_456)),
            ("max\n", None),
            ("9223372036854771712\n", None),
            ("", None),
        ];
        for (text, want) in table {
            assert_eq!(limit_bytes(text), want, "{text:?}");
        }
    }
}
