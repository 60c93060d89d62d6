//! Schedules (SPEC §4.4): fires on a fake wall clock, overlap, failures, gates and jumps.

use super::*;
use crate::plan::checks::Timetable;
use crate::time::cron::Schedule;
use crate::time::tz::Zone;
use std::rc::Rc;

fn scheduled(name: &str, t: usize, schedule: &str, after: &[usize]) -> Instance {
    let timetable = Timetable {
        schedule: Schedule::parse(schedule).expect("valid schedule"),
        zone: Zone::utc(),
    };
    Instance {
        type_index: t,
        after: after.to_vec(),
        schedule: Some(Rc::new(timetable)),
        ..instance(&format!("{name}.1"), Restart::Never, false)
    }
}

#[test]
fn nothing_starts_at_formation_start_and_each_fire_runs_once() {
    let mut t = T::formation(vec![scheduled("job", 0, "@every 10s", &[])]);
    assert!(said(&t.at(0)).is_empty());
    assert_eq!(t.e.state(0), State::Idle);
    assert_eq!(
        t.e.next_deadline(),
        Some(t.t0 + ms(10_000)),
        "sleeps until the fire"
    );
    assert!(said(&t.at(10_000)).is_empty(), "the fire makes it due");
    let fx = t.at(10_000);
    assert_eq!(said(&fx), ["job.1 started (pid 100)"]);
    let fx = t.exit(0, Exit::Code(1), false);
    assert_eq!(
        said(&fx),
        ["job.1 exited with code 1; next run at 2026-12-02T10:00:20Z"]
    );
    assert!(t.e.stop.is_none(), "a failed run stops nothing");
    assert_eq!(t.e.state(0), State::Idle);
}

/// SPEC §4.4: `@every D` counts from formation's start to the millisecond. Started 490 ms into
/// a second, `@every 1s` fired at the next whole second, 510 ms after the start.
#[test]
fn every_counts_from_the_start_to_the_millisecond() {
    let job = scheduled("job", 0, "@every 1s", &[]);
    let rules = Rules::plain(SignalPolicy::StopOnTerm);
    let mut t = T::started_at(WALL0 + 490, rules, vec![job]);
    assert!(said(&t.at(0)).is_empty());
    assert_eq!(t.e.next_deadline(), Some(t.t0 + ms(1000)));
    assert!(said(&t.at(510)).is_empty(), "not at the next whole second");
    assert!(said(&t.at(999)).is_empty(), "never before D has passed");
    assert_eq!(t.e.state(0), State::Idle);
    t.at(1000);
    assert_eq!(said(&t.at(1000)), ["job.1 started (pid 100)"]);
    let fx = t.exit(0, Exit::Code(0), false);
    assert_eq!(
        said(&fx),
        ["job.1 exited with code 0; next run at 2026-12-02T10:00:02Z"]
    );
    assert_eq!(t.e.next_deadline(), Some(t.t0 + ms(2000)));
}

#[test]
fn a_fire_while_the_last_run_runs_is_skipped() {
    let mut t = T::formation(vec![scheduled("job", 0, "@every 1s", &[])]);
    t.at(0);
    t.at(1000);
    t.at(1000);
    let fx = t.at(2000);
    assert_eq!(
        said(&fx),
        ["job: the run of 2026-12-02T10:00:02Z is skipped: the previous run is still running"]
    );
}

#[test]
fn a_clock_jump_neither_catches_up_nor_repeats() {
    let mut t = T::formation(vec![scheduled("job", 0, "@every 1s", &[])]);
    t.at(0);
    // The wall clock jumps 1 h forward between two wake-ups: one run, not 3,600.
    t.now = t.t0 + ms(1000);
    let mut fx = Vec::new();
    t.e.tick(t.now, WALL0 + 3_600_000, false, &mut fx);
    t.e.tick(t.now, WALL0 + 3_600_000, false, &mut fx);
    assert_eq!(
        fx.iter().filter(|e| matches!(e, Effect::Spawn(_))).count(),
        1
    );
    let fx = t.spawn_all(fx);
    t.exit(0, Exit::Code(0), false);
    // Back by an hour: the fires already run do not run again.
    let mut fx2 = Vec::new();
    t.now = t.t0 + ms(2000);
    t.e.tick(t.now, WALL0 + 2000, false, &mut fx2);
    assert!(
        !fx2.iter().any(|e| matches!(e, Effect::Spawn(_))),
        "{fx:?} {fx2:?}"
    );
}

#[test]
fn an_unmet_dependency_skips_the_fire() {
    let mut db = Instance {
        type_index: 0,
        ..instance("db.1", Restart::Never, true)
    };
    db.ready = Some(Box::new(crate::plan::checks::ReadyCheck {
        kind: crate::plan::checks::ProbeKind::Log("up".into()),
        interval: ms(250),
        timeout: None,
    }));
    let mut t = T::formation(vec![db, scheduled("job", 1, "@every 1s", &[0])]);
    t.at(0);
    let fx = t.at(1000);
    assert_eq!(
        said(&fx),
        ["job: the run of 2026-12-02T10:00:01Z is skipped: db is not ready"]
    );
}

#[test]
fn a_formation_of_schedules_runs_until_stopped() {
    let mut t = T::formation(vec![scheduled("job", 0, "@every 1s", &[])]);
    t.at(0);
    assert!(t.e.stop.is_none());
    t.signal(TERM);
    t.group_gone(None, false);
    assert_eq!(t.outcome(), Some(0));
}
