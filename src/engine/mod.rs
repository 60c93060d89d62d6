//! The engine: the instance table and every transition of its lifecycle, as pure code.
//!
//! Owns: the state of each instance (SPEC §4: start, exit, restart after a backoff, crash loop,
//! essential or not; §4.1: the stop, its graces, the sweep, the exit status), and what a
//! signal means. Events come in as method calls carrying `now` (an instance was spawned or
//! could not be, a process exited, a process group emptied, a signal arrived, time passed);
//! effects go out as [`Effect`] values that the supervisor carries out.
//!
//! Must not: call libc or read the clock. Whether a process group still has members is asked
//! through a function passed in, so a whole lifecycle is a table test with no process in it
//! (`tests.rs`).
//!
//! Costs: every event is O(log n) in the number of instances — a pid → slot map, a set of
//! (deadline, slot) timers and running counts stand in for scans — except those that touch
//! every instance by nature (the start of a stop, forwarding a signal).
//!
//! An instance is its whole process group (SPEC §4): when the process we started exits while
//! others of its group live on (a `/bin/sh -c` wrapper that did not `exec` its last command),
//! the instance is *ending*: the rest of its group gets the stop signal and SIGKILL at the
//! grace, and only once the group is empty has the instance ended — so a restart never runs two
//! copies of one instance, and a stop gives the real server its own grace.

pub mod control;
pub mod exit;
mod gate;
mod on_check;
mod on_exit;
mod on_stop;
pub mod policy;
mod reload;
mod rolling;
mod scale;
mod schedule;
pub mod signal_rules;
pub mod stop;
mod table;
#[cfg(test)]
mod tests;
mod waits;

use crate::config::names::Level;
use crate::plan::Instance;
use crate::time::duration::Human;
#[allow(unused_imports)] // Progress and Ticket: for the control channel's `--wait`.
pub use control::{Answer, Order, Progress, Reread, Ticket};
use exit::Exit;
use gate::Graph;
use nix::sys::signal::Signal;
use nix::unistd::Pid;
pub use on_check::Probe;
use policy::StopCause;
use signal_rules::{Action, Rules, Sender};
use std::fmt::Display;
use std::time::{Duration, Instant};
use stop::Stop;
use table::Table;
pub use table::{Check, State};

/// An instance's place in the table; also the id of its log label.
pub type SlotId = usize;

/// What does not change while the engine runs.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// What each received signal means: the mode's policy, `-r`, and job control.
    pub signals: Rules,
    /// The default grace: bounds the sweep and the final pipe drain.
    pub grace: Duration,
    /// formation's own verbosity: lines above it are never formatted.
    pub level: Level,
    /// The level of the line that names the cause of a stop an instance caused: `Error` in
    /// formation mode; single-command mode is silent about its command's exit, as tini is.
    pub cause_level: Level,
}

/// Something the supervisor must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Start the instance in this slot, and report with [`Engine::spawned`].
    Spawn(SlotId),
    /// Send `sig` to process group `pgid`.
    Signal { pgid: Pid, sig: Signal },
    /// Send `sig` to every process left in the container (the sweep).
    SignalRest(Signal),
    /// Write one of formation's own lines.
    Say(String),
    /// Collect the exits of children now (`waitpid` drain), then [`Engine::reaped`].
    Reap,
    /// Close the output pipes still open, emitting what they hold.
    ClosePipes,
    /// Make one attempt of a check of the instance in `slot`, for its run `run`, and report
    /// with [`Engine::probed`].
    Probe {
        slot: SlotId,
        run: u64,
        probe: Probe,
    },
    /// Stop formation itself (SIGSTOP) until a SIGCONT: the end of a suspend.
    StopSelf,
    /// Change formation's own working directory to `/`, so that it holds no reference to the
    /// one it was started in (SPEC §1.1). Asked once, after the first spawn: an instance that
    /// inherits our cwd (single-command mode's CMD) spawns only once, and every other one
    /// carries its own absolute cwd.
    LeaveCwd,
}

/// How a spawn went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spawned {
    /// It runs as `pid`, the leader of its own process group.
    Running(Pid),
    /// It could not start: 127 (not found) or 126, and why.
    Failed { status: i32, reason: String },
}

/// One instance as the status listener sees it (SPEC §9): nothing here decides anything.
pub struct View<'a> {
    /// Its plan: name, type, whether it is essential.
    pub plan: &'a Instance,
    /// Where it is in its life.
    pub state: State,
    /// Every restart it ever had.
    pub restarts: u32,
    /// How its process last ended, if it ever did.
    pub last_exit: Option<Exit>,
}

