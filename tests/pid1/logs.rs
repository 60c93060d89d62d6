//! The log path (SPEC §5): whole lines under load, long lines, bytes, backpressure, a closed
//! stdout, JSON, colours and timestamps — as the reader of formation's output sees them.

use crate::harness::*;
use nix::sys::signal::Signal;
use std::collections::HashMap;
use std::time::{Duration, Instant};

const WRITER_PY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/writer.py");

/// Splits `name   | payload` into (name, mark, payload).
fn split_prefix(line: &str) -> (&str, char, &str) {
    let mark_at = line
        .find(" | ")
        .or_else(|| line.find(" + "))
        .expect("prefix");
    let mark = line[mark_at + 1..].chars().next().expect("mark");
    (line[..mark_at].trim_end(), mark, &line[mark_at + 3..])
}

#[test]
fn four_writers_lines_stay_whole_in_order_and_on_their_stream() {
    needs_pid1!();
    let (_dir, path) = toml(&format!(
        "[process.w]\nscale = 4\ncommand = \"exec python3 {WRITER_PY} $PS 50000 $PORT\"\nessential = false\n"
    ));
    let mut run = formation(&["-c", &path]).spawn();
    assert_eq!(run.wait(Duration::from_secs(60)), 0);
    let mut next: HashMap<(String, String), i64> = HashMap::new();
    let mut total = 0;
    for (stream, lines) in [("stdout", run.stdout()), ("stderr", run.stderr())] {
        for line in &lines {
            let (name, mark, payload) = split_prefix(line);
            if name == "formation" {
                continue;
            }
            assert_eq!(mark, '|', "{line}");
            let fields: Vec<&str> = payload.splitn(5, ' ').collect();
            let [id, on, seq, len, body] = fields[..] else {
                panic!("torn line {line:?}")
            };
            assert_eq!(id, name, "under the right name: {line}");
            assert_eq!(on, stream, "on the right stream: {line}");
            assert_eq!(
                len.parse::<usize>().expect("len"),
                body.len(),
                "whole: {line}"
            );
            let seq: i64 = seq.parse().expect("seq");
            let last = next.entry((id.to_string(), on.to_string())).or_insert(-1);
            assert!(seq > *last, "in order per stream: {line}");
            *last = seq;
            total += 1;
        }
    }
    assert_eq!(total, 4 * 50_000, "every line arrived");
}

#[test]
fn a_100_kb_line_comes_back_from_its_pieces_and_a_last_line_without_newline_is_kept() {
    needs_pid1!();
    let long: String = (0..100_000)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    let dir = TempDir::new("long");
    dir.write("long.txt", &format!("{long}\nlast words"));
    let path = dir.write("Procfile", "p: cat long.txt\n");
    let mut run = formation(&["-f", s(&path)]).spawn();
    assert_eq!(run.wait(SOON), 0);
    let out = run.stdout();
    let pieces: Vec<(char, &str)> = out
        .iter()
        .map(|l| split_prefix(l))
        .map(|(_, m, p)| (m, p))
        .collect();
    assert_eq!(
        pieces.len(),
        8,
        "100,000 bytes = 6 × 16 KiB + 1,696, then the last line"
    );
    assert!(
        pieces[..6]
            .iter()
            .all(|(m, p)| *m == '+' && p.len() == 16 * 1024)
    );
    assert_eq!(pieces[6].0, '|');
    let joined: String = pieces[..7].iter().map(|(_, p)| *p).collect();
    assert!(joined == long, "the pieces join back to the line");
    assert_eq!(pieces[7], ('|', "last words"));
}

#[test]
fn bytes_pass_through_unchanged() {
    needs_pid1!();
    let dir = TempDir::new("bytes");
    let data: &[u8] = b"nul\x00 cr\r esc\x1b[31m high\xff\xfe\x80 end\n";
    std::fs::write(dir.path().join("data.bin"), data).expect("write");
    let path = dir.write("Procfile", "b: cat data.bin\n");
    let mut run = formation(&["-f", s(&path)]).raw_stdout().spawn();
    assert_eq!(run.wait(SOON), 0);
    let mut want = b"b.1       | ".to_vec();
    want.extend_from_slice(data);
    assert_eq!(run.raw_stdout(), want);
}

