//! The lifecycle keys (SPEC §4.2–4.5: `after`, `ready`, `oneshot`, `schedule`, `health`):
//! read with their defaults, and their errors with places.

use super::*;

#[test]
fn graph_keys_are_read_with_their_defaults() {
    use crate::config::model::{CheckSpec, HealthSpec, ReadySpec};
    let f = ok(r#"
[process.db]
command = "postgres"
ready = { exec = "pg_isready -q", timeout = "1m" }
health = { tcp = 5432 }
[process.release]
command = "migrate"
oneshot = true
after = "db"
[process.web]
command = "web"
after = ["release", "db"]
ready = { http = "http://127.0.0.1:$PORT/up", interval = "1s" }
[process.clock]
command = "cleanup"
schedule = "*/15 * * * *"
"#);
    let (db, release, web, clock) = (&f.types[0], &f.types[1], &f.types[2], &f.types[3]);
    assert_eq!(
        db.ready,
        Some(ReadySpec {
            check: CheckSpec::Exec(CommandLine::Argv(vec!["pg_isready".into(), "-q".into()])),
            interval: Duration::from_millis(250),
            timeout: Some(Duration::from_secs(60)),
        })
    );
    assert_eq!(
        db.health,
        Some(HealthSpec {
            check: CheckSpec::Tcp("5432".into()),
            interval: Duration::from_secs(10),
            failures: 3,
            timeout: Duration::from_secs(1),
        })
    );
    assert!(release.oneshot);
    let after: Vec<&str> = web.after.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(after, ["release", "db"]);
    assert_eq!(release.after[0].0, "db");
    assert!(clock.schedule.is_some());
    assert!(
        !clock.essential,
        "a scheduled type is not essential by default"
    );
}

#[test]
fn check_hosts_are_addresses_not_names() {
    let got = errors(
        "[process.a]\ncommand = \"x\"\nready = { tcp = \"db:5432\" }\n\
         [process.b]\ncommand = \"x\"\nready = { http = \"http://web:8000/up\" }\n\
         [process.c]\ncommand = \"x\"\nready = { http = \"http://localhost:$PORT/\" }\n\
         [process.d]\ncommand = \"x\"\nready = { tcp = \"[::1]:$PORT\" }\n\
         [process.e]\ncommand = \"x\"\nready = { http = \"http://[::1]/\" }\n",
    );
    let names: Vec<&String> = got
        .iter()
        .filter(|e| e.contains("looks up no names"))
        .collect();
    assert_eq!(names.len(), 2, "{got:#?}");
    assert!(
        names[0].starts_with("f.toml:3:17: `tcp` must be"),
        "{got:#?}"
    );
    assert!(
        names[1].starts_with("f.toml:6:18: `http` must be"),
        "{got:#?}"
    );
    // Each wrong check also leaves its `ready` without a kind; nothing else is refused.
    assert_eq!(got.len(), 4, "{got:#?}");
}

#[test]
fn graph_key_errors_have_places() {
    let got = errors(
        "[process.a]\ncommand = \"x\"\nready = { tcp = \"nope\", log = \"up\" }\n\
         health = { log = \"up\" }\nschedule = \"61 * * * *\"\n\
         [process.b]\ncommand = \"x\"\ntimezone = \"Europe/Berlin\"\nready = {}\nafter = [1]\n",
    );
    let want = [
        "f.toml:3:17: `tcp` must be a port, \"IP:port\", \"localhost:port\" or \"$PORT\"",
        "f.toml:4:10: `health` needs a way to reach the instance: tcp, http or exec",
        "f.toml:5:12: `schedule`: ",
        "f.toml:8:1: `timezone` goes with `schedule`",
        "f.toml:9:9: `ready` needs exactly one of tcp, http, exec, log or notify",
        "f.toml:10:10: `after` must be a process type name or an array of them",
    ];
    assert_eq!(got.len(), want.len(), "{got:#?}");
    for (got, want) in got.iter().zip(want) {
        assert!(got.starts_with(want), "{got:?} should start with {want:?}");
    }
}
