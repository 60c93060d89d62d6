//! The graph (SPEC §4.2, §4.3, §4.5, the tiers of §4.1): gates, oneshots, skips, readiness,
//! health and the tiered stop.

use super::*;
use crate::plan::checks::{HealthCheck, ProbeKind, ReadyCheck};

/// `name.1` of type `t`, starting after `after`.
fn typed(name: &str, t: usize, after: &[usize]) -> Instance {
    Instance {
        type_index: t,
        after: after.to_vec(),
        ..instance(&format!("{name}.1"), Restart::Never, true)
    }
}

fn oneshot(name: &str, t: usize) -> Instance {
    Instance {
        oneshot: true,
        ..typed(name, t, &[])
    }
}

fn tcp_ready(mut i: Instance, timeout: Option<u64>) -> Instance {
    i.ready = Some(Box::new(ReadyCheck {
        kind: ProbeKind::Tcp("127.0.0.1:5432".into()),
        interval: ms(250),
        timeout: timeout.map(ms),
    }));
    i
}

fn probed(t: &mut T, id: SlotId, probe: Probe, result: Result<(), &str>) -> Vec<Effect> {
    let run = t.e.run(id);
    let mut fx = Vec::new();
    let result = result.map_err(String::from);
    t.e.probed(id, run, probe, result, t.now, &mut fx);
    t.spawn_all(fx)
}

