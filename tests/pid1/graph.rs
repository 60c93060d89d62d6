//! The formation as a graph (SPEC §4.1–§4.5) and an instance as its whole process group
//! (SPEC §4), as real PID 1: start order by readiness of every kind, oneshots and the
//! Procfile release phase, skipped dependents, tiered stops, schedules, shell wrappers.
//!
//! Each test listens on its own loopback port (23xxx) so that they can run side by side.

use crate::harness::*;
use nix::sys::signal::Signal;
use std::time::{Duration, Instant};

/// The position of the first stderr line containing `text`.
fn at(lines: &[String], text: &str) -> usize {
    lines
        .iter()
        .position(|l| l.contains(text))
        .unwrap_or_else(|| panic!("no line with {text:?} in {lines:#?}"))
}

#[test]
fn a_procfile_release_runs_first_and_its_completion_stops_nothing() {
    needs_pid1!();
    let dir = TempDir::new("release");
    dir.write(
        "Procfile",
        "web: sh -c 'echo web up; exec sleep 100'\nrelease: sh -c 'echo migrating'\n\
         worker: sh -c 'echo worker up; exec sleep 100'\n",
    );
    let mut run = formation(&[]).dir(dir.path()).spawn();
    run.wait_stdout("web.1     | web up");
    run.wait_stdout("worker.1  | worker up");
    // stderr is read by its own thread: what it has seen may lag what stdout showed.
    run.wait_stderr("worker.1 started");
    let err = run.stderr();
    assert!(
        at(&err, "release.1 completed") < at(&err, "web.1 started"),
        "{err:#?}"
    );
    assert!(
        run.running(),
        "the finished migration did not stop the container"
    );
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0);
}

#[test]
fn a_failing_release_skips_its_dependents_and_exits_with_its_status() {
    needs_pid1!();
    let dir = TempDir::new("release-fails");
    dir.write(
        "Procfile",
        "release: sh -c 'echo broken SQL >&2; exit 3'\nweb: sh -c 'echo web up; exec sleep 100'\n",
    );
    let mut run = formation(&[]).dir(dir.path()).spawn();
    assert_eq!(run.wait(SOON), 3);
    let err = run.stderr();
    assert!(
        err.iter()
            .any(|l| l.contains("web skipped: release.1 exited with code 3")),
        "{err:#?}"
    );
    assert!(
        !run.stdout().iter().any(|l| l.contains("web up")),
        "web never started"
    );
}

/// A formation where `app` is ready by `ready` and `after` starts once it is; returns the
/// stderr lines once `after` has started.
fn ready_then_after(app: &str, ready: &str) -> Vec<String> {
    let (_dir, path) = toml(&format!(
        "grace = \"500ms\"\n[process.app]\ncommand = {app}\nready = {ready}\n\
         [process.after]\ncommand = \"sh -c 'echo after up; exec sleep 100'\"\nafter = [\"app\"]\n"
    ));
    let mut run = formation(&["-c", &path]).spawn();
    run.wait_stdout("after.1   | after up");
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0);
    let err = run.stderr();
    assert!(
        at(&err, "app.1 ready (") < at(&err, "after.1 started"),
        "{err:#?}"
    );
    err
}

#[test]
fn tcp_readiness_waits_for_the_port() {
    needs_pid1!();
    let server = format!("\"python3 {} 23101\"", fixture("late_listener.py"));
    let err = ready_then_after(&server, "{ tcp = 23101, interval = \"50ms\" }");
    assert!(
        err.iter()
            .any(|l| l.contains("app.1 ready (tcp 127.0.0.1:23101, ")),
        "{err:#?}"
    );
}

#[test]
fn http_readiness_waits_for_a_2xx_on_the_instances_port() {
    needs_pid1!();
    let err = ready_then_after(
        "\"python3 -m http.server $PORT --bind 127.0.0.1\"\nenv = { PORT = \"23102\" }",
        "{ http = \"http://127.0.0.1:$PORT/\", interval = \"50ms\" }",
    );
    assert!(
        err.iter()
            .any(|l| l.contains("ready (http http://127.0.0.1:23102/")),
        "{err:#?}"
    );
}

#[test]
fn exec_readiness_runs_the_check_and_reaps_it_as_a_probe_not_an_orphan() {
    needs_pid1!();
    let err = ready_then_after(
        "\"sh -c 'sleep 0.3; touch ready-flag; exec sleep 100'\"",
        "{ exec = \"test -e ready-flag\", interval = \"50ms\" }",
    );
    assert!(
        err.iter()
            .any(|l| l.contains("app.1 ready (exec test -e ready-flag")),
        "{err:#?}"
    );
    assert!(!err.iter().any(|l| l.contains("orphan")), "{err:#?}");
}

#[test]
fn log_readiness_waits_for_the_line() {
    needs_pid1!();
    let err = ready_then_after(
        "\"sh -c 'echo starting; sleep 0.2; echo database system is ready to accept connections; exec sleep 100'\"",
        "{ log = \"ready to accept connections\" }",
    );
    assert!(
        err.iter().any(|l| l.contains("app.1 ready (log ")),
        "{err:#?}"
    );
}

#[test]
fn notify_readiness_takes_ready_from_the_instances_own_socket() {
    needs_pid1!();
    let notify = format!("\"python3 {}\"", fixture("notify_ready.py"));
    let err = ready_then_after(&notify, "{ notify = true }");
    assert!(
        err.iter().any(|l| l.contains("app.1 ready (notify")),
        "{err:#?}"
    );
}

