//! The stop of the formation (SPEC §4.1) as transitions of the engine: its start, a second
//! stop signal, the sweep of what is left once no instance has processes, and its deadline.

use super::stop::{Stop, Sweep};
use super::{Effect, Engine, Level, State, StopCause, say};
use nix::sys::signal::Signal;
use std::time::Instant;

impl Engine {
    /// A second stop signal (`sig`) while stopping: SIGKILL every group now, whatever the
    /// graces.
    pub(super) fn kill_now(&mut self, sig: Signal, fx: &mut Vec<Effect>) {
        let level = self.settings.level;
        let text = format_args!("{sig} received again; killing everything now");
        say(fx, level, Level::Warn, text);
        self.force();
        for id in 0..self.table.len() {
            let Some(pgid) = self.table.slot(id).state.group() else {
                continue;
            };
            fx.push(Effect::Signal {
                pgid,
                sig: Signal::SIGKILL,
            });
            let quiet = match self.table.slot(id).state {
                State::Running { pid, since, .. } | State::Stopping { pid, since, .. } => {
                    State::Stopping {
                        pid,
                        since,
                        kill_at: None,
                    }
                }
                State::Ending {
                    pgid, exit, uptime, ..
                } => State::Ending {
                    pgid,
                    exit,
                    uptime,
                    kill_at: None,
                },
                other => other,
            };
            self.table.set(id, quiet);
        }
        if self.stop.as_ref().is_some_and(Stop::sweeping) && self.children_left {
            fx.push(Effect::SignalRest(Signal::SIGKILL));
        }
    }

    /// At the sweep's deadline: SIGKILL what is left, close the pipes still open.
    pub(super) fn sweep_due(&mut self, now: Instant, pipes_open: bool, fx: &mut Vec<Effect>) {
        if let Some(stop) = self.stop.as_mut()
            && self.table.active() == 0
            && stop.sweep_step(now, self.settings.grace) == Sweep::Deadline
        {
            if self.children_left {
                stop.force();
                say(
                    fx,
                    self.settings.level,
                    Level::Warn,
                    "processes left after the grace; sending SIGKILL",
                );
                fx.push(Effect::SignalRest(Signal::SIGKILL));
            }
            if pipes_open {
                say(
                    fx,
                    self.settings.level,
                    Level::Warn,
                    "output pipes still open after the grace; closing them",
                );
                fx.push(Effect::ClosePipes);
            }
        }
    }

    /// Begins the stop: what has not started never will; running types get their stop
    /// signal tier by tier ([`Engine::stop_tiers`]). Stopping and ending instances already
    /// got theirs and keep their deadlines.
    pub(super) fn begin_stop(&mut self, cause: StopCause, now: Instant, fx: &mut Vec<Effect>) {
        if self.stop.is_some() {
            return;
        }
        self.stop = Some(Stop::new(cause));
        // SPEC §10: a stop wins over any restart under way.
        self.control.rollouts.clear();
        self.control.teardowns.clear();
        // What can never start is skipped, and says so, before the rest is ended.
        self.open_gates(now, fx);
        for id in 0..self.table.len() {
            if matches!(
                self.table.slot(id).state,
                State::Waiting { .. } | State::Gated { .. } | State::Idle
            ) {
                self.table.set(id, State::Ended(None));
            }
        }
        self.stop_tiers(now, fx);
    }

    /// What follows from the table as it now stands: the end of the formation when nothing is
    /// left to run, and the sweep once no instance has processes during a stop.
    pub(super) fn settle(&mut self, now: Instant, fx: &mut Vec<Effect>) {
        if !self.control.rollouts.is_empty() {
            self.roll(now, fx);
        }
        if !self.control.teardowns.is_empty() {
            self.tear(now, fx);
        }
        if self.stop.is_none() && self.table.live() == 0 {
            self.begin_stop(StopCause::AllEnded(self.first_failure), now, fx);
        }
        self.open_gates(now, fx);
        if self.stop.is_none() {
            return;
        }
        self.stop_tiers(now, fx);
        let Some(stop) = self.stop.as_mut() else {
            return;
        };
        if self.table.active() == 0 && stop.sweep_step(now, self.settings.grace) == Sweep::Begin {
            // Left over: adopted orphans, daemonized grandchildren.
            if self.children_left {
                let sig = if stop.forced() {
                    Signal::SIGKILL
                } else {
                    Signal::SIGTERM
                };
                let text = format_args!("sending {sig} to the remaining processes");
                say(fx, self.settings.level, Level::Debug, text);
                fx.push(Effect::SignalRest(sig));
            }
        }
    }

    pub(super) fn force(&mut self) {
        if let Some(stop) = self.stop.as_mut() {
            stop.force();
        }
    }
}
