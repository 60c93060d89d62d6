//! The loop: the only `poll`, and the effects of the engine carried out.
//!
//! Owns: the order of things in one turn — deadlines due (`Engine::tick`) → poll → signals
//! (and reaping) → log I/O — turning fds and the clock into the engine's events, and carrying
//! out what the engine answers (spawn, signal a group, the sweep, say a line, stop ourselves,
//! leave our cwd).
//!
//! Must not: decide anything. Which instance starts, restarts, is killed or stops the
//! formation, and with what status formation exits, is the engine's (`engine/`); spawning
//! and `killpg` are `os::child`, waiting is `os::reaper`, output is `output::logmux`.
//!
//! With nothing due, poll waits forever: zero wake-ups at idle (the engine's deadlines are the
//! only timeouts).

use crate::config::units::Level;
use crate::engine::{Effect, Engine, Probe, Spawned};
use crate::os::child::{self, Launch};
use crate::os::listener::{self, Listener};
use crate::os::probe::{Probes, Report};
use crate::os::signals::{self, Signals};
use crate::os::{clock, reaper, sweep};
use crate::output::logmux::{LogMux, Stream, Token};
use crate::plan::checks::{ProbeKind, attempt_bound};
use crate::serve::{self, render::Snapshot};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use std::collections::VecDeque;
use std::os::fd::AsFd;
use std::time::Instant;

/// The supervisor of one formation.
pub struct Supervisor {
    engine: Engine,
    signals: Signals,
    log: LogMux,
    /// We are PID 1 of a pid namespace: the sweep signals every process in it.
    pid1: bool,
    /// formation's own verbosity, for the lines the supervisor itself says.
    level: Level,
    /// Check attempts under way and notify sockets.
    probes: Probes,
    /// The status listener, when asked for (SPEC §9).
    listener: Option<Listener>,
    /// The name of each process type, by index: what the listener shows as an instance's type.
    types: Vec<String>,
}

/// What a polled fd belongs to.
#[derive(Clone, Copy)]
enum Owner {
    /// A pipe or one of our outputs.
    Log(Token),
    /// Slot `.0`'s check attempt, or its notify socket with `.1`.
    Probe(usize, bool),
    /// The status listener's socket or one of its connections.
    Listener(listener::Token),
}

impl Supervisor {
    /// A supervisor carrying out `engine`. `signals` must already be installed, so that no
    /// SIGCHLD of a child is missed.
    pub fn new(engine: Engine, signals: Signals, log: LogMux, pid1: bool, level: Level) -> Self {
        Supervisor {
            engine,
            signals,
            log,
            pid1,
            level,
            probes: Probes::default(),
            listener: None,
            types: Vec::new(),
        }
    }

    /// Serves the status listener from the loop; `types` names each process type by index.
    pub fn listen(&mut self, listener: Listener, types: Vec<String>) {
        self.listener = Some(listener);
        self.types = types;
    }

    /// One of formation's own lines, if `level` is within the verbosity.
    pub fn say(&mut self, level: Level, text: impl std::fmt::Display) {
        if level <= self.level {
            self.log.own(&text.to_string());
        }
    }

