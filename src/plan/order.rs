//! The start order as `check` shows it and the stop's worst case (SPEC §2.1, §4.1): tiers of
//! process types by their `after` lists.
//!
//! Pure: types are indexes; `deps[t]` lists the types `t` starts after (already resolved and
//! without types scaled to 0). The config's validation has ruled out cycles; a cycle that got
//! here anyway puts the types on it in no tier rather than looping.

use std::time::Duration;

/// Start tiers: the types with no dependency first, then those whose dependencies are all in
/// earlier tiers, and so on.
pub fn start_tiers(deps: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut tier_of: Vec<Option<usize>> = vec![None; deps.len()];
    let mut tiers: Vec<Vec<usize>> = Vec::new();
    loop {
        let next: Vec<usize> = (0..deps.len())
            .filter(|&t| tier_of[t].is_none())
            .filter(|&t| deps[t].iter().all(|&d| tier_of[d].is_some()))
            .collect();
        if next.is_empty() {
            return tiers;
        }
        for &t in &next {
            tier_of[t] = Some(tiers.len());
        }
        tiers.push(next);
    }
}

/// Stop tiers: the types nothing depends on first (they get their stop signal at once), then
/// those whose dependents are all in earlier tiers.
pub fn stop_tiers(deps: &[Vec<usize>]) -> Vec<Vec<usize>> {
    start_tiers(&dependents(deps))
}

/// For each type, the types that start after it.
fn dependents(deps: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut dependents = vec![Vec::new(); deps.len()];
    for (t, ds) in deps.iter().enumerate() {
        for &d in ds {
            dependents[d].push(t);
        }
    }
    dependents
}

/// The worst case of a stop: the largest grace of each stop tier, added up, plus the default
/// grace for the sweep. `graces[t]` is type `t`'s grace; `oneshot[t]` whether it is a task.
///
/// A task that has completed is no tier (SPEC §4.1): its grace counts only while it can
/// still be running, and while it runs its dependents have not started. So the worst case is
/// the larger of the steady state (every task completed: no grace of theirs) and, for each
/// task, the stop while it runs: without the types that start after it, with the tasks it
/// starts after completed, and with any other task counted as running.
pub fn worst_stop(
    deps: &[Vec<usize>],
    graces: &[Duration],
    oneshot: &[bool],
    default: Duration,
) -> Duration {
    let tiers = |graces: &[Duration]| -> Duration {
        stop_tiers(deps)
            .iter()
            .map(|tier| tier.iter().map(|&t| graces[t]).max().unwrap_or_default())
            .sum()
    };
    let task = |t: usize| oneshot.get(t).copied().unwrap_or(false);
    let steady: Vec<Duration> = (0..graces.len())
        .map(|t| if task(t) { Duration::ZERO } else { graces[t] })
        .collect();
    let dependents = dependents(deps);
    let running = (0..graces.len()).filter(|&t| task(t)).map(|o| {
        let (before, after) = (reach(deps, o), reach(&dependents, o));
        let graces: Vec<Duration> = (0..graces.len())
            .map(|t| {
                let not_running = t != o && (after[t] || (before[t] && task(t)));
                if not_running {
                    Duration::ZERO
                } else {
                    graces[t]
                }
            })
            .collect();
        tiers(&graces)
    });
    running.chain([tiers(&steady)]).max().unwrap_or_default() + default
}

/// Which types `from` reaches through `edges` (itself not included unless on a cycle).
fn reach(edges: &[Vec<usize>], from: usize) -> Vec<bool> {
    let mut seen = vec![false; edges.len()];
    let mut todo: Vec<usize> = edges[from].clone();
    while let Some(t) = todo.pop() {
        if !std::mem::replace(&mut seen[t], true) {
            todo.extend(&edges[t]);
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_of_a_stack() {
        // 0 db, 1 release after db, 2 web after release, 3 nginx after web, 4 worker after db
        let deps = vec![vec![], vec![0], vec![1], vec![2], vec![0]];
        assert_eq!(start_tiers(&deps), [vec![0], vec![1, 4], vec![2], vec![3]]);
        assert_eq!(stop_tiers(&deps), [vec![3, 4], vec![2], vec![1], vec![0]]);
        let s = Duration::from_secs;
        let graces = [s(10), s(1), s(25), s(2), s(5)];
        // tiers: max(2, 5) + 25 + 1 + 10, plus a 5 s sweep
        assert_eq!(worst_stop(&deps, &graces, &[false; 5], s(5)), s(46));
    }

    #[test]
    fn without_after_everything_is_one_tier() {
        let deps = vec![vec![], vec![], vec![]];
        assert_eq!(start_tiers(&deps), [vec![0, 1, 2]]);
        let s = Duration::from_secs;
        assert_eq!(
            worst_stop(&deps, &[s(1), s(7), s(3)], &[false; 3], s(5)),
            s(12)
        );
    }

    /// SPEC §4.1: a completed task is no tier; while it runs, what starts after it does not.
    #[test]
    fn a_task_counts_only_while_it_can_run() {
        let s = Duration::from_secs;
        // (deps, graces, oneshot, worst case with a 5 s sweep)
        type Case = (Vec<Vec<usize>>, Vec<Duration>, Vec<bool>, Duration);
        let table: [Case; 5] = [
            // A Procfile's release phase: 0 release, 1 web after it, 2 worker after it.
            (
                vec![vec![], vec![0], vec![0]],
                vec![s(5), s(5), s(5)],
                vec![true, false, false],
                s(10),
            ),
            // A slow migration: while it runs, only it is stopped.
            (
                vec![vec![], vec![0]],
                vec![s(30), s(5)],
                vec![true, false],
                s(35),
            ),
            // 0 db, 1 migrate after db, 2 web after migrate: db waits for web (steady) or for
            // migrate (while it runs).
            (
                vec![vec![], vec![0], vec![1]],
                vec![s(10), s(3), s(20)],
                vec![false, true, false],
                s(35),
            ),
            (
                vec![vec![], vec![0], vec![1]],
                vec![s(10), s(30), s(20)],
                vec![false, true, false],
                s(45),
            ),
            // Two tasks, the second after the first: while the second runs, the first is done.
            (
                vec![vec![], vec![0], vec![1]],
                vec![s(7), s(4), s(1)],
                vec![true, true, false],
                s(12),
            ),
        ];
        for (deps, graces, oneshot, want) in table {
            assert_eq!(
                worst_stop(&deps, &graces, &oneshot, s(5)),
                want,
                "{deps:?} {graces:?} {oneshot:?}"
            );
        }
    }

    #[test]
    fn a_cycle_never_loops() {
        let deps = vec![vec![1], vec![0], vec![]];
        assert_eq!(start_tiers(&deps), [vec![2]]);
    }
}
