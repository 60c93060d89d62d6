//! `formation reload` (SPEC §10) with formation as real PID 1: each kind of change in one
//! edit of the config, a config with errors, a dry run, and a stop signal during a reload.
//! The diff and its application are table-tested in `plan/reload.rs` and the engine's tests.

use crate::control::{inside, ok, pids, state};
use crate::harness::*;

/// web (changed), worker (scaled), keep (unchanged), old (removed, essential; last, so that
/// no other type's `PORT` block moves).
const BEFORE: &str = "[process.web]\ncommand = \"sh -c 'echo up $PS; exec sleep 100'\"\n\
    ready = { log = \"up\", interval = \"10ms\" }\n\
    [process.worker]\ncommand = \"sleep 100\"\n\
    [process.keep]\ncommand = \"sleep 100\"\n\
    [process.old]\ncommand = \"sleep 100\"\n";

#[test]
fn each_kind_of_change_in_one_reload() {
    needs_pid1!();
    let (dir, mut run) = started(BEFORE, &[], "web.1 ready");
    run.wait_stderr("old.1 started");
    let before = pids(&run);
    // web's command changes; worker's scale; old goes; extra comes after web.
    let after = BEFORE
        .replace("echo up $PS", "echo up again $PS")
        .replace(
            "[process.worker]\ncommand = \"sleep 100\"\n",
            "[process.worker]\ncommand = \"sleep 100\"\nscale = 2\n",
        )
        .replace("[process.old]\ncommand = \"sleep 100\"\n", "")
        + "[process.extra]\ncommand = \"sleep 100\"\nafter = [\"web\"]\n";
    dir.write("formation.toml", &after);
    let out = ok(&run, &["reload", "--wait"]);
    for line in [
        "old: removed: stopped",
        "web: changed (command): restarted one instance at a time",
        "worker: scale 1 -> 2",
        "keep: unchanged",
        "extra: added: started (scale 1)",
        "old.1 stopped",
        "web.1 ready",
        "reload applied",
        "ok",
    ] {
        assert!(out.lines().any(|l| l == line), "{line:?} in {out}");
    }
    run.wait_stdout("up again web.1");
    let now = pids(&run);
    assert_ne!(before["web.1"], now["web.1"], "web restarted");
    assert_eq!(before["keep.1"], now["keep.1"], "keep untouched");
    assert_eq!(before["worker.1"], now["worker.1"], "worker.1 untouched");
    assert_ne!(now["worker.2"], "-", "worker.2 runs");
    assert_ne!(now["extra.1"], "-", "extra runs");
    assert_eq!(state(&run, "old.1"), "stopped");
    assert!(run.running(), "a removed essential type ends nothing");
    assert_eq!(run.term(), 0);
}

#[test]
fn a_config_with_errors_changes_nothing() {
    needs_pid1!();
    let (dir, mut run) = started(BEFORE, &[], "keep.1 started");
    let before = pids(&run);
    dir.write(
        "formation.toml",
        &BEFORE.replace("[process.keep]\ncommand", "[process.keep]\ncomand"),
    );
    let (code, out, err) = inside(&run, &["reload"]);
    assert_eq!(code, 2, "{out}{err}");
    let text = format!("{out}{err}");
    assert!(
        text.contains("formation.toml:7:1: unknown key `comand`"),
        "file:line:col in {text}"
    );
    assert!(text.contains("2 error(s); nothing changed"), "{text}");
    run.wait_stderr("reload: 2 error(s); nothing changed");
    assert_eq!(pids(&run), before);
    assert_eq!(run.term(), 0);
}

#[test]
fn a_dry_run_prints_the_plan_and_changes_nothing() {
    needs_pid1!();
    let (dir, mut run) = started(BEFORE, &[], "keep.1 started");
    let before = pids(&run);
    dir.write(
        "formation.toml",
        &BEFORE.replace("[process.old]\ncommand = \"sleep 100\"\n", ""),
    );
    let out = ok(&run, &["reload", "--dry-run"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "old: removed: stopped",
            "web: unchanged",
            "worker: unchanged",
            "keep: unchanged",
            "ok"
        ]
    );
    assert_eq!(pids(&run), before, "nothing stopped");
    assert_eq!(run.term(), 0);
}

#[test]
fn a_stop_signal_during_a_reload_wins() {
    needs_pid1!();
    let config = "[process.web]\nscale = 2\n\
        command = \"sh -c 'echo up $PS; exec sleep 100'\"\n\
        ready = { log = \"up\", interval = \"10ms\" }\n";
    let (dir, mut run) = started(config, &[], "web.2 ready");
    // The new web.1 is never ready: the reload is still rolling when the stop comes.
    dir.write(
        "formation.toml",
        &config.replace("echo up $PS;", "echo starting;"),
    );
    ok(&run, &["reload"]);
    run.wait_stderr_count("web.1 started", 2);
    assert_eq!(run.term(), 0, "the stop proceeds as in §4.1");
    let err = run.stderr();
    assert!(
        !err.iter().any(|l| l.contains("web.2: restarting")),
        "web.2 was never restarted: {err:#?}"
    );
}

/// Found in Docker (examples/control): a reload that adds a scheduled type, or a start of
/// a stopped one, arms its schedule; `--wait` waited for its first run (an `@every 1h` timed
/// out, exit 1, though the reload was applied).
#[test]
fn wait_does_not_wait_for_the_first_run_of_a_scheduled_type() {
    needs_pid1!();
    let config = "[process.keep]\ncommand = \"sleep 100\"\n";
    let (dir, mut run) = started(config, &[], "keep.1 started");
    let clock = "[process.clock]\ncommand = \"echo tick\"\nschedule = \"@every 1h\"\n";
    dir.write("formation.toml", &format!("{config}{clock}"));
    let out = ok(&run, &["reload", "--wait", "--timeout", "5s"]);
    assert!(out.lines().any(|l| l == "reload applied"), "{out}");
    assert_eq!(state(&run, "clock.1"), "waiting");
    ok(&run, &["stop", "clock", "--wait"]);
    ok(&run, &["start", "clock", "--wait", "--timeout", "5s"]);
    assert_eq!(state(&run, "clock.1"), "waiting");
    assert!(
        !run.stdout().iter().any(|l| l.contains("tick")),
        "not fired"
    );
    assert_eq!(run.term(), 0);
}
