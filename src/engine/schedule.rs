//! Schedules (SPEC §4.4) as transitions of the engine: a scheduled type's fire starts its
//! instances, an overlapping fire is skipped, an unmet dependency skips a fire, and a run that
//! ends waits for the next fire instead of stopping anything.
//!
//! Fire times are wall-clock seconds (the clock is passed in: `wall_ms`); the wait for the
//! next one is a deadline on the monotonic clock, recomputed from the wall clock at every
//! wake-up, so a clock that jumps is followed: a fire jumped over is not caught up, and no
//! fire time runs twice (`Schedule::wake`). Between fires nothing wakes up.

use super::table::State;
use super::{Effect, Engine, Level, say};
use crate::plan::checks::Timetable;
use crate::time::civil::rfc3339;
use crate::time::cron::Schedule;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// The firing of one scheduled type.
#[derive(Debug)]
pub struct Fire {
    /// The type.
    pub t: usize,
    /// Its schedule and zone.
    pub timetable: Rc<Timetable>,
    /// The last fire time used (run or skipped); the formation's start before the first.
    /// None: armed by a reload, it counts from the next wake-up's wall clock, so a fire time
    /// from before the reload (of a schedule not in force then) never runs.
    pub last: Option<i64>,
    /// The next fire time, once known; None: it never fires again.
    pub next: Option<i64>,
    /// When to wake up for it.
    pub at: Option<Instant>,
}

impl Engine {
    /// The fires of every scheduled type, due for a first look at `now`.
    pub(super) fn fires(&self, start: i64, now: Instant) -> Vec<Fire> {
        (0..self.table.types())
            .filter_map(|t| {
                let first = *self.table.members(t).first()?;
                let timetable = self.table.slot(first).plan.schedule.clone()?;
                Some(Fire {
                    t,
                    timetable,
                    last: Some(start),
                    next: None,
                    at: Some(now),
                })
            })
            .collect()
    }

    /// Acts on every fire whose wake-up has come, at `now` (wall clock `wall_ms`).
    pub(super) fn fires_due(&mut self, now: Instant, wall_ms: i64, fx: &mut Vec<Effect>) {
        for i in 0..self.fires.len() {
            if self.fires[i].at.is_none_or(|at| at > now) {
                continue;
            }
            let fire = &mut self.fires[i];
            let tt = &fire.timetable;
            // Fire times are whole seconds. `@every D` counts from the start to the ms (SPEC
            // §4.4): its seconds are counted on a clock shifted by the start's fraction of a
            // second, so that its first fire comes D after the start, never at the next whole
            // second. Cron fires on the wall clock's own seconds.
            let phase = match tt.schedule {
                Schedule::Every(_) => self.start_wall_ms.rem_euclid(1000),
                Schedule::Cron(_) => 0,
            };
            let shifted = wall_ms.saturating_sub(phase);
            let start = self.start_wall_ms.div_euclid(1000);
            let now_s = shifted.div_euclid(1000);
            let last = *fire.last.get_or_insert(now_s);
            let wake = tt.schedule.wake(now_s, last, &tt.zone, start);
            let t = fire.t;
            fire.next = wake.next;
            fire.at = wake.next.map(|next| {
                let ms = next.saturating_mul(1000).saturating_sub(shifted).max(0);
                now + Duration::from_millis(ms.unsigned_abs())
            });
            if let Some(time) = wake.run {
                fire.last = Some(time);
                self.fire(t, time, now, fx);
            }
        }
    }

    /// Fire time `time` of type `t` has come: start its instances, or say why not.
    fn fire(&mut self, t: usize, time: i64, now: Instant, fx: &mut Vec<Effect>) {
        if self.stop.is_some() {
            return;
        }
        let members = self.table.members(t).to_vec();
        let name = super::gate::type_name(&self.table.slot(members[0]).plan.name).to_string();
        let level = self.settings.level;
        // An instance the operator stopped does not run, and holds nothing back.
        let stopped = |state: State| matches!(state, State::Idle | State::Stopped);
        if members
            .iter()
            .any(|&id| !stopped(self.table.slot(id).state))
        {
            let text = format_args!(
                "{name}: the run of {} is skipped: the previous run is still running",
                rfc3339(time)
            );
            return say(fx, level, Level::Warn, text);
        }
        let unmet: Vec<usize> = self.graph.deps[t]
            .iter()
            .copied()
            .filter(|&d| !self.table.all_met(d))
            .collect();
        if let Some(&d) = unmet.first() {
            let first = self.table.members(d)[0];
            let dep = super::gate::type_name(&self.table.slot(first).plan.name);
            let text = format_args!(
                "{name}: the run of {} is skipped: {dep} is not ready",
                rfc3339(time)
            );
            return say(fx, level, Level::Info, text);
        }
        for id in members {
            if self.table.slot(id).state == State::Idle {
                self.table.set(id, State::Waiting { at: now });
            }
        }
    }

    /// The next fire time of type `t`, as a line's ending: `; next run at …`.
    pub(super) fn next_run(&self, t: usize) -> String {
        let next = self.fires.iter().find(|f| f.t == t).and_then(|f| f.next);
        match next {
            Some(time) => format!("; next run at {}", rfc3339(time)),
            None => String::new(),
        }
    }
}
