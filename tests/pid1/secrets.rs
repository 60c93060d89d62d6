//! Env values from files (SPEC §3.4): `NAME = { file = "..." }`, read at each spawn.

use crate::harness::*;
use nix::sys::signal::Signal;

#[test]
fn a_secret_file_reaches_the_instance_and_a_rotated_one_its_next_restart() {
    needs_pid1!();
    let dir = TempDir::new("secret");
    dir.write("db_password", "s3cret\n");
    let gate = dir.fifo("gate");
    // Relative to the config's directory, which formation leaves once the instances run
    // (SPEC §1.1): the restart must still find the file.
    let path = dir.write(
        "formation.toml",
        &format!(
            "[env]\nDB_PASSWORD = {{ file = \"db_password\" }}\n\
             [process.web]\nrestart = \"always\"\nbackoff = {{ initial = \"10ms\" }}\n\
             command = \"sh -c 'echo \\\"db=[$DB_PASSWORD]\\\"; read x < {}'\"\n",
            s(&gate)
        ),
    );
    let mut run = formation(&["-c", s(&path)]).spawn();
    run.wait_stdout("web.1     | db=[s3cret]");
    dir.write("db_password", "rotated\n");
    open_gate(&gate);
    run.wait_stdout("web.1     | db=[rotated]");
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0);
    let all = [run.stdout(), run.stderr()].concat();
    assert_eq!(
        all.iter().filter(|l| l.contains("s3cret")).count(),
        1,
        "the value is the instance's to print, never formation's: {all:?}"
    );
}

#[test]
fn a_missing_secret_file_is_a_config_error_naming_its_entry_and_the_file() {
    needs_pid1!();
    let (dir, path) = toml(
        "[process.web]\ncommand = \"sh -c 'echo started'\"\n\
         env = { API_KEY = { file = \"/nonexistent/api_key\" } }\n\
         [process.idle]\ncommand = \"sleep 100\"\nenv = { X = { file = \"missing-too\" } }\n",
    );
    let (status, out, err) = formation(&["-c", &path]).output();
    assert_eq!(status, 2, "{err:?}");
    assert!(out.is_empty(), "nothing started: {out:?}");
    let want = [
        format!(
            "{path}:3:9: API_KEY: /nonexistent/api_key: cannot read: no such file or directory"
        ),
        format!(
            "{path}:6:9: X: {}/missing-too: cannot read: no such file or directory",
            s(dir.path())
        ),
    ];
    for line in want {
        assert!(err.contains(&line), "{line:?} in {err:?}");
    }
    // A type scaled to 0 reads nothing: an exported `-m web=1,all=0` container need not hold
    // the other types' secrets.
    let (status, _, err) = formation(&["-c", &path, "-m", "idle=0"]).output();
    assert_eq!(status, 2, "{err:?}");
    assert!(!err.iter().any(|l| l.contains("missing-too")), "{err:?}");
}

#[test]
fn a_secret_file_gone_at_a_restart_is_a_spawn_failure_126_naming_it() {
    needs_pid1!();
    let dir = TempDir::new("secret-gone");
    let secret = dir.write("token", "t0ken");
    let gate = dir.fifo("gate");
    let path = dir.write(
        "formation.toml",
        &format!(
            "[process.web]\nrestart = \"on-failure\"\n\
             backoff = {{ initial = \"10ms\", restarts = 1 }}\n\
             env = {{ TOKEN = {{ file = \"{}\" }} }}\n\
             command = \"sh -c 'echo up; read x < {}; exit 1'\"\n",
            s(&secret),
            s(&gate)
        ),
    );
    let mut run = formation(&["-c", s(&path)]).spawn();
    run.wait_stdout("web.1     | up");
    std::fs::remove_file(&secret).expect("remove the secret");
    open_gate(&gate);
    assert_eq!(run.wait(SOON), 126, "{:?}", run.stderr());
    let err = run.stderr();
    let named = format!(
        "TOKEN: {}: cannot read: no such file or directory",
        s(&secret)
    );
    assert!(
        err.iter().any(|l| l.contains(&named)),
        "{named:?} in {err:?}"
    );
    assert!(!err.iter().any(|l| l.contains("t0ken")), "{err:?}");
}

#[test]
fn check_names_the_file_never_the_value_and_only_warns_when_it_is_missing() {
    let dir = TempDir::new("secret-check");
    let secret = dir.write("db_password", "hunter2\n");
    let path = dir.write(
        "formation.toml",
        &format!(
            "[env]\nDB_PASSWORD = {{ file = \"{}\" }}\nGONE = {{ file = \"/nonexistent/x\" }}\n\
             [process.web]\ncommand = \"sleep 1\"\n",
            s(&secret)
        ),
    );
    let (status, out, err) = formation(&["check", "-c", s(&path)]).not_pid1().output();
    assert_eq!(status, 0, "{err:?}");
    let files = format!(
        "  env from files: DB_PASSWORD={} GONE=/nonexistent/x",
        s(&secret)
    );
    assert!(out.contains(&files), "{files:?} in {out:?}");
    let warning = format!(
        "{}:3:1: warning: GONE: /nonexistent/x: cannot read: no such file or directory",
        s(&path)
    );
    assert!(err.contains(&warning), "{warning:?} in {err:?}");
    assert!(![out, err].concat().iter().any(|l| l.contains("hunter2")));
}

#[test]
fn run_and_probe_of_a_type_need_only_that_types_secrets() {
    // An exported Job (`formation run release`) or healthcheck (`formation probe web`) has
    // only its own type's files mounted.
    let dir = TempDir::new("secret-run");
    let mine = dir.write("mine", "ok\n");
    let path = dir.write(
        "formation.toml",
        &format!(
            "[process.task]\ncommand = [\"sh\", \"-c\", \"echo task=$MINE\"]\n\
             env = {{ MINE = {{ file = \"{}\" }} }}\n\
             [process.web]\ncommand = \"sleep 100\"\nready = {{ tcp = 1 }}\n\
             env = {{ OTHER = {{ file = \"/nonexistent/other\" }} }}\n",
            s(&mine)
        ),
    );
    let (status, out, err) = formation(&["-c", s(&path), "run", "task"])
        .not_pid1()
        .output();
    assert_eq!((status, out), (0, vec!["task=ok".to_string()]), "{err:?}");
    let (status, _, err) = formation(&["-c", s(&path), "run", "web"])
        .not_pid1()
        .output();
    assert_eq!(status, 2, "web's own file is still needed: {err:?}");
    assert!(
        err.iter().any(|l| l.contains("/nonexistent/other")),
        "{err:?}"
    );
}
