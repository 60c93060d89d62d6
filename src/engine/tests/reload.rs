//! `reload` applied (SPEC §10): each kind of change, errors, a dry run, and a stop signal
//! during a reload; the diff itself is table-tested in `plan/reload.rs`.

use super::control::blueprint;
use super::*;
use crate::engine::control::{Answer, Order, Ticket};
use crate::plan::blueprint::Blueprint;

const BASE: &str = r#"
[process.web]
command = "server"
scale = 2
[process.worker]
command = "work"
essential = true
"#;

fn reload(t: &mut T, new: &str, dry_run: bool) -> (Answer, Vec<Effect>) {
    let new = new.to_string();
    let reread = move || -> Result<Blueprint, Vec<String>> { Ok(blueprint(&new)) };
    t.order_with(Order::Reload { dry_run }, &reread)
}

fn ticket(answer: &Answer) -> Ticket {
    match answer {
        Answer::Done {
            ticket: Some(t), ..
        } => *t,
        other => panic!("no ticket: {other:?}"),
    }
}

fn argv(t: &T, id: SlotId) -> String {
    t.e.plan(id)
        .argv
        .last()
        .map_or(String::new(), |a| a.to_string_lossy().into_owned())
}

fn started() -> T {
    let mut t = T::planned(blueprint(BASE));
    t.at(0);
    t
}

#[test]
fn an_unchanged_config_touches_nothing() {
    let mut t = started();
    let (answer, fx) = reload(&mut t, BASE, false);
    assert!(signals(&fx).is_empty());
    let ticket = ticket(&answer);
    assert_eq!(t.e.progress(ticket).lines, ["reload applied"]);
}

#[test]
fn a_changed_type_restarts_one_instance_at_a_time_with_its_new_settings() {
    let mut t = started();
    let (web1, web2) = (t.pid(0), t.pid(1));
    let new = BASE.replace("\"server\"", "\"server2\"");
    let (answer, fx) = reload(&mut t, &new, false);
    assert_eq!(
        lines_of(&answer),
        [
            "web: changed (command): restarted one instance at a time",
            "worker: unchanged"
        ]
    );
    assert_eq!(signals(&fx), [(web1, TERM)]);
    let ticket = ticket(&answer);
    t.exit(0, Exit::Signal(15), false);
    assert_eq!(
        argv(&t, 0),
        "server2",
        "the new plan, taken up at its start"
    );
    assert_eq!(argv(&t, 1), "server", "web.2 still runs the old one");
    let fx = t.at(1);
    assert_eq!(signals(&fx), [(web2, TERM)], "web.1 runs: web.2's turn");
    t.exit(1, Exit::Signal(15), false);
    t.at(2);
    assert_eq!(argv(&t, 1), "server2");
    let progress = t.e.progress(ticket);
    assert_eq!(
        progress.lines,
        ["web.1 running", "web.2 running", "reload applied"]
    );
    assert!(progress.done);
}

#[test]
fn a_removed_type_is_stopped_even_essential_and_the_formation_goes_on() {
    let mut t = started();
    let worker = t.pid(2);
    let new = "[process.web]\ncommand = \"server\"\nscale = 2\n";
    let (answer, fx) = reload(&mut t, new, false);
    assert_eq!(signals(&fx), [(worker, TERM)]);
    let ticket = ticket(&answer);
    let fx = t.exit(2, Exit::Signal(15), false);
    assert_eq!(said(&fx), ["worker.1 was killed by SIGTERM; stopped"]);
    assert!(t.e.stop.is_none());
    assert_eq!(
        t.e.progress(ticket).lines,
        ["worker.1 stopped", "reload applied"]
    );
    let (refused, _) = t.order(Order::Start(vec!["worker".into()]));
    assert!(
        matches!(refused, Answer::Usage(_)),
        "a removed type is unknown"
    );
}