#[test]
fn a_start_not_ready_within_its_timeout_is_stopped_and_its_policy_applies() {
    needs_pid1!();
    let (_dir, path) = toml(
        "[process.db]\ncommand = \"sleep 100\"\nready = { tcp = 23103, interval = \"50ms\", timeout = \"300ms\" }\n",
    );
    let mut run = formation(&["-c", &path]).spawn();
    assert_eq!(run.wait(SOON), 143, "essential, killed by its stop signal");
    let err = run.stderr();
    assert!(
        err.iter()
            .any(|l| l.contains("db.1 not ready after 300ms; stopping it")),
        "{err:#?}"
    );
}

#[test]
fn the_stop_goes_in_reverse_dependency_order() {
    needs_pid1!();
    let svc = |name: &str| {
        format!(
            "[\"sh\", \"-c\", \"trap 'echo {name} stopping; sleep 0.1; exit 0' TERM; echo {name} up; while :; do sleep 0.02; done\"]"
        )
    };
    let (_dir, path) = toml(&format!(
        "grace = \"2s\"\n[process.db]\ncommand = {}\n[process.web]\ncommand = {}\nafter = [\"db\"]\n\
         [process.nginx]\ncommand = {}\nafter = [\"web\"]\n",
        svc("db"),
        svc("web"),
        svc("nginx")
    ));
    let mut run = formation(&["-c", &path]).spawn();
    run.wait_stdout("nginx up");
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0);
    let out = run.stdout();
    let (n, w, d) = (
        at(&out, "nginx stopping"),
        at(&out, "web stopping"),
        at(&out, "db stopping"),
    );
    assert!(n < w && w < d, "nginx, then web, then db: {out:#?}");
}

#[test]
fn a_schedule_fires_every_second_and_failures_name_the_next_run() {
    needs_pid1!();
    let (_dir, path) = toml(
        "[process.web]\ncommand = \"sleep 100\"\n[process.job]\ncommand = \"sh -c 'echo job ran; exit 1'\"\nschedule = \"@every 1s\"\n",
    );
    let mut run = formation(&["-c", &path]).spawn();
    run.wait_stdout_count("job.1     | job ran", 2);
    run.wait_stderr("job.1 exited with code 1; next run at ");
    assert!(run.running(), "a failed run stops nothing");
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0);
}

/// A server behind a shell that does not `exec` it (dash keeps `a; b` as its child): on
/// SIGTERM it drains for 1 s, longer than the default grace and shorter than its own.
const DRAINING: &str = "echo booting; sh -c 'trap \\\"sleep 1; echo drained; exit 0\\\" TERM; echo up; while :; do sleep 0.02; done'";

#[test]
fn a_wrapped_server_gets_its_own_grace_on_stop() {
    needs_pid1!();
    let (_dir, path) = toml(&format!(
        "grace = \"300ms\"\n[process.web]\ncommand = \"{DRAINING}\"\ngrace = \"5s\"\n"
    ));
    let mut run = formation(&["-c", &path]).spawn();
    run.wait_stdout("web.1     | up");
    run.signal(Signal::SIGTERM);
    let asked = Instant::now();
    assert_eq!(
        run.wait(SOON),
        0,
        "drained within its own grace, nothing killed"
    );
    assert!(
        asked.elapsed() >= Duration::from_millis(900),
        "{:?}",
        asked.elapsed()
    );
    run.wait_stdout("web.1     | drained");
}

#[test]
fn a_wrapped_server_gets_the_stop_signal_of_its_type() {
    needs_pid1!();
    let (_dir, path) = toml(
        "[process.web]\ncommand = \"echo booting; sh -c 'trap \\\"echo got QUIT; exit 0\\\" QUIT; trap \\\"echo got TERM; exit 0\\\" TERM; echo up; while :; do sleep 0.02; done'\"\nstop_signal = \"QUIT\"\ngrace = \"2s\"\n",
    );
    let mut run = formation(&["-c", &path]).spawn();
    run.wait_stdout("web.1     | up");
    run.signal(Signal::SIGTERM);
    run.wait(SOON);
    let out = run.stdout();
    assert!(out.iter().any(|l| l.contains("got QUIT")), "{out:#?}");
    assert!(!out.iter().any(|l| l.contains("got TERM")), "{out:#?}");
}

#[test]
fn a_reload_signal_that_kills_the_wrapper_never_runs_two_servers() {
    needs_pid1!();
    let (_dir, path) = toml(
        "[process.web]\ncommand = \"echo booting; sh -c 'trap \\\"\\\" HUP; trap \\\"echo server end; exit 0\\\" TERM; echo server start; while :; do sleep 0.02; done'\"\nrestart = \"always\"\nbackoff = { initial = \"10ms\" }\n",
    );
    let mut run = formation(&["-c", &path]).spawn();
    run.wait_stdout("server start");
    run.signal(Signal::SIGHUP);
    run.wait_stdout_count("server start", 2);
    run.signal(Signal::SIGTERM);
    run.wait(SOON);
    let events: Vec<String> = run
        .stdout()
        .into_iter()
        .filter(|l| l.contains("server "))
        .collect();
    for pair in events.windows(2) {
        assert_ne!(pair[0], pair[1], "two servers at once: {events:#?}");
    }
}

#[test]
fn failed_health_checks_in_a_row_stop_an_unhealthy_instance() {
    needs_pid1!();
    let (_dir, path) = toml(
        "[process.web]\ncommand = \"sleep 100\"\nhealth = { tcp = 23104, interval = \"100ms\", failures = 2 }\n",
    );
    let mut run = formation(&["-c", &path]).spawn();
    assert_eq!(run.wait(SOON), 143, "essential, stopped by its stop signal");
    let err = run.stderr();
    assert!(
        err.iter()
            .any(|l| l.contains("web.1 is unhealthy after 2 failed checks (")),
        "{err:#?}"
    );
}
