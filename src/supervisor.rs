//! The loop and the instance table: the only `poll`, and every decision carried out.
//!
//! Owns: the state of each instance (waiting to start, running, ended), carrying out the stop
//! of SPEC §4.1 on them, and the order of things in one turn of the loop: deadlines due → poll
//! → signals (and reaping) → log I/O.
//!
//! Must not: call libc beyond `poll`; spawning and `killpg` are `child.rs`, waiting is
//! `reaper.rs`, rules are `policy.rs`, the stop's state and its sweep are `stop.rs`, output is
//! `logmux.rs`.
//!
//! Deadlines live on the state they belong to — a restart time on a waiting instance, a kill
//! time on a stopping one, the sweep deadline on the stop — and the poll timeout is the
//! earliest of them. With nothing due, poll waits forever: zero wake-ups at idle.
//!
//! Both modes run here. Single-command mode is a formation of one essential instance with
//! inherited stdio whose signal policy forwards TERM, INT and QUIT instead of stopping.

use crate::config::units::Level;
use crate::engine::exit::Exit;
use crate::engine::policy::{self, AfterExit, StopCause};
use crate::engine::signals::{Action, SignalPolicy, classify};
use crate::engine::stop::{Stop, Sweep};
use crate::os::child::{self, Launch};
use crate::os::signals::Signals;
use crate::os::{reaper, sweep};
use crate::output::logmux::{LogMux, Stream, Token};
use crate::plan::Instance;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

/// What does not change while the loop runs.
pub struct Settings {
    /// Forward TERM/INT/QUIT (single-command mode) or stop on them.
    pub policy: SignalPolicy,
    /// The default grace: bounds the PID-1 sweep and the final pipe drain.
    pub grace: Duration,
    /// Our own verbosity.
    pub level: Level,
    /// We are PID 1 of a pid namespace: the sweep signals every process in it.
    pub pid1: bool,
}

/// Where an instance is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// To be started at `at` (first start, or a restart after its backoff).
    Waiting { at: Instant },
    /// Running as process (and process group) `pid` since `since`.
    Running { pid: Pid, since: Instant },
    /// Ended for good.
    Ended,
}

/// One instance and its history.
struct Slot {
    plan: Instance,
    state: State,
    /// Restarts since its last healthy run.
    restarts: u32,
    /// While stopping: when its group gets SIGKILL.
    kill_at: Option<Instant>,
    /// Its last process group, for the sweep when we are not PID 1.
    last_pgid: Option<Pid>,
}

/// The supervisor of one formation.
pub struct Supervisor {
    settings: Settings,
    slots: Vec<Slot>,
    signals: Signals,
    log: LogMux,
    stop: Option<Stop>,
    children_left: bool,
    first_failure: Option<i32>,
}

impl Supervisor {
    /// A supervisor for `instances`, all due to start at once. `signals` must already be
    /// installed, so that no SIGCHLD of theirs is missed.
    pub fn new(
        settings: Settings,
        instances: Vec<Instance>,
        signals: Signals,
        log: LogMux,
    ) -> Self {
        let now = Instant::now();
        let slots = instances
            .into_iter()
            .map(|plan| Slot {
                plan,
                state: State::Waiting { at: now },
                restarts: 0,
                kill_at: None,
                last_pgid: None,
            })
            .collect();
        Supervisor {
            settings,
            slots,
            signals,
            log,
            stop: None,
            children_left: true,
            first_failure: None,
        }
    }

    /// One of formation's own lines, if `level` is within the verbosity.
    /// The text is formatted only when the line is written (`format_args!`), so that lines
    /// below the verbosity cost nothing on hot paths such as reaping 20,000 orphans.
    pub fn say(&mut self, level: Level, text: impl std::fmt::Display) {
        if level <= self.settings.level {
            self.log.own(&text.to_string());
        }
    }

