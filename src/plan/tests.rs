//! Tests of the plan.

use super::*;
use crate::config::model::CommandLine;
use crate::config::model::ProcessType;
use describe::policies;
use std::path::Path;

fn formation(types: &[(&str, u32)]) -> Formation {
    Formation {
        path: "/app/formation.toml".into(),
        grace: Some(Duration::from_secs(10)),
        env_files: None,
        listen: None,
        env: vec![var("FROM_CONFIG", "config", 1), var("SHARED", "config", 2)],
        types: types
            .iter()
            .enumerate()
            .map(|(line, (name, scale))| {
                let place = at("/app/formation.toml", line + 10);
                let mut t =
                    ProcessType::new(name.to_string(), place, CommandLine::from_text("run"));
                t.scale = *scale;
                t
            })
            .collect(),
    }
}

#[test]
fn a_types_signals_reach_its_instances_and_check() {
    let mut f = formation(&[("web", 2), ("worker", 1)]);
    f.types[0]
        .signals
        .set(Signal::SIGHUP, Some(Signal::SIGUSR1));
    f.types[0].signals.set(Signal::SIGWINCH, None);
    let all = instances(&f, &[2, 1], Duration::from_secs(5), &[], &[]).expect("plan");
    let hup = |i: &Instance| i.signals.apply(Signal::SIGHUP);
    let got: Vec<_> = all.iter().map(hup).collect();
    assert_eq!(
        got,
        [
            Some(Signal::SIGUSR1),
            Some(Signal::SIGUSR1),
            Some(Signal::SIGHUP)
        ]
    );
    assert!(policies(&f.types[0], None).ends_with(" signals=HUP:USR1,WINCH:0"));
    assert!(!policies(&f.types[1], None).contains("signals="));
}

fn at(file: &str, line: usize) -> Place {
    Place {
        file: file.into(),
        line,
        col: 1,
    }
}

fn var(name: &str, value: &str, line: usize) -> Var {
    Var::text(name, value, at("/app/formation.toml", line))
}

fn env_of(i: &Instance, key: &str) -> Option<String> {
    let env = i.env.as_ref()?;
    env.get(key).map(|v| v.to_string_lossy().into())
}

#[test]
fn scale_precedence() {
    let f = formation(&[("web", 2), ("worker", 1), ("clock", 1)]);
    assert_eq!(scales(&f, None), Ok(vec![2, 1, 1]));
    assert_eq!(scales(&f, Some("web=3")), Ok(vec![3, 1, 1]));
    assert_eq!(scales(&f, Some("web=1,all=0")), Ok(vec![1, 0, 0]));
    assert_eq!(scales(&f, Some("all=4, clock=0")), Ok(vec![4, 4, 0]));
    assert!(
        scales(&f, Some("db=1"))
            .expect_err("unknown")
            .contains("\"db\"")
    );
    for bad in ["web", "web=x", "web=10001", "web=-1"] {
        assert!(scales(&f, Some(bad)).is_err(), "{bad}");
    }
}

#[test]
fn grace_precedence() {
    let f = formation(&[("web", 1)]);
    let s = Duration::from_secs;
    assert_eq!(default_grace(Some(s(1)), Some(&f)), s(1));
    assert_eq!(default_grace(None, Some(&f)), s(10));
    assert_eq!(default_grace(None, None), DEFAULT_GRACE);
}

fn ok(f: &Formation, scales: &[u32], inherited: &[(&str, &str)], files: &[Var]) -> Vec<Instance> {
    let inherited: Vec<(OsString, OsString)> = inherited
        .iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    instances(f, scales, DEFAULT_GRACE, &inherited, files).expect("valid")
}

#[test]
fn ports_and_ps_follow_foreman() {
    let f = formation(&[("web", 2), ("worker", 1)]);
    let all = ok(&f, &[2, 1], &[], &[]);
    let got: Vec<(String, Option<String>, Option<String>)> = all
        .iter()
        .map(|i| (i.name.clone(), env_of(i, "PS"), env_of(i, "PORT")))
        .collect();
    let want = [("web.1", "5000"), ("web.2", "5001"), ("worker.1", "5100")];
    assert_eq!(got.len(), want.len());
    for ((name, ps, port), (wname, wport)) in got.iter().zip(want) {
        assert_eq!(
            (name.as_str(), ps.as_deref(), port.as_deref()),
            (wname, Some(wname), Some(wport))
        );
    }
    assert_eq!(all[0].cwd.as_deref(), Some(std::path::Path::new("/app")));
}