    /// Runs until the formation has stopped; returns formation's exit status.
    pub fn run(mut self) -> i32 {
        let status = loop {
            let now = Instant::now();
            let mut fx = Vec::new();
            let pipes_open = self.log.open_sources() > 0;
            self.engine.tick(now, clock::wall_ms(), pipes_open, &mut fx);
            for report in self.probes.expire(now) {
                self.report(report, &mut fx);
            }
            self.carry_out(fx);
            let pipes_open = self.log.open_sources() > 0;
            if let Some(status) = self.engine.outcome(Instant::now(), pipes_open) {
                break status;
            }
            let deadlines = [
                self.engine.next_deadline(),
                self.probes.next_deadline(),
                self.listener.as_ref().and_then(Listener::next_deadline),
            ];
            let timeout = match deadlines.into_iter().flatten().min() {
                Some(at) => {
                    let wait = at.saturating_duration_since(Instant::now());
                    // Round up: waking a moment early would only spin.
                    let millis = wait.as_nanos().div_ceil(1_000_000);
                    PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX)
                }
                None => PollTimeout::NONE,
            };
            let (signalled, ready) = self.wait(timeout);
            if signalled {
                let mut fx = Vec::new();
                for (signo, sender) in self.signals.pending() {
                    self.engine.signal(signo, sender, Instant::now(), &mut fx);
                }
                self.carry_out(fx);
            }
            let mut fx = Vec::new();
            let mut conns = Vec::new();
            for owner in ready {
                match owner {
                    Owner::Log(token) => self.log.ready(token),
                    Owner::Probe(slot, notify) => {
                        if let Some(report) = self.probes.ready(slot, notify) {
                            self.report(report, &mut fx);
                        }
                    }
                    Owner::Listener(token) => conns.push(token),
                }
            }
            self.serve(conns);
            self.log.pump();
            for slot in self.log.take_matches() {
                let run = self.engine.run(slot);
                self.report((slot, run, Probe::Ready, Ok(())), &mut fx);
            }
            self.carry_out(fx);
        };
        self.say(Level::Debug, format_args!("exiting with status {status}"));
        // The last flush of our own outputs ends with the stop's worst case (SPEC §4.1):
        // at the sweep's deadline, or at once when that has passed.
        let until = self.engine.sweep_deadline().unwrap_or_else(Instant::now);
        self.log.finish(until);
        status
    }

    /// The one blocking call: poll the signalfd, the log's fds and the checks' sockets.
    fn wait(&self, timeout: PollTimeout) -> (bool, Vec<Owner>) {
        let mut tokens = Vec::new();
        let mut fds = vec![PollFd::new(self.signals.as_fd(), PollFlags::POLLIN)];
        for (token, fd, flags) in self.log.interest() {
            tokens.push(Owner::Log(token));
            fds.push(PollFd::new(fd, flags));
        }
        for (slot, notify, fd, flags) in self.probes.interest() {
            tokens.push(Owner::Probe(slot, notify));
            fds.push(PollFd::new(fd, flags));
        }
        for (token, fd, flags) in self
            .listener
            .iter()
            .flat_map(|l| l.interest(Instant::now()))
        {
            tokens.push(Owner::Listener(token));
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

    /// Serves the listener's ready sockets, answering from a snapshot of the table taken
    /// when a whole request head has arrived; then closes the connections past their deadline.
    fn serve(&mut self, tokens: Vec<listener::Token>) {
        let Some(listener) = self.listener.as_mut() else {
            return;
        };
        let now = Instant::now();
        let (engine, types, counts) = (&self.engine, &self.types, self.log.counts());
        let mut answer =
            |head: &[u8]| serve::answer(head, || Snapshot::of(engine, types, counts, now));
        for token in tokens {
            listener.ready(token, now, &mut answer);
        }
        listener.expire(now);
    }

    /// Carries out `fx` and whatever the engine answers to them, in order.
    fn carry_out(&mut self, fx: Vec<Effect>) {
        let mut queue = VecDeque::from(fx);
        let mut more = Vec::new();
        while let Some(effect) = queue.pop_front() {
            match effect {
                Effect::Spawn(id) => self.spawn(id, &mut more),
                Effect::Signal { pgid, sig } => {
                    child::signal_group(pgid, sig);
                }
                Effect::SignalRest(sig) => {
                    sweep::signal_rest(self.pid1, self.engine.groups(), sig);
                }
                Effect::Say(text) => self.log.own(&text),
                Effect::Reap => self.reap(&mut more),
                Effect::ClosePipes => self.log.close_sources(),
                Effect::Probe { slot, run, probe } => self.probe(slot, run, probe, &mut more),
                Effect::StopSelf => signals::stop_self(),
                Effect::LeaveCwd => {
                    // Cannot fail for "/" short of a broken system; staying put is harmless.
                    let _ = nix::unistd::chdir("/");
                }
            }
            queue.extend(more.drain(..));
        }
    }

    fn spawn(&mut self, id: usize, fx: &mut Vec<Effect>) {
        let plan = self.engine.plan(id);
        let run = self.engine.run(id) + 1;
        let mut notify_env = None;
        match plan.ready.as_ref().map(|r| &r.kind) {
            Some(ProbeKind::Log(text)) => self.log.watch(id, text),
            Some(ProbeKind::Notify) => match self.probes.notify_socket(id, run) {
                Ok(name) => {
                    let mut env = plan.env.clone().unwrap_or_default();
                    env.push(("NOTIFY_SOCKET".into(), name.into()));
                    notify_env = Some(env);
                }
                Err(e) => {
                    let text = format!("{}: no notify socket: {e}", plan.name);
                    self.say(Level::Warn, text);
                }
            },
            _ => {}
        }
        let plan = self.engine.plan(id);
        let launch = Launch {
            argv: &plan.argv,
            env: notify_env.as_deref().or(plan.env.as_deref()),
            cwd: plan.cwd.as_deref(),
            user: plan.user.as_ref(),
            stdio: plan.stdio,
        };
        let how = match child::spawn(&launch) {
            Ok(started) => {
                // The slot id is the instance's log label.
                if let Some(fd) = started.stdout {
                    self.log.add_source(id, Stream::Stdout, fd);
                }
                if let Some(fd) = started.stderr {
                    self.log.add_source(id, Stream::Stderr, fd);
                }
                Spawned::Running(started.pid)
            }
            Err(err) => Spawned::Failed {
                status: err.status,
                reason: err.reason,
            },
        };
        self.engine.spawned(id, how, Instant::now(), fx);
    }

    fn reap(&mut self, fx: &mut Vec<Effect>) {
        let drain = reaper::drain();
        let now = Instant::now();
        let alive = |pgid| child::group_alive(pgid);
        for (pid, exit) in drain.exits {
            match self.probes.exited(pid, exit) {
                Some(report) => report.into_iter().for_each(|r| self.report(r, fx)),
                None => self.engine.exited(pid, exit, now, &alive, fx),
            }
        }
        self.engine.reaped(drain.children_left, now, &alive, fx);
    }

    /// Starts a check attempt of slot `slot`'s run `run`.
    fn probe(&mut self, slot: usize, run: u64, probe: Probe, fx: &mut Vec<Effect>) {
        let plan = self.engine.plan(slot);
        let (kind, bound) = match probe {
            Probe::Ready => match &plan.ready {
                Some(r) => (&r.kind, attempt_bound(r.interval)),
                None => return,
            },
            Probe::Health => match &plan.health {
                Some(h) => (&h.kind, h.timeout),
                None => return,
            },
        };
        let now = Instant::now();
        if let Some(report) = self
            .probes
            .start((slot, run, probe), kind, plan, bound, now)
        {
            self.report(report, fx);
        }
    }

    /// Hands a check result to the engine.
    fn report(&mut self, (slot, run, probe, result): Report, fx: &mut Vec<Effect>) {
        self.engine
            .probed(slot, run, probe, result, Instant::now(), fx);
    }
}
