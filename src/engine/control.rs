//! Operator requests (SPEC §10) as events of the engine: `restart`, `stop`, `start`, `scale`,
//! `signal` and `reload` arrive like an exit or a signal, with `now`, and answer with effects
//! and an [`Answer`] for the client.
//!
//! An instance the operator stops or restarts carries an [`Intent`] until its group is empty;
//! its end then follows the intent, never its restart policy, and never stops the formation.
//! A stopped instance is [`State::Stopped`] until a `start`. A restart goes one instance of a
//! type at a time (`rolling.rs`); a `scale` plans new slots (`scale.rs`); a `reload` applies a
//! diff (`reload.rs`). A request's completion, for `--wait`, is a list of goals (`waits.rs`)
//! checked when the channel asks ([`Engine::progress`]), so a request nobody waits for costs
//! nothing after its answer.

use super::table::State;
use super::waits::Request;
pub use super::waits::{Goal, Progress, Ticket};
use super::{Effect, Engine, Level, SlotId, say};
use crate::plan::blueprint::Blueprint;
use nix::sys::signal::Signal;
use std::time::Instant;

/// One operator request, as the channel parsed it. Targets are words as typed: a type (`web`)
/// or an instance (`web.2`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Order {
    /// Stop, then start again at once; one instance of a type at a time.
    Restart(Vec<String>),
    /// Stop, and stay stopped.
    Stop(Vec<String>),
    /// Start what is stopped.
    Start(Vec<String>),
    /// Set types' scales: (`web`, 3).
    Scale(Vec<(String, u32)>),
    /// Send a signal to the targets' process groups, as given.
    Signal(Signal, Vec<String>),
    /// Read the config again and apply the difference (or only describe it).
    Reload { dry_run: bool },
}

/// What the engine answers at once.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// Accepted and begun: `lines` say what was done at once; `ticket` names what a `--wait`
    /// may wait for, when there is anything.
    Done {
        lines: Vec<String>,
        ticket: Option<Ticket>,
    },
    /// A usage error (an unknown type or instance, a reload's config errors): `lines[0]` is
    /// the reason. Nothing was done.
    Usage(Vec<String>),
    /// Refused (the formation is stopping, no config to scale from): `lines[0]` is the reason.
    Failed(Vec<String>),
}

/// Reads the config again, with formation's original options and environment.
pub type Reread = dyn Fn() -> Result<Blueprint, Vec<String>>;

/// What the operator asked of an instance's current run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    /// Its end leaves it stopped.
    Stop,
    /// Its end starts it again at once.
    Restart,
}

/// The control state of the engine: requests awaited, restarts rolling, the process types.
#[derive(Debug, Default)]
pub(super) struct Control {
    pub requests: Vec<Request>,
    pub next_ticket: u64,
    pub rollouts: Vec<super::rolling::Rollout>,
    /// Removed types being stopped by a reload, tier after tier (dependents first).
    pub teardowns: Vec<std::collections::VecDeque<Vec<SlotId>>>,
    /// Per process type (by index): its name and current scale, and its index in the
    /// blueprint (None: a reload removed it).
    pub kinds: Vec<Kind>,
    /// What new instances are planned from (formation mode).
    pub blueprint: Option<Blueprint>,
}

/// A process type as the engine knows it.
#[derive(Debug, Clone)]
pub(super) struct Kind {
    pub name: String,
    pub scale: u32,
    pub bp: Option<usize>,
}

