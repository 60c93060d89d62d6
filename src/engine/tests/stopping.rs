//! The stop (SPEC §4.1): requested, forced, second signal, sweep, exit statuses.

use super::*;

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

#[test]
fn an_empty_container_at_the_last_exit_needs_no_sweep_signal() {
    let mut t = T::new(
        SignalPolicy::ForwardAll,
        vec![instance("cmd", Restart::Never, true)],
    );
    t.at(0);
    // The drain said ECHILD before the exit is handed over: nothing is left to signal.
    t.e.children(false);
    let mut fx = Vec::new();
    t.e.exited(t.pid(0), Exit::Code(0), t.now, &|_| false, &mut fx);
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::SignalRest(_))),
        "{fx:?}"
    );
    assert_eq!(t.outcome(), Some(0), "exits at once");
}
