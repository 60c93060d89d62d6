//! `tty = true` (SPEC §5): an instance's stdout and stderr are one pseudo-terminal — seen by
//! the reader of formation's output as prefixed lines, line by line while the program runs.

use crate::harness::*;

/// The payloads of `name`'s lines.
fn payloads(out: &[String], name: &str) -> Vec<String> {
    out.iter()
        .filter_map(|l| l.split_once(" | ").filter(|(n, _)| n.trim_end() == name))
        .map(|(_, p)| p.to_string())
        .collect()
}

/// A Python worker that prints without flushing, then writes `marker` straight to fd 1
/// (past Python's buffer), then keeps running.
const WORKER: &str = r#"
import os, time
print("hello from", os.environ["PS"])
os.write(1, b"marker\n")
time.sleep(60)
"#;

#[test]
fn a_python_worker_printing_without_flush_shows_its_line_while_it_runs_only_on_a_terminal() {
    needs_pid1!();
    // PYTHONUNBUFFERED empty: Python buffers as it does by default (a CI image may set it).
    let (dir, path) = toml(
        "[env]\nPYTHONUNBUFFERED = \"\"\n\
         [process.t]\ncommand = \"exec python3 worker.py\"\ntty = true\n\
         [process.p]\ncommand = \"exec python3 worker.py\"\n",
    );
    dir.write("worker.py", WORKER);
    let run = formation(&["-c", &path]).spawn();
    run.wait_stdout_count("marker", 2);
    let out = run.stdout();
    let of = |name| payloads(&out, name);
    // On a terminal Python flushes each line: its print is out before the raw write.
    assert_eq!(of("t.1"), ["hello from t.1", "marker"], "{out:?}");
    // On a pipe it holds the line in its buffer while it runs: the raw write comes out alone.
    assert_eq!(of("p.1"), ["marker"], "{out:?}");
}

#[test]
fn the_child_has_a_terminal_of_80_by_24_leads_its_session_and_reads_dev_null() {
    needs_pid1!();
    let probe = r#"
import os, sys
print("tty", os.isatty(1), os.isatty(2), os.isatty(0), os.ttyname(1).startswith("/dev/pts/"))
print("size", *os.get_terminal_size(1))
print("leader", os.getsid(0) == os.getpid(), os.tcgetpgrp(1) == os.getpgrp())
print("stdin", repr(sys.stdin.read()))
sys.stderr.write("on stderr\n")
"#;
    let (dir, path) = toml(
        "[process.a]\ncommand = [\"python3\", \"probe.py\"]\ntty = true\nessential = false\n\
         [process.b]\ncommand = [\"python3\", \"probe.py\"]\ntty = true\nessential = false\n\
         env = { COLUMNS = \"132\", LINES = \"50\" }\n",
    );
    dir.write("probe.py", probe);
    let (status, out, err) = formation(&["-c", &path]).output();
    assert_eq!(status, 0, "{err:?}");
    for (name, size) in [("a.1", "80 24"), ("b.1", "132 50")] {
        let want = [
            "tty True True False True".to_string(),
            format!("size {size}"),
            "leader True True".into(),
            "stdin ''".into(),
            "on stderr".into(),
        ];
        assert_eq!(
            payloads(&out, name),
            want,
            "stderr comes through the terminal too: {out:?}"
        );
    }
    assert!(err.iter().all(|l| l.starts_with("formation ")), "{err:?}");
}

