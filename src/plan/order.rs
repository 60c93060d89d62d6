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
    let mut dependents = vec![Vec::new(); deps.len()];
    for (t, ds) in deps.iter().enumerate() {
        for &d in ds {
            dependents[d].push(t);
        }
    }
    start_tiers(&dependents)
}

/// The worst case of a stop: the largest grace of each stop tier, added up, plus the default
/// grace for the sweep. `graces[t]` is type `t`'s grace.
pub fn worst_stop(deps: &[Vec<usize>], graces: &[Duration], default: Duration) -> Duration {
    stop_tiers(deps)
        .iter()
        .map(|tier| tier.iter().map(|&t| graces[t]).max().unwrap_or_default())
        .sum::<Duration>()
        + default
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
        assert_eq!(worst_stop(&deps, &graces, s(5)), s(46));
    }

    #[test]
    fn without_after_everything_is_one_tier() {
        let deps = vec![vec![], vec![], vec![]];
        assert_eq!(start_tiers(&deps), [vec![0, 1, 2]]);
        let s = Duration::from_secs;
        assert_eq!(worst_stop(&deps, &[s(1), s(7), s(3)], s(5)), s(12));
    }

    #[test]
    fn a_cycle_never_loops() {
        let deps = vec![vec![1], vec![0], vec![]];
        assert_eq!(start_tiers(&deps), [vec![2]]);
    }
}
