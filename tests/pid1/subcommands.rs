//! The subcommands (SPEC §2.1) and the start-up rules of SPEC §3.4 that a user meets first:
//! `run`, `probe`, `check` without privilege, one pass of errors.

use crate::harness::*;

/// SPEC §2.1: `run TYPE` runs TYPE's command; `run TYPE CMD…` runs CMD instead (exec'd as
/// given), in TYPE's environment (`formation run web bin/rails console`).
#[test]
fn run_type_runs_its_command_or_the_one_given_in_its_environment() {
    needs_pid1!();
    let (_dir, path) = toml(
        "[env]\nA = \"from env\"\n[process.web]\ncommand = \"sh -c 'echo own $A $PS $PORT; exit 5'\"\nscale = 0\n",
    );
    let (status, out, _) = formation(&["-c", &path, "run", "web"]).output();
    assert_eq!(status, 5, "the command's own status");
    assert_eq!(out, ["own from env web.run 5000"]);
    let given = ["sh", "-c", "echo given $A $PS $PORT \"$0\"; exit 4", "it's"];
    let (status, out, _) =
        formation(&[&["-c", &path[..], "run", "web"][..], &given].concat()).output();
    assert_eq!(status, 4, "the given command's own status");
    assert_eq!(out, ["given from env web.run 5000 it's"]);
}

/// `run`'s one child has a copy of formation's memory (not a shared one): a failure before its
/// exec must still come back as its step and errno, not as a bare exit 127.
#[test]
fn run_of_a_type_whose_cwd_is_missing_is_126_with_the_reason() {
    needs_pid1!();
    let (_dir, path) = toml("[process.web]\ncommand = \"true\"\ncwd = \"missing-dir\"\n");
    let (status, _, err) = formation(&["-c", &path, "run", "web"]).output();
    assert_eq!(status, 126, "{err:?}");
    assert!(
        err.iter().any(|l| l.contains("cannot change directory")),
        "{err:?}"
    );
}

#[test]
fn run_dash_dash_runs_any_command_with_the_common_environment() {
    needs_pid1!();
    let (_dir, path) = toml("[env]\nA = \"common\"\n[process.web]\ncommand = \"sleep 1\"\n");
    let (status, out, _) = formation(&[
        "-c",
        &path,
        "run",
        "--",
        "sh",
        "-c",
        "echo $A ${PS:-no PS}; exit 3",
    ])
    .output();
    assert_eq!((status, out), (3, vec!["common no PS".to_string()]));
}

#[test]
fn probe_answers_0_ready_1_not_ready_2_no_check() {
    let (_dir, path) = toml(
        "[process.web]\ncommand = \"x\"\nready = { tcp = 23201 }\n\
         [process.worker]\ncommand = \"x\"\n\
         [process.db]\ncommand = \"x\"\nready = { log = \"up\" }\n",
    );
    let probe = |t: &str| formation(&["-c", &path, "probe", t]).not_pid1().output();
    let (status, _, err) = probe("web");
    assert_eq!(status, 1, "nothing listens: {err:?}");
    assert!(
        err[0].starts_with("web is not ready (tcp 127.0.0.1:23201): "),
        "{err:?}"
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:23201").expect("bind");
    assert_eq!(probe("web").0, 0);
    drop(listener);
    assert_eq!(probe("worker").0, 2, "no ready check");
    assert_eq!(probe("db").0, 2, "a log check cannot be made from outside");
}

#[test]
fn check_needs_no_privilege_with_a_user_set() {
    needs_pid1!();
    let (dir, path) = toml("[process.web]\ncommand = \"x\"\nuser = \"nobody\"\n");
    open_to_all(dir.path());
    let (status, out, err) = formation(&["check", "-c", &path]).via(&AS_NOBODY).output();
    assert_eq!(status, 0, "{err:?}");
    assert!(
        out.iter().any(|l| l.contains("user=65534:65534")),
        "{out:?}"
    );
}

#[test]
fn config_env_file_and_formation_errors_come_in_one_run() {
    let (_dir, path) =
        toml("env_file = [\"nope.env\"]\n[process.web]\ncommand = \"x\"\nscale = -1\n");
    let (status, _, err) = formation(&["check", "-c", &path, "-m", "db=1", "-e", "missing.env"])
        .not_pid1()
        .output();
    assert_eq!(status, 2);
    let expect = [
        "nope.env",
        "`scale`",
        "missing.env",
        "formation spec names \"db\"",
    ];
    for want in expect {
        assert!(err.iter().any(|l| l.contains(want)), "{want:?} in {err:#?}");
    }
    assert_eq!(
        err.last().map(String::as_str),
        Some("formation: 4 error(s)")
    );
}
