//! Exits as transitions of the engine (SPEC §4, §4.3): a leader that exits, a process group
//! that empties, and what the policy makes of an instance's end — a restart after its backoff,
//! a crash loop, a completed task, or the end of an essential instance that stops the
//! formation.

use super::exit::Exit;
use super::policy::{self, AfterExit, StopCause};
use super::table::{Check, State};
use super::{Effect, Engine, Level, SlotId, say};
use crate::time::duration::Human;
use nix::unistd::Pid;
use std::time::{Duration, Instant};

impl Engine {
    /// A drain of exits found `left` children still alive (false: `waitpid` said ECHILD).
    /// Told before the exits themselves, so that the stop they may begin knows it.
    pub fn children(&mut self, left: bool) {
        self.children_left = left;
    }

    /// The instances that a drain of exits may end: those whose leader is one of `pids`, and
    /// those ending already (their group may have emptied). Their pipes are read before the
    /// engine hears of the exits, so that its line about an end comes after the instance's
    /// own last lines (SPEC §4 "lines before their exit").
    pub fn may_end<'a>(&'a self, pids: impl Iterator<Item = Pid> + 'a) -> Vec<SlotId> {
        let ending = self.table.ending_groups().into_iter().map(|(id, _)| id);
        pids.filter_map(|pid| self.table.leader(pid))
            .chain(ending)
            .collect()
    }

    /// A child exited. `alive(pgid)` tells whether a process group still has members.
    pub fn exited(
        &mut self,
        pid: Pid,
        exit: Exit,
        now: Instant,
        alive: &dyn Fn(Pid) -> bool,
        fx: &mut Vec<Effect>,
    ) {
        let Some(id) = self.table.leader(pid) else {
            // An adopted orphan: reaped, and never a formation process ending (SPEC §4).
            let text = format_args!("reaped orphan {pid} ({exit})");
            say(fx, self.settings.level, Level::Debug, text);
            return;
        };
        let slot = self.table.slot(id);
        // The healthy run of SPEC §3.4 counts from readiness.
        let (healthy_since, kill_at) = match slot.state {
            State::Running {
                check: Check::Ready { since, .. },
                ..
            } => (Some(since), None),
            State::Running { .. } => (None, None),
            State::Stopping { since, kill_at, .. } => (Some(since), Some(kill_at)),
            _ => return,
        };
        let uptime = healthy_since.map_or(Duration::ZERO, |t| now.saturating_duration_since(t));
        // With no child left (ECHILD) no member of its group can be: orphans of our
        // descendants come to us (PID 1 or subreaper), so a member would be our child.
        if !self.children_left || !alive(pid) {
            self.ended(id, exit, uptime, now, fx);
            self.settle(now, fx);
            return;
        }
        // The rest of its group lives on: the instance is ending (SPEC §4).
        let kill_at = match kill_at {
            // A stop already sent the stop signal and set the deadline.
            Some(kill_at) => kill_at,
            None => {
                let plan = &slot.plan;
                fx.push(Effect::Signal {
                    pgid: pid,
                    sig: plan.stop_signal,
                });
                let text = format_args!(
                    "{} {exit}; sending {} to the rest of its process group",
                    plan.name,
                    plan.stop_signal.as_str()
                );
                say(fx, self.settings.level, Level::Info, text);
                Some(now + plan.grace)
            }
        };
        let ending = State::Ending {
            pgid: pid,
            exit,
            uptime,
            kill_at,
        };
        self.table.set(id, ending);
    }

    /// A drain of exits is over: `children_left` says whether any child is still alive, and
    /// `alive(pgid)` whether a process group still has members.
    pub fn reaped(
        &mut self,
        children_left: bool,
        now: Instant,
        alive: &dyn Fn(Pid) -> bool,
        fx: &mut Vec<Effect>,
    ) {
        self.children_left = children_left;
        for (id, pgid) in self.table.ending_groups() {
            if (!children_left || !alive(pgid))
                && let State::Ending { exit, uptime, .. } = self.table.slot(id).state
            {
                self.ended(id, exit, uptime, now, fx);
            }
        }
        self.settle(now, fx);
    }

    /// Instance `id` has ended (its group is empty) with `exit` after `uptime`.
    pub(super) fn ended(
        &mut self,
        id: SlotId,
        exit: Exit,
        uptime: Duration,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        let level = self.settings.level;
        let slot = self.table.slot_mut(id);
        slot.last_exit = Some(exit);
        let name = slot.plan.name.clone();
        if self.stop.is_some() {
            slot.intent = None;
            self.table.set(id, State::Ended(Some(exit)));
            say(fx, level, Level::Info, format_args!("{name} {exit}"));
            return;
        }
        if let Some(intent) = slot.intent.take() {
            // SPEC §10: what the operator asked for, not the policy.
            return self.ended_as_asked(id, intent, exit, now, fx);
        }
        let plan = &slot.plan;
        match policy::after_exit(plan.restart, &plan.backoff, slot.restarts, exit, uptime) {
            AfterExit::Restart { delay, restarts } => {
                slot.restarts = restarts;
                slot.restarts_total += 1;
                self.table.set(id, State::Waiting { at: now + delay });
                let text = format_args!("{name} {exit}; restarting in {}", Human(delay));
                say(fx, level, Level::Warn, text);
            }
            AfterExit::Done => self.end_for_good(id, exit, now, fx),
            AfterExit::CrashLoop { restarts } => {
                let text = format_args!(
                    "{name} {exit} after {restarts} restarts without a healthy run of {}; giving up",
                    Human(plan.backoff.healthy)
                );
                say(fx, level, Level::Warn, text);
                self.end_for_good(id, exit, now, fx);
            }
        }
    }

    pub(super) fn end_for_good(
        &mut self,
        id: SlotId,
        exit: Exit,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        if self.table.slot(id).plan.schedule.is_some() {
            // SPEC §4.4: a run of a scheduled type ends; its failures never stop the formation.
            self.table.set(id, State::Idle);
            let plan = &self.table.slot(id).plan;
            let next = self.next_run(plan.type_index);
            let level = if exit.success() {
                Level::Info
            } else {
                Level::Warn
            };
            let text = format_args!("{} {exit}{next}", plan.name);
            return say(fx, self.settings.level, level, text);
        }
        self.table.set(id, State::Ended(Some(exit)));
        if !exit.success() && self.first_failure.is_none() {
            self.first_failure = Some(exit.status());
        }
        let name = &self.table.slot(id).plan.name;
        if self.table.slot(id).plan.oneshot && exit.success() {
            // SPEC §4.3: a completed task stops nothing, even when essential.
            say(
                fx,
                self.settings.level,
                Level::Info,
                format_args!("{name} completed"),
            );
        } else if self.table.slot(id).plan.essential {
            let text = format_args!("{name} {exit}; stopping");
            say(fx, self.settings.level, self.settings.cause_level, text);
            self.begin_stop(StopCause::Essential(exit), now, fx);
        } else {
            let level = if exit.success() {
                Level::Info
            } else {
                Level::Warn
            };
            say(
                fx,
                self.settings.level,
                level,
                format_args!("{name} {exit}"),
            );
        }
    }
}