#[test]
fn an_added_type_starts_behind_its_after() {
    let mut t = T::planned(blueprint(&format!(
        "{BASE}[process.db]\ncommand = \"db\"\nready = {{ tcp = 5432 }}\n"
    )));
    t.at(0);
    let new = format!(
        "{BASE}[process.db]\ncommand = \"db\"\nready = {{ tcp = 5432 }}\n\
         [process.api]\ncommand = \"api\"\nafter = [\"db\"]\n"
    );
    let (answer, _) = reload(&mut t, &new, false);
    let ticket = ticket(&answer);
    let fx = t.at(1);
    assert!(said(&fx).is_empty(), "api waits for db: {fx:?}");
    let fx = t.probe_ok(3);
    assert!(said(&fx).iter().any(|l| l.starts_with("db.1 ready")));
    let fx = t.at(2);
    assert_eq!(said(&fx), ["api.1 started (pid 104)"]);
    assert_eq!(t.e.type_name(t.e.plan(4).type_index), "api");
    let progress = t.e.progress(ticket);
    assert_eq!(progress.lines, ["api.1 running", "reload applied"]);
}

#[test]
fn a_scale_only_change_scales() {
    let mut t = started();
    let new = BASE.replace("scale = 2", "scale = 1");
    let (answer, fx) = reload(&mut t, &new, false);
    assert_eq!(lines_of(&answer)[0], "web: scale 2 -> 1");
    assert_eq!(signals(&fx), [(t.pid(1), TERM)], "only web.2");
}

#[test]
fn a_config_with_errors_changes_nothing() {
    let mut t = started();
    let reread = || -> Result<Blueprint, Vec<String>> {
        Err(vec!["formation.toml:3:1: unknown key \"comand\"".into()])
    };
    let (answer, fx) = t.order_with(Order::Reload { dry_run: false }, &reread);
    assert_eq!(
        answer,
        Answer::Usage(vec![
            "reload: 1 error(s); nothing changed".into(),
            "formation.toml:3:1: unknown key \"comand\"".into(),
        ])
    );
    assert!(signals(&fx).is_empty());
    assert_eq!(
        said(&fx),
        [
            "reload: formation.toml:3:1: unknown key \"comand\"",
            "reload: 1 error(s); nothing changed"
        ]
    );
}

#[test]
fn a_dry_run_describes_and_changes_nothing() {
    let mut t = started();
    let new = BASE.replace("\"work\"", "\"work2\"");
    let (answer, fx) = reload(&mut t, &new, true);
    assert_eq!(
        answer,
        Answer::Done {
            lines: vec![
                "web: unchanged".into(),
                "worker: changed (command): restarted one instance at a time".into()
            ],
            ticket: None
        }
    );
    assert!(fx.is_empty());
    assert_eq!(argv(&t, 2), "work");
}

#[test]
fn a_stop_signal_during_a_reload_wins() {
    let mut t = started();
    let new = BASE.replace("\"server\"", "\"server2\"");
    let (answer, _) = reload(&mut t, &new, false);
    let ticket = ticket(&answer);
    let fx = t.signal(TERM);
    assert_eq!(said(&fx), ["SIGTERM received; stopping"]);
    let fx = t.exit(0, Exit::Signal(15), false);
    assert_eq!(said(&fx), ["web.1 was killed by SIGTERM"], "not restarted");
    let progress = t.e.progress(ticket);
    assert_eq!(progress.failed.as_deref(), Some("formation is stopping"));
}

fn lines_of(answer: &Answer) -> Vec<&str> {
    match answer {
        Answer::Done { lines, .. } | Answer::Usage(lines) | Answer::Failed(lines) => {
            lines.iter().map(String::as_str).collect()
        }
    }
}

