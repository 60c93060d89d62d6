//! Signals as transitions (SPEC §1.1, §4): per-type rewriting of what is forwarded, job
//! control when not PID 1, what our own system calls raise, and leaving the cwd.

use super::*;
use crate::config::rewrite::Rewrites;
use crate::engine::signal_rules::SignalPolicy;

const HUP: Signal = Signal::SIGHUP;
const USR1: Signal = Signal::SIGUSR1;
const STOP: Signal = Signal::SIGSTOP;
const CONT: Signal = Signal::SIGCONT;

fn typed(name: &str, t: usize, signals: Rewrites) -> Instance {
    Instance {
        type_index: t,
        signals,
        ..instance(name, Restart::Never, true)
    }
}

/// web (HUP → USR1, WINCH dropped) and worker (as received), one instance each, running.
fn two_types(rules: Rules) -> (T, Pid, Pid) {
    let mut web = Rewrites::default();
    web.set(HUP, Some(USR1));
    web.set(Signal::SIGWINCH, None);
    let instances = vec![
        typed("web.1", 0, web),
        typed("worker.1", 1, Rewrites::default()),
    ];
    let mut t = T::with_rules(rules, instances);
    t.at(0);
    let (web, worker) = (t.pid(0), t.pid(1));
    (t, web, worker)
}

#[test]
fn a_types_signals_table_rewrites_what_its_groups_get() {
    let (mut t, web, worker) = two_types(Rules::plain(SignalPolicy::StopOnTerm));
    let fx = t.signal(HUP);
    assert_eq!(signals(&fx), [(web, USR1), (worker, HUP)]);
    let fx = t.signal(Signal::SIGWINCH);
    assert_eq!(
        signals(&fx),
        [(worker, Signal::SIGWINCH)],
        "dropped for web"
    );
    let fx = t.signal(Signal::SIGUSR2);
    assert_eq!(
        signals(&fx),
        [(web, Signal::SIGUSR2), (worker, Signal::SIGUSR2)]
    );
}

#[test]
fn the_command_line_rewrite_comes_first_then_the_types_table() {
    let mut rules = Rules::plain(SignalPolicy::StopOnTerm);
    rules.rewrites.set(Signal::SIGUSR2, Some(HUP));
    rules.rewrites.set(TERM, Some(Signal::SIGWINCH));
    rules.rewrites.set(Signal::SIGINT, Some(Signal::SIGQUIT));
    let (mut t, web, worker) = two_types(rules);
    // USR2 → HUP for everyone; then web's own table makes that USR1.
    let fx = t.signal(Signal::SIGUSR2);
    assert_eq!(signals(&fx), [(web, USR1), (worker, HUP)]);
    // TERM → WINCH: forwarded (web drops it), and no stop.
    let fx = t.signal(TERM);
    assert_eq!(signals(&fx), [(worker, Signal::SIGWINCH)]);
    assert!(t.e.stop.is_none(), "-r TERM:WINCH: TERM no longer stops");
    // INT → QUIT: still a stop, each group getting its own stop signal, and the line says both.
    let fx = t.signal(Signal::SIGINT);
    assert_eq!(said(&fx), ["SIGINT (as SIGQUIT) received; stopping"]);
    assert_eq!(signals(&fx), [(web, TERM), (worker, TERM)]);
}

#[test]
fn job_control_when_not_pid1_stops_every_group_then_formation_and_cont_resumes_them() {
    let mut rules = Rules::plain(SignalPolicy::StopOnTerm);
    rules.job_control = true;
    let (mut t, web, worker) = two_types(rules);
    for sig in [Signal::SIGTSTP, Signal::SIGTTIN, Signal::SIGTTOU] {
        let fx = t.signal(sig);
        assert_eq!(
            fx,
            [
                Effect::Say(format!("{sig} received; suspending until SIGCONT")),
                Effect::Signal {
                    pgid: web,
                    sig: STOP
                },
                Effect::Signal {
                    pgid: worker,
                    sig: STOP
                },
                Effect::StopSelf,
            ],
            "{sig}"
        );
        let fx = t.signal(CONT);
        assert_eq!(
            signals(&fx),
            [(web, CONT), (worker, CONT)],
            "no type rewrites CONT"
        );
        assert!(t.e.stop.is_none());
    }
}

#[test]
fn as_pid1_job_control_signals_are_ignored() {
    let (mut t, _, _) = two_types(Rules::plain(SignalPolicy::ForwardAll));
    for sig in [Signal::SIGTSTP, Signal::SIGTTIN, Signal::SIGTTOU] {
        assert_eq!(t.signal(sig), [], "{sig}");
    }
}

#[test]
fn what_our_own_write_raised_is_dropped_without_a_line_and_anyone_elses_is_forwarded() {
    let mut t = T::with_rules(
        Rules::plain(SignalPolicy::StopOnTerm),
        vec![instance("web.1", Restart::Never, true)],
    );
    t.e.settings.level = Level::Debug;
    t.at(0);
    let pgid = t.pid(0);
    assert_eq!(t.signal_from(Signal::SIGPIPE, Sender::Ourselves), []);
    let fx = t.signal_from(Signal::SIGPIPE, Sender::Other);
    assert_eq!(signals(&fx), [(pgid, Signal::SIGPIPE)]);
    assert_eq!(said(&fx), ["forwarding SIGPIPE"]);
}

#[test]
fn formation_leaves_its_cwd_once_after_the_first_spawn() {
    let mut t = T::formation(vec![
        instance("a.1", Restart::Always, true),
        instance("b.1", Restart::Never, false),
    ]);
    let fx = t.at(0);
    let leaves = |fx: &[Effect]| fx.iter().filter(|e| **e == Effect::LeaveCwd).count();
    assert_eq!(leaves(&fx), 1);
    // A restart spawns again: no second chdir.
    t.exit(0, Exit::Code(1), false);
    let fx = t.at(100);
    assert!(said(&fx).contains(&"a.1 started (pid 102)"), "{fx:?}");
    assert_eq!(leaves(&fx), 0);
}
