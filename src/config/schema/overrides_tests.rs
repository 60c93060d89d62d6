//! Table tests of a Procfile with overrides (SPEC §3.1, `overrides.rs`).

use super::*;
use crate::config::model::Restart;

const PROCFILE: &str =
    "web: ./web -p $PORT\nrelease: bin/migrate\nworker: ./worker || echo skipping\n";

/// Parses `toml` (as app/formation.toml) whose `procfile` reads `procfile` (app/Procfile).
fn with(procfile: &str, toml: &str) -> Parsed {
    let read = |p: &Path| -> Result<String, String> {
        if p == Path::new("app/Procfile") {
            Ok(procfile.to_string())
        } else {
            Err(format!(
                "{}: cannot read: no such file or directory",
                p.display()
            ))
        }
    };
    let no_users = |spec: &str| Err(format!("no user {spec}"));
    parse_with(Path::new("app/formation.toml"), toml, &no_users, &read)
}

fn errors(procfile: &str, toml: &str) -> Vec<String> {
    with(procfile, toml)
        .errors
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn procfile_types_first_each_overridden_key_by_key_then_extra_types() {
    let parsed = with(
        PROCFILE,
        "procfile = \"Procfile\"\n\
         [process.worker]\nessential = false\nrestart = \"on-failure\"\nscale = 2\n\
         [process.clock]\ncommand = \"./clock\"\n",
    );
    assert_eq!(parsed.errors, []);
    let f = parsed.formation.expect("a formation");
    let got: Vec<(&str, String, u32, bool, Restart, String)> = f
        .types
        .iter()
        .map(|t| {
            let place = format!("{}:{}", t.place.file.display(), t.place.line);
            (
                t.name.as_str(),
                t.command.to_string(),
                t.scale,
                t.essential,
                t.restart,
                place,
            )
        })
        .collect();
    let row = |name, command: &str, scale, essential, restart, place: &str| {
        (
            name,
            command.to_string(),
            scale,
            essential,
            restart,
            place.to_string(),
        )
    };
    assert_eq!(
        got,
        [
            row(
                "web",
                "/bin/sh -c \"./web -p $PORT\"",
                1,
                true,
                Restart::Never,
                "app/Procfile:1"
            ),
            row(
                "release",
                "[\"bin/migrate\"]",
                1,
                true,
                Restart::Never,
                "app/Procfile:2"
            ),
            row(
                "worker",
                "/bin/sh -c \"./worker || echo skipping\"",
                2,
                false,
                Restart::OnFailure,
                "app/Procfile:3"
            ),
            row(
                "clock",
                "[\"./clock\"]",
                1,
                true,
                Restart::Never,
                "app/formation.toml:6"
            ),
        ]
    );
    let worker = &f.types[2];
    let keys: Vec<String> = worker
        .keys
        .iter()
        .map(|(k, p)| format!("{k} {}:{}", p.line, p.col))
        .collect();
    assert_eq!(keys, ["essential 3:1", "restart 4:1", "scale 5:1"]);
}

#[test]
fn the_release_phase_stays_and_a_table_adds_to_it() {
    let f = with(
        PROCFILE,
        "procfile = \"Procfile\"\n\
         [process.web]\nafter = [\"db\"]\n\
         [process.worker]\nafter = [\"web\", \"release\"]\n\
         [process.release]\nessential = false\n\
         [process.db]\ncommand = \"./db\"\n",
    )
    .formation
    .expect("a formation");
    let got: Vec<(&str, bool, bool, Vec<&str>)> = f
        .types
        .iter()
        .map(|t| {
            let after = t.after.iter().map(|(n, _)| n.as_str()).collect();
            (t.name.as_str(), t.oneshot, t.essential, after)
        })
        .collect();
    assert_eq!(
        got,
        [
            ("web", false, true, vec!["release", "db"]),
            ("release", true, false, vec![]),
            ("worker", false, true, vec!["web", "release"]),
            ("db", false, true, vec![]),
        ]
    );
    let f = with(
        PROCFILE,
        "procfile = \"Procfile\"\n[process.release]\noneshot = false\n",
    )
    .formation
    .expect("a formation");
    assert!(
        !f.types[1].oneshot,
        "a table's `oneshot` replaces the Procfile's"
    );
}

#[test]
fn every_error_in_the_file_that_holds_it() {
    let procfile = "web: ./web\nbad line\nworker: ./worker\n";
    let got = errors(
        procfile,
        "procfile = \"Procfile\"\n\
         [process.web]\ncommand = \"./other\"\nready = { tcp = \"$PORT\" }\n\
         [process.worker]\nflavour = 1\nafter = [\"ghost\"]\n\
         [process.extra]\nscale = 2\n",
    );
    let want = [
        "app/Procfile:2:1: expected `name: command`",
        "app/formation.toml:3:1: `command` of \"web\", which its Procfile gives at app/Procfile:1: one source per command (remove this one, or the Procfile's line)",
        "app/formation.toml:6:1: unknown key `flavour` (expected one of: command, ",
        "app/formation.toml:7:10: `after` names \"ghost\", which is not a process type",
        "app/formation.toml:8:1: [process.extra] needs a `command` (the procfile has no such type)",
    ];
    assert_eq!(got.len(), want.len(), "{got:#?}");
    for (got, want) in got.iter().zip(want) {
        assert!(got.starts_with(want), "got {got:?}, want {want:?}");
    }
}

#[test]
fn a_procfile_that_cannot_be_read_or_a_release_with_a_schedule() {
    assert_eq!(
        errors("", "procfile = \"Nope\"\n[process.web]\ncommand = \"x\"\n"),
        ["app/formation.toml:1:12: `procfile`: app/Nope: cannot read: no such file or directory"]
    );
    assert_eq!(
        errors("", "procfile = 1\n"),
        [
            "app/formation.toml:1:12: `procfile` must be the path of a Procfile, relative to this file"
        ]
    );
    assert_eq!(
        errors("# nothing\n", "procfile = \"Procfile\"\n"),
        ["app/Procfile:1:1: no process defined: add a line `name: command`"]
    );
    let got = errors(
        PROCFILE,
        "procfile = \"Procfile\"\n[process.release]\nschedule = \"@hourly\"\n",
    );
    assert!(
        got.iter()
            .any(|e| e.starts_with("app/formation.toml:3:1: `schedule` and `oneshot` conflict")),
        "{got:?}"
    );
}