#[test]
fn base_port_from_the_environment() {
    let f = formation(&[("a", 1), ("b", 2)]);
    let all = ok(&f, &[1, 2], &[("PORT", "3000")], &[]);
    let ports: Vec<Option<String>> = all.iter().map(|i| env_of(i, "PORT")).collect();
    assert_eq!(
        ports,
        [
            Some("3000".into()),
            Some("3100".into()),
            Some("3101".into())
        ]
    );
}

/// SPEC §3.3: without a `web`, the server gets the base PORT, not a task listed before it
/// (an `initdb` oneshot first took 5000 and the server got 5100).
#[test]
fn without_web_the_first_server_gets_the_base_port_not_a_task() {
    let mut f = formation(&[("initdb", 1), ("cleanup", 1), ("postgres", 1), ("app", 1)]);
    f.types[0].oneshot = true;
    f.types[1].schedule = Some(crate::config::lifecycle::ScheduleSpec {
        schedule: crate::time::cron::Schedule::parse("@hourly").expect("valid"),
        text: "@hourly".into(),
        timezone: None,
        zone: crate::time::tz::Zone::utc(),
    });
    assert_eq!(port_indexes(&f), [1, 2, 0, 3]);
    // With only tasks, the first is block 0, as before.
    let mut f = formation(&[("a", 1), ("b", 1)]);
    f.types.iter_mut().for_each(|t| t.oneshot = true);
    assert_eq!(port_indexes(&f), [0, 1]);
    // A web still wins.
    let mut f = formation(&[("initdb", 1), ("worker", 1), ("web", 1)]);
    f.types[0].oneshot = true;
    assert_eq!(port_indexes(&f), [1, 2, 0]);
}

/// SPEC §3.3: `web` is block 0 wherever it stands; the others count from 1 in file order;
/// a type scaled to 0 keeps its block; without `web` the first type is block 0.
#[test]
fn web_gets_the_first_port_block_wherever_it_stands() {
    type Case<'a> = (&'a [(&'a str, u32)], &'a [(&'a str, &'a str)]);
    let table: [Case; 4] = [
        (
            &[("worker", 1), ("clock", 1), ("web", 1)],
            &[("worker.1", "5100"), ("clock.1", "5200"), ("web.1", "5000")],
        ),
        (
            &[("worker", 0), ("web", 1), ("clock", 1)],
            &[("web.1", "5000"), ("clock.1", "5200")],
        ),
        (
            &[("a", 1), ("b", 2)],
            &[("a.1", "5000"), ("b.1", "5100"), ("b.2", "5101")],
        ),
        (&[("web", 0), ("a", 1)], &[("a.1", "5100")]),
    ];
    for (types, want) in table {
        let f = formation(types);
        let scales: Vec<u32> = types.iter().map(|(_, n)| *n).collect();
        let got: Vec<(String, String)> = ok(&f, &scales, &[], &[])
            .iter()
            .map(|i| (i.name.clone(), env_of(i, "PORT").unwrap_or_default()))
            .collect();
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(n, p)| (n.to_string(), p.to_string()))
            .collect();
        assert_eq!(got, want, "{types:?}");
    }
    let f = formation(&[("worker", 1), ("web", 1)]);
    let types: Vec<usize> = ok(&f, &[1, 1], &[], &[])
        .iter()
        .map(|i| i.type_index)
        .collect();
    assert_eq!(types, [0, 1], "the colour index stays the file order");
}

