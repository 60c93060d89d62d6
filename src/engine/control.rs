//! Operator requests (SPEC §10) as events of the engine: `restart`, `stop`, `start`, `scale`,
//! `signal` and `reload` arrive like an exit or a signal, with `now`, and answer with effects
//! and an [`Answer`] for the client.
//!
//! An instance the operator stops or restarts carries an [`Intent`] until its group is empty;
//! its end then follows the intent, never its restart policy, and never stops the formation.
//! A stopped instance is [`State::Stopped`] until a `start`. A restart goes one instance of a
//! type at a time (`rolling.rs`). A request's completion, for `--wait`, is a list of goals
//! checked when the channel asks ([`Engine::progress`]), so a request nobody waits for costs
//! nothing after its answer.

use super::gate::type_name;
use super::table::{Check, State};
use super::{Effect, Engine, Level, SlotId, say};
use crate::plan::blueprint::Blueprint;
use nix::sys::signal::Signal;
use std::time::{Duration, Instant};

/// One operator request, as the channel parsed it. Targets are words as typed: a type (`web`)
/// or an instance (`web.2`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(dead_code)] // Built by the control channel's parser (serve/control.rs).
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

/// A request's handle for `--wait`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ticket(pub u64);

/// Where a request stands since the last look.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Lines about the request's targets since the last look.
    pub lines: Vec<String>,
    /// It is complete, or can never be (then `failed` says why).
    pub done: bool,
    pub failed: Option<String>,
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

/// What a request waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Goal {
    /// The instance holds no process and stays stopped.
    Stopped(SlotId),
    /// The instance has run again (a run after `run`) and is ready, or that run is over.
    Up { id: SlotId, run: u64 },
}

/// A request somebody may wait for.
#[derive(Debug)]
pub(super) struct Request {
    ticket: Ticket,
    /// What is still awaited.
    goals: Vec<Goal>,
    /// Its default `--timeout`.
    timeout: Duration,
    /// The line that ends it (`reload applied`), if any.
    last: Option<String>,
}

/// The control state of the engine: requests awaited, restarts rolling, the process types.
#[derive(Debug, Default)]
pub(super) struct Control {
    requests: Vec<Request>,
    next_ticket: u64,
    pub rollouts: Vec<super::rolling::Rollout>,
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

/// When a type has no ready `timeout`, `--wait` waits this long for it (SPEC §10).
pub const WAIT_WITHOUT_TIMEOUT: Duration = Duration::from_secs(60);

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

    /// Where request `ticket` stands.
    #[allow(dead_code)] // Until the control channel waits for requests.
    pub fn progress(&mut self, ticket: Ticket) -> Progress {
        let Some(i) = self
            .control
            .requests
            .iter()
            .position(|r| r.ticket == ticket)
        else {
            return Progress {
                done: true,
                ..Progress::default()
            };
        };
        let mut lines = Vec::new();
        let mut goals = std::mem::take(&mut self.control.requests[i].goals);
        goals.retain(|&goal| match self.reached(goal) {
            Some(line) => {
                lines.push(line);
                false
            }
            None => true,
        });
        let request = &mut self.control.requests[i];
        request.goals = goals;
        if self.stop.is_some() {
            return Progress {
                lines,
                done: true,
                failed: Some("formation is stopping".into()),
            };
        }
        let done = request.goals.is_empty();
        if done && let Some(last) = request.last.take() {
            lines.push(last);
        }
        Progress {
            lines,
            done,
            failed: None,
        }
    }

    /// The default `--timeout` of `ticket`: the largest grace plus the largest ready
    /// `timeout` of what it touches (60 s for a type without one).
    #[allow(dead_code)] // Until the control channel waits for requests.
    pub fn wait_timeout(&self, ticket: Ticket) -> Duration {
        let request = self.control.requests.iter().find(|r| r.ticket == ticket);
        request.map_or(WAIT_WITHOUT_TIMEOUT, |r| r.timeout)
    }

    /// Nobody waits for request `ticket` any more.
    #[allow(dead_code)] // Until the control channel waits for requests.
    pub fn forget(&mut self, ticket: Ticket) {
        self.control.requests.retain(|r| r.ticket != ticket);
    }

    /// The name of process type `t`.
    pub fn type_name(&self, t: usize) -> &str {
        self.control.kinds.get(t).map_or("", |k| k.name.as_str())
    }

    /// A line when `goal` is reached.
    fn reached(&self, goal: Goal) -> Option<String> {
        match goal {
            Goal::Stopped(id) => {
                let slot = self.table.slot(id);
                let over = slot.state == State::Stopped || slot.state.group().is_none();
                over.then(|| format!("{} stopped", slot.plan.name))
            }
            Goal::Up { id, run } => {
                let word = self.up_again(id, run)?;
                Some(format!("{} {word}", self.table.slot(id).plan.name))
            }
        }
    }

    /// Whether instance `id` has run again since run `run` and is ready — or that is over:
    /// it was stopped or skipped, or its new run already ended. A word for a line.
    pub(super) fn up_again(&self, id: SlotId, run: u64) -> Option<&'static str> {
        let slot = self.table.slot(id);
        match slot.state {
            State::Stopped => Some("stopped"),
            State::Skipped(_) => Some("skipped"),
            _ if slot.run <= run => None,
            State::Running {
                check: Check::Ready { .. },
                ..
            } => Some(if slot.plan.ready.is_some() {
                "ready"
            } else {
                "running"
            }),
            State::Ended(Some(exit)) if exit.success() => Some("completed"),
            State::Ended(_) => Some("ended"),
            State::Idle => Some("ran"),
            _ => None,
        }
    }

    /// Opens a request awaiting `goals`, if there are any.
    pub(super) fn request(&mut self, goals: Vec<Goal>, last: Option<String>) -> Option<Ticket> {
        if goals.is_empty() && last.is_none() {
            return None;
        }
        let ticket = Ticket(self.control.next_ticket);
        self.control.next_ticket += 1;
        let ids = goals.iter().map(|g| match *g {
            Goal::Stopped(id) | Goal::Up { id, .. } => id,
        });
        let (mut grace, mut ready) = (Duration::ZERO, Duration::ZERO);
        for id in ids {
            let plan = &self.table.slot(id).plan;
            grace = grace.max(plan.grace);
            let wait = plan.ready.as_ref().and_then(|r| r.timeout);
            ready = ready.max(wait.unwrap_or(WAIT_WITHOUT_TIMEOUT));
        }
        if ready.is_zero() {
            ready = WAIT_WITHOUT_TIMEOUT;
        }
        self.control.requests.push(Request {
            ticket,
            goals,
            timeout: grace + ready,
            last,
        });
        Some(ticket)
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
                goals.push(Goal::Up { id, run });
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

    /// The name of instance `id`'s type.
    pub(super) fn type_of(&self, id: SlotId) -> &str {
        type_name(&self.table.slot(id).plan.name)
    }
}
