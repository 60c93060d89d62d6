//! The PID-1 sweep's `kill`: every process left in the container once the instances have
//! ended (SPEC §4.1). The engine decides when and with what signal.

use crate::os::child;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Signals every process left: as PID 1, all of the namespace; else the process groups
/// `pgids` and our direct children (orphans re-parented onto us as subreaper).
pub fn signal_rest(pid1: bool, pgids: impl Iterator<Item = Pid>, sig: Signal) {
    if pid1 {
        // kill(2): pid -1 reaches every process we may signal except ourselves.
        let _ = kill(Pid::from_raw(-1), sig);
        return;
    }
    for pgid in pgids {
        child::signal_group(pgid, sig);
    }
    for pid in own_children() {
        let _ = kill(pid, sig);
    }
}

/// Our direct children, from /proc/self/task/*/children (Linux ≥ 3.5).
fn own_children() -> Vec<Pid> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|text| {
            text.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .map(Pid::from_raw)
                .collect::<Vec<_>>()
        })
        .collect()
}
