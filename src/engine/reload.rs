//! `reload` (SPEC §10) applied: the config read again (through the `reread` function the
//! supervisor holds), compared with the one running (`plan::reload::diff`, pure), and the
//! steps carried out — removed types stopped tier by tier, dependents first; added ones
//! started behind their `after`; scale-only changes scaled; changed types restarted one
//! instance at a time, each instance taking up its new plan when it starts again.
//!
//! Any error — in the config, or an instance that cannot be planned — changes nothing: every
//! new instance is planned before the first change. A stop of the formation during a reload
//! wins: it drops the rollouts and teardowns, and stops whatever runs.

use super::control::{Answer, Goal, Kind, Reread};
use super::gate::Graph;
use super::schedule::Fire;
use super::{Effect, Engine, Level, SlotId, say};
use crate::plan::Instance;
use crate::plan::blueprint::Blueprint;
use crate::plan::reload::{self, Change, Step};
use std::collections::VecDeque;
use std::time::Instant;

/// A step with the engine's type index and the instances planned for it.
struct Planned {
    step: Step,
    /// The engine's index of the type.
    t: usize,
    /// Its instances `1..=to` (changed, added) or the new indexes beyond its slots (scaled).
    plans: Vec<Instance>,
}

impl Engine {
    /// `reload [--dry-run]`.
    pub(super) fn reload_order(
        &mut self,
        reread: &Reread,
        dry_run: bool,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) -> Answer {
        let level = self.settings.level;
        let new = match reread() {
            Ok(new) => new,
            Err(errors) => {
                for e in &errors {
                    say(fx, level, Level::Warn, format_args!("reload: {e}"));
                }
                let summary = format!("reload: {} error(s); nothing changed", errors.len());
                say(fx, level, Level::Warn, &summary);
                return Answer::Usage([vec![summary], errors].concat());
            }
        };
        let Some(old) = self.control.blueprint.as_ref() else {
            return Answer::Failed(vec!["reload: there is no config to reload".into()]);
        };
        let kinds = &self.control.kinds;
        let scale = |name: &str| {
            let kind = kinds.iter().find(|k| k.name == name && k.bp.is_some());
            kind.map(|k| k.scale)
        };
        let steps = reload::diff(old, &scale, &new);
        let text = reload::describe(&steps);
        if dry_run {
            return Answer::Done {
                lines: text,
                ticket: None,
            };
        }
        let kinds = self.reloaded_kinds(&new);
        let planned = match self.plan_steps(steps, &kinds, &new) {
            Ok(planned) => planned,
            Err(errors) => {
                let summary = format!("reload: {} error(s); nothing changed", errors.len());
                return Answer::Usage([vec![summary], errors].concat());
            }
        };
        for line in &text {
            say(fx, level, Level::Info, format_args!("reload: {line}"));
        }
        let goals = self.apply(planned, kinds, new, now, fx);
        let ticket = self.request(goals, Some("reload applied".into()));
        Answer::Done {
            lines: text,
            ticket,
        }
    }

    /// The process types after a reload to `new`: the same index for a type that stays (or
    /// goes: it keeps its slots, with no blueprint type), new ones at the end.
    fn reloaded_kinds(&self, new: &Blueprint) -> Vec<Kind> {
        let mut kinds = self.control.kinds.clone();
        for k in &mut kinds {
            k.bp = k.bp.and_then(|_| new.names().position(|n| n == k.name));
        }
        for (n, name) in new.names().enumerate() {
            if !kinds.iter().any(|k| k.bp == Some(n)) {
                kinds.push(Kind {
                    name: name.to_string(),
                    scale: 0,
                    bp: Some(n),
                });
            }
        }
        kinds
    }

    /// Every instance the steps need, planned from `new` before anything changes.
    fn plan_steps(
        &self,
        steps: Vec<Step>,
        kinds: &[Kind],
        new: &Blueprint,
    ) -> Result<Vec<Planned>, Vec<String>> {
        let mut planned = Vec::new();
        for step in steps {
            let t = match step.new {
                Some(n) => kinds.iter().position(|k| k.bp == Some(n)),
                None => self.control.kinds.iter().position(|k| k.name == step.name),
            };
            let Some(t) = t else { continue };
            let have = u32::try_from(self.members(t).len()).unwrap_or(u32::MAX);
            let mut plans = match (&step.change, step.new) {
                (Change::Changed(_) | Change::Added, Some(n)) => new.instances(n, 1, step.to)?,
                (Change::Scaled, Some(n)) if step.to > have => {
                    new.instances(n, have + 1, step.to)?
                }
                _ => Vec::new(),
            };
            for i in &mut plans {
                renumber(kinds, i);
            }
            planned.push(Planned { step, t, plans });
        }
        Ok(planned)
    }