/// The engine: the table and the formation-wide state.
pub struct Engine {
    settings: Settings,
    table: Table,
    graph: Graph,
    /// During a stop: per type, whether its instances were sent their stop signal.
    stop_sent: Vec<bool>,
    stop: Option<Stop>,
    /// The fires of scheduled types.
    fires: Vec<schedule::Fire>,
    /// The formation's start on the wall clock, in ms (`@every` counts from it, to the ms).
    start_wall_ms: i64,
    /// The first non-zero status of an instance that ended for good.
    first_failure: Option<i32>,
    /// As of the last reap: some child of ours is still alive.
    children_left: bool,
    /// [`Effect::LeaveCwd`] was asked for.
    left_cwd: bool,
    /// Operator requests: the process types, rollouts, requests awaited (SPEC §10).
    control: control::Control,
}

impl Engine {
    /// A table of `instances`: those that start `after` others gated, scheduled ones idle,
    /// the rest due at `now`; `wall_ms` is the wall clock then (ms since the Unix epoch).
    pub fn new(settings: Settings, instances: Vec<Instance>, now: Instant, wall_ms: i64) -> Engine {
        let table = Table::new(instances, now);
        let after = (0..table.len()).map(|id| {
            let plan = &table.slot(id).plan;
            (plan.type_index, plan.after.clone())
        });
        let graph = Graph::new(table.types(), after);
        let mut engine = Engine {
            stop_sent: vec![false; table.types()],
            settings,
            table,
            graph,
            stop: None,
            fires: Vec::new(),
            start_wall_ms: wall_ms,
            first_failure: None,
            children_left: false,
            left_cwd: false,
            control: control::Control::default(),
        };
        engine.default_kinds();
        engine.fires = engine.fires(wall_ms.div_euclid(1000), now);
        engine
    }

    /// The plan of the instance in `slot` (what to spawn, its name and policies).
    pub fn plan(&self, slot: SlotId) -> &Instance {
        &self.table.slot(slot).plan
    }

    /// How many times the instance in `slot` was spawned.
    pub fn run(&self, slot: SlotId) -> u64 {
        self.table.slot(slot).run
    }

    /// The state of the instance in `slot`.
    #[cfg(test)]
    pub fn state(&self, slot: SlotId) -> State {
        self.table.slot(slot).state
    }

