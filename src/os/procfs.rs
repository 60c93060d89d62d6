//! `formation status`'s reading of /proc: every process whose environment has `PS`, or that
//! belongs to an instance's process group, with its /proc figures; and the
//! `FORMATION_LISTEN` that formation (PID 1) was started with.
//!
//! Must not: interpret what it reads — the parsing is `serve::status`'s, as pure functions.
//! A process may exit between the listing and the reads: whatever cannot be read is skipped.

use crate::serve::status::{self, Known, Process, Units, groups};
use nix::dir::Dir;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use nix::unistd::{SysconfVar, sysconf};
use std::fmt::Write as _;
use std::fs;
use std::io::Read;

/// Every process of this pid namespace with `PS` set, but the caller itself.
pub fn instances() -> Vec<Process> {
    scan(&|pid, _| {
        let environ = fs::read(format!("/proc/{pid}/environ")).ok()?;
        let name = status::environ_var(&environ, "PS")?;
        Some(String::from_utf8_lossy(name).into_owned())
    })
}

/// Every process of the groups that `known`'s instances lead, named after its instance.
/// Only `stat` is read, which anyone may: it finds the processes of instances
/// that run as another user, and those that rewrite their environment.
pub fn groups(known: &[Known]) -> Vec<Process> {
    let leaders = groups::leaders(known);
    scan(&|_, pgrp| groups::owner(&leaders, pgrp).map(String::from))
}

/// The processes of this pid namespace but the caller that `name` (given a pid and its
/// process group) names, with their /proc figures.
fn scan(name: &dyn Fn(i32, i32) -> Option<String>) -> Vec<Process> {
    let units = Units {
        ticks_per_second: sysconf(SysconfVar::CLK_TCK)
            .ok()
            .flatten()
            .map_or(100, |t| t as u64),
        page_size: sysconf(SysconfVar::PAGE_SIZE)
            .ok()
            .flatten()
            .map_or(4096, |p| p as u64),
        boot_uptime: fs::read_to_string("/proc/uptime")
            .ok()
            .and_then(|t| status::parse_uptime(&t))
            .unwrap_or_default(),
    };
    let me = std::process::id() as i32;
    // nix's Dir, not std's read_dir: its entries borrow the directory's buffer, where std's
    // allocate a name each (musl's allocator maps and unmaps pages for such churn).
    let Ok(mut dir) = Dir::open("/proc", OFlag::O_RDONLY | OFlag::O_DIRECTORY, Mode::empty())
    else {
        return Vec::new();
    };
    // One buffer for every `stat`, each read in one call: with 50 instances beside a log
    // flood, std's read_to_string (statx, lseek, reads, a new buffer each) tripled the
    // command's system calls and time.
    let mut buf = [0u8; 1024];
    let mut path = String::new();
    dir.iter()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str().ok()?.parse::<i32>().ok())
        .filter(|pid| *pid != me)
        .filter_map(|pid| {
            path.clear();
            let _ = write!(path, "/proc/{pid}/stat");
            let n = fs::File::open(&path).ok()?.read(&mut buf).ok()?;
            let stat = status::parse_stat(std::str::from_utf8(&buf[..n]).ok()?)?;
            let name = name(pid, stat.pgrp)?;
            Some(Process::new(name, pid, stat, units))
        })
        .collect()
}

/// `FORMATION_LISTEN` in the environment PID 1 was started with, if it is set.
pub fn pid1_listen() -> Option<String> {
    let environ = fs::read("/proc/1/environ").ok()?;
    let value = status::environ_var(&environ, "FORMATION_LISTEN")?;
    Some(String::from_utf8_lossy(value).into_owned()).filter(|v| !v.is_empty())
}
