//! The effects of the engine carried out: spawns (with a check's notify socket or log watch
//! set up first), signals, the sweep, reaping (a check's process claimed before the engine
//! sees it), check attempts, and the listener's answers from a snapshot of the table.

use super::Supervisor;
use crate::config::names::Level;
use crate::engine::exit::Exit;
use crate::engine::{Effect, Probe, Spawned};
use crate::os::child::{self, Launch};
use crate::os::conns;
use crate::os::probe::Report;
use crate::os::{reaper, signals, sweep};
use crate::output::logmux::Stream;
use crate::plan::checks::{ProbeKind, attempt_bound};
use crate::serve::{self, render::Snapshot};
use std::collections::VecDeque;
use std::time::Instant;

impl Supervisor {
    /// Serves the listener's ready sockets, answering from a snapshot of the table taken
    /// when a whole request head has arrived; then closes the connections past their deadline.
    pub(super) fn serve(&mut self, tokens: Vec<conns::Token>) {
        let Some(listener) = self.listener.as_mut() else {
            return;
        };
        let now = Instant::now();
        let mut events = Vec::new();
        for token in tokens {
            listener.ready(token, now, &mut events);
        }
        listener.expire(now);
        let (engine, types, counts) = (&self.engine, &self.types, self.log.counts());
        for event in events {
            if let conns::Event::Request { conn, bytes, .. } = event {
                let snapshot = || Snapshot::of(engine, types, counts, now);
                // A head handed over is whole or refused: there is always an answer.
                let answer = serve::answer(&bytes, snapshot).unwrap_or_default();
                listener.answer(conn, &answer, true, now);
            }
        }
    }

    /// Carries out `fx` and whatever the engine answers to them, in order.
    pub(super) fn carry_out(&mut self, fx: Vec<Effect>) {
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
        // A slot added while running (`scale`, `reload`) gets its label on its first spawn.
        self.log.label(id, &plan.name, plan.type_index);
        let run = self.engine.run(id) + 1;
        let mut notify_env = None;
        match plan.ready.as_ref().map(|r| &r.kind) {
            Some(ProbeKind::Log(text)) => self.log.watch(id, text),
            Some(ProbeKind::Notify) => match self.probes.notify_socket(id, run) {
                Ok(name) => {
                    let env = plan.env.as_ref().map(|e| e.with("NOTIFY_SOCKET", name));
                    notify_env = env;
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
            env: notify_env.as_ref().or(plan.env.as_ref()),
            cwd: plan.cwd.as_deref(),
            user: plan.user.as_deref(),
            stdio: plan.stdio,
        };
        let how = match child::spawn(&launch) {
            Ok(started) => {
                // The slot id is the instance's log label. A pipe that cannot be watched (no
                // fd or memory left) is closed: its writer gets EPIPE, never a silent stall.
                // (None: the terminal of a `tty = true` instance.)
                let outputs = [
                    (Some(Stream::Stdout), started.stdout),
                    (Some(Stream::Stderr), started.stderr),
                    (None, started.terminal),
                ];
                for (stream, fd) in outputs {
                    let added = match (stream, fd) {
                        (_, None) => continue,
                        (Some(stream), Some(fd)) => self.log.add_source(id, stream, fd),
                        (None, Some(fd)) => self.log.add_terminal(id, fd),
                    };
                    if let Err(e) = added {
                        let name = &self.engine.plan(id).name;
                        let what = stream.map_or("terminal", Stream::name);
                        self.say(
                            Level::Warn,
                            format!("{name}: its {what} cannot be read: {e}"),
                        );
                    }
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
        // Known before the exits are: when the last instance's exit begins the sweep, an
        // empty container (ECHILD) needs no signal and no scan of our children.
        self.engine.children(drain.children_left);
        for slot in self.engine.may_end(drain.exits.iter().map(|(pid, _)| *pid)) {
            self.log.drain(slot);
        }
        for (pid, exit) in drain.exits {
            let exit = self.attribute(exit);
            match self.probes.exited(pid, exit) {
                Some(report) => report.into_iter().for_each(|r| self.report(r, fx)),
                None => self.engine.exited(pid, exit, now, &alive, fx),
            }
        }
        self.engine.reaped(drain.children_left, now, &alive, fx);
    }

    /// A SIGKILL exit told apart: the OOM killer's when the memory group's count of OOM kills
    /// rose since it was last read (one read per SIGKILL exit; nothing else reads it).
    fn attribute(&mut self, exit: Exit) -> Exit {
        let Some((group, seen)) = self.memory.as_mut() else {
            return exit;
        };
        if exit != Exit::Signal(nix::libc::SIGKILL) {
            // Only SIGKILL exits are looked at: the OOM killer sends nothing else.
            return exit;
        }
        let now = group.oom_kills();
        let told = exit.attributed(*seen, now, || group.limit());
        *seen = now.or(*seen);
        told
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
        let report = self
            .probes
            .start((slot, run, probe), kind, plan, bound, now);
        for (slot, reason) in self.probes.take_notices() {
            let name = &self.engine.plan(slot).name;
            let check = match probe {
                Probe::Ready => "ready",
                Probe::Health => "health",
            };
            let text = format!("{name}: its {check} check cannot run: {reason}");
            self.say(Level::Warn, text);
        }
        if let Some(report) = report {
            self.report(report, fx);
        }
    }

    /// Hands a check result to the engine.
    pub(super) fn report(&mut self, (slot, run, probe, result): Report, fx: &mut Vec<Effect>) {
        self.engine
            .probed(slot, run, probe, result, Instant::now(), fx);
    }
}
