//! Table tests of the engine: whole lifecycles of SPEC §4 and §4.1 with no process in them.
//! Time is a value (`T::at`), process groups are a set the test controls, and every effect
//! the engine asks for is checked.

use super::*;
use crate::config::model::{Backoff, Restart};
use crate::plan::StdioMode;
use std::collections::HashSet;

const TERM: Signal = Signal::SIGTERM;
const KILL: Signal = Signal::SIGKILL;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// An instance with a 1 s grace and a millisecond backoff.
fn instance(name: &str, restart: Restart, essential: bool) -> Instance {
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
struct T {
    e: Engine,
    t0: Instant,
    now: Instant,
    groups: HashSet<Pid>,
    next_pid: i32,
    pipes_open: bool,
}

impl T {
    fn new(policy: SignalPolicy, instances: Vec<Instance>) -> T {
        let t0 = Instant::now();
        let settings = Settings {
            policy,
            grace: ms(5000),
            level: Level::Info,
            cause_level: Level::Error,
        };
        T {
            e: Engine::new(settings, instances, t0),
            t0,
            now: t0,
            groups: HashSet::new(),
            next_pid: 100,
            pipes_open: false,
        }
    }

    fn formation(instances: Vec<Instance>) -> T {
        T::new(SignalPolicy::StopOnTerm, instances)
    }

    /// Moves the clock to `t0 + ms` and ticks; spawns what the engine asks to spawn (each
    /// gets a fresh pid and group). Returns the effects other than spawns.
    fn at(&mut self, after: u64) -> Vec<Effect> {
        self.now = self.t0 + ms(after);
        let mut fx = Vec::new();
        self.e.tick(self.now, self.pipes_open, &mut fx);
        self.spawn_all(fx)
    }

    fn spawn_all(&mut self, fx: Vec<Effect>) -> Vec<Effect> {
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
    fn exit(&mut self, id: SlotId, exit: Exit, rest: bool) -> Vec<Effect> {
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
    fn group_gone(&mut self, id: Option<SlotId>, children_left: bool) -> Vec<Effect> {
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

    fn signal(&mut self, sig: Signal) -> Vec<Effect> {
        let mut fx = Vec::new();
        self.e.signal(sig as i32, self.now, &mut fx);
        self.spawn_all(fx)
    }

    fn pid(&self, id: SlotId) -> Pid {
        self.e.state(id).group().expect("has a process")
    }

    fn outcome(&self) -> Option<i32> {
        self.e.outcome(self.now, self.pipes_open)
    }
}

fn said(fx: &[Effect]) -> Vec<&str> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Say(text) => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

fn signals(fx: &[Effect]) -> Vec<(Pid, Signal)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Signal { pgid, sig } => Some((*pgid, *sig)),
            _ => None,
        })
        .collect()
}

#[test]
fn first_start_spawns_every_instance_at_once() {
    let mut t = T::formation(vec![
        instance("web.1", Restart::Never, true),
        instance("web.2", Restart::Never, true),
    ]);
    let fx = t.at(0);
    assert_eq!(
        said(&fx),
        ["web.1 started (pid 100)", "web.2 started (pid 101)"]
    );
    assert!(matches!(t.e.state(1), State::Running { .. }));
    assert_eq!(t.e.next_deadline(), None, "nothing due: poll waits forever");
}

#[test]
fn exits_under_each_restart_policy() {
    // (policy, exit, restarted?)
    let table = [
        (Restart::Never, Exit::Code(0), false),
        (Restart::Never, Exit::Code(1), false),
        (Restart::OnFailure, Exit::Code(0), false),
        (Restart::OnFailure, Exit::Code(1), true),
        (Restart::OnFailure, Exit::Signal(9), true),
        (Restart::Always, Exit::Code(0), true),
    ];
    for (restart, exit, restarted) in table {
        let mut t = T::formation(vec![
            instance("a.1", restart, false),
            instance("b.1", Restart::Never, true),
        ]);
        t.at(0);
        let fx = t.exit(0, exit, false);
        let state = t.e.state(0);
        if restarted {
            assert_eq!(
                state,
                State::Waiting { at: t.t0 + ms(10) },
                "{restart:?} {exit:?}"
            );
            assert_eq!(said(&fx), [format!("a.1 {exit}; restarting in 10ms")]);
            let fx = t.at(10);
            assert_eq!(said(&fx), ["a.1 started (pid 102)"], "{restart:?} {exit:?}");
        } else {
            assert_eq!(state, State::Ended(Some(exit)), "{restart:?} {exit:?}");
            assert_eq!(said(&fx), [format!("a.1 {exit}")]);
        }
        assert!(signals(&fx).is_empty(), "a non-essential end stops nothing");
    }
}

#[test]
fn backoff_doubles_to_its_cap_and_a_crash_loop_gives_up() {
    let mut t = T::formation(vec![instance("web.1", Restart::Always, true)]);
    t.at(0);
    let mut clock = 0;
    let mut delays = Vec::new();
    loop {
        let fx = t.exit(0, Exit::Code(1), false);
        match t.e.state(0) {
            State::Waiting { at } => {
                let delay = at.duration_since(t.now).as_millis() as u64;
                delays.push(delay);
                clock += delay;
                t.at(clock);
            }
            State::Ended(Some(Exit::Code(1))) => {
                assert_eq!(
                    said(&fx),
                    [
                        "web.1 exited with code 1 after 3 restarts without a healthy run of 1s; giving up",
                        "web.1 exited with code 1; stopping",
                    ]
                );
                assert!(t.e.stop.is_some(), "essential: the formation stops");
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(delays, [10, 20, 40]);
    t.group_gone(None, false);
    assert_eq!(t.outcome(), Some(1), "the crash-looping instance's status");
}

#[test]
fn a_healthy_run_resets_the_backoff() {
    let mut t = T::formation(vec![instance("web.1", Restart::Always, true)]);
    t.at(0);
    t.exit(0, Exit::Code(1), false);
    t.at(10);
    t.exit(0, Exit::Code(1), false);
    assert_eq!(t.e.state(0), State::Waiting { at: t.t0 + ms(30) });
    t.at(30);
    t.at(1030); // up for the whole `healthy` time
    t.exit(0, Exit::Code(1), false);
    assert_eq!(
        t.e.state(0),
        State::Waiting {
            at: t.t0 + ms(1040)
        }
    );
}

#[test]
fn an_essential_exit_stops_the_rest_with_its_status() {
    let mut t = T::formation(vec![
        instance("web.1", Restart::Never, true),
        instance("worker.1", Restart::Never, true),
    ]);
    t.at(0);
    let worker = t.pid(1);
    let fx = t.exit(0, Exit::Code(3), false);
    assert_eq!(said(&fx), ["web.1 exited with code 3; stopping"]);
    assert_eq!(signals(&fx), [(worker, TERM)]);
    assert_eq!(t.e.next_deadline(), Some(t.t0 + ms(1000)), "worker's grace");
    let fx = t.exit(1, Exit::Signal(15), false);
    assert_eq!(said(&fx), ["worker.1 was killed by SIGTERM"]);
    assert_eq!(t.outcome(), None, "children left: the sweep waits");
    t.group_gone(None, false);
    assert_eq!(t.outcome(), Some(3));
}

#[test]
fn when_only_non_essential_instances_end_the_first_failure_is_the_status() {
    let mut t = T::formation(vec![
        instance("a.1", Restart::Never, false),
        instance("b.1", Restart::Never, false),
        instance("c.1", Restart::Never, false),
    ]);
    t.at(0);
    t.exit(0, Exit::Code(0), false);
    t.exit(1, Exit::Code(6), false);
    assert!(t.e.stop.is_none());
    t.exit(2, Exit::Code(7), false);
    assert!(t.e.stop.is_some(), "nothing left to run");
    t.group_gone(None, false);
    assert_eq!(t.outcome(), Some(6));
}

#[test]
fn a_spawn_failure_is_an_exit_through_the_policy() {
    let mut t = T::formation(vec![
        instance("web.1", Restart::Never, true),
        instance("bad.1", Restart::OnFailure, false),
    ]);
    let mut fx = Vec::new();
    t.e.tick(t.now, false, &mut fx);
    assert_eq!(fx, [Effect::Spawn(0), Effect::Spawn(1)]);
    let mut fx = Vec::new();
    let failed = Spawned::Failed {
        status: 127,
        reason: "not found".into(),
    };
    t.e.spawned(1, failed, t.now, &mut fx);
    assert_eq!(
        said(&fx),
        [
            "bad.1: cannot run \"x\": not found",
            "bad.1 exited with code 127; restarting in 10ms"
        ]
    );
}

#[test]
fn a_requested_stop_within_the_grace_exits_0() {
    let mut t = T::formation(vec![
        instance("web.1", Restart::Always, true),
        instance("web.2", Restart::Never, false),
    ]);
    t.at(0);
    t.exit(1, Exit::Code(2), false); // an earlier non-essential failure does not count
    let fx = t.signal(TERM);
    assert_eq!(said(&fx), ["SIGTERM received; stopping"]);
    assert_eq!(signals(&fx), [(Pid::from_raw(100), TERM)]);
    let fx = t.exit(0, Exit::Signal(15), false);
    assert!(
        !said(&fx).iter().any(|l| l.contains("restarting")),
        "no restart while stopping"
    );
    t.group_gone(None, false);
    assert_eq!(t.outcome(), Some(0));
}

#[test]
fn a_requested_stop_kills_at_the_grace_and_exits_137() {
    let mut t = T::formation(vec![instance("stubborn.1", Restart::Never, true)]);
    t.at(0);
    let pid = t.pid(0);
    t.at(100);
    t.signal(TERM);
    assert_eq!(t.at(1099), []);
    let fx = t.at(1100);
    assert_eq!(signals(&fx), [(pid, KILL)]);
    assert_eq!(
        said(&fx),
        ["stubborn.1 did not stop within 1s; sending SIGKILL"]
    );
    t.exit(0, Exit::Signal(9), false);
    t.group_gone(None, false);
    assert_eq!(t.outcome(), Some(137));
}

#[test]
fn a_second_stop_signal_kills_everything_at_once() {
    let mut t = T::formation(vec![
        instance("a.1", Restart::Never, true),
        instance("b.1", Restart::Never, true),
    ]);
    t.at(0);
    t.signal(TERM);
    let fx = t.signal(Signal::SIGINT);
    assert_eq!(said(&fx), ["SIGINT received again; killing everything now"]);
    assert_eq!(
        signals(&fx),
        [(Pid::from_raw(100), KILL), (Pid::from_raw(101), KILL)]
    );
    assert_eq!(t.e.next_deadline(), None, "no SIGKILL is due twice");
    t.exit(0, Exit::Signal(9), false);
    t.exit(1, Exit::Signal(9), false);
    t.group_gone(None, false);
    assert_eq!(t.outcome(), Some(137));
}

#[test]
fn the_pid1_sweep_terms_then_kills_the_rest_at_the_default_grace() {
    let mut t = T::formation(vec![instance("web.1", Restart::Never, true)]);
    t.at(0);
    t.signal(TERM);
    t.pipes_open = true;
    let fx = t.exit(0, Exit::Signal(15), false);
    assert!(fx.contains(&Effect::SignalRest(TERM)), "{fx:?}");
    assert_eq!(t.e.sweep_deadline(), Some(t.t0 + ms(5000)));
    assert_eq!(t.outcome(), None);
    let fx = t.at(5000);
    assert_eq!(
        said(&fx),
        [
            "processes left after the grace; sending SIGKILL",
            "output pipes still open after the grace; closing them"
        ]
    );
    assert!(fx.contains(&Effect::SignalRest(KILL)) && fx.contains(&Effect::ClosePipes));
    assert_eq!(t.outcome(), None, "waits a moment for the SIGKILLed");
    t.at(5000 + stop::LAST_WAIT.as_millis() as u64);
    assert_eq!(
        t.outcome(),
        Some(137),
        "gave up: something had to be killed"
    );
}

#[test]
fn forwarded_signals_reach_every_group() {
    let mut t = T::formation(vec![
        instance("a.1", Restart::Never, true),
        instance("b.1", Restart::Never, true),
    ]);
    t.at(0);
    let fx = t.signal(Signal::SIGHUP);
    let hup = Signal::SIGHUP;
    assert_eq!(
        signals(&fx),
        [(Pid::from_raw(100), hup), (Pid::from_raw(101), hup)]
    );
    assert!(t.e.stop.is_none());
}

#[test]
fn single_command_mode_forwards_term_and_exits_with_the_commands_status() {
    let mut t = T::new(
        SignalPolicy::ForwardAll,
        vec![instance("cmd", Restart::Never, true)],
    );
    t.at(0);
    let fx = t.signal(TERM);
    assert_eq!(signals(&fx), [(Pid::from_raw(100), TERM)]);
    assert!(t.e.stop.is_none(), "TERM never starts a stop here");
    t.exit(0, Exit::Signal(15), false);
    t.e.reaped(false, t.now, &|_| false, &mut Vec::new());
    assert_eq!(t.outcome(), Some(143));
}

#[test]
fn an_orphan_exit_is_no_instance_ending() {
    let mut t = T::formation(vec![instance("web.1", Restart::Never, true)]);
    t.at(0);
    let mut fx = Vec::new();
    t.e.exited(
        Pid::from_raw(999),
        Exit::Code(0),
        t.now,
        &|_| false,
        &mut fx,
    );
    assert_eq!(fx, [], "no line at info, no effect");
    assert!(matches!(t.e.state(0), State::Running { .. }));
}

#[test]
fn a_wrapper_exit_ends_the_instance_only_with_its_group() {
    let mut q = instance("web.1", Restart::Always, true);
    q.stop_signal = Signal::SIGQUIT;
    q.grace = ms(25_000);
    let mut t = T::formation(vec![q]);
    t.at(0);
    let pgid = t.pid(0);
    // The shell dies (say, of a SIGHUP meant for the server); the server lives on.
    let fx = t.exit(0, Exit::Signal(1), true);
    assert_eq!(
        signals(&fx),
        [(pgid, Signal::SIGQUIT)],
        "the rest gets the stop signal"
    );
    assert!(matches!(t.e.state(0), State::Ending { .. }));
    assert!(!fx.contains(&Effect::Spawn(0)));
    assert_eq!(t.at(20), [], "no second copy while the group lives");
    let fx = t.group_gone(Some(0), true);
    assert_eq!(
        said(&fx),
        ["web.1 was killed by SIGHUP; restarting in 10ms"]
    );
    let fx = t.at(30);
    assert_eq!(said(&fx), ["web.1 started (pid 101)"]);
}

#[test]
fn a_wrapper_group_that_will_not_stop_is_killed_at_the_instances_grace() {
    let mut t = T::formation(vec![instance("web.1", Restart::Never, false)]);
    t.at(0);
    let pgid = t.pid(0);
    t.exit(0, Exit::Code(0), true);
    let fx = t.at(1000);
    assert_eq!(signals(&fx), [(pgid, KILL)]);
    t.group_gone(Some(0), false);
    assert_eq!(t.e.state(0), State::Ended(Some(Exit::Code(0))));
}

#[test]
fn a_stop_gives_a_wrapped_server_its_own_grace() {
    let mut t = T::formation(vec![instance("web.1", Restart::Never, true)]);
    t.at(0);
    let pgid = t.pid(0);
    t.at(100);
    let fx = t.signal(TERM);
    assert_eq!(signals(&fx), [(pgid, TERM)]);
    // The shell dies at once; the server drains.
    let fx = t.exit(0, Exit::Signal(15), true);
    assert!(signals(&fx).is_empty(), "the stop already sent the signal");
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::SignalRest(_))),
        "no sweep yet"
    );
    assert_eq!(
        t.e.next_deadline(),
        Some(t.t0 + ms(1100)),
        "the grace of the instance"
    );
    t.now = t.t0 + ms(600);
    t.group_gone(Some(0), false);
    assert_eq!(t.outcome(), Some(0), "drained within its grace");
}
