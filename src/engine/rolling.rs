//! `restart` (SPEC §10): each target is stopped as in §4.1 and started again at once, and a
//! type's targets go one at a time — the next is stopped only once the restarted one is ready
//! (its `ready` check passed; without one, once it runs), so a scaled `web` with an `http`
//! ready check serves throughout.
//!
//! A [`Rollout`] per type holds the queue; [`Engine::roll`] moves every rollout on when the
//! table changes (from `settle`), which costs O(rollouts) per event, nothing without any.

use super::control::{Answer, Goal, Intent};
use super::table::State;
use super::{Effect, Engine, Level, SlotId, say};
use std::collections::VecDeque;
use std::time::Instant;

/// The restarts of one type, one instance at a time.
#[derive(Debug)]
pub struct Rollout {
    /// The type.
    t: usize,
    /// Still to restart, in order.
    queue: VecDeque<SlotId>,
    /// Being restarted: the instance and its run when its restart began.
    current: Option<(SlotId, u64)>,
}

impl Engine {
    /// `restart`: the targets of each type join that type's rollout.
    pub(super) fn restart_order(
        &mut self,
        ids: &[SlotId],
        now: Instant,
        fx: &mut Vec<Effect>,
    ) -> Answer {
        let mut lines = Vec::new();
        let mut goals = Vec::new();
        for &id in ids {
            let slot = self.table.slot(id);
            let t = slot.plan.type_index;
            if slot.plan.schedule.is_some() {
                // SPEC §10: a scheduled type is fired now, unless its run is still going.
                let busy = self.table.members(t).iter().any(|&m| {
                    let state = self.table.slot(m).state;
                    state.group().is_some() || matches!(state, State::Waiting { .. })
                });
                if busy {
                    lines.push(format!(
                        "{}: not fired now: its run is still going",
                        slot.plan.name
                    ));
                    continue;
                }
            }
            goals.push(Goal::Up { id, run: slot.run });
            self.enqueue(t, &[id]);
        }
        self.roll(now, fx);
        let ticket = self.request(goals, None);
        Answer::Done { lines, ticket }
    }

    /// Moves every rollout on: once its current instance is up again (or stopped, or its run
    /// over), the next one's restart begins.
    pub(super) fn roll(&mut self, now: Instant, fx: &mut Vec<Effect>) {
        let mut i = 0;
        while i < self.control.rollouts.len() {
            let r = &self.control.rollouts[i];
            if let Some((id, run)) = r.current
                && self.up_again(id, run).is_none()
            {
                i += 1;
                continue;
            }
            let r = &mut self.control.rollouts[i];
            r.current = None;
            let Some(next) = r.queue.pop_front() else {
                self.control.rollouts.swap_remove(i);
                continue;
            };
            let run = self.table.slot(next).run;
            self.control.rollouts[i].current = Some((next, run));
            self.begin_restart(next, now, fx);
        }
    }

    /// Instance `id`'s restart begins: a running one is sent its stop signal (and starts
    /// again once its group is empty); one that waits for its backoff starts now; one that
    /// is stopped, ended or skipped is admitted again; a scheduled one fires.
    fn begin_restart(&mut self, id: SlotId, now: Instant, fx: &mut Vec<Effect>) {
        let state = self.table.slot(id).state;
        match state {
            State::Running { pid, since, .. } => {
                let slot = self.table.slot_mut(id);
                slot.intent = Some(Intent::Restart);
                let text = format_args!(
                    "{}: restarting (sending {})",
                    slot.plan.name,
                    slot.plan.stop_signal.as_str()
                );
                say(fx, self.settings.level, Level::Info, text);
                self.send_stop(id, pid, since, now, fx);
            }
            State::Stopping { .. } | State::Ending { .. } => {
                self.table.slot_mut(id).intent = Some(Intent::Restart);
            }
            // A reload's new settings are taken up on the way.
            _ if self.table.slot(id).next_plan.is_some() => self.admit(id, now, fx),
            State::Waiting { .. } | State::Idle => self.table.set(id, State::Waiting { at: now }),
            State::Gated { .. } => {}
            State::Stopped | State::Ended(_) | State::Skipped(_) => self.admit(id, now, fx),
        }
    }

    /// Queues instances `ids` of type `t` for a rolling restart.
    pub(super) fn enqueue(&mut self, t: usize, ids: &[SlotId]) {
        let rollouts = &mut self.control.rollouts;
        let r = match rollouts.iter().position(|r| r.t == t) {
            Some(i) => &mut rollouts[i],
            None => {
                rollouts.push(Rollout {
                    t,
                    queue: VecDeque::new(),
                    current: None,
                });
                rollouts.last_mut().expect("just pushed")
            }
        };
        for &id in ids {
            if r.current.is_none_or(|(c, _)| c != id) && !r.queue.contains(&id) {
                r.queue.push_back(id);
            }
        }
    }

    /// Moves every teardown on: once a tier's instances hold no process, the next tier gets
    /// its stop.
    pub(super) fn tear(&mut self, now: Instant, fx: &mut Vec<Effect>) {
        let mut i = 0;
        while i < self.control.teardowns.len() {
            let tiers = &self.control.teardowns[i];
            let busy = tiers.front().is_some_and(|tier| {
                tier.iter()
                    .any(|&id| self.table.slot(id).state.group().is_some())
            });
            if busy {
                i += 1;
                continue;
            }
            self.control.teardowns[i].pop_front();
            match self.control.teardowns[i].front().cloned() {
                Some(tier) => {
                    for id in tier {
                        self.stop_one(id, now, fx);
                    }
                }
                None => {
                    self.control.teardowns.swap_remove(i);
                }
            }
        }
    }

    /// Instance `id` leaves any rollout (it is being stopped).
    pub(super) fn unroll(&mut self, id: SlotId) {
        for r in &mut self.control.rollouts {
            r.queue.retain(|&q| q != id);
            if r.current.is_some_and(|(c, _)| c == id) {
                r.current = None;
            }
        }
    }
}
