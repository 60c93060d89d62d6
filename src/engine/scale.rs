//! `scale TYPE=N` (SPEC §10): new instances take the next indexes, with the `PORT` of their
//! index (§3.3) and the type's `after`; scaling down stops the highest indexes first.
//!
//! Slots are never removed: an index scaled away keeps its slot, stopped, and a later scale
//! up starts it again, so a slot id (the instance's log label) always names one instance.
//! New slots are planned from the blueprint, and are started by the usual `Spawn` effect.

use super::control::{Answer, Goal, Kind};
use super::table::State;
use super::{Effect, Engine, SlotId};
use crate::plan::Instance;
use std::time::Instant;

impl Engine {
    /// Sets what `formation` was planned from (formation mode): the process types' names
    /// and scales, and the source of new instances.
    pub fn blueprint(&mut self, blueprint: crate::plan::blueprint::Blueprint) {
        let kinds: Vec<Kind> = blueprint
            .names()
            .zip(&blueprint.scales)
            .enumerate()
            .map(|(t, (name, &scale))| Kind {
                name: name.to_string(),
                scale,
                bp: Some(t),
            })
            .collect();
        self.grow_types(kinds.len());
        self.control.kinds = kinds;
        self.control.blueprint = Some(blueprint);
    }

    /// Makes room for `types` process types in the table, the graph and the stop.
    pub(super) fn grow_types(&mut self, types: usize) {
        self.table.grow(types);
        if self.graph.deps.len() < types {
            self.graph.deps.resize(types, Vec::new());
            self.graph.dependents.resize(types, Vec::new());
        }
        if self.stop_sent.len() < types {
            self.stop_sent.resize(types, false);
        }
    }

    /// The kinds of a table planned without a blueprint: named after their instances.
    pub(super) fn default_kinds(&mut self) {
        self.control.kinds = (0..self.table.types())
            .map(|t| {
                let members = self.table.members(t);
                // `web` of `web.1`; single-command mode's one instance is named after its
                // command (`python3.11`), which is its type's name as it stands.
                let name = members.first().map_or("", |&id| {
                    let name = &self.table.slot(id).plan.name;
                    match name.rsplit_once('.') {
                        Some((t, n)) if n.bytes().all(|b| b.is_ascii_digit()) => t,
                        _ => name,
                    }
                });
                Kind {
                    name: name.to_string(),
                    scale: u32::try_from(members.len()).unwrap_or(u32::MAX),
                    bp: Some(t),
                }
            })
            .collect();
    }

    /// `scale`: each named type to its new scale. Any unknown type or unplannable instance
    /// refuses the whole request.
    pub(super) fn scale_order(
        &mut self,
        scales: &[(String, u32)],
        now: Instant,
        fx: &mut Vec<Effect>,
    ) -> Answer {
        let mut wanted = Vec::new();
        for (name, n) in scales {
            match self.type_index(name) {
                Some(t) => wanted.push((t, *n)),
                None => return Answer::Usage(vec![format!("unknown type {name:?}")]),
            }
        }
        // Plan every new instance first: a port above 65535 changes nothing.
        let mut planned = Vec::new();
        for &(t, n) in &wanted {
            match self.plan_new(t, n) {
                Ok(new) => planned.push(new),
                Err(errors) => return Answer::Failed(errors),
            }
        }
        let mut lines = Vec::new();
        let mut goals = Vec::new();
        for ((t, n), new) in wanted.into_iter().zip(planned) {
            let old = self.control.kinds[t].scale;
            let name = self.control.kinds[t].name.clone();
            if old == n {
                lines.push(format!("{name} is already at {n}"));
                continue;
            }
            lines.push(format!("{name}: scale {old} -> {n}"));
            goals.extend(self.rescale(t, n, new, now, fx));
        }
        let ticket = self.request(goals, None);
        Answer::Done { lines, ticket }
    }

    /// Type `t` goes to scale `n`, with `new` the planned instances of the indexes it never
    /// had. What a `--wait` waits for.
    pub(super) fn rescale(
        &mut self,
        t: usize,
        n: u32,
        new: Vec<Instance>,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) -> Vec<Goal> {
        let old = self.control.kinds[t].scale as usize;
        let n = n as usize;
        self.control.kinds[t].scale = n as u32;
        let mut goals = Vec::new();
        // Down: the highest indexes first.
        for i in (n..old).rev() {
            let id = self.table.members(t)[i];
            if self.stop_one(id, now, fx) {
                goals.push(Goal::Stopped(id));
            }
        }
        // Up: indexes that had a slot start again; the others get one.
        for i in old..n.min(self.table.members(t).len()) {
            let id = self.table.members(t)[i];
            let run = self.table.slot(id).run;
            if self.start_one(id, now, fx) {
                goals.extend(self.up_goal(id, run));
            }
        }
        for plan in new {
            let id = self.add_slot(plan, now, fx);
            goals.extend(self.up_goal(id, 0));
        }
        goals
    }

    /// The instances type `t` needs for scale `n` that it never had a slot for, with their
    /// types and dependencies given as the engine numbers them.
    pub(super) fn plan_new(&self, t: usize, n: u32) -> Result<Vec<Instance>, Vec<String>> {
        let have = u32::try_from(self.table.members(t).len()).unwrap_or(u32::MAX);
        if n <= have {
            return Ok(Vec::new());
        }
        let Some(blueprint) = self.control.blueprint.as_ref() else {
            return Err(vec![
                "scale: there is no config to plan new instances from".into(),
            ]);
        };
        let Some(bp) = self.control.kinds[t].bp else {
            return Err(vec![format!("{} was removed", self.control.kinds[t].name)]);
        };
        let mut new = blueprint.instances(bp, have + 1, n)?;
        for i in &mut new {
            super::reload::renumber(&self.control.kinds, i);
        }
        Ok(new)
    }

    /// A new slot for `plan`, gated by its `after`; its dependencies join the graph.
    pub(super) fn add_slot(
        &mut self,
        plan: Instance,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) -> SlotId {
        let t = plan.type_index;
        self.grow_types(t + 1);
        for &d in &plan.after {
            if !self.graph.deps[t].contains(&d) {
                self.graph.deps[t].push(d);
                self.graph.dependents[d].push(t);
            }
        }
        let id = self.table.push(plan, State::Stopped);
        self.admit(id, now, fx);
        id
    }
}