#[test]
fn a_paused_reader_loses_no_line_memory_stays_bounded_and_sigterm_still_works() {
    needs_pid1!();
    // Nothing reads formation's stdout until the end; every writer's pipe is full.
    let (_dir, mut run) = stuck_flood("20s");
    let pid = run.pid();
    let rss_blocked = rss_kib(pid);
    run.signal(Signal::SIGTERM);
    let term = Instant::now();
    for n in 1..=4 {
        run.wait_stderr(&format!("w.{n} total"));
    }
    assert!(
        term.elapsed() < Duration::from_secs(3),
        "the stop went on while stdout was stuck"
    );
    assert!(run.running(), "it waits for the reader, within the grace");
    let rss_later = rss_kib(pid);
    run.release_stdout();
    assert_eq!(run.wait(SOON), 0);
    assert!(term.elapsed() < Duration::from_secs(20), "within the grace");
    assert!(
        rss_blocked.max(rss_later) < RSS_BOUND_KIB,
        "RSS {rss_blocked} / {rss_later} KiB"
    );
    let totals = assert_flood_complete(&run);
    // The writers blocked: more was written than the reader's pipe alone could hold.
    let bytes: usize = totals.values().sum::<usize>() * 88;
    assert!(
        bytes > 2 * 65536,
        "it was a flood that filled the pipes: {totals:?}"
    );
}

#[test]
fn a_closed_stdout_does_not_stop_supervision_or_restarts() {
    needs_pid1!();
    // Restarts every 50 ms, and no giving up while the test watches.
    let (_dir, path) = toml(
        "[process.chatty]\ncommand = \"sh -c 'echo line; echo more; exit 1'\"\n\
         restart = \"always\"\nbackoff = { initial = \"50ms\", max = \"50ms\", restarts = 1000 }\n",
    );
    let mut run = formation(&["-c", &path])
        .close_stdout_after_a_line()
        .spawn();
    run.wait_stdout("chatty.1  | line");
    // Restarts go on after the reader left.
    run.wait_stderr_count("chatty.1 started", 4);
    assert!(run.running());
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0, "no SIGPIPE was forwarded to anyone");
    assert!(!run.stderr().iter().any(|l| l.contains("SIGPIPE")));
}

