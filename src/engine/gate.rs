//! The formation as a graph (SPEC §4.2, §4.1): the gate that starts a type once every type
//! it starts `after` meets its condition, the skip of what can no longer start, and the
//! tiered stop that signals a type only once its dependents are gone.
//!
//! The table counts, per type, the instances that meet the condition and the first that
//! failed for good, and marks a type dirty when either changes; [`Engine::open_gates`] looks
//! only at the dependents of dirty types, so a change costs what the graph around it costs.

use super::table::{NOTICE_EVERY, State};
use super::{Effect, Engine, Level, say};
use std::time::Instant;

/// The dependencies of each type and their reverse.
#[derive(Debug, Default)]
pub struct Graph {
    /// Per type: the types it starts after.
    pub deps: Vec<Vec<usize>>,
    /// Per type: the types that start after it.
    pub dependents: Vec<Vec<usize>>,
}

impl Graph {
    /// The graph of `after` lists given per type (`types` of them).
    pub fn new(types: usize, after: impl Iterator<Item = (usize, Vec<usize>)>) -> Graph {
        let mut graph = Graph {
            deps: vec![Vec::new(); types],
            dependents: vec![Vec::new(); types],
        };
        for (t, deps) in after {
            for d in deps {
                if !graph.deps[t].contains(&d) {
                    graph.deps[t].push(d);
                    graph.dependents[d].push(t);
                }
            }
        }
        graph
    }
}

impl Engine {
    /// Opens the gates that the last changes opened, and skips what can no longer start.
    pub(super) fn open_gates(&mut self, now: Instant, fx: &mut Vec<Effect>) {
        loop {
            let dirty = self.table.take_dirty();
            if dirty.is_empty() {
                return;
            }
            for t in dirty {
                for d in self.graph.dependents[t].clone() {
                    self.gate(d, now, fx);
                }
            }
        }
    }

    /// Decides for the gated instances of type `d`: start, skip, or go on waiting.
    fn gate(&mut self, d: usize, now: Instant, fx: &mut Vec<Effect>) {
        let deps = &self.graph.deps[d];
        let failed = deps
            .iter()
            .find_map(|&t| self.table.failed(t).map(|f| (t, f)));
        // During a stop nothing starts any more, but what can never start is still skipped.
        let open = self.stop.is_none() && deps.iter().all(|&t| self.table.all_met(t));
        if failed.is_none() && !open {
            return;
        }
        let members = self.table.members(d).to_vec();
        let mut skipped = None;
        for id in members {
            if !matches!(self.table.slot(id).state, State::Gated { .. }) {
                continue;
            }
            match failed {
                Some((_, (_, exit))) => {
                    self.table.set(id, State::Skipped(exit));
                    skipped = Some(exit);
                }
                None => self.table.set(id, State::Waiting { at: now }),
            }
        }
        let (Some(exit), Some((_, (culprit, _)))) = (skipped, failed) else {
            return;
        };
        let name = type_name(&self.table.slot(self.table.members(d)[0]).plan.name);
        let cause = match self.table.slot(culprit).state {
            State::Skipped(_) => format!(
                "{} was skipped",
                type_name(&self.table.slot(culprit).plan.name)
            ),
            _ => format!("{} {exit}", self.table.slot(culprit).plan.name),
        };
        say(
            fx,
            self.settings.level,
            Level::Warn,
            format_args!("{name} skipped: {cause}"),
        );
        let essential = self
            .table
            .members(d)
            .iter()
            .any(|&id| self.table.slot(id).plan.essential);
        if essential && self.stop.is_none() {
            // SPEC §4.2: a skipped essential type stops the formation with the dependency's status.
            let text = format_args!("{name} cannot start; stopping");
            say(fx, self.settings.level, self.settings.cause_level, text);
            self.first_failure.get_or_insert(exit.status());
            self.begin_stop(super::policy::StopCause::Essential(exit), now, fx);
        }
    }

    /// A line for each gated instance whose notice is due: what it still waits for.
    pub(super) fn gated_notice(&mut self, id: usize, now: Instant, fx: &mut Vec<Effect>) {
        let t = self.table.slot(id).plan.type_index;
        let waiting: Vec<String> = self.graph.deps[t]
            .iter()
            .filter(|&&d| !self.table.all_met(d))
            .filter_map(|&d| self.table.members(d).first())
            .map(|&m| type_name(&self.table.slot(m).plan.name).to_string())
            .collect();
        let name = &self.table.slot(id).plan.name;
        let text = format_args!("{name} waits for {}", waiting.join(", "));
        say(fx, self.settings.level, Level::Info, text);
        self.table.set(
            id,
            State::Gated {
                notice_at: now + NOTICE_EVERY,
            },
        );
    }

    /// During a stop: signals every type whose dependents no longer hold it back (SPEC §4.1).
    /// A dependent holds its dependencies back while it, or anything that depends on it, has
    /// processes not yet SIGKILLed: a completed `release` between web and db still keeps db
    /// running until web is gone.
    pub(super) fn stop_tiers(&mut self, now: Instant, fx: &mut Vec<Effect>) {
        let mut held: Vec<Option<bool>> = vec![None; self.table.types()];
        for t in 0..self.table.types() {
            let blocked = self.graph.dependents[t]
                .iter()
                .any(|&d| self.holds_back(d, &mut held));
            if self.stop_sent[t] || blocked {
                continue;
            }
            self.stop_sent[t] = true;
            for id in self.table.members(t).to_vec() {
                if let State::Running { pid, since, .. } = self.table.slot(id).state {
                    self.send_stop(id, pid, since, now, fx);
                }
            }
        }
    }
}

impl Engine {
    /// Sends instance `id` (leader `pid`, healthy since `since`) its stop signal; SIGKILL at
    /// its grace from `now`.
    pub(super) fn send_stop(
        &mut self,
        id: usize,
        pid: nix::unistd::Pid,
        since: Instant,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        let plan = &self.table.slot(id).plan;
        fx.push(Effect::Signal {
            pgid: pid,
            sig: plan.stop_signal,
        });
        let kill_at = Some(now + plan.grace);
        self.table.set(
            id,
            State::Stopping {
                pid,
                since,
                kill_at,
            },
        );
    }

    /// Whether type `t` or anything that depends on it still has processes not yet SIGKILLed
    /// (memoised in `held`; the graph has no cycle, the config saw to that).
    fn holds_back(&self, t: usize, held: &mut Vec<Option<bool>>) -> bool {
        if let Some(known) = held[t] {
            return known;
        }
        held[t] = Some(false);
        let holds = self.table.holding(t) > 0
            || self.graph.dependents[t]
                .iter()
                .any(|&d| self.holds_back(d, held));
        held[t] = Some(holds);
        holds
    }
}

/// The type part of an instance name: `web` of `web.1`.
pub fn type_name(instance: &str) -> &str {
    instance.rsplit_once('.').map_or(instance, |(t, _)| t)
}
