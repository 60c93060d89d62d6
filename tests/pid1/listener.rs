//! The status listener (SPEC §9) and `formation status` (§2.1), with formation as real PID 1:
//! what each route answers, what `status` reads from /proc inside the container, and hostile
//! clients that must not stall the loop, lose a line, delay a stop or grow memory.

use crate::harness::*;
use nix::sys::signal::Signal;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A loopback port that was free a moment ago.
fn free_port() -> u16 {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    socket.local_addr().expect("addr").port()
}

/// The address in formation's `status listener on http://ADDR` line.
fn listener_addr(run: &Run) -> SocketAddr {
    run.wait_stderr("status listener on http://");
    run.stderr()
        .iter()
        .find_map(|l| l.split_once("status listener on http://"))
        .and_then(|(_, addr)| addr.trim().parse().ok())
        .expect("an address")
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, SOON).expect("connect");
    stream.set_read_timeout(Some(SOON)).expect("timeout");
    stream.set_write_timeout(Some(SOON)).expect("timeout");
    stream
}

/// Sends `request` and reads the whole answer: (status code, headers and body as text);
/// code 0 when the connection closed with no answer.
fn exchange(addr: SocketAddr, request: &[u8]) -> (u16, String) {
    let mut stream = connect(addr);
    let _ = stream.write_all(request);
    read_answer(&mut stream)
}

fn read_answer(stream: &mut TcpStream) -> (u16, String) {
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let code = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|t| t.get(..3)?.parse().ok())
        .unwrap_or(0);
    (code, text)
}

fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let (code, text) = exchange(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
    );
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string());
    (code, body.unwrap_or_default())
}

/// The value of the Prometheus sample `series` (name and labels, as written).
fn sample(metrics: &str, series: &str) -> Option<u64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Runs `formation status ARGS` inside formation's pid and mount namespaces, as
/// `docker exec` would: (exit status, stdout).
fn status_inside(run: &Run, args: &[&str]) -> (i32, String) {
    let all: Vec<&str> = ["status"].iter().chain(args).copied().collect();
    let (code, out, _) = crate::control::inside(run, &all);
    (code, out)
}

#[test]
fn routes_answer_from_the_table_and_status_reads_proc_inside_the_container() {
    needs_pid1!();
    let port = free_port();
    let (_dir, path) = toml(
        "[env]\nSECRET = \"hunter2\"\n\
         [process.web]\ncommand = \"sh -c 'echo a; echo b; echo c >&2; exec sleep 100'\"\n\
         [process.flaky]\ncommand = \"sh -c 'exit 3'\"\nrestart = \"always\"\n\
         backoff = { initial = \"60s\", max = \"60s\" }\n",
    );
    // Without the control socket: `status` reads /proc and asks the listener.
    let mut run = formation(&["-c", &path, "--control", "off"])
        .env("FORMATION_LISTEN", &format!("127.0.0.1:{port}"))
        .spawn();
    let addr = listener_addr(&run);
    assert_eq!(addr.to_string(), format!("127.0.0.1:{port}"));
    run.wait_stderr("flaky.1 exited with code 3; restarting in 1m");
    run.wait_stdout("b");
    run.wait_stderr("| c");

    // flaky.1 is essential and waits for its restart: not healthy, and says why.
    let (code, body) = get(addr, "/health");
    assert_eq!(code, 503, "{body}");
    assert_eq!(body, "flaky.1 waiting (last: exited with code 3)\n");

    let (code, body) = get(addr, "/status");
    assert_eq!(code, 200);
    assert!(
        !body.contains("hunter2") && !body.contains("sleep") && !body.contains("echo"),
        "no env values or command lines: {body}"
    );
    let doc: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(doc["stopping"], false);
    let web = &doc["instances"][0];
    assert_eq!(
        (&web["name"], &web["type"], &web["state"], &web["ready"]),
        (
            &"web.1".into(),
            &"web".into(),
            &"running".into(),
            &true.into()
        )
    );
    assert!(web["pid"].as_i64().is_some_and(|p| p > 1), "{web}");
    assert!(web["uptime"].as_f64().is_some_and(|u| u >= 0.0), "{web}");
    let flaky = &doc["instances"][1];
    assert_eq!(flaky["state"], "waiting");
    assert_eq!(flaky["pid"], serde_json::Value::Null);
    assert_eq!(flaky["last_exit"]["code"], 3);
    assert_eq!(flaky["restarts"], 1);

    let (code, metrics) = get(addr, "/metrics");
    assert_eq!(code, 200);
    let series = |name: &str, labels: &str| sample(&metrics, &format!("{name}{{{labels}}}"));
    let web = "instance=\"web.1\",type=\"web\"";
    let flaky = "instance=\"flaky.1\",type=\"flaky\"";
    assert_eq!(series("formation_instance_up", web), Some(1));
    assert_eq!(series("formation_instance_up", flaky), Some(0));
    assert_eq!(series("formation_instance_ready", web), Some(1));
    assert_eq!(series("formation_instance_restarts_total", flaky), Some(1));
    assert_eq!(series("formation_instance_last_exit_code", flaky), Some(3));
    assert_eq!(series("formation_instance_last_exit_code", web), None);
    let stdout = "stream=\"stdout\"";
    assert_eq!(series("formation_output_lines_total", stdout), Some(2));
    assert_eq!(series("formation_output_bytes_total", stdout), Some(4));
    assert_eq!(
        series("formation_output_lines_total", "stream=\"stderr\""),
        Some(1)
    );

    // `formation status` finds the listener in PID 1's environment.
    let (code, text) = status_inside(&run, &[]);
    assert_eq!(code, 0, "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("INSTANCE  PID"), "{text}");
    let web_row: Vec<&str> = lines
        .iter()
        .find(|l| l.starts_with("web.1"))
        .expect("web.1")
        .split_whitespace()
        .collect();
    assert_eq!(&web_row[1..5], ["2", "running", "yes", "0"], "{text}");
    assert!(
        lines
            .iter()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()[..5]
                == ["flaky.1", "-", "waiting", "no", "1"]),
        "{text}"
    );
    let (code, json) = status_inside(&run, &["--json"]);
    assert_eq!(code, 0, "{json}");
    let doc: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(doc["listener"], format!("127.0.0.1:{port}"));
    let web = &doc["instances"][0];
    assert_eq!(web["name"], "web.1");
    assert_eq!(web["processes"][0]["pid"], 2, "{json}");
    assert!(
        web["processes"][0]["rss_bytes"]
            .as_u64()
            .is_some_and(|r| r > 0)
    );

    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0);
}

