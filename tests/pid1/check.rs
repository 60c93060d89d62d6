//! What `formation check` tells a new user about a config before it runs (SPEC §2.1): the
//! stop's worst case, and warnings for what would fail or mislead at run time.

use crate::harness::*;

/// The lines of `formation check` on a config, with its exit status.
fn check(args: &[&str]) -> (i32, Vec<String>, Vec<String>) {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    formation(&all).not_pid1().output()
}

/// SPEC §4.1: a completed oneshot is no stop tier. A Procfile with `release:` puts every
/// other type after it, but once it has completed a stop signals web and worker at once: 5 s
/// of grace plus the 5 s sweep, not 15 s with a warning to raise `--stop-timeout`.
#[test]
fn a_release_line_adds_nothing_to_the_worst_case_stop() {
    let dir = TempDir::new("check-release");
    let procfile = dir.write(
        "Procfile",
        "release: true\nweb: sleep 100\nworker: sleep 100\n",
    );
    let (status, out, err) = check(&["-f", s(&procfile)]);
    assert_eq!(status, 0, "{err:?}");
    assert!(out.iter().any(|l| l == "worst-case stop: 10s"), "{out:#?}");
    assert!(
        !out.iter().any(|l| l.contains("--stop-timeout")),
        "{out:#?}"
    );
}

/// An `env_file` named `./prod.env` is read beside the config and named so in errors: not
/// `././prod.env`, nor `/app/./prod.env` for `-c /app/formation.toml`.
#[test]
fn an_env_file_path_is_named_as_written() {
    let (dir, path) = toml("env_file = [\"./prod.env\"]\n[process.web]\ncommand = \"sleep 1\"\n");
    let (status, _, err) = formation(&["check"]).dir(dir.path()).not_pid1().output();
    assert_eq!(status, 2, "{err:#?}");
    assert!(
        err[0].starts_with("formation.toml:1:13: `env_file`: ./prod.env: cannot read"),
        "{err:#?}"
    );
    let (_, _, err) = check(&["-c", &path]);
    let want = format!("`env_file`: {}/prod.env: cannot read", s(dir.path()));
    assert!(err[0].contains(&want), "{want:?} in {err:#?}");
}

/// `check` warns, and still exits 0 (it may run outside the image), for a program that is not
/// on PATH (`ngnix`), a compound shell string whose shell a forwarded HUP would end (SPEC
/// §3.4), a `user` formation cannot switch to when not root, and more pipes than the fd limit.
#[test]
fn check_warns_about_what_would_fail_at_run_time() {
    let (dir, path) = toml(
        "[process.proxy]\ncommand = \"ngnix -g 'daemon off;'\"\n\
         [process.web]\ncommand = \"bin/migrate && bin/server\"\n\
         [process.app]\ncommand = \"sleep 1000\"\nuser = \"root\"\nscale = 200\n",
    );
    open_to_all(dir.path());
    let nobody = [&AS_NOBODY[..], &["prlimit", "--nofile=300:300"]].concat();
    let (status, _, err) = formation(&["check", "-c", &path]).via(&nobody).output();
    assert_eq!(status, 0, "warnings are not errors: {err:#?}");
    for want in [
        "warning: proxy: the program \"ngnix\" is not on its PATH here",
        "warning: web: a forwarded signal other than its stop signal (SIGTERM), such as HUP, ends the shell",
        "warning: app: formation cannot switch to user 0:0 here",
        "warning: 202 instances need 436 open files, more than this machine's limit of 300",
    ] {
        assert!(err.iter().any(|l| l.contains(want)), "{want:?} in {err:#?}");
    }
}