impl Engine {
    /// Carries out an operator's request at `now`. `reread` is called for a reload only.
    pub fn control(
        &mut self,
        order: Order,
        reread: &Reread,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) -> Answer {
        if self.stop.is_some() {
            return Answer::Failed(vec!["formation is stopping".into()]);
        }
        let answer = match order {
            Order::Signal(sig, targets) => {
                let ids = match self.resolve(&targets) {
                    Ok(ids) => ids,
                    Err(usage) => return usage,
                };
                self.send(sig, &ids, fx)
            }
            Order::Stop(targets) => match self.resolve(&targets) {
                Ok(ids) => self.stop_order(&ids, now, fx),
                Err(usage) => return usage,
            },
            Order::Start(targets) => match self.resolve(&targets) {
                Ok(ids) => self.start_order(&ids, now, fx),
                Err(usage) => return usage,
            },
            Order::Restart(targets) => match self.resolve(&targets) {
                Ok(ids) => self.restart_order(&ids, now, fx),
                Err(usage) => return usage,
            },
            Order::Scale(scales) => self.scale_order(&scales, now, fx),
            Order::Reload { dry_run } => self.reload_order(reread, dry_run, now, fx),
        };
        self.settle(now, fx);
        answer
    }

    /// The name of process type `t`.
    pub fn type_name(&self, t: usize) -> &str {
        self.control.kinds.get(t).map_or("", |k| k.name.as_str())
    }

    /// The instances the words name: a type (its instances within its scale) or an
    /// instance. An unknown word is a usage error, and nothing is done.
    fn resolve(&self, words: &[String]) -> Result<Vec<SlotId>, Answer> {
        let mut ids = Vec::new();
        for word in words {
            let found = self.type_index(word).map(|t| self.in_scale(t).to_vec());
            let found = found.or_else(|| {
                let (t, n) = word.rsplit_once('.')?;
                let t = self.type_index(t)?;
                let n: usize = n.parse().ok().filter(|&n| n >= 1)?;
                self.in_scale(t).get(n - 1).map(|&id| vec![id])
            });
            match found {
                Some(found) => {
                    for id in found {
                        if !ids.contains(&id) {
                            ids.push(id);
                        }
                    }
                }
                None => {
                    let text = format!("unknown type or instance {word:?}");
                    return Err(Answer::Usage(vec![text]));
                }
            }
        }
        Ok(ids)
    }

    /// The type named `name`, unless a reload removed it.
    pub(super) fn type_index(&self, name: &str) -> Option<usize> {
        let kinds = &self.control.kinds;
        kinds.iter().position(|k| k.name == name && k.bp.is_some())
    }

    /// The instances of type `t` within its current scale.
    pub(super) fn in_scale(&self, t: usize) -> &[SlotId] {
        let members = self.table.members(t);
        let scale = self
            .control
            .kinds
            .get(t)
            .map_or(members.len(), |k| k.scale as usize);
        &members[..scale.min(members.len())]
    }

    /// `signal`: the signal to each target's group, as given.
    fn send(&mut self, sig: Signal, ids: &[SlotId], fx: &mut Vec<Effect>) -> Answer {
        let mut lines = Vec::new();
        for &id in ids {
            let slot = self.table.slot(id);
            match slot.state.group() {
                Some(pgid) => fx.push(Effect::Signal { pgid, sig }),
                None => lines.push(format!("{} is not running", slot.plan.name)),
            }
        }
        Answer::Done {
            lines,
            ticket: None,
        }
    }

    /// `stop`: each target is stopped as in SPEC §4.1 and stays stopped.
    fn stop_order(&mut self, ids: &[SlotId], now: Instant, fx: &mut Vec<Effect>) -> Answer {
        let mut lines = Vec::new();
        let mut goals = Vec::new();
        for &id in ids {
            if self.stop_one(id, now, fx) {
                goals.push(Goal::Stopped(id));
            } else {
                lines.push(format!(
                    "{} is already stopped",
                    self.table.slot(id).plan.name
                ));
            }
        }
        let ticket = self.request(goals, None);
        Answer::Done { lines, ticket }
    }