#[test]
fn status_without_a_listener_reads_proc_only() {
    needs_pid1!();
    let dir = TempDir::new("status");
    let path = dir.write("Procfile", "a: sleep 100\nb: sh -c 'sleep 100; true'\n");
    let mut run = formation(&["-f", s(&path)])
        .env("FORMATION_CONTROL", "off")
        .spawn();
    run.wait_stderr("b.1 started");
    // b.1's shell forks its `sleep` a moment after it started: ask until both are there.
    let mut answer = status_inside(&run, &[]);
    wait_until("b.1's shell and its sleep both show", &mut || {
        answer = status_inside(&run, &[]);
        answer.1.lines().filter(|l| l.starts_with("b.1 ")).count() >= 2
    });
    let (code, text) = answer;
    assert_eq!(code, 0, "{text}");
    let rows: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["INSTANCE", "PID", "UPTIME", "RSS", "CPU"]);
    assert_eq!(rows[1][..2], ["a.1", "2"], "{text}");
    // b.1's shells and its sleep all carry PS=b.1: a row each.
    assert!(rows.iter().filter(|r| r[0] == "b.1").count() >= 2, "{text}");
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0);
}

/// SPEC §9: `/health` is about essential non-oneshot instances. A Procfile's `release`, an
/// essential oneshot, once completed leaves it at 200 while web runs (it stayed 503 for good).
#[test]
fn a_completed_release_leaves_health_ok() {
    needs_pid1!();
    let dir = TempDir::new("health-release");
    let procfile = dir.write("Procfile", "release: true\nweb: sleep 100\n");
    let mut run = formation(&["-f", s(&procfile), "--listen", "127.0.0.1:0"]).spawn();
    let addr = listener_addr(&run);
    run.wait_stderr("web.1 started");
    assert_eq!(get(addr, "/health"), (200, "ok\n".to_string()));
    assert_eq!(run.term(), 0);
}

#[test]
fn an_address_in_use_is_a_start_up_error_and_ipv6_loopback_serves() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let (code, _, err) = formation(&["--listen", &addr, "--", "true"])
        .not_pid1()
        .output();
    assert_eq!(code, 2);
    assert!(
        err.iter()
            .any(|l| l.contains(&format!("cannot listen on {addr}"))),
        "{err:?}"
    );

    let mut run = formation(&["--listen", "[::1]:0", "--", "sleep", "100"])
        .env("FORMATION_LOG", "info")
        .not_pid1()
        .spawn();
    let addr = listener_addr(&run);
    assert!(addr.is_ipv6());
    assert_eq!(get(addr, "/health"), (200, "ok\n".to_string()));
    run.signal(Signal::SIGTERM);
    assert_eq!(
        run.wait(SOON),
        143,
        "single-command mode: the command's status"
    );
}

/// Reads until EOF or error; how long that took from `since`.
fn closed_after(stream: &mut TcpStream, since: Instant) -> Duration {
    let mut sink = [0u8; 1024];
    loop {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => return since.elapsed(),
            Ok(_) => {}
        }
    }
}

