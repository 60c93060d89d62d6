//! What a request waits for, for `--wait` (SPEC §10): restarted and started instances up
//! again (ready, or running without a check), stopped ones ended, a reload applied. Goals are
//! checked when the channel asks, so a request nobody waits for costs nothing.

use super::table::{Check, State};
use super::{Engine, SlotId};
use std::time::Duration;

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

/// What a request waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Goal {
    /// The instance holds no process and stays stopped.
    Stopped(SlotId),
    /// The instance has run again (a run after `run`) and is ready, or that run is over.
    Up { id: SlotId, run: u64 },
}

/// A request somebody may wait for.
#[derive(Debug)]
pub struct Request {
    ticket: Ticket,
    /// What is still awaited.
    goals: Vec<Goal>,
    /// Its default `--timeout`.
    timeout: Duration,
    /// The line that ends it (`reload applied`), if any.
    last: Option<String>,
}

/// When a type has no ready `timeout`, `--wait` waits this long for it (SPEC §10).
pub const WAIT_WITHOUT_TIMEOUT: Duration = Duration::from_secs(60);

impl Engine {
    /// Where request `ticket` stands.
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
    pub fn wait_timeout(&self, ticket: Ticket) -> Duration {
        let request = self.control.requests.iter().find(|r| r.ticket == ticket);
        request.map_or(WAIT_WITHOUT_TIMEOUT, |r| r.timeout)
    }

    /// Nobody waits for request `ticket` any more.
    pub fn forget(&mut self, ticket: Ticket) {
        self.control.requests.retain(|r| r.ticket != ticket);
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

    /// What `--wait` awaits of instance `id`, just started or added at run `run`: that it is
    /// up again — but a scheduled instance only arms its schedule (SPEC §4.4: a start or a
    /// reload does not fire it), and its next run may be hours away.
    pub(super) fn up_goal(&self, id: SlotId, run: u64) -> Option<Goal> {
        (self.table.slot(id).state != State::Idle).then_some(Goal::Up { id, run })
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
}