#[test]
fn a_bad_port_is_an_error_naming_where_it_came_from() {
    let file_port = |v: &str| Var::text("PORT", v, at(".env", 3));
    let err = |f: &Formation, scales: &[u32], inherited: &[(&str, &str)], files: &[Var]| {
        let inherited: Vec<(OsString, OsString)> = inherited
            .iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        instances(f, scales, DEFAULT_GRACE, &inherited, files).expect_err("invalid")
    };
    let f = formation(&[("web", 2), ("worker", 1)]);
    assert_eq!(
        err(&f, &[2, 1], &[], &[file_port("abc")]),
        [".env:3:1: PORT \"abc\" is not a port number from 1 to 65535"],
        "reported once, not per instance"
    );
    assert_eq!(
        err(&f, &[2, 1], &[("PORT", "0")], &[file_port("80")]),
        [
            "formation: PORT \"0\" from the inherited environment is not a port number from 1 to 65535"
        ]
    );
    assert_eq!(
        err(&f, &[2, 1], &[("PORT", "65500")], &[]),
        [
            "/app/formation.toml:11:1: PORT \"65500\" from the inherited environment puts worker.1 at port 65600, above 65535"
        ]
    );
    assert_eq!(
        err(&f, &[3, 3], &[("PORT", "65500")], &[]),
        [
            "/app/formation.toml:11:1: PORT \"65500\" from the inherited environment puts worker.1 at port 65600, above 65535 (and 2 more)"
        ],
        "one line for every port too high"
    );
    let mut g = formation(&[("web", 1)]);
    g.env.push(var("PORT", "99999", 4));
    assert_eq!(
        err(&g, &[1], &[("PORT", "8080")], &[]),
        ["/app/formation.toml:4:1: PORT \"99999\" is not a port number from 1 to 65535"],
        "[env] beats the environment, and names its line"
    );
    let mut h = formation(&[("web", 1)]);
    h.types[0].env.push(var("PORT", "http", 12));
    assert_eq!(
        err(&h, &[1], &[], &[]),
        ["/app/formation.toml:12:1: PORT \"http\" is not a port number from 1 to 65535"]
    );
    assert!(
        instances(&f, &[0, 0], DEFAULT_GRACE, &[], &[file_port("abc")]).is_ok(),
        "no instance uses it"
    );
    let edge = ok(&f, &[1, 1], &[("PORT", "65435")], &[]);
    assert_eq!(env_of(&edge[1], "PORT").as_deref(), Some("65535"));
}

#[test]
fn environment_precedence() {
    let mut f = formation(&[("web", 1)]);
    f.types[0].env = vec![var("SHARED", "process", 20), var("PORT", "80", 21)];
    let files = vec![var("FROM_FILE", "file", 1), var("ONLY_FILE", "file", 2)];
    let all = ok(
        &f,
        &[1],
        &[("FROM_ENV", "env"), ("FROM_FILE", "env"), ("SHARED", "env")],
        &files,
    );
    let i = &all[0];
    assert_eq!(env_of(i, "ONLY_FILE").as_deref(), Some("file"));
    assert_eq!(
        env_of(i, "FROM_FILE").as_deref(),
        Some("env"),
        "environment beats files"
    );
    assert_eq!(env_of(i, "FROM_CONFIG").as_deref(), Some("config"));
    assert_eq!(
        env_of(i, "SHARED").as_deref(),
        Some("process"),
        "process env wins"
    );
    assert_eq!(
        env_of(i, "PORT").as_deref(),
        Some("80"),
        "a process's own PORT is kept"
    );
}

#[test]
fn home_comes_from_the_user_unless_the_config_sets_it() {
    let user = Credentials {
        uid: nix::unistd::Uid::from_raw(1000),
        gid: nix::unistd::Gid::from_raw(1000),
        groups: Vec::new(),
        home: "/home/app".into(),
    };
    let mut f = formation(&[("a", 1), ("b", 1), ("c", 1)]);
    for t in &mut f.types[..2] {
        t.user = Some(user.clone());
    }
    f.types[1].env.push(var("HOME", "/srv", 30));
    let inherited = [("HOME", "/root")];
    let files = [var("HOME", "/file", 1)];
    let homes: Vec<Option<String>> = ok(&f, &[1, 1, 1], &inherited, &files)
        .iter()
        .map(|i| env_of(i, "HOME"))
        .collect();
    assert_eq!(
        homes,
        [
            Some("/home/app".into()),
            Some("/srv".into()),
            Some("/root".into())
        ]
    );
    f.env.push(var("HOME", "/config", 5));
    let first = ok(&f, &[1, 0, 0], &inherited, &[]);
    assert_eq!(
        env_of(&first[0], "HOME").as_deref(),
        Some("/config"),
        "[env] wins"
    );
}

/// A machine where everything is there: no warning.
fn host_with_all<'a>() -> Host<'a> {
    Host {
        is_dir: &|_| true,
        is_file: &|_| true,
        is_executable: &|_| true,
        can_switch_user: true,
        fd_limit: 1 << 20,
    }
}