#[test]
fn hostile_clients_during_a_log_flood_lose_no_line_delay_no_stop_and_stay_bounded() {
    needs_pid1!();
    let (_dir, run) = flowing_flood(&["--listen", "127.0.0.1:0"]);
    let addr = listener_addr(&run);
    let pid = run.pid();
    let peak = RssPeak::start(pid);

    // Phase 1: a client sending a byte a second, then 200 that send nothing. Only 64 fit:
    // the rest are closed at once; the others at the 5 s deadline, the trickle included.
    let start = Instant::now();
    let mut trickle = connect(addr);
    let trickler = {
        let mut writer = trickle.try_clone().expect("clone");
        std::thread::spawn(move || {
            for byte in b"GET /health HTTP/1.1\r\n\r\n" {
                if writer.write_all(&[*byte]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        })
    };
    let mut silent: Vec<TcpStream> = (0..200).map(|_| connect(addr)).collect();
    // Wait (bounded) until the loop has turned away every client it cannot hold, asking each
    // socket that still looks open whether it has been closed since.
    let mut closed = vec![false; silent.len()];
    let mut at_once = 0;
    wait_until("the loop closed the clients over its limit", &mut || {
        for (s, closed) in silent.iter_mut().zip(&mut closed) {
            if *closed {
                continue;
            }
            s.set_read_timeout(Some(Duration::from_millis(1)))
                .expect("timeout");
            let open = matches!(s.read(&mut [0u8; 1]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
            *closed = !open;
        }
        at_once = closed.iter().filter(|c| **c).count();
        at_once >= 200 - 64
    });
    assert!(start.elapsed() < Duration::from_secs(4), "slow set-up");
    assert!(
        (200 - 64..=200 - 62).contains(&at_once),
        "{at_once} of 200 silent clients closed at once"
    );
    let took = closed_after(&mut trickle, start);
    assert!(
        took >= Duration::from_millis(4500) && took < Duration::from_secs(8),
        "the byte-a-second client was closed after {took:?}"
    );
    for s in &mut silent {
        s.set_read_timeout(Some(SOON)).expect("timeout");
        let took = closed_after(s, start);
        assert!(
            took < Duration::from_secs(8),
            "a silent client lasted {took:?}"
        );
    }
    let _ = trickler.join();
    drop(silent);

    // Phase 2, all at once: a 1 MiB head, garbage, a wrong method, half-closed sockets, a
    // client that never reads, and plain requests.
    let huge = std::thread::spawn(move || {
        let mut stream = connect(addr);
        let mut head = b"GET /health HTTP/1.1\r\nX-Big: ".to_vec();
        head.resize(1 << 20, b'a');
        let _ = stream.write_all(&head);
        read_answer(&mut stream).0
    });
    let lazy = {
        let mut stream = connect(addr);
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\n\r\n")
            .expect("write");
        stream
    };
    let garbage = exchange(
        addr,
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    )
    .0;
    let post = exchange(addr, b"POST /health HTTP/1.1\r\nContent-Length: 0\r\n\r\n").0;
    let half = {
        let mut stream = connect(addr);
        stream
            .write_all(b"GET /health HTTP/1.1\r\n\r\n")
            .expect("write");
        stream.shutdown(Shutdown::Write).expect("shutdown");
        read_answer(&mut stream).0
    };
    let empty_half = {
        let mut stream = connect(addr);
        stream.shutdown(Shutdown::Write).expect("shutdown");
        let since = Instant::now();
        let (code, _) = read_answer(&mut stream);
        (code, since.elapsed() < Duration::from_secs(2))
    };
    assert_eq!(huge.join().expect("thread"), 431);
    assert_eq!(garbage, 400);
    assert_eq!(post, 405);
    assert_eq!(half, 200);
    assert_eq!(
        empty_half,
        (0, true),
        "nothing sent: closed at once, no answer"
    );
    let (code, metrics) = get(addr, "/metrics");
    assert_eq!(code, 200);
    let lines = sample(&metrics, "formation_output_lines_total{stream=\"stdout\"}");
    assert!(lines.is_some_and(|n| n > 0), "{metrics}");
    drop(lazy);

    // Phase 3: a stop while a slow client is still connected ends within the grace.
    let mut slow = connect(addr);
    slow.write_all(b"GET /st").expect("write");
    let stopped = Instant::now();
    let mut run = run;
    run.signal(Signal::SIGTERM);
    for n in 1..=4 {
        run.wait_stderr(&format!("w.{n} total"));
    }
    assert_eq!(run.wait(Duration::from_secs(5)), 0, "within the grace");
    assert!(stopped.elapsed() < Duration::from_secs(5));
    let peak = peak.stop();
    assert!(peak < RSS_BOUND_KIB, "RSS peak {peak} KiB");
    assert_flood_complete(&run);
    drop(slow);
}