#[test]
fn json_merge_keeps_a_childs_object_byte_for_byte_and_a_clash_goes_under_formation_proc() {
    needs_pid1!();
    let dir = TempDir::new("merge");
    let objects = concat!(
        "{\"level\":\"info\",\"msg\":\"hi\", \"n\": 1.50, \"tags\":[ \"a\" ]}\n",
        "{\"proc\":\"mine\",\"msg\":\"clash\"}\n",
        "{\"msg\":\"not closed\"\n",
        "plain text\n",
    );
    std::fs::write(dir.path().join("out.txt"), objects).expect("write");
    let path = dir.write("Procfile", "app: cat out.txt\n");
    let (status, out, _) = formation(&["-f", s(&path), "--log-format", "json"]).output();
    assert_eq!(status, 0);
    assert_eq!(out.len(), 4, "{out:?}");
    let ours = |proc_key: &str| format!(r#"","{proc_key}":"app.1","stream":"stdout","#);
    // The time varies; everything around it is exact.
    let (head, rest) = out[0].split_at(9);
    assert_eq!(head, "{\"time\":\"");
    assert_eq!(
        &rest[24..],
        ours("proc") + r#""level":"info","msg":"hi", "n": 1.50, "tags":[ "a" ]}"#,
        "the child's bytes kept, in order, after formation's three fields"
    );
    assert_eq!(
        &out[1][33..],
        ours("formation_proc") + r#""proc":"mine","msg":"clash"}"#
    );
    for (line, text) in [
        (&out[2], "{\"msg\":\"not closed\""),
        (&out[3], "plain text"),
    ] {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSON");
        assert_eq!((&v["line"], &v["proc"]), (&text.into(), &"app.1".into()));
    }
}

#[test]
fn json_lines_parse_and_round_trip_the_bytes() {
    needs_pid1!();
    let dir = TempDir::new("json");
    let long: String = "0123456789".repeat(2000);
    let text = format!("he said \"hi\"\t\\ ünï\n{long}\nctl\x01\x1f\n");
    std::fs::write(dir.path().join("out.txt"), &text).expect("write");
    std::fs::write(dir.path().join("bad.bin"), b"bad \xff\xfe utf-8\n").expect("write");
    // `j` (essential: it ends the run) waits at the gate until `bad` has written its line.
    dir.fifo("gate");
    let path = dir.write(
        "Procfile",
        "j: sh -c 'cat out.txt; read x < gate'\nbad: sh -c 'cat bad.bin >&2; echo > gate; exec sleep 100'\n",
    );
    let mut run = formation(&["-f", s(&path), "--log-format", "json"]).spawn();
    assert_eq!(run.wait(SOON), 0);
    let parse = |l: &String| -> serde_json::Value {
        serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))
    };
    let out: Vec<serde_json::Value> = run.stdout().iter().map(parse).collect();
    let err: Vec<serde_json::Value> = run.stderr().iter().map(parse).collect();
    let mut joined = String::new();
    for v in &out {
        assert_eq!(
            (v["proc"].as_str(), v["stream"].as_str()),
            (Some("j.1"), Some("stdout"))
        );
        assert_eq!(v["time"].as_str().map(str::len), Some(24));
        joined.push_str(v["line"].as_str().expect("line"));
        if v.get("partial").is_none() {
            joined.push('\n');
        } else {
            assert_eq!(v["partial"], true);
        }
    }
    assert_eq!(joined, text, "the lines round-trip");
    assert_eq!(
        out.len(),
        4,
        "three lines, the 20,000-byte one in two pieces"
    );
    let bad = err
        .iter()
        .find(|v| v["proc"] == "bad.1")
        .expect("bad.1 line");
    assert_eq!(
        (bad["stream"].as_str(), bad["line"].as_str()),
        (Some("stderr"), Some("bad \u{FFFD}\u{FFFD} utf-8"))
    );
    let own = err
        .iter()
        .find(|v| v["proc"] == "formation")
        .expect("own line");
    assert_eq!(own["stream"], "stderr");
    assert!(own["line"].as_str().expect("line").contains("started"));
}

#[test]
fn timestamps_prefix_each_line() {
    let (_dir, path) = toml("[process.t]\ncommand = \"echo stamped\"\n");
    let (status, stdout, _) = formation(&["-c", &path, "--timestamps"])
        .not_pid1()
        .output();
    assert_eq!(status, 0);
    let line = &stdout[0];
    let (time, rest) = line.split_at(24);
    assert_eq!(rest, " t.1       | stamped");
    let shape: String = time
        .chars()
        .map(|c| if c.is_ascii_digit() { 'd' } else { c })
        .collect();
    assert_eq!(shape, "dddd-dd-ddTdd:dd:dd.dddZ", "{line}");
}

#[test]
fn colour_follows_the_flag_no_color_and_the_terminal() {
    let (_dir, path) = toml("[process.c]\ncommand = \"sh -c 'echo ready; echo painted'\"\n");
    let colored = |stdout: &[String]| stdout.iter().any(|l| l.contains("\x1b[36mc.1"));
    let (_, out, _) = formation(&["-c", &path, "--color", "always"])
        .not_pid1()
        .output();
    assert!(colored(&out), "{out:?}");
    let (_, out, _) = formation(&["-c", &path, "--color", "always"])
        .env("NO_COLOR", "1")
        .not_pid1()
        .output();
    assert!(colored(&out), "always beats NO_COLOR");
    let (_, out, _) = formation(&["-c", &path]).not_pid1().output();
    assert!(!colored(&out), "auto on a pipe: no colour");

    let (_, tty) = on_a_terminal(&format!("{BIN} -c {path}"), b"");
    assert!(
        tty.contains("\x1b[36mc.1"),
        "auto on a terminal: colour {tty:?}"
    );
    let (_, tty) = on_a_terminal(&format!("env NO_COLOR=1 {BIN} -c {path}"), b"");
    assert!(
        !tty.contains("\x1b[36m"),
        "NO_COLOR turns auto off: {tty:?}"
    );
    let (_, tty) = on_a_terminal(&format!("{BIN} -c {path} --color never"), b"");
    assert!(!tty.contains("\x1b["), "never: {tty:?}");
}