#[test]
fn check_warns_about_a_missing_cwd_or_shell() {
    let mut f = formation(&[("web", 1), ("worker", 1), ("off", 0)]);
    f.types[0].cwd = Some("/nope".into());
    f.types[1].command = CommandLine::from_text("exec worker");
    f.types[2].cwd = Some("/nope".into());
    let all = ok(&f, &[1, 1, 0], &[], &[]);
    let is_dir = |p: &Path| p == Path::new("/app");
    let host = Host {
        is_dir: &is_dir,
        is_file: &|_| false,
        ..host_with_all()
    };
    let got = warnings(&f, &[1, 1, 0], &all, &host);
    assert_eq!(
        got,
        [
            "/app/formation.toml:10:1: warning: web: cwd /nope is not a directory here",
            "/app/formation.toml:11:1: warning: worker: the command needs /bin/sh, which is not here (use an array command to run without a shell)",
        ]
    );
    assert_eq!(
        warnings(&f, &[1, 1, 0], &all, &host_with_all()),
        Vec::<String>::new()
    );
}

/// SPEC §2.1 (issue #24): `check` warns, without failing (it may run outside the image), for
/// a program not on PATH (`ngnix`), a `user` formation cannot switch to, more pipes than the
/// fd limit, and a compound shell string that a forwarded signal would end (SPEC §3.4).
#[test]
fn check_warns_about_what_would_fail_at_run_time() {
    let mut f = formation(&[
        ("web", 1),
        ("proxy", 1),
        ("tool", 1),
        ("job", 1),
        ("app", 2),
    ]);
    f.types[0].command = CommandLine::from_text("bin/server --port $PORT");
    f.types[1].command = CommandLine::from_text("ngnix -g 'daemon off;'");
    f.types[2].command = CommandLine::from_text("run-tool");
    f.types[3].command = CommandLine::from_text("migrate && server");
    f.types[4].user = Some(crate::config::users::Credentials {
        uid: nix::unistd::Uid::from_raw(1000),
        gid: nix::unistd::Gid::from_raw(1000),
        groups: Vec::new(),
        home: "/".into(),
    });
    let scales = [1, 1, 1, 1, 2];
    let mut all = ok(&f, &scales, &[("PATH", "/usr/bin:/bin")], &[]);
    all.iter_mut()
        .for_each(|i| i.cwd = Some(Path::new("/app").into()));
    let executable =
        |p: &Path| p == Path::new("/bin/run-tool") || p == Path::new("/app/bin/server");
    let host = Host {
        is_executable: &executable,
        can_switch_user: false,
        fd_limit: 40,
        ..host_with_all()
    };
    let got = warnings(&f, &scales, &all, &host);
    assert_eq!(
        got,
        [
            "/app/formation.toml:11:1: warning: proxy: the program \"ngnix\" is not on its PATH here",
            "/app/formation.toml:13:1: warning: job: a forwarded signal other than its stop signal (SIGTERM), such as HUP, ends the shell that runs this compound command, not its program: write `exec` before the last command",
            "/app/formation.toml:14:1: warning: app: the program \"run\" is not on its PATH here",
            "/app/formation.toml:14:1: warning: app: formation cannot switch to user 1000:1000 here (it needs root, or CAP_SETUID and CAP_SETGID)",
            "/app/formation.toml: warning: 6 instances need 44 open files, more than this machine's limit of 40 (RLIMIT_NOFILE): raise it (docker run --ulimit nofile=N) or lower the scale",
        ],
        "{got:#?}"
    );
    // A compound string whose last command execs, or that traps signals itself: no warning.
    f.types[3].command = CommandLine::from_text("migrate && exec server");
    f.types[2].command = CommandLine::from_text("trap 'echo bye' HUP; run-tool");
    let host = Host {
        is_executable: &executable,
        ..host_with_all()
    };
    let got = warnings(&f, &scales, &all, &host);
    assert!(
        got.iter().all(|w| !w.contains("forwarded signal")),
        "{got:#?}"
    );
}

proptest::proptest! {
    #[test]
    fn any_formation_spec_is_parsed_or_rejected(text in "(\\PC|,|=|[0-9]){0,60}") {
        let f = formation(&[("web", 1), ("worker", 2)]);
        if let Ok(s) = scales(&f, Some(&text)) {
            assert!(s.iter().all(|n| *n <= crate::config::model::MAX_SCALE));
        }
    }
}