    /// What the status listener shows of each instance, in table order: read-only.
    pub fn views(&self) -> impl Iterator<Item = View<'_>> {
        self.table.slots().map(|slot| View {
            plan: &slot.plan,
            state: slot.state,
            restarts: slot.restarts_total,
            last_exit: slot.last_exit,
        })
    }

    /// True once the stop of the formation has begun.
    pub fn stopping(&self) -> bool {
        self.stop.is_some()
    }

    /// Every process group an instance ever had: what the sweep signals when not PID 1.
    pub fn groups(&self) -> impl Iterator<Item = Pid> + '_ {
        self.table.groups()
    }

    /// The earliest time the engine needs to be called again ([`Engine::tick`]), if any.
    pub fn next_deadline(&self) -> Option<Instant> {
        let slot = self.table.next_timer();
        let stop = self.stop.as_ref().and_then(Stop::deadline);
        let fires = self.fires.iter().filter_map(|f| f.at);
        slot.into_iter().chain(stop).chain(fires).min()
    }

    /// formation's exit status, once it may exit: the stop is over and nothing is left to wait
    /// for (`pipes_open`: output pipes not yet drained), or the last wait has passed.
    pub fn outcome(&self, now: Instant, pipes_open: bool) -> Option<i32> {
        let settled = !self.children_left && !pipes_open;
        self.stop.as_ref()?.outcome(now, settled)
    }

    /// When the stop's sweep ends (its deadline), once it has begun.
    pub fn sweep_deadline(&self) -> Option<Instant> {
        self.stop.as_ref()?.sweep_until()
    }

    /// Time has passed: acts on every deadline due at `now` (wall clock `wall_ms`).
    pub fn tick(&mut self, now: Instant, wall_ms: i64, pipes_open: bool, fx: &mut Vec<Effect>) {
        while let Some(id) = self.table.pop_due(now) {
            self.due(id, now, fx);
        }
        self.fires_due(now, wall_ms, fx);
        self.sweep_due(now, pipes_open, fx);
        self.settle(now, fx);
    }

    /// A deadline of slot `id` has come.
    fn due(&mut self, id: SlotId, now: Instant, fx: &mut Vec<Effect>) {
        let level = self.settings.level;
        let slot = self.table.slot(id);
        let (pgid, state) = match slot.state {
            State::Gated { .. } => return self.gated_notice(id, now, fx),
            State::Waiting { .. } => return fx.push(Effect::Spawn(id)),
            State::Running { .. } => return self.check_due(id, now, fx),
            State::Stopping { pid, since, .. } => {
                let text = format_args!(
                    "{} did not stop within {}; sending SIGKILL",
                    slot.plan.name,
                    Human(slot.plan.grace)
                );
                say(fx, level, Level::Warn, text);
                let kill_at = None;
                (
                    pid,
                    State::Stopping {
                        pid,
                        since,
                        kill_at,
                    },
                )
            }
            State::Ending {
                pgid, exit, uptime, ..
            } => {
                let text = format_args!(
                    "{}: the rest of its process group did not stop within {}; sending SIGKILL",
                    slot.plan.name,
                    Human(slot.plan.grace)
                );
                say(fx, level, Level::Warn, text);
                let kill_at = None;
                (
                    pgid,
                    State::Ending {
                        pgid,
                        exit,
                        uptime,
                        kill_at,
                    },
                )
            }
            State::Idle | State::Ended(_) | State::Skipped(_) | State::Stopped => return,
        };
        fx.push(Effect::Signal {
            pgid,
            sig: Signal::SIGKILL,
        });
        self.table.set(id, state);
        self.force();
    }

    /// The spawn of slot `id` went as `how`.
    pub fn spawned(&mut self, id: SlotId, how: Spawned, now: Instant, fx: &mut Vec<Effect>) {
        match how {
            Spawned::Running(pid) => {
                let slot = self.table.slot_mut(id);
                slot.last_pgid = Some(pid);
                slot.run += 1;
                slot.last_error = None;
                self.children_left = true;
                let check = self.first_check(id, now);
                self.table.set(
                    id,
                    State::Running {
                        pid,
                        since: now,
                        check,
                    },
                );
                let name = &self.table.slot(id).plan.name;
                say(
                    fx,
                    self.settings.level,
                    Level::Info,
                    format_args!("{name} started (pid {pid})"),
                );
            }
            Spawned::Failed { status, reason } => {
                let plan = &self.table.slot(id).plan;
                let program = plan.argv.first().map(|p| p.to_string_lossy());
                let text = format_args!(
                    "{}: cannot run {:?}: {reason}",
                    plan.name,
                    program.unwrap_or_default()
                );
                say(fx, self.settings.level, Level::Error, text);
                // SPEC §4: a spawn failure is an exit (127/126) and goes through the policy.
                self.ended(id, Exit::Code(status), Duration::ZERO, now, fx);
            }
        }
        if !self.left_cwd {
            self.left_cwd = true;
            fx.push(Effect::LeaveCwd);
        }
        self.settle(now, fx);
    }

    /// Signal `signo` arrived from `sender`.
    pub fn signal(&mut self, signo: i32, sender: Sender, now: Instant, fx: &mut Vec<Effect>) {
        let level = self.settings.level;
        let name = |now| Named { signo, now };
        match signal_rules::classify(signo, sender, &self.settings.signals) {
            Action::Reap => fx.push(Effect::Reap),
            Action::Own => {}
            Action::Ignore => say(
                fx,
                level,
                Level::Debug,
                format_args!("ignoring {}", name(None)),
            ),
            Action::Forward(sig) => {
                let text = format_args!("forwarding {}", name(Some(sig)));
                say(fx, level, Level::Debug, text);
                for slot in self.table.slots() {
                    let Some(pgid) = slot.state.group() else {
                        continue;
                    };
                    // The type's own `signals` table: what this group gets instead, if anything.
                    if let Some(sig) = slot.plan.signals.apply(sig) {
                        fx.push(Effect::Signal { pgid, sig });
                    }
                }
            }
            Action::Suspend => {
                let text = format_args!("{} received; suspending until SIGCONT", name(None));
                say(fx, level, Level::Info, text);
                for slot in self.table.slots() {
                    if let Some(pgid) = slot.state.group() {
                        let sig = Signal::SIGSTOP;
                        fx.push(Effect::Signal { pgid, sig });
                    }
                }
                fx.push(Effect::StopSelf);
            }
            Action::Stop(sig) if self.stop.is_none() => {
                let text = format_args!("{} received; stopping", name(Some(sig)));
                say(fx, level, Level::Info, text);
                self.begin_stop(StopCause::Signal(sig as i32), now, fx);
            }
            Action::Stop(sig) => self.kill_now(sig, fx),
        }
        self.settle(now, fx);
    }
}

/// A received signal in a line: `SIGHUP`, `signal 40` for one without a name, and
/// `SIGHUP (as SIGUSR1)` when `-r` made it another. Formatted only when the line is.
struct Named {
    signo: i32,
    now: Option<Signal>,
}

impl Display for Named {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match Signal::try_from(self.signo) {
            Ok(sig) => f.write_str(sig.as_str())?,
            Err(_) => write!(f, "signal {}", self.signo)?,
        }
        match self.now {
            Some(sig) if sig as i32 != self.signo => write!(f, " (as {sig})"),
            _ => Ok(()),
        }
    }
}

/// Pushes one of formation's own lines when `level` is within `verbosity`. The text is
/// formatted only then, so that lines below it cost nothing on hot paths such as reaping
/// 20,000 orphans.
fn say(fx: &mut Vec<Effect>, verbosity: Level, level: Level, text: impl Display) {
    if level <= verbosity {
        fx.push(Effect::Say(text.to_string()));
    }
}