    /// The slots of type `t`, none for a type the table has not seen.
    fn members(&self, t: usize) -> &[SlotId] {
        if t < self.table.types() {
            self.table.members(t)
        } else {
            &[]
        }
    }

    /// Carries out the planned steps; what a `--wait` waits for.
    fn apply(
        &mut self,
        planned: Vec<Planned>,
        kinds: Vec<Kind>,
        new: Blueprint,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) -> Vec<Goal> {
        self.grow_types(kinds.len());
        let after = kinds.iter().enumerate().filter_map(|(t, k)| {
            let deps = &new.deps[k.bp?];
            let of = |d: usize| kinds.iter().position(|k| k.bp == Some(d));
            Some((t, deps.iter().filter_map(|&d| of(d)).collect()))
        });
        self.graph = Graph::new(kinds.len(), after);
        self.control.kinds = kinds;
        self.control.blueprint = Some(new);
        let mut goals = Vec::new();
        let mut removed = Vec::new();
        for Planned { step, t, plans } in planned {
            match step.change {
                Change::Unchanged => {}
                Change::Removed => {
                    self.fires.retain(|f| f.t != t);
                    let ids = self.in_scale(t).to_vec();
                    goals.extend(ids.iter().map(|&id| Goal::Stopped(id)));
                    removed.push(ids);
                    self.control.kinds[t].scale = 0;
                }
                Change::Scaled => goals.extend(self.rescale(t, step.to, plans, now, fx)),
                Change::Added => {
                    self.control.kinds[t].scale = step.to;
                    for plan in plans {
                        let id = self.add_slot(plan, now, fx);
                        goals.extend(self.up_goal(id, 0));
                    }
                    self.refire(t, now, true);
                }
                Change::Changed(what) => {
                    goals.extend(self.replan(t, step.to, plans, now, fx));
                    self.refire(t, now, what.contains(&"schedule"));
                }
            }
        }
        if !removed.is_empty() {
            // The first tier now; `tear` moves on once each is gone.
            let mut tiers: VecDeque<Vec<SlotId>> = removed.into();
            if let Some(first) = tiers.front().cloned() {
                for id in first {
                    self.stop_one(id, now, fx);
                }
            }
            self.control.teardowns.push(std::mem::take(&mut tiers));
        }
        goals
    }

    /// A changed type `t` at scale `to`, with `plans` its instances `1..=to`: the slots it
    /// keeps take up their new plan when they start again — restarted one at a time —, and
    /// the scale follows.
    fn replan(
        &mut self,
        t: usize,
        to: u32,
        plans: Vec<Instance>,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) -> Vec<Goal> {
        let members = self.table.members(t).to_vec();
        let running = self.in_scale(t).len();
        let mut plans = plans.into_iter();
        let mut goals = Vec::new();
        let mut restart = Vec::new();
        for (i, &id) in members.iter().enumerate().take(to as usize) {
            let Some(plan) = plans.next() else { break };
            if plan.schedule.is_some() {
                // A scheduled run is not fired by a reload: its next run takes the new plan.
                self.table.slot_mut(id).plan = plan;
                continue;
            }
            self.table.slot_mut(id).next_plan = Some(Box::new(plan));
            if i < running {
                goals.push(Goal::Up {
                    id,
                    run: self.table.slot(id).run,
                });
                restart.push(id);
            }
        }
        self.enqueue(t, &restart);
        self.roll(now, fx);
        goals.extend(self.rescale(t, to, plans.collect(), now, fx));
        goals
    }

    /// The fire of scheduled type `t` follows its (new) timetable, from now on. A changed
    /// schedule (`rescheduled`) counts from the reload: its fire times before it never run.
    fn refire(&mut self, t: usize, now: Instant, rescheduled: bool) {
        let Some(&first) = self.table.members(t).first() else {
            return;
        };
        let Some(timetable) = self.table.slot(first).plan.schedule.clone() else {
            self.fires.retain(|f| f.t != t);
            return;
        };
        match self.fires.iter_mut().find(|f| f.t == t) {
            Some(fire) => {
                fire.timetable = timetable;
                (fire.next, fire.at) = (None, Some(now));
                if rescheduled {
                    fire.last = None;
                }
            }
            None => self.fires.push(Fire {
                t,
                timetable,
                last: None,
                next: None,
                at: Some(now),
            }),
        }
    }
}

/// An instance planned from a blueprint, with its type and `after` as the engine numbers
/// types in `kinds`.
pub(super) fn renumber(kinds: &[Kind], i: &mut Instance) {
    let of = |bp: usize| kinds.iter().position(|k| k.bp == Some(bp));
    i.type_index = of(i.type_index).unwrap_or(i.type_index);
    i.after = i.after.iter().filter_map(|&d| of(d)).collect();
}
