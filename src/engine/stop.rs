//! The stop of a formation (SPEC §4.1): its cause, whether anything had to be SIGKILLed,
//! the sweep of what is left, and when formation may exit.
//!
//! Owns: the stop's own state and deadlines (pure: `now` is passed in), and what the sweep of
//! the processes left in the container needs next ([`Stop::sweep_step`]).
//!
//! Must not: know instances, or signal anything: the supervisor signals the instances' groups,
//! and carries out the sweep's `kill` (`os/sweep.rs`).
//!
//! Sequence: each instance gets its stop signal, SIGKILL at its grace (the supervisor); once
//! the last instance has ended, the sweep begins — the rest of the container gets SIGTERM —
//! and at the default grace, SIGKILL, and any output pipe still open is closed. formation exits
//! as soon as no child is left and every pipe is drained, and at the latest [`LAST_WAIT`] after
//! the sweep's deadline (a process stuck in uninterruptible sleep must not hang PID 1).

use crate::engine::policy::{self, StopCause};
use std::time::{Duration, Instant};

/// How long past the sweep deadline formation still waits for SIGKILLed processes to be
/// reaped before it exits anyway.
pub const LAST_WAIT: Duration = Duration::from_secs(1);

/// The stop in progress.
#[derive(Debug)]
pub struct Stop {
    /// Why: decides the exit status.
    pub cause: StopCause,
    /// Something had to be SIGKILLed (past a grace, or a second signal asked for it).
    forced: bool,
    /// Set once every instance has ended: the deadline of the sweep and the pipe drain.
    sweep_until: Option<Instant>,
    /// The sweep's deadline has been acted on.
    swept: bool,
}

/// What the sweep needs at a turn of the loop, once every instance has ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sweep {
    /// Begin: signal what is left (SIGTERM, or SIGKILL when the stop is forced).
    Begin,
    /// The deadline has come: SIGKILL what is left, close the pipes still open.
    Deadline,
    /// Nothing to do now.
    Wait,
}

impl Stop {
    /// A stop that has just begun.
    pub fn new(cause: StopCause) -> Stop {
        Stop {
            cause,
            forced: false,
            sweep_until: None,
            swept: false,
        }
    }

    /// Called at each turn once every instance has ended: what the sweep must do at `now`.
    pub fn sweep_step(&mut self, now: Instant, grace: Duration) -> Sweep {
        match self.sweep_until {
            None => {
                self.sweep_until = Some(now + grace);
                Sweep::Begin
            }
            Some(until) if until <= now && !self.swept => {
                self.swept = true;
                Sweep::Deadline
            }
            Some(_) => Sweep::Wait,
        }
    }

    /// Something had to be SIGKILLed: past a grace, or a second signal asked for it.
    pub fn force(&mut self) {
        self.forced = true;
    }

    /// Whether anything had to be SIGKILLed.
    pub fn forced(&self) -> bool {
        self.forced
    }

    /// The sweep's deadline, once it has begun.
    pub fn sweep_until(&self) -> Option<Instant> {
        self.sweep_until
    }

    /// True once the sweep has begun (every instance had ended).
    pub fn sweeping(&self) -> bool {
        self.sweep_until.is_some()
    }

    /// The next time the stop needs the loop to wake up, if any.
    pub fn deadline(&self) -> Option<Instant> {
        let until = self.sweep_until?;
        Some(if self.swept { until + LAST_WAIT } else { until })
    }

    /// formation's exit status once it may exit: the sweep has begun and either everything is
    /// `settled` (no child left, every pipe drained) or the last wait is over.
    pub fn outcome(&self, now: Instant, settled: bool) -> Option<i32> {
        let until = self.sweep_until?;
        let given_up = self.swept && now >= until + LAST_WAIT;
        (settled || given_up).then(|| policy::exit_status(self.cause, self.forced))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: Duration = Duration::from_secs(5);

    #[test]
    fn the_sweep_begins_then_meets_its_deadline_once() {
        let t0 = Instant::now();
        let mut stop = Stop::new(StopCause::Signal(15));
        assert_eq!(stop.deadline(), None);
        assert_eq!(stop.sweep_step(t0, GRACE), Sweep::Begin);
        assert_eq!(stop.deadline(), Some(t0 + GRACE));
        assert_eq!(
            stop.sweep_step(t0 + Duration::from_secs(1), GRACE),
            Sweep::Wait
        );
        assert_eq!(stop.sweep_step(t0 + GRACE, GRACE), Sweep::Deadline);
        assert_eq!(stop.sweep_step(t0 + GRACE, GRACE), Sweep::Wait);
        assert_eq!(stop.deadline(), Some(t0 + GRACE + LAST_WAIT));
    }

    #[test]
    fn exit_waits_for_a_settled_container_or_the_last_wait() {
        let t0 = Instant::now();
        let mut stop = Stop::new(StopCause::Signal(15));
        assert_eq!(stop.outcome(t0, true), None, "not before the sweep began");
        stop.sweep_step(t0, GRACE);
        assert_eq!(stop.outcome(t0, false), None);
        assert_eq!(stop.outcome(t0, true), Some(0));
        stop.sweep_step(t0 + GRACE, GRACE);
        stop.force();
        assert_eq!(stop.outcome(t0 + GRACE, false), None);
        assert_eq!(
            stop.outcome(t0 + GRACE + LAST_WAIT, false),
            Some(137),
            "gave up waiting"
        );
    }
}