    /// Stops instance `id` for good (until a start). False when it already was stopped.
    pub(super) fn stop_one(&mut self, id: SlotId, now: Instant, fx: &mut Vec<Effect>) -> bool {
        self.unroll(id);
        let slot = self.table.slot_mut(id);
        match slot.state {
            State::Stopped => return false,
            State::Running { pid, since, .. } => {
                slot.intent = Some(Intent::Stop);
                self.send_stop(id, pid, since, now, fx);
            }
            State::Stopping { .. } | State::Ending { .. } => slot.intent = Some(Intent::Stop),
            _ => {
                let text = format_args!("{} stopped", slot.plan.name);
                say(fx, self.settings.level, Level::Info, text);
                self.table.set(id, State::Stopped);
            }
        }
        true
    }

    /// `start`: stopped (or ended) targets start again, gated by their `after`.
    fn start_order(&mut self, ids: &[SlotId], now: Instant, fx: &mut Vec<Effect>) -> Answer {
        let mut lines = Vec::new();
        let mut goals = Vec::new();
        for &id in ids {
            let run = self.table.slot(id).run;
            if self.start_one(id, now, fx) {
                goals.extend(self.up_goal(id, run));
            } else {
                let slot = self.table.slot(id);
                let what = match slot.state {
                    State::Running { .. } => "running",
                    State::Idle => "waiting for its schedule",
                    _ => "starting",
                };
                lines.push(format!("{} is already {what}", slot.plan.name));
            }
        }
        let ticket = self.request(goals, None);
        Answer::Done { lines, ticket }
    }

    /// Starts instance `id` again if it is stopped or has ended. False when it runs or
    /// will run anyway.
    pub(super) fn start_one(&mut self, id: SlotId, now: Instant, fx: &mut Vec<Effect>) -> bool {
        let slot = self.table.slot_mut(id);
        match slot.state {
            State::Stopped | State::Ended(_) | State::Skipped(_) => {
                self.admit(id, now, fx);
                true
            }
            State::Stopping { .. } | State::Ending { .. } if slot.intent == Some(Intent::Stop) => {
                slot.intent = Some(Intent::Restart);
                true
            }
            _ => false,
        }
    }

    /// Instance `id`, which holds no process, is to run again: its `after` gates it (a
    /// scheduled one waits for its next fire). A type's remembered failure is forgotten, so
    /// its dependents may start once it meets their condition.
    pub(super) fn admit(&mut self, id: SlotId, now: Instant, fx: &mut Vec<Effect>) {
        if let Some(plan) = self.table.slot_mut(id).next_plan.take() {
            // A reload's settings, taken up while it holds no process.
            self.table.set(id, State::Stopped);
            self.table.slot_mut(id).plan = *plan;
        }
        let t = self.table.slot(id).plan.type_index;
        if self.table.failed(t).is_some_and(|(f, _)| f == id) {
            self.table.clear_failed(t);
        }
        let plan = &self.table.slot(id).plan;
        let state = if plan.schedule.is_some() {
            State::Idle
        } else if self.graph.deps[t].iter().all(|&d| self.table.all_met(d)) {
            State::Waiting { at: now }
        } else {
            let text = format_args!("{} waits for its dependencies", plan.name);
            say(fx, self.settings.level, Level::Info, text);
            State::Gated {
                notice_at: now + super::table::NOTICE_EVERY,
            }
        };
        self.table.set(id, state);
    }

    /// An instance the operator stopped or restarted has ended (its group is empty) with
    /// `exit`: it stays stopped, or starts again at once — no backoff, the crash-loop count
    /// untouched, and never a stop of the formation.
    pub(super) fn ended_as_asked(
        &mut self,
        id: SlotId,
        intent: Intent,
        exit: super::exit::Exit,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        let level = self.settings.level;
        let slot = self.table.slot_mut(id);
        let name = &slot.plan.name;
        match intent {
            Intent::Stop => {
                say(
                    fx,
                    level,
                    Level::Info,
                    format_args!("{name} {exit}; stopped"),
                );
                self.table.set(id, State::Stopped);
            }
            Intent::Restart => {
                slot.restarts_total += 1;
                let text = format_args!("{name} {exit}; restarting now");
                say(fx, level, Level::Info, text);
                self.admit(id, now, fx);
            }
        }
    }
}
