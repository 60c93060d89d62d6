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

use crate::config::names::Level;
use crate::engine::{Engine, Probe};
use crate::os::cgroup::MemoryGroup;
use crate::os::clock;
use crate::os::conns;
use crate::os::control::Control;
use crate::os::listener::Listener;
use crate::os::probe::Probes;
use crate::os::signals::Signals;
use crate::output::logmux::{LogMux, Token};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
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
    /// The control socket, unless turned off (SPEC §10).
    control: Option<Control>,
    /// `--wait` requests whose connection stays open until they are done.
    waits: Vec<control::Wait>,
    /// The container's memory group and its OOM-kill count when last read (at start, then at
    /// each SIGKILL exit): a SIGKILL while it rose is the OOM killer's.
    memory: Option<(MemoryGroup, Option<u64>)>,
    /// Reads the config again for a `reload` (SPEC §10), with the options and environment
    /// formation was started with.
    reread: Box<crate::engine::Reread>,
}

/// What a polled fd belongs to.
#[derive(Clone, Copy)]
enum Owner {
    /// A pipe or one of our outputs.
    Log(Token),
    /// The set of check sockets (attempts and notify sockets).
    Probes,
    /// The status listener's socket or one of its connections.
    Listener(conns::Token),
    /// The control socket or one of its connections.
    Control(conns::Token),
}

mod control;
mod effects;

impl Supervisor {
    /// A supervisor carrying out `engine`. `signals` must already be installed, so that no
    /// SIGCHLD of a child is missed.
    pub fn new(engine: Engine, signals: Signals, log: LogMux, pid1: bool, level: Level) -> Self {
        // Before the first spawn: every child gets back the value it replaces.
        crate::os::spawn::lower_oom_score();
        Supervisor {
            engine,
            signals,
            log,
            pid1,
            level,
            probes: Probes::default(),
            listener: None,
            types: Vec::new(),
            control: None,
            waits: Vec::new(),
            memory: MemoryGroup::find().map(|group| {
                let seen = group.oom_kills();
                (group, seen)
            }),
            reread: Box::new(|| Err(vec!["reload: there is no config to read".into()])),
        }
    }

    /// How a `reload` reads the config again.
    pub fn rereader(&mut self, reread: Box<crate::engine::Reread>) {
        self.reread = reread;
    }

    /// Carries out an operator's request (SPEC §10) at once, and answers it: the control
    /// channel's way into the engine.
    pub fn control(&mut self, order: crate::engine::Order) -> crate::engine::Answer {
        let mut fx = Vec::new();
        let answer = self
            .engine
            .control(order, &*self.reread, Instant::now(), &mut fx);
        self.carry_out(fx);
        answer
    }

    /// Serves the status listener from the loop.
    pub fn listen(&mut self, listener: Listener) {
        self.listener = Some(listener);
    }

    /// Names each process type by index, for the listener and `status`.
    pub fn name_types(&mut self, types: Vec<String>) {
        self.types = types;
    }

    /// One of formation's own lines, if `level` is within the verbosity.
    pub fn say(&mut self, level: Level, text: impl std::fmt::Display) {
        if level <= self.level {
            self.log.own(&text.to_string());
        }
    }

    /// Runs until the formation has stopped, then exits with formation's exit status.
    pub fn run(mut self) -> ! {
        let status = loop {
            let now = Instant::now();
            let mut fx = Vec::new();
            let pipes_open = self.log.open_sources() > 0;
            self.engine.tick(now, clock::wall_ms(), pipes_open, &mut fx);
            for report in self.probes.expire(now) {
                self.report(report, &mut fx);
            }
            self.carry_out(fx);
            // After the deadlines and before the wait: whatever the last turn and this
            // tick changed reaches the `--wait` clients before poll blocks.
            self.progress();
            let pipes_open = self.log.open_sources() > 0;
            if let Some(status) = self.engine.outcome(Instant::now(), pipes_open) {
                break status;
            }
            let deadlines = [
                self.engine.next_deadline(),
                self.probes.next_deadline(),
                self.listener.as_ref().and_then(Listener::next_deadline),
                self.control_deadline(),
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
            let mut controls = Vec::new();
            for owner in ready {
                match owner {
                    Owner::Log(token) => self.log.ready(token),
                    Owner::Probes => {
                        for report in self.probes.ready() {
                            self.report(report, &mut fx);
                        }
                    }
                    Owner::Listener(token) => conns.push(token),
                    Owner::Control(token) => controls.push(token),
                }
            }
            self.serve(conns);
            self.serve_control(controls);
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
        // Exit at once, with everything still allocated and open: the kernel releases it all
        // in one go. Dropping `self` piece by piece cost ~35 µs of the stop latency (an unmap
        // in a VM is a TLB shootdown; perf's syscall trace between the last wait4 and
        // exit_group: munmap 23 µs, close 8 µs, munmap 5 µs). Every output is flushed above.
        std::process::exit(status)
    }

    /// The one blocking call: poll the signalfd, the log's fds and the checks' sockets.
    /// Whether signals are to be read, and the other owners that are ready.
    fn wait(&self, timeout: PollTimeout) -> (bool, Vec<Owner>) {
        let mut tokens = Vec::new();
        let mut fds = vec![PollFd::new(self.signals.as_fd(), PollFlags::POLLIN)];
        for (token, fd, flags) in self.log.interest() {
            tokens.push(Owner::Log(token));
            fds.push(PollFd::new(fd, flags));
        }
        if let Some(fd) = self.probes.fd() {
            tokens.push(Owner::Probes);
            fds.push(PollFd::new(fd, PollFlags::POLLIN));
        }
        for (token, fd, flags) in self
            .listener
            .iter()
            .flat_map(|l| l.interest(Instant::now()))
        {
            tokens.push(Owner::Listener(token));
            fds.push(PollFd::new(fd, flags));
        }
        for (token, fd, flags) in self.control.iter().flat_map(|c| c.interest(Instant::now())) {
            tokens.push(Owner::Control(token));
            fds.push(PollFd::new(fd, flags));
        }
        if fds.len() == 1 && timeout == PollTimeout::NONE {
            // Only signals to wait for, with no deadline: the signalfd's own blocking read
            // (`Signals::pending`) is the wait, one system call per wake-up instead of two.
            return (true, Vec::new());
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
}