#[test]
fn a_stop_with_stdout_blocked_for_good_ends_within_its_worst_case_and_counts_what_it_dropped() {
    needs_pid1!();
    // Nobody ever reads formation's stdout: the stop must still end within the graces (the
    // writers' 2 s, then the 2 s sweep), not wait for a reader, and say what it dropped. (A
    // grace of 300 ms was too short for four Python writers to handle SIGTERM on a loaded
    // machine: they were killed, exit 137.)
    let (_dir, mut run) = stuck_flood("2s");
    run.signal(Signal::SIGTERM);
    let asked = Instant::now();
    wait_until("formation has exited", &mut || !run.running());
    let took = asked.elapsed();
    // Only now does a reader come (to let the harness collect the output it holds).
    run.release_stdout();
    let status = run.wait(SOON);
    assert!(
        took < Duration::from_secs(6),
        "the worst case is 4 s, took {took:?}"
    );
    assert_eq!(status, 0, "the writers exit on SIGTERM within their grace");
    let err = run.stderr();
    assert!(
        err.iter()
            .any(|l| l.contains("output line(s) dropped: the output was blocked")),
        "{err:#?}"
    );
}

/// SPEC §4 "lines before their exit": an instance's last lines come before formation's line
/// about its end, even when formation learns of the exit and of the lines in the same wake-up
/// (it reads signals first). formation is stopped while the worker writes its last line and
/// exits, so both are waiting when it continues.
#[test]
fn an_instance_last_lines_come_before_its_exit_line() {
    needs_pid1!();
    let dir = TempDir::new("last-lines");
    let gate = dir.fifo("gate");
    let path = dir.write(
        "formation.toml",
        &format!(
            "[process.worker]\nessential = false\n\
             command = \"echo ready; read x < {}; echo 'worker crashed' >&2; exit 1\"\n\
             [process.idle]\ncommand = \"sleep 1000\"\n",
            s(&gate)
        ),
    );
    let mut run = formation(&["-c", s(&path)]).spawn();
    run.wait_stdout("worker.1  | ready");
    let pid = run.pid();
    let worker = children(pid)
        .into_iter()
        .find(|c| {
            std::fs::read_to_string(format!("/proc/{c}/cmdline"))
                .is_ok_and(|l| l.contains("worker crashed"))
        })
        .expect("the worker's pid");
    run.signal(Signal::SIGSTOP);
    open_gate(&gate);
    wait_until("the worker has exited", &mut || {
        std::fs::read_to_string(format!("/proc/{worker}/stat")).is_ok_and(|stat| {
            stat.rsplit(')')
                .next()
                .is_some_and(|s| s.trim_start().starts_with('Z'))
        })
    });
    run.signal(Signal::SIGCONT);
    run.wait_stderr("worker.1 exited with code 1");
    let stderr = run.stderr();
    let at = |text: &str| stderr.iter().position(|l| l.contains(text));
    assert!(
        at("worker.1  | worker crashed") < at("worker.1 exited with code 1")
            && at("worker crashed").is_some(),
        "{stderr:#?}"
    );
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0);
}

/// SPEC §5: names padded to the longest. A scale up that adds a longer name (`consumer.10`,
/// one column wider than `consumer.1`) re-pads every prefix, formation's own too, so the
/// lines written from then on share one column again (docker compose does the same).
#[test]
fn a_longer_name_from_a_scale_up_re_pads_every_prefix() {
    needs_pid1!();
    let config = "[process.consumer]\ncommand = \"sh -c 'echo up; exec sleep 100'\"\n";
    let (_dir, mut run) = started(config, &[], "consumer.1 started");
    run.wait_stdout("consumer.1 | up");
    crate::control::ok(&run, &["scale", "consumer=10", "--wait"]);
    run.wait_stdout("consumer.10 | up");
    crate::control::ok(&run, &["restart", "consumer.1", "--wait"]);
    run.wait_stdout("consumer.1  | up");
    run.wait_stderr("formation   | control: restart consumer.1");
    assert_eq!(run.term(), 0);
}
