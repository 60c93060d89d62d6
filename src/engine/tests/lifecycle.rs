//! Start, exit, restart, backoff, crash loop, essential or not, process groups.

use super::*;

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
fn a_spawn_failure_is_an_exit_through_the_policy() {
    let mut t = T::formation(vec![
        instance("web.1", Restart::Never, true),
        instance("bad.1", Restart::OnFailure, false),
    ]);
    let mut fx = Vec::new();
    t.e.tick(t.now, WALL0, false, &mut fx);
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
fn an_exit_that_leaves_no_child_of_ours_ends_the_instance_without_asking_after_its_group() {
    // ECHILD: orphans of our descendants come to us, so no member of its group can live.
    let mut t = T::formation(vec![instance("web.1", Restart::Never, false)]);
    t.at(0);
    let pid = t.pid(0);
    let mut fx = Vec::new();
    t.e.children(false);
    let asked = |_: Pid| -> bool { panic!("the group was looked up") };
    t.e.exited(pid, Exit::Code(0), t.now, &asked, &mut fx);
    t.e.reaped(false, t.now, &asked, &mut fx);
    assert_eq!(t.e.state(0), State::Ended(Some(Exit::Code(0))));
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
fn views_count_every_restart_and_keep_the_last_exit() {
    let mut t = T::formation(vec![instance("web.1", Restart::Always, true)]);
    t.at(0);
    let view = |t: &T| {
        let v = t.e.views().next().expect("one instance");
        (v.restarts, v.last_exit)
    };
    assert_eq!(view(&t), (0, None));
    t.exit(0, Exit::Code(1), false);
    assert_eq!(view(&t), (1, Some(Exit::Code(1))));
    t.at(10);
    // A healthy run resets the crash-loop count, never the counter the listener shows.
    t.now = t.t0 + ms(5000);
    t.exit(0, Exit::Code(2), false);
    assert_eq!(view(&t), (2, Some(Exit::Code(2))));
    assert!(!t.e.stopping());
    t.signal(TERM);
    assert!(t.e.stopping());
}
