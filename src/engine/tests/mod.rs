//! Table tests of the engine: whole lifecycles of SPEC §4 and §4.1 with no process in them.
//! Time is a value (`T::at`), process groups are a set the test controls, and every effect
//! the engine asks for is checked.

use super::*;
use crate::engine::signal_rules::SignalPolicy;

mod control;
mod gate;
mod lifecycle;
mod reload;
mod schedule;
mod signals;
mod stopping;
use crate::config::model::{Backoff, Restart};
use crate::plan::StdioMode;
use std::collections::HashSet;

/// The wall clock at `t0`: 2026-12-02T10:00:00Z, in ms.
pub const WALL0: i64 = 1_796_205_600_000;
pub const TERM: Signal = Signal::SIGTERM;
pub const KILL: Signal = Signal::SIGKILL;

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// An instance with a 1 s grace and a millisecond backoff.
pub fn instance(name: &str, restart: Restart, essential: bool) -> Instance {
    Instance {
        restart,
        essential,
        backoff: Backoff {
            initial: ms(10),
            max: ms(40),
            healthy: ms(1000),
            restarts: 3,
        },
        ..Instance::new(name.into(), vec!["x".into()], ms(1000), StdioMode::Piped)
    }
}

/// A formation under test: the engine, a clock and the process groups that are alive.
pub struct T {
    pub e: Engine,
    pub t0: Instant,
    pub now: Instant,
    pub groups: HashSet<Pid>,
    pub next_pid: i32,
    pub pipes_open: bool,
    /// The wall clock at `t0`, in ms.
    pub wall0: i64,
}

impl T {
    pub fn new(policy: SignalPolicy, instances: Vec<Instance>) -> T {
        T::with_rules(Rules::plain(policy), instances)
    }

    pub fn with_rules(signals: Rules, instances: Vec<Instance>) -> T {
        T::started_at(WALL0, signals, instances)
    }

    /// A formation started when the wall clock read `wall0` (ms).
    pub fn started_at(wall0: i64, signals: Rules, instances: Vec<Instance>) -> T {
        let t0 = Instant::now();
        let settings = Settings {
            signals,
            grace: ms(5000),
            level: Level::Info,
            cause_level: Level::Error,
        };
        T {
            e: Engine::new(settings, instances, t0, wall0),
            t0,
            now: t0,
            groups: HashSet::new(),
            next_pid: 100,
            pipes_open: false,
            wall0,
        }
    }

    pub fn formation(instances: Vec<Instance>) -> T {
        T::new(SignalPolicy::StopOnTerm, instances)
    }

    /// Moves the clock to `t0 + ms` and ticks; spawns what the engine asks to spawn (each
    /// gets a fresh pid and group). Returns the effects other than spawns.
    pub fn at(&mut self, after: u64) -> Vec<Effect> {
        self.now = self.t0 + ms(after);
        let mut fx = Vec::new();
        let wall = self.wall0 + after as i64;
        self.e.tick(self.now, wall, self.pipes_open, &mut fx);
        self.spawn_all(fx)
    }

    pub fn spawn_all(&mut self, fx: Vec<Effect>) -> Vec<Effect> {
        let mut out = Vec::new();
        for effect in fx {
            if let Effect::Spawn(id) = effect {
                let pid = Pid::from_raw(self.next_pid);
                self.next_pid += 1;
                self.groups.insert(pid);
                let mut more = Vec::new();
                self.e
                    .spawned(id, Spawned::Running(pid), self.now, &mut more);
                out.extend(self.spawn_all(more));
            } else {
                out.push(effect);
            }
        }
        out
    }

    /// The leader of slot `id` exits with `exit`; with `rest`, other members of its group live on.
    pub fn exit(&mut self, id: SlotId, exit: Exit, rest: bool) -> Vec<Effect> {
        let pid = self.e.state(id).group().expect("has a process");
        if !rest {
            self.groups.remove(&pid);
        }
        let groups = self.groups.clone();
        let alive = move |p: Pid| groups.contains(&p);
        let mut fx = Vec::new();
        self.e.exited(pid, exit, self.now, &alive, &mut fx);
        self.e.reaped(true, self.now, &alive, &mut fx);
        self.spawn_all(fx)
    }

    /// The rest of slot `id`'s group is gone (`None`: every group), and `children_left` says
    /// whether any child of ours is.
    pub fn group_gone(&mut self, id: Option<SlotId>, children_left: bool) -> Vec<Effect> {
        match id {
            Some(id) => {
                let pid = self.e.state(id).group().expect("has a group");
                self.groups.remove(&pid);
            }
            None => self.groups.clear(),
        }
        let groups = self.groups.clone();
        let mut fx = Vec::new();
        self.e.reaped(
            children_left,
            self.now,
            &move |p| groups.contains(&p),
            &mut fx,
        );
        self.spawn_all(fx)
    }

    pub fn signal(&mut self, sig: Signal) -> Vec<Effect> {
        self.signal_from(sig, Sender::Other)
    }

    pub fn signal_from(&mut self, sig: Signal, sender: Sender) -> Vec<Effect> {
        let mut fx = Vec::new();
        self.e.signal(sig as i32, sender, self.now, &mut fx);
        self.spawn_all(fx)
    }

    pub fn pid(&self, id: SlotId) -> Pid {
        self.e.state(id).group().expect("has a process")
    }

    pub fn outcome(&self) -> Option<i32> {
        self.e.outcome(self.now, self.pipes_open)
    }
}

pub fn said(fx: &[Effect]) -> Vec<&str> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Say(text) => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

pub fn signals(fx: &[Effect]) -> Vec<(Pid, Signal)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Signal { pgid, sig } => Some((*pgid, *sig)),
            _ => None,
        })
        .collect()
}
