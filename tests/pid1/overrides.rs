//! A Procfile with overrides (SPEC §3.1): formation.toml's `procfile` and command-less
//! `[process.NAME]` tables.

use crate::harness::*;
use nix::sys::signal::Signal;

#[test]
fn a_non_essential_procfile_worker_that_exits_0_leaves_the_container_running() {
    needs_pid1!();
    let dir = TempDir::new("overrides");
    let gate = dir.fifo("gate");
    // The Rails case of issue #25: a worker that falls back to `|| echo skipping`.
    dir.write(
        "Procfile",
        &format!(
            "web: sh -c 'echo web up; read x < {}; echo web still here; exec sleep 100'\n\
             worker: sh -c 'false || echo skipping'\n",
            s(&gate)
        ),
    );
    dir.write(
        "formation.toml",
        "procfile = \"Procfile\"\n[process.worker]\nessential = false\n",
    );
    // Discovery finds formation.toml first: the Procfile stays what Heroku reads.
    let mut run = formation(&[]).dir(dir.path()).spawn();
    run.wait_stdout("web.1     | web up");
    run.wait_stdout("worker.1  | skipping");
    run.wait_stderr("worker.1 exited with code 0");
    open_gate(&gate);
    run.wait_stdout("web.1     | web still here");
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0);
    let err = run.stderr();
    assert!(
        err.iter().any(|l| l.contains("SIGTERM received; stopping")),
        "the stop was the signal's, not the worker's: {err:?}"
    );
}

#[test]
fn check_says_where_each_setting_came_from() {
    let dir = TempDir::new("overrides-check");
    dir.write(
        "Procfile",
        "web: ./web\nrelease: ./migrate\nworker: ./worker\n",
    );
    dir.write(
        "formation.toml",
        "procfile = \"Procfile\"\n\n[process.worker]\nessential = false\nscale = 2\n\
         [process.clock]\ncommand = \"./clock\"\n",
    );
    let (status, out, err) = formation(&["check"]).dir(dir.path()).not_pid1().output();
    assert_eq!(status, 0, "{err:?}");
    for line in [
        "  set at: command Procfile:1:1, after Procfile:2:1 (release phase)",
        "  set at: command Procfile:2:1, oneshot Procfile:2:1 (release phase)",
        "  set at: command Procfile:3:1, after Procfile:2:1 (release phase), essential formation.toml:4:1, scale formation.toml:5:1",
        "  set at: command formation.toml:7:1",
    ] {
        assert!(out.iter().any(|l| l == line), "{line:?} in {out:#?}");
    }
    // One source per command: the error names both files.
    dir.write(
        "formation.toml",
        "procfile = \"Procfile\"\n[process.web]\ncommand = \"./other\"\n",
    );
    let (status, _, err) = formation(&["check"]).dir(dir.path()).not_pid1().output();
    assert_eq!(status, 2);
    assert!(
        err.iter().any(|l| l.starts_with(
            "formation.toml:3:1: `command` of \"web\", which its Procfile gives at Procfile:1"
        )),
        "{err:?}"
    );
}