    /// Runs until the formation has stopped; returns formation's exit status.
    pub fn run(mut self) -> i32 {
        let status = loop {
            let now = Instant::now();
            self.due(now);
            if let Some(status) = self.finished(now) {
                break status;
            }
            let timeout = match self.next_deadline() {
                Some(at) => {
                    let wait = at.saturating_duration_since(now);
                    // Round up: waking a moment early would only spin.
                    let millis = wait.as_nanos().div_ceil(1_000_000);
                    PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX)
                }
                None => PollTimeout::NONE,
            };
            let (signalled, ready) = self.wait(timeout);
            if signalled {
                self.on_signals();
            }
            for token in ready {
                self.log.ready(token);
            }
            self.log.pump();
        };
        self.say(Level::Debug, format_args!("exiting with status {status}"));
        self.log.finish(Instant::now() + self.settings.grace);
        status
    }

    /// The one blocking call: poll the signalfd and the log's fds.
    fn wait(&self, timeout: PollTimeout) -> (bool, Vec<Token>) {
        let mut tokens = Vec::new();
        let mut fds = vec![PollFd::new(self.signals.as_fd(), PollFlags::POLLIN)];
        for (token, fd, flags) in self.log.interest() {
            tokens.push(token);
            fds.push(PollFd::new(fd, flags));
        }
        if poll(&mut fds, timeout).is_err() {
            // EINTR (cannot happen with every signal blocked) or ENOMEM: try again next turn.
            return (false, Vec::new());
        }
        let fired = |fd: &PollFd| fd.revents().is_some_and(|r| !r.is_empty());
        let ready = fds[1..]
            .iter()
            .zip(tokens)
            .filter(|(fd, _)| fired(fd))
            .map(|(_, token)| token)
            .collect();
        (fired(&fds[0]), ready)
    }

    /// Carries out whatever is due at `now`: starts, SIGKILLs at a grace, the sweep.
    fn due(&mut self, now: Instant) {
        if self.stop.is_none() {
            for i in 0..self.slots.len() {
                if matches!(self.slots[i].state, State::Waiting { at } if at <= now) {
                    self.start(i, now);
                }
            }
            if self.slots.iter().all(|s| s.state == State::Ended) && self.stop.is_none() {
                self.begin_stop(StopCause::AllEnded(self.first_failure), now);
            }
            if self.stop.is_none() {
                return;
            }
        }
        for i in 0..self.slots.len() {
            let slot = &mut self.slots[i];
            if let (State::Running { pid, .. }, Some(at)) = (slot.state, slot.kill_at)
                && at <= now
            {
                slot.kill_at = None;
                child::signal_group(pid, Signal::SIGKILL);
                let text = format!(
                    "{} did not stop within {:?}; sending SIGKILL",
                    slot.plan.name, slot.plan.grace
                );
                self.mark_forced();
                self.say(Level::Warn, &text);
            }
        }
        if self
            .slots
            .iter()
            .any(|s| matches!(s.state, State::Running { .. }))
        {
            return;
        }
        let grace = self.settings.grace;
        let Some(stop) = self.stop.as_mut() else {
            return;
        };
        match stop.sweep_step(now, grace) {
            Sweep::Begin => {
                let forced = stop.forced;
                // Collect what has ended meanwhile, so that an empty container is known as such
                // without waiting for a SIGCHLD that may never come.
                self.reap();
                if self.children_left {
                    // Processes left over: adopted orphans, daemonized grandchildren, the rest
                    // of an ended instance's group.
                    let sig = if forced {
                        Signal::SIGKILL
                    } else {
                        Signal::SIGTERM
                    };
                    self.say(
                        Level::Debug,
                        format_args!("sending {} to the remaining processes", sig.as_str()),
                    );
                    self.signal_rest(sig);
                }
            }
            Sweep::Deadline => {
                if self.children_left {
                    stop.forced = true;
                    self.say(
                        Level::Warn,
                        "processes left after the grace; sending SIGKILL",
                    );
                    self.signal_rest(Signal::SIGKILL);
                }
                if self.log.open_sources() > 0 {
                    self.say(
                        Level::Warn,
                        "output pipes still open after the grace; closing them",
                    );
                    self.log.close_sources();
                }
            }
            Sweep::Wait => {}
        }
    }

    /// The exit status, once the formation has fully stopped.
    fn finished(&self, now: Instant) -> Option<i32> {
        let settled = !self.children_left && self.log.open_sources() == 0;
        self.stop.as_ref()?.outcome(now, settled)
    }

    /// The earliest deadline still to act on.
    fn next_deadline(&self) -> Option<Instant> {
        let slots = self
            .slots
            .iter()
            .filter_map(|s| match (s.state, &self.stop) {
                (State::Waiting { at }, None) => Some(at),
                (State::Running { .. }, Some(_)) => s.kill_at,
                _ => None,
            });
        slots
            .chain(self.stop.as_ref().and_then(Stop::deadline))
            .min()
    }

    fn start(&mut self, i: usize, now: Instant) {
        let slot = &mut self.slots[i];
        let plan = &slot.plan;
        let launch = Launch {
            argv: &plan.argv,
            env: plan.env.as_deref(),
            cwd: plan.cwd.as_deref(),
            user: plan.user.as_ref(),
            stdio: plan.stdio,
        };
        match child::spawn(&launch) {
            Ok(started) => {
                slot.state = State::Running {
                    pid: started.pid,
                    since: now,
                };
                slot.last_pgid = Some(started.pid);
                if let Some(fd) = started.stdout {
                    self.log.add_source(i, Stream::Stdout, fd);
                }
                if let Some(fd) = started.stderr {
                    self.log.add_source(i, Stream::Stderr, fd);
                }
                self.children_left = true;
                let text = format!("{} started (pid {})", self.slots[i].plan.name, started.pid);
                self.say(Level::Info, &text);
            }
            Err(err) => {
                let program = plan
                    .argv
                    .first()
                    .map(|p| p.to_string_lossy())
                    .unwrap_or_default();
                let text = format!("{}: cannot run {program:?}: {}", plan.name, err.reason);
                self.say(Level::Error, &text);
                // SPEC §4: a spawn failure is an exit (127/126) and goes through the policy.
                self.ended(i, Exit::Code(err.status), Duration::ZERO, now);
            }
        }
    }

    fn on_signals(&mut self) {
        let mut reap = false;
        for signo in self.signals.pending() {
            match classify(signo, self.settings.policy) {
                Action::Reap => reap = true,
                Action::Ignore => self.say(Level::Debug, format_args!("ignoring signal {signo}")),
                Action::Stop(sig) => self.on_stop_signal(sig),
                Action::Forward(sig) => {
                    self.say(Level::Debug, format_args!("forwarding {}", sig.as_str()));
                    for slot in &self.slots {
                        if let State::Running { pid, .. } = slot.state {
                            child::signal_group(pid, sig);
                        }
                    }
                }
            }
        }
        if reap {
            self.reap();
        }
    }

    fn on_stop_signal(&mut self, sig: Signal) {
        let now = Instant::now();
        if self.stop.is_none() {
            self.say(
                Level::Info,
                format_args!("{} received; stopping", sig.as_str()),
            );
            self.begin_stop(StopCause::Signal(sig as i32), now);
            return;
        }
        self.say(
            Level::Warn,
            format_args!("{} received again; killing everything now", sig.as_str()),
        );
        self.mark_forced();
        for slot in &mut self.slots {
            if let State::Running { pid, .. } = slot.state {
                slot.kill_at = None;
                child::signal_group(pid, Signal::SIGKILL);
            }
        }
        if self.stop.as_ref().is_some_and(|s| s.sweeping()) && self.children_left {
            self.signal_rest(Signal::SIGKILL);
        }
    }

    fn mark_forced(&mut self) {
        if let Some(stop) = self.stop.as_mut() {
            stop.forced = true;
        }
    }

    fn reap(&mut self) {
        let drain = reaper::drain();
        self.children_left = drain.children_left;
        let now = Instant::now();
        for (pid, exit) in drain.exits {
            let found = self
                .slots
                .iter()
                .position(|s| matches!(s.state, State::Running { pid: p, .. } if p == pid));
            match found {
                Some(i) => {
                    let State::Running { since, .. } = self.slots[i].state else {
                        continue;
                    };
                    self.ended(i, exit, now.saturating_duration_since(since), now);
                }
                // An adopted orphan: reaped, and never a formation process ending (SPEC §4).
                None => self.say(Level::Debug, format_args!("reaped orphan {pid} ({exit})")),
            }
        }
    }

    /// Instance `i` exited (or could not start) with `exit` after `uptime`.
    fn ended(&mut self, i: usize, exit: Exit, uptime: Duration, now: Instant) {
        let slot = &mut self.slots[i];
        let name = slot.plan.name.clone();
        slot.kill_at = None;
        if self.stop.is_some() {
            slot.state = State::Ended;
            self.say(Level::Info, format_args!("{name} {exit}"));
            return;
        }
        match policy::after_exit(
            slot.plan.restart,
            &slot.plan.backoff,
            slot.restarts,
            exit,
            uptime,
        ) {
            AfterExit::Restart { delay, restarts } => {
                slot.state = State::Waiting { at: now + delay };
                slot.restarts = restarts;
                self.say(
                    Level::Info,
                    format_args!("{name} {exit}; restarting in {delay:?}"),
                );
            }
            AfterExit::Done => self.end_for_good(i, exit, now),
            AfterExit::CrashLoop { restarts } => {
                let text = format!(
                    "{name} {exit} after {restarts} restarts without a healthy run of {:?}; giving up",
                    slot.plan.backoff.healthy
                );
                self.say(Level::Warn, &text);
                self.end_for_good(i, exit, now);
            }
        }
    }

    fn end_for_good(&mut self, i: usize, exit: Exit, now: Instant) {
        let slot = &mut self.slots[i];
        slot.state = State::Ended;
        if !exit.success() && self.first_failure.is_none() {
            self.first_failure = Some(exit.status());
        }
        let name = slot.plan.name.clone();
        if slot.plan.essential {
            self.say(Level::Info, format_args!("{name} {exit}; stopping"));
            self.begin_stop(StopCause::Essential(exit), now);
        } else {
            self.say(Level::Info, format_args!("{name} {exit}"));
        }
    }

    fn begin_stop(&mut self, cause: StopCause, now: Instant) {
        self.stop = Some(Stop::new(cause));
        for slot in &mut self.slots {
            match slot.state {
                State::Waiting { .. } => slot.state = State::Ended,
                State::Running { pid, .. } => {
                    child::signal_group(pid, slot.plan.stop_signal);
                    slot.kill_at = Some(now + slot.plan.grace);
                }
                State::Ended => {}
            }
        }
    }

    /// Signals every process left in the container (see `stop::signal_rest`).
    fn signal_rest(&self, sig: Signal) {
        let pgids = self.slots.iter().filter_map(|s| s.last_pgid);
        sweep::signal_rest(self.settings.pid1, pgids, sig);
    }
}