fn probes(fx: &[Effect]) -> Vec<(SlotId, Probe)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Probe { slot, probe, .. } => Some((*slot, *probe)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_release_oneshot_completes_before_web_starts_and_stops_nothing() {
    let mut t = T::formation(vec![oneshot("release", 0), typed("web", 1, &[0])]);
    let fx = t.at(0);
    assert_eq!(said(&fx), ["release.1 started (pid 100)"]);
    assert!(matches!(t.e.state(1), State::Gated { .. }));
    let fx = t.exit(0, Exit::Code(0), false);
    assert_eq!(said(&fx), ["release.1 completed"]);
    assert!(
        t.e.stop.is_none(),
        "a completed oneshot stops nothing, even essential"
    );
    let fx = t.at(1);
    assert_eq!(said(&fx), ["web.1 started (pid 101)"]);
}

#[test]
fn a_failed_oneshot_skips_its_dependents_and_stops_with_its_status() {
    let mut t = T::formation(vec![
        oneshot("release", 0),
        typed("web", 1, &[0]),
        typed("nginx", 2, &[1]),
    ]);
    t.at(0);
    let fx = t.exit(0, Exit::Code(3), false);
    assert_eq!(
        said(&fx),
        [
            "release.1 exited with code 3; stopping",
            "web skipped: release.1 exited with code 3",
            "nginx skipped: web was skipped",
        ]
    );
    assert_eq!(t.e.state(1), State::Skipped(Exit::Code(3)));
    assert_eq!(t.e.state(2), State::Skipped(Exit::Code(3)), "transitively");
    t.group_gone(None, false);
    assert_eq!(t.outcome(), Some(3));
}

#[test]
fn a_non_essential_failed_dependency_skips_transitively_and_an_essential_skip_stops() {
    let mut release = oneshot("release", 0);
    release.essential = false;
    let mut web = typed("web", 1, &[0]);
    web.essential = false;
    let nginx = typed("nginx", 2, &[1]);
    let mut t = T::formation(vec![release, web, nginx, typed("other", 3, &[])]);
    t.at(0);
    let fx = t.exit(0, Exit::Code(1), false);
    assert_eq!(
        said(&fx),
        [
            "release.1 exited with code 1",
            "web skipped: release.1 exited with code 1",
            "nginx skipped: web was skipped",
            "nginx cannot start; stopping",
        ]
    );
    t.exit(3, Exit::Signal(15), false);
    t.group_gone(None, false);
    assert_eq!(t.outcome(), Some(1), "the dependency's status");
}

#[test]
fn readiness_opens_the_gate_and_a_ready_formation_sleeps() {
    let mut t = T::formation(vec![
        tcp_ready(typed("db", 0, &[]), None),
        typed("web", 1, &[0]),
    ]);
    t.at(0);
    let fx = t.at(0);
    assert_eq!(
        probes(&fx),
        [(0, Probe::Ready)],
        "the first attempt at once"
    );
    let fx = probed(&mut t, 0, Probe::Ready, Err("connection refused"));
    assert!(said(&fx).is_empty(), "no probe noise");
    assert_eq!(
        t.e.next_deadline(),
        Some(t.t0 + ms(250)),
        "the next attempt"
    );
    let fx = t.at(250);
    assert_eq!(probes(&fx), [(0, Probe::Ready)]);
    t.now = t.t0 + ms(1300);
    let fx = probed(&mut t, 0, Probe::Ready, Ok(()));
    assert_eq!(said(&fx), ["db.1 ready (tcp 127.0.0.1:5432, 1.3s)"]);
    let fx = t.at(1300);
    assert_eq!(said(&fx), ["web.1 started (pid 101)"]);
    assert_eq!(t.e.next_deadline(), None, "ready: no attempts, no wake-ups");
}

#[test]
fn a_start_not_ready_in_time_fails_and_its_policy_applies() {
    let mut db = tcp_ready(typed("db", 0, &[]), Some(1000));
    db.restart = Restart::OnFailure;
    let mut t = T::formation(vec![db]);
    t.at(0);
    let pid = t.pid(0);
    t.at(0);
    let fx = t.at(1000);
    assert_eq!(said(&fx), ["db.1 not ready after 1s; stopping it"]);
    assert_eq!(signals(&fx), [(pid, TERM)]);
    let fx = t.exit(0, Exit::Signal(15), false);
    assert_eq!(
        said(&fx),
        ["db.1 was killed by SIGTERM; restarting in 10ms"]
    );
}

#[test]
fn a_restarting_dependency_holds_back_only_what_has_not_started() {
    let mut db = typed("db", 0, &[]);
    db.restart = Restart::Always;
    let mut t = T::formation(vec![db, typed("web", 1, &[0]), typed("late", 2, &[0])]);
    t.at(0);
    t.at(1);
    assert!(matches!(t.e.state(1), State::Running { .. }));
    t.exit(0, Exit::Code(1), false); // db restarts in 10 ms
    assert!(matches!(t.e.state(1), State::Running { .. }), "web runs on");
    t.at(11);
    assert!(matches!(t.e.state(0), State::Running { .. }));
}

#[test]
fn health_failures_in_a_row_make_an_instance_unhealthy() {
    let mut web = typed("web", 0, &[]);
    web.health = Some(Box::new(HealthCheck {
        kind: ProbeKind::Http("http://127.0.0.1:5000/up".into()),
        interval: ms(100),
        failures: 3,
        timeout: ms(1000),
    }));
    let mut t = T::formation(vec![web]);
    t.at(0);
    let pid = t.pid(0);
    for (at, result) in [(100, Err("answered 503")), (200, Ok(())), (300, Err("x"))] {
        assert_eq!(probes(&t.at(at)), [(0, Probe::Health)]);
        probed(&mut t, 0, Probe::Health, result);
    }
    probes(&t.at(400));
    probed(&mut t, 0, Probe::Health, Err("x"));
    probes(&t.at(500));
    let fx = probed(&mut t, 0, Probe::Health, Err("answered 500"));
    assert_eq!(
        said(&fx),
        ["web.1 is unhealthy after 3 failed checks (answered 500); stopping it"]
    );
    assert_eq!(signals(&fx), [(pid, TERM)]);
}

#[test]
fn a_result_for_an_older_run_is_ignored() {
    let mut db = tcp_ready(typed("db", 0, &[]), None);
    db.restart = Restart::Always;
    let mut t = T::formation(vec![db]);
    t.at(0);
    let old = t.e.run(0);
    t.exit(0, Exit::Code(1), false);
    t.at(10);
    let mut fx = Vec::new();
    t.e.probed(0, old, Probe::Ready, Ok(()), t.now, &mut fx);
    assert!(fx.is_empty());
    assert!(matches!(
        t.e.state(0),
        State::Running {
            check: Check::Starting { .. },
            ..
        }
    ));
}

#[test]
fn a_completed_oneshot_between_two_types_keeps_the_order() {
    let mut t = T::formation(vec![
        typed("db", 0, &[]),
        Instance {
            oneshot: true,
            ..typed("release", 1, &[0])
        },
        typed("web", 2, &[1]),
    ]);
    t.at(0);
    t.at(1);
    t.exit(1, Exit::Code(0), false);
    t.at(2);
    let (db, web) = (t.pid(0), t.pid(2));
    let fx = t.signal(TERM);
    assert_eq!(
        signals(&fx),
        [(web, TERM)],
        "db waits for web, through release"
    );
    let fx = t.exit(2, Exit::Signal(15), false);
    assert_eq!(signals(&fx), [(db, TERM)]);
}

#[test]
fn the_stop_goes_in_reverse_dependency_order() {
    let mut t = T::formation(vec![
        typed("db", 0, &[]),
        typed("web", 1, &[0]),
        typed("nginx", 2, &[1]),
        typed("worker", 3, &[0]),
    ]);
    t.at(0);
    t.at(1);
    t.at(2);
    let (db, web, nginx, worker) = (t.pid(0), t.pid(1), t.pid(2), t.pid(3));
    let fx = t.signal(TERM);
    assert_eq!(
        signals(&fx),
        [(nginx, TERM), (worker, TERM)],
        "nothing depends on these"
    );
    let fx = t.exit(2, Exit::Signal(15), false);
    assert_eq!(signals(&fx), [(web, TERM)]);
    let fx = t.exit(1, Exit::Signal(15), false);
    assert!(signals(&fx).is_empty(), "worker still holds db");
    // worker will not stop: SIGKILL at its grace releases the next tier.
    let fx = t.at(1002);
    assert_eq!(signals(&fx), [(worker, KILL), (db, TERM)]);
}
