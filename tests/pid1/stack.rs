//! examples/stack: a formation of real Debian programs — PostgreSQL ready through sd_notify,
//! a psql release task, a python web process ready over HTTP, nginx in front — as PID 1
//! (SPEC §4.1–§4.3). `.ci/run` installs postgresql, nginx-light and python3.

use crate::harness::*;
use nix::sys::signal::Signal;
use std::io::{Read, Write};
use std::path::Path;

const STACK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/stack");

/// The example's ports (5433, 5000, 8000) are fixed: one stack at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// True when the stack's programs are installed; without them the tests are skipped,
/// loudly, and under CI they fail.
fn stack_installed() -> bool {
    let found = ["/usr/lib/postgresql", "/usr/sbin/nginx", "/usr/bin/psql"]
        .iter()
        .all(|p| Path::new(p).exists());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install postgresql, nginx-light and psql"
        );
        eprintln!("SKIPPED: postgresql, nginx or psql is not installed");
    }
    found
}

/// A copy of the example that postgres (not root) can write into, with `schema` as its SQL.
fn stack(schema: Option<&str>) -> TempDir {
    let dir = TempDir::new("stack");
    for name in ["formation.toml", "nginx.conf", "schema.sql"] {
        let text = std::fs::read_to_string(Path::new(STACK).join(name)).expect("example file");
        dir.write(name, &text);
    }
    if let Some(sql) = schema {
        dir.write("schema.sql", sql);
    }
    let _ = std::process::Command::new("chmod")
        .args(["777", s(dir.path())])
        .status();
    dir
}

/// The initdb binaries live in postgres' own bin directory.
fn path_with_postgres() -> String {
    let bin = std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .and_then(|mut d| d.next())
        .and_then(|e| e.ok())
        .map(|e| e.path().join("bin"));
    let path = std::env::var("PATH").unwrap_or_default();
    match bin {
        Some(bin) => format!("{}:{path}", bin.display()),
        None => path,
    }
}

/// The example (with `schema` as its SQL), run as PID 1 with its data under its directory.
fn run_stack(schema: Option<&str>) -> (TempDir, Run) {
    let dir = stack(schema);
    let data = dir.path().join("data");
    let run = formation(&["-c", "formation.toml"])
        .dir(dir.path())
        .env("PGDATA", s(&data))
        .env("PATH", &path_with_postgres())
        .spawn();
    (dir, run)
}

fn get(port: u16) -> String {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        .expect("request");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

#[test]
fn the_stack_starts_in_order_serves_and_stops_in_reverse_order() {
    needs_pid1!();
    if !stack_installed() {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (_dir, mut run) = run_stack(None);
    run.wait_stderr("nginx.1 ready (tcp 127.0.0.1:8000");
    let err = run.stderr();
    let order = [
        "initdb.1 completed",
        "postgres.1 ready (notify",
        "release.1 completed",
        "web.1 ready (http",
        "nginx.1 started",
    ];
    let places: Vec<usize> = order
        .iter()
        .map(|o| err.iter().position(|l| l.contains(o)).unwrap_or(usize::MAX))
        .collect();
    assert!(
        places.windows(2).all(|w| w[0] < w[1]),
        "{order:?} in {err:#?}"
    );
    assert!(
        get(8000).starts_with("HTTP/1.1 200"),
        "nginx proxies to web"
    );
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0);
    let err = run.stderr();
    let ended = |who: &str| {
        err.iter()
            .position(|l| {
                l.contains(&format!("formation  | {who}.1 "))
                    && (l.contains("killed") || l.contains("exited"))
            })
            .unwrap_or_else(|| panic!("{who} never ended: {err:#?}"))
    };
    assert!(
        ended("nginx") < ended("web") && ended("web") < ended("postgres"),
        "{err:#?}"
    );
}

#[test]
fn a_failing_release_skips_web_and_nginx_and_is_the_exit_status() {
    needs_pid1!();
    if !stack_installed() {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (_dir, mut run) = run_stack(Some("CREATE TABLE broken (;\n"));
    let status = run.wait(SOON * 3);
    let err = run.stderr();
    assert_eq!(status, 3, "psql's status for a failed script: {err:#?}");
    assert!(
        err.iter()
            .any(|l| l.contains("web skipped: release.1 exited with code 3")),
        "{err:#?}"
    );
    assert!(
        err.iter()
            .any(|l| l.contains("nginx skipped: web was skipped")),
        "{err:#?}"
    );
    assert!(!err.iter().any(|l| l.contains("web.1 started")), "{err:#?}");
}
