//! `formation status` asked over the control socket: an instance is its whole process group
//! (SPEC §4), so its figures are those of every process of the group its leader leads —
//! found by `/proc/PID/stat`'s process group, not by the environment (which postgres and
//! nginx rewrite, and which another user's processes do not show us).

use super::{Known, Process};

/// The instance each process group belongs to: (leader pid, instance name) of every
/// instance that has a process.
pub fn leaders(known: &[Known]) -> Vec<(i32, &str)> {
    let mut leaders: Vec<(i32, &str)> = known
        .iter()
        .filter_map(|k| Some((k.pid?, k.name.as_str())))
        .collect();
    leaders.sort_unstable();
    leaders
}

/// The instance that process group `pgrp` belongs to, from [`leaders`].
pub fn owner<'a>(leaders: &[(i32, &'a str)], pgrp: i32) -> Option<&'a str> {
    let at = leaders.binary_search_by_key(&pgrp, |(pid, _)| *pid).ok()?;
    Some(leaders[at].1)
}

/// One row per instance: its group's RSS and CPU summed, with its leader's pid, and the
/// table's uptime (else the leader's, from /proc).
/// `procs` are the processes named after their instance.
pub fn fold(procs: &[Process], known: &[Known]) -> Vec<Process> {
    known
        .iter()
        .filter_map(|k| {
            let leader = k.pid?;
            let mine = procs.iter().filter(|p| p.name == k.name);
            let mut total: Option<Process> = None;
            for p in mine {
                let t = total.get_or_insert_with(|| Process {
                    name: k.name.clone(),
                    pid: leader,
                    uptime: p.uptime,
                    rss: 0,
                    cpu: Default::default(),
                });
                t.rss = t.rss.saturating_add(p.rss);
                t.cpu = t.cpu.saturating_add(p.cpu);
                if p.pid == leader {
                    t.uptime = p.uptime;
                }
            }
            if let (Some(t), Some(uptime)) = (total.as_mut(), k.uptime) {
                t.uptime = uptime;
            }
            total
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn known(name: &str, pid: Option<i32>) -> Known {
        Known {
            name: name.into(),
            state: "running".into(),
            pid,
            ready: true,
            restarts: 0,
            last_exit: None,
            uptime: None,
        }
    }

    fn process(name: &str, pid: i32, secs: u64) -> Process {
        Process {
            name: name.into(),
            pid,
            uptime: Duration::from_secs(secs),
            rss: 1024,
            cpu: Duration::from_millis(10),
        }
    }

    #[test]
    fn a_group_belongs_to_the_instance_that_leads_it() {
        let table = [
            known("db.1", Some(40)),
            known("web.1", Some(7)),
            known("w.1", None),
        ];
        let leaders = leaders(&table);
        assert_eq!(owner(&leaders, 7), Some("web.1"));
        assert_eq!(owner(&leaders, 40), Some("db.1"));
        assert_eq!(owner(&leaders, 8), None, "an orphan's group");
    }

    #[test]
    fn one_row_per_instance_with_its_groups_sums() {
        let table = [
            known("db.1", Some(40)),
            known("web.1", Some(7)),
            known("w.1", None),
        ];
        let procs = [
            process("db.1", 41, 5),
            process("db.1", 40, 9),
            process("db.1", 43, 1),
            process("web.1", 7, 3),
        ];
        let rows = fold(&procs, &table);
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!(
            (
                rows[0].name.as_str(),
                rows[0].pid,
                rows[0].rss,
                rows[0].uptime
            ),
            ("db.1", 40, 3072, Duration::from_secs(9))
        );
        assert_eq!(rows[0].cpu, Duration::from_millis(30));
        assert_eq!((rows[1].name.as_str(), rows[1].rss), ("web.1", 1024));
    }
}
