//! Tests of `formation status`.

use super::*;

#[test]
fn stat_lines() {
    // Fields 14, 15 and 22 of real lines, and command names that try to confuse a reader.
    let tail =
        "S 1 7 7 0 -1 4194560 420 0 0 0 25 17 0 0 20 0 1 0 12345 2555904 456 18446744073709551615";
    let table = [
        (format!("7 (sleep) {tail}"), Some((42, 12345))),
        (format!("7 (my prog) {tail}"), Some((42, 12345))),
        (format!("7 (a) b) (c) {tail}"), Some((42, 12345))),
        (format!("7 ()) {tail}"), Some((42, 12345))),
        ("7 (sleep) S 1 7".to_string(), None),
        ("garbage".to_string(), None),
        (String::new(), None),
        (format!("7 sleep {tail}"), None),
    ];
    for (line, want) in table {
        let got = parse_stat(&line).map(|s| (s.cpu_ticks, s.start_ticks));
        let rss = parse_stat(&line).map(|s| s.rss_pages);
        assert_eq!(rss, want.map(|_| 456), "{line}");
        assert_eq!(parse_stat(&line).map(|s| s.pgrp), want.map(|_| 7));
        assert_eq!(got, want, "{line}");
    }
}

#[test]
fn uptime_and_environ() {
    assert_eq!(
        parse_uptime("1234.56 4000.00\n"),
        Some(Duration::from_millis(1_234_560))
    );
    assert_eq!(parse_uptime("7 0"), Some(Duration::from_secs(7)));
    assert_eq!(parse_uptime("-1 0"), None);
    assert_eq!(parse_uptime("+1.0 0"), None);
    assert_eq!(parse_uptime("1.-5 0"), None);
    assert_eq!(parse_uptime("x"), None);
    let environ = b"PATH=/bin\0PS=web.1\0PSX=no\0EMPTY=\0PORT=5000\0";
    assert_eq!(environ_var(environ, "PS"), Some(&b"web.1"[..]));
    assert_eq!(environ_var(environ, "PORT"), Some(&b"5000"[..]));
    assert_eq!(environ_var(environ, "EMPTY"), Some(&b""[..]));
    assert_eq!(environ_var(environ, "PATHX"), None);
    assert_eq!(
        environ_var(b"XPS=web.1\0", "PS"),
        None,
        "a suffix is not the key"
    );
    assert_eq!(environ_var(b"", "PS"), None);
}

fn process(name: &str, pid: i32) -> Process {
    let units = Units {
        ticks_per_second: 100,
        page_size: 4096,
        boot_uptime: Duration::from_secs(1000),
    };
    let stat = Stat {
        pgrp: pid,
        cpu_ticks: 150,
        start_ticks: 100 * 900,
        rss_pages: 256,
    };
    Process::new(name.into(), pid, stat, units)
}

#[test]
fn figures_from_ticks_and_pages() {
    let p = process("web.1", 7);
    assert_eq!(p.uptime, Duration::from_secs(100));
    assert_eq!(p.cpu, Duration::from_millis(1500));
    assert_eq!(p.rss, 1 << 20);
}

#[test]
fn table_with_and_without_the_listener() {
    let procs = [process("web.1", 9), process("web.1", 7), process("db.1", 8)];
    let text = render_text(&procs, None);
    assert_eq!(
        text,
        "INSTANCE  PID  UPTIME  RSS      CPU\n\
         db.1      8    1m40s   1.0 MiB  1.50s\n\
         web.1     7    1m40s   1.0 MiB  1.50s\n\
         web.1     9    1m40s   1.0 MiB  1.50s\n"
    );
    let known = [
        Known {
            name: "web.1".into(),
            state: "running".into(),
            pid: Some(9),
            ready: true,
            restarts: 2,
            last_exit: Some(137),
            uptime: None,
        },
        Known {
            name: "worker.1".into(),
            state: "waiting".into(),
            pid: None,
            ready: false,
            restarts: 1,
            last_exit: Some(1),
            uptime: None,
        },
    ];
    let text = render_text(&procs, Some(&known));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "INSTANCE  PID  STATE    READY  RESTARTS  LAST EXIT  UPTIME  RSS      CPU",
            "web.1     7    -        -      -         -          1m40s   1.0 MiB  1.50s",
            "web.1     9    running  yes    2         137        1m40s   1.0 MiB  1.50s",
            "worker.1  -    waiting  no     1         1          -       -        -",
            "db.1      8    -        -      -         -          1m40s   1.0 MiB  1.50s",
        ]
    );
    let doc = json::parse(&render_json(
        &procs,
        Some(&known),
        Some("127.0.0.1:9090"),
        false,
    ))
    .expect("valid JSON");
    assert_eq!(
        doc.get("listener").and_then(Value::as_str),
        Some("127.0.0.1:9090")
    );
    let Some(Value::Array(items)) = doc.get("instances") else {
        panic!("instances")
    };
    let names: Vec<_> = items
        .iter()
        .filter_map(|i| i.get("name")?.as_str())
        .collect();
    assert_eq!(names, ["web.1", "worker.1", "db.1"]);
    let Some(Value::Array(web)) = items[0].get("processes") else {
        panic!("processes")
    };
    assert_eq!(web.len(), 2);
    assert_eq!(
        web[0].get("rss_bytes").and_then(Value::as_i64),
        Some(1048576)
    );
    let doc = json::parse(&render_json(&[], None, None, true)).expect("valid JSON");
    assert_eq!(doc.get("listener"), Some(&Value::Null));
    assert_eq!(doc.get("control"), Some(&Value::Bool(true)));
}

#[test]
fn listener_answers_that_are_not_ours() {
    for (response, why) in [
        (&b"garbage"[..], "not an HTTP response"),
        (b"HTTP/1.1 404 Not Found\r\n\r\n", "it answered 404"),
        (b"HTTP/1.1 200 OK\r\n\r\n{", "the body is not JSON"),
        (b"HTTP/1.1 200 OK\r\n\r\n{}", "the JSON has no instances"),
        (
            b"HTTP/1.1 200 OK\r\n\r\n{\"instances\":[{}]}",
            "an instance lacks a field",
        ),
    ] {
        assert_eq!(parse_known(response), Err(why.to_string()));
    }
}