#[test]
fn colours_pass_when_ours_are_on_and_go_with_no_color_and_in_json() {
    needs_pid1!();
    let dir = TempDir::new("tty-colour");
    dir.write(
        "show.sh",
        "printf '\\033[31mred\\033[0m\\n'\nprintf '10%%\\r50%%\\r100%%\\n'\n\
         printf '{\"level\":\"info\"}\\n'\nprintf 'no newline'\n",
    );
    let path = dir.write(
        "formation.toml",
        "[process.c]\ncommand = \"sh show.sh\"\ntty = true\n",
    );
    let path = s(&path);
    let (status, out, err) = formation(&["-c", path, "--color", "always"]).output();
    assert_eq!(status, 0);
    // Our own colour on the prefix: `ESC[36mc.1       |ESC[0m payload`.
    let out: Vec<String> = out
        .iter()
        .filter_map(|l| l.strip_prefix("\x1b[36m"))
        .map(|l| l.replacen(" |\x1b[0m ", " | ", 1))
        .collect();
    assert_eq!(
        payloads(&out, "c.1"),
        [
            "\x1b[31mred\x1b[0m",
            "10%\r50%\r100%",
            "{\"level\":\"info\"}",
            "no newline"
        ],
        "colours kept, \\r\\n read as \\n, a bare \\r kept inside its line"
    );
    let exited = err.iter().position(|l| l.contains("c.1 exited"));
    assert!(
        exited.is_some(),
        "the terminal's end (EIO) is its EOF: {err:?}"
    );
    let (_, out, _) = formation(&["-c", path]).env("NO_COLOR", "1").output();
    assert_eq!(payloads(&out, "c.1")[0], "red", "{out:?}");
    let (_, out, _) = formation(&["-c", path, "--log-format", "json"]).output();
    let json: Vec<serde_json::Value> = out
        .iter()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(json[0]["line"], "red");
    assert_eq!(
        (&json[2]["level"], &json[2]["proc"]),
        (&"info".into(), &"c.1".into()),
        "a terminal's JSON line is merged: {out:?}"
    );
}

/// examples/python-logs, as its header says to run it: the api's JSON objects merged, the
/// worker's lines (printed without flush) arriving while it runs, its colours gone in JSON.
#[test]
fn the_python_example_merges_the_apis_json_and_shows_the_worker_while_it_runs() {
    needs_pid1!();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/python-logs");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let config = format!("{example}/formation.toml");
    let run = formation(&["-c", &config, "--log-format", "json"])
        .env("PORT", &port.to_string())
        // Python's default buffering, whatever the machine sets.
        .env("PYTHONUNBUFFERED", "")
        .spawn();
    run.wait_stdout("\"msg\": \"listening\"");
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    use std::io::{Read, Write};
    conn.write_all(b"GET /orders HTTP/1.0\r\n\r\n")
        .expect("request");
    let _ = conn.read_to_end(&mut Vec::new());
    run.wait_stdout("\"path\": \"/orders\"");
    run.wait_stdout_count("worker.1", 2);
    let parsed: Vec<serde_json::Value> = run
        .stdout()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let request = parsed
        .iter()
        .find(|v| v["path"] == "/orders")
        .expect("the request's line");
    assert_eq!(
        (&request["proc"], &request["level"], &request["status"]),
        (&"api.1".into(), &"info".into(), &200.into()),
        "the api's own fields, indexed beside formation's"
    );
    let worker: Vec<&str> = parsed
        .iter()
        .filter(|v| v["proc"] == "worker.1")
        .filter_map(|v| v["line"].as_str())
        .collect();
    assert_eq!(
        worker[..2],
        [
            "job 1: 25%\rjob 1: 50%\rjob 1: 75%\rjob 1: 100%",
            "job 1 done"
        ],
        "on its terminal the worker's lines come as they are printed, colours removed in JSON"
    );
}

#[test]
fn an_instance_that_closes_its_terminal_and_goes_on_is_not_hung_up() {
    needs_pid1!();
    // Every holder of the terminal closes it, then the instance goes on and exits 0: formation
    // read its end of the terminal to EOF, but closing it then would hang the terminal up
    // and SIGHUP the instance (coreutils' `sleep` closing its stdout before it exits is
    // enough: it was reported "killed by SIGHUP" and formation exited 129).
    let (_dir, path) = toml(
        "[process.t]\ncommand = \"echo bye; exec >/dev/null 2>&1; sleep 0.3; exit 0\"\n\
         tty = true\n",
    );
    let (status, out, err) = formation(&["-c", &path]).output();
    assert_eq!(payloads(&out, "t.1"), ["bye"], "{out:?}");
    assert!(
        err.iter().any(|l| l.contains("t.1 exited with code 0")),
        "{err:?}"
    );
    assert_eq!(status, 0, "{err:?}");
}
