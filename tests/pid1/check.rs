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