#[test]
fn a_whole_lifecycle_with_an_operator_restart_and_a_reload() {
    let config = r#"
[process.db]
command = "db"
ready = { tcp = 5432 }
[process.web]
command = "server"
scale = 2
restart = "always"
after = ["db"]
"#;
    let mut t = T::planned(blueprint(config));
    let fx = t.at(0);
    assert_eq!(said(&fx), ["db.1 started (pid 100)"], "web is gated");
    t.probe_ok(0);
    let fx = t.at(1);
    assert_eq!(
        said(&fx),
        ["web.1 started (pid 101)", "web.2 started (pid 102)"]
    );
    // A crash: the policy's backoff.
    let fx = t.exit(1, Exit::Code(1), false);
    assert_eq!(said(&fx), ["web.1 exited with code 1; restarting in 1s"]);
    // The operator's restart: web.1 at once, then web.2 once web.1 runs.
    let (answer, _) = t.order(Order::Restart(vec!["web".into()]));
    let restart = ticket(&answer);
    let fx = t.at(2);
    assert_eq!(said(&fx)[0], "web.1 started (pid 103)");
    assert_eq!(signals(&fx), [(Pid::from_raw(102), TERM)]);
    t.exit(2, Exit::Signal(15), false);
    t.at(3);
    assert_eq!(
        t.e.progress(restart).lines,
        ["web.1 running", "web.2 running"]
    );
    // A reload that changes web's command: rolling again, with the new command.
    let new = config.replace("\"server\"", "\"server2\"");
    let (answer, fx) = reload(&mut t, &new, false);
    let reloaded = ticket(&answer);
    assert_eq!(signals(&fx), [(Pid::from_raw(103), TERM)]);
    t.exit(1, Exit::Signal(15), false);
    let fx = t.at(4);
    assert_eq!(signals(&fx), [(Pid::from_raw(104), TERM)]);
    t.exit(2, Exit::Signal(15), false);
    t.at(5);
    assert_eq!(
        (argv(&t, 1), argv(&t, 2)),
        ("server2".into(), "server2".into())
    );
    assert!(t.e.progress(reloaded).done);
    // The stop: web first, db once web is gone; every end within its grace exits 0.
    let fx = t.signal(TERM);
    assert_eq!(signals(&fx), [(t.pid(1), TERM), (t.pid(2), TERM)]);
    t.exit(1, Exit::Signal(15), false);
    let fx = t.exit(2, Exit::Signal(15), false);
    assert_eq!(signals(&fx), [(t.pid(0), TERM)]);
    t.exit(0, Exit::Code(0), false);
    t.group_gone(None, false);
    assert_eq!(t.outcome(), Some(0));
    let restarts: Vec<u32> = t.e.views().map(|v| v.restarts).collect();
    // web.1: its crash's restart (the operator's restart only cut its backoff short), the
    // reload's; web.2: the operator's and the reload's.
    assert_eq!(restarts, [0, 2, 2]);
}

/// A changed schedule counts from the reload (docs/control.md: a reload does not fire a
/// scheduled type): a fire time of the new schedule from before the reload never runs, even
/// when the loop slept from the last run until the reload; the next one does.
#[test]
fn a_changed_schedule_fires_from_the_reload_on() {
    let old = "[process.job]\ncommand = \"job\"\nschedule = \"@every 100s\"\n";
    let mut t = T::planned(blueprint(old));
    t.at(0);
    t.at(100_000);
    assert_eq!(said(&t.at(100_000)), ["job.1 started (pid 100)"]);
    t.exit(0, Exit::Code(0), false);
    t.now = t.t0 + ms(130_000);
    let (answer, _) = reload(&mut t, &old.replace("100s", "30s"), false);
    assert_eq!(
        lines_of(&answer)[0],
        "job: changed (schedule): its next run uses the new settings"
    );
    assert!(said(&t.at(130_000)).is_empty());
    assert_eq!(t.e.state(0), State::Idle, "120 s came before the reload");
    assert_eq!(t.e.next_deadline(), Some(t.t0 + ms(150_000)));
    t.at(150_000);
    assert_eq!(said(&t.at(150_000)), ["job.1 started (pid 101)"]);
}
