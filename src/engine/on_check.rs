//! Readiness and health (SPEC §4.2, §4.5) as transitions of the engine: when a check is
//! attempted, what a result does, a start that is not ready in time, an instance that became
//! unhealthy.
//!
//! The engine only schedules: an attempt is an [`Effect::Probe`] that names the slot and the
//! run it is for, and its result comes back through [`Engine::probed`]; a result for an older
//! run is ignored. Attempts stop at the first success: a ready formation without health checks
//! has no deadline left, so formation sleeps.

use super::table::{Check, NOTICE_EVERY, State};
use super::{Effect, Engine, Level, SlotId, say};
use crate::time::duration::Human;
use std::time::{Duration, Instant};

/// Which check an attempt is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// The `ready` check.
    Ready,
    /// The `health` check.
    Health,
}

impl Engine {
    /// The checks of an instance that has just been spawned at `now`.
    pub(super) fn first_check(&self, id: SlotId, now: Instant) -> Check {
        let plan = &self.table.slot(id).plan;
        match &plan.ready {
            Some(ready) => Check::Starting {
                // The first attempt at once: many servers are up within one interval.
                probe_at: ready.kind.active().then_some(now),
                give_up_at: ready.timeout.map(|t| now + t),
                notice_at: now + NOTICE_EVERY,
            },
            None => self.ready_check(id, now),
        }
    }

    /// The checks of an instance that is ready from `now` on.
    fn ready_check(&self, id: SlotId, now: Instant) -> Check {
        let health = &self.table.slot(id).plan.health;
        Check::Ready {
            since: now,
            probe_at: health.as_ref().map(|h| now + h.interval),
            failures: 0,
        }
    }

    /// A deadline of a running instance's checks has come.
    pub(super) fn check_due(&mut self, id: SlotId, now: Instant, fx: &mut Vec<Effect>) {
        let State::Running { pid, since, check } = self.table.slot(id).state else {
            return;
        };
        let run = self.table.slot(id).run;
        let due = |at: Option<Instant>| at.is_some_and(|at| at <= now);
        let check = match check {
            Check::Starting { give_up_at, .. } if due(give_up_at) => {
                let plan = &self.table.slot(id).plan;
                // The timeout as configured: the deadline may be served a moment late.
                let timeout = plan.ready.as_ref().and_then(|r| r.timeout);
                let waited =
                    Human(timeout.unwrap_or_else(|| to_ms(now.saturating_duration_since(since))));
                let text = format_args!("{} not ready after {waited}; stopping it", plan.name);
                say(fx, self.settings.level, Level::Warn, text);
                self.stop_instance(id, pid, now, fx);
                return;
            }
            Check::Starting {
                probe_at,
                give_up_at,
                notice_at,
            } => {
                let mut notice_at = notice_at;
                if notice_at <= now {
                    let plan = &self.table.slot(id).plan;
                    let last = self
                        .table
                        .slot(id)
                        .last_error
                        .as_deref()
                        .unwrap_or("none yet");
                    let kind = plan
                        .ready
                        .as_ref()
                        .map(|r| r.kind.describe())
                        .unwrap_or_default();
                    let text = format_args!(
                        "{} is not ready yet ({kind}; last error: {last})",
                        plan.name
                    );
                    say(fx, self.settings.level, Level::Info, text);
                    notice_at = now + NOTICE_EVERY;
                }
                let probe_at = if due(probe_at) {
                    fx.push(Effect::Probe {
                        slot: id,
                        run,
                        probe: Probe::Ready,
                    });
                    None
                } else {
                    probe_at
                };
                Check::Starting {
                    probe_at,
                    give_up_at,
                    notice_at,
                }
            }
            Check::Ready {
                since: ready,
                probe_at,
                failures,
            } if due(probe_at) => {
                fx.push(Effect::Probe {
                    slot: id,
                    run,
                    probe: Probe::Health,
                });
                Check::Ready {
                    since: ready,
                    probe_at: None,
                    failures,
                }
            }
            ready @ Check::Ready { .. } => ready,
        };
        self.table.set(id, State::Running { pid, since, check });
    }

    /// The result of a check of slot `id`'s run `run`: Ok, or why it failed.
    pub fn probed(
        &mut self,
        id: SlotId,
        run: u64,
        probe: Probe,
        result: Result<(), String>,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        let slot = self.table.slot(id);
        let State::Running { pid, since, check } = slot.state else {
            return;
        };
        if slot.run != run {
            return;
        }
        let level = self.settings.level;
        let next = match (probe, check, result) {
            (Probe::Ready, Check::Starting { .. }, Ok(())) => {
                let kind = slot
                    .plan
                    .ready
                    .as_ref()
                    .map(|r| r.kind.describe())
                    .unwrap_or_default();
                let took = Human(to_ms(now.saturating_duration_since(since)));
                let text = format_args!("{} ready ({kind}, {took})", slot.plan.name);
                say(fx, level, Level::Info, text);
                self.ready_check(id, now)
            }
            (
                Probe::Ready,
                Check::Starting {
                    give_up_at,
                    notice_at,
                    ..
                },
                Err(e),
            ) => {
                let interval = slot
                    .plan
                    .ready
                    .as_ref()
                    .map(|r| r.interval)
                    .unwrap_or_default();
                let active = slot.plan.ready.as_ref().is_some_and(|r| r.kind.active());
                self.table.slot_mut(id).last_error = Some(e);
                Check::Starting {
                    probe_at: active.then_some(now + interval),
                    give_up_at,
                    notice_at,
                }
            }
            (Probe::Health, Check::Ready { since: ready, .. }, result) => {
                let Some(health) = slot.plan.health.as_ref() else {
                    return;
                };
                let failures = match &result {
                    Ok(()) => 0,
                    Err(_) => match check {
                        Check::Ready { failures, .. } => failures + 1,
                        Check::Starting { .. } => 1,
                    },
                };
                if let Err(e) = result
                    && failures >= health.failures
                {
                    let text = format_args!(
                        "{} is unhealthy after {failures} failed checks ({e}); stopping it",
                        slot.plan.name
                    );
                    say(fx, level, Level::Warn, text);
                    self.stop_instance(id, pid, now, fx);
                    return;
                }
                Check::Ready {
                    since: ready,
                    probe_at: Some(now + health.interval),
                    failures,
                }
            }
            _ => return,
        };
        self.table.set(
            id,
            State::Running {
                pid,
                since,
                check: next,
            },
        );
        self.settle(now, fx);
    }

    /// Sends a running instance its stop signal, outside a formation stop (a failed start, an
    /// unhealthy instance): its `restart` policy applies to the exit that follows. A failed or
    /// unhealthy run was not a healthy one: its uptime counts from now.
    fn stop_instance(
        &mut self,
        id: SlotId,
        pid: nix::unistd::Pid,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        self.send_stop(id, pid, now, now, fx);
    }
}

/// A measured time as lines show it: to the millisecond.
fn to_ms(d: Duration) -> Duration {
    Duration::from_millis(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
