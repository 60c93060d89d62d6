//! What `formation check` asks of the machine it runs on, for its warnings (SPEC §2.1): whether
//! a program could be exec'd, whether formation could switch users, how many fds it may open.
//!
//! Must not: decide what is worth a warning (that is `plan::warnings`).

use nix::sys::resource::{Resource, getrlimit};
use nix::unistd::{AccessFlags, access};
use std::path::Path;

/// A file that formation could exec.
pub fn is_executable(path: &Path) -> bool {
    path.is_file() && access(path, AccessFlags::X_OK).is_ok()
}

/// Whether formation may switch to another user: root, or CAP_SETUID and CAP_SETGID in its
/// effective set (a container started with `--user` and added capabilities).
pub fn can_switch_user() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    // CAP_SETGID is bit 6, CAP_SETUID bit 7 (linux/capability.h).
    let wanted = (1u64 << 6) | (1 << 7);
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let hex = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?;
            u64::from_str_radix(hex.trim(), 16).ok()
        })
        .is_some_and(|caps| caps & wanted == wanted)
}

/// The most fds formation can open: its hard `RLIMIT_NOFILE` (it raises its soft limit to
/// it, `os::spawn::raise_fd_limit`).
pub fn fd_limit() -> u64 {
    getrlimit(Resource::RLIMIT_NOFILE).map_or(u64::MAX, |(_, hard)| hard)
}
