//! Fire times of a schedule, and the decision the engine takes at each wake-up.
//!
//! Owns: `next_after` (the first fire strictly after an instant), `upcoming` (for
//! `formation check`), and `wake` (what to run now and when to wake next). All take the
//! wall-clock time as an argument; nothing here reads a clock.
//!
//! Fire times are instants (Unix seconds). `@every D` fires at start + k·D, k ≥ 1. Cron is
//! evaluated in the zone's local time, and where the zone's offset changes we do what cronie
//! (and Vixie cron since 3.0) does, whose `cron.c` distinguishes *wild* jobs (minute or hour
//! field starting with `*`) from *fixed-time* jobs:
//! - Spring forward (a gap of local times that never exist): a fixed-time job whose time
//!   falls in the gap runs once, at the instant of the change (cronie runs it "immediately"
//!   after the jump; where cronie would run two matches of one job in the same gap back to
//!   back, we fire once — one instant fires once). Wild jobs just miss the skipped minutes.
//! - Fall back (an overlap of local times that happen twice): a fixed-time job runs only at
//!   the first occurrence; wild jobs run in both (`*/15` keeps firing every 15 real minutes).
//!
//! The clock contract (SPEC §4.4): the engine keeps, per scheduled type, the last fire time
//! it ran (the formation start before the first) and calls `wake` at each wake-up with the
//! wall clock. A fire at most `LATE` seconds old is run (poll wakes up a little late); older
//! fires — the clock jumped forward over them — are missed, not caught up; when several are
//! due, only the latest runs. Fires at or before the last one run never run, so a clock
//! jumping back repeats nothing. The next fire is recomputed from the wall clock each time.

use super::{Cron, Schedule};
use crate::time::civil::DAY;
use crate::time::tz::Zone;

/// How late (seconds) a wake-up may be and still run the fire it was for.
pub const LATE: i64 = 60;

/// Instants beyond this many seconds from the epoch (about ±34,000 years) have no fires:
/// keeps every computation far from overflow.
const LIMIT: i64 = 1 << 40;

/// How far ahead a search goes: a cron that the parser accepted matches some date in every
/// 400-year cycle, so a search beyond that (plus a day of slack) would never succeed.
const HORIZON: i64 = super::CYCLE + DAY;

/// What the engine does at a wake-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wake {
    /// The fire time to run now, if one is due (the new "last fire").
    pub run: Option<i64>,
    /// The next fire time after this wake-up: sleep until then. None: never again.
    pub next: Option<i64>,
}

impl Schedule {
    /// The first fire time strictly after `after` (Unix seconds, UTC). `zone` is the
    /// schedule's `timezone` (UTC by default); `start` is the formation's start, from which
    /// `@every` counts.
    pub fn next_after(&self, after: i64, zone: &Zone, start: i64) -> Option<i64> {
        if !(-LIMIT..LIMIT).contains(&after) || !(-LIMIT..LIMIT).contains(&start) {
            return None;
        }
        match *self {
            Schedule::Every(every) => {
                let every = i64::try_from(every).ok().filter(|&e| e > 0)?;
                let k = ((after - start).div_euclid(every) + 1).max(1);
                start.checked_add(k.checked_mul(every)?)
            }
            Schedule::Cron(ref cron) => cron.next_after(after, zone),
        }
    }

    /// The first `n` fire times after `after` (`formation check` prints three).
    pub fn upcoming(&self, after: i64, zone: &Zone, start: i64, n: usize) -> Vec<i64> {
        let mut fires = Vec::with_capacity(n);
        let mut t = after;
        while fires.len() < n {
            let Some(next) = self.next_after(t, zone, start) else {
                break;
            };
            fires.push(next);
            t = next;
        }
        fires
    }

    /// The decision at a wake-up at wall-clock time `now`, `last` being the last fire time
    /// run (the formation start before the first): see the module comment.
    pub fn wake(&self, now: i64, last: i64, zone: &Zone, start: i64) -> Wake {
        let mut run = None;
        let mut t = last.max(now.saturating_sub(LATE));
        while let Some(fire) = self.next_after(t, zone, start).filter(|&f| f <= now) {
            run = Some(fire);
            t = fire;
        }
        let next = self.next_after(now.max(run.unwrap_or(last)), zone, start);
        Wake { run, next }
    }
}

impl Cron {
    /// The first fire strictly after `after` in `zone`: walks the zone's spans of constant
    /// offset, searching each one's local times.
    fn next_after(&self, after: i64, zone: &Zone) -> Option<i64> {
        let horizon = after + HORIZON;
        let mut x = after + 1;
        while x < horizon {
            let offset = i64::from(zone.offset_at(x));
            let prev = zone.prev_change(x);
            let next = zone.next_change(x);
            let end = next.map_or(horizon, |c| c.at.min(horizon));
            let mut from = x + offset;
            if let (false, Some(change)) = (self.wild, prev) {
                let (before, after_change) = (i64::from(change.before), i64::from(change.after));
                if change.at == x && after_change > before {
                    // Entering a span after a gap: a fixed-time job that matched a skipped
                    // local minute runs now.
                    let gap = change.at + before..change.at + after_change;
                    if self.next_local(gap.start, gap.end - 1).is_some() {
                        return Some(x);
                    }
                }
                // After an overlap, the repeated local times already had their fire.
                from = from.max(change.at + before);
            }
            if let Some(local) = self.next_local(from, end - 1 + offset) {
                return Some(local - offset);
            }
            next?;
            x = end;
        }
        None
    }
}
