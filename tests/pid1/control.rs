//! The control socket (SPEC §10) and `formation status` over it (§2.1), with formation as
//! real PID 1: the client run inside formation's pid and mount namespaces as `docker exec`
//! would, the two refusals (another uid; a peer outside the pid namespace, which shares the
//! network namespace and so reaches the abstract name), and hostile clients that must not
//! delay output, reaping or a stop.

use crate::harness::*;
use nix::sys::signal::Signal;
use std::io::{Read, Write};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixStream};
use std::process::Command;

/// Runs `formation ARGS` inside formation's pid and mount namespaces, through `via` (e.g.
/// `setpriv …`) when given: (exit status, stdout, stderr).
pub(crate) fn inside_via(run: &Run, via: &[&str], args: &[&str]) -> (i32, String, String) {
    let out = enter(run)
        .args(via)
        .arg(BIN)
        .args(args)
        .env_remove("FORMATION_LISTEN")
        .output()
        .expect("nsenter");
    (
        shell_status(out.status),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A command that enters formation's pid and mount namespaces, as `docker exec` would, to
/// run what its arguments name.
fn enter(run: &Run) -> Command {
    let mut nsenter = Command::new("nsenter");
    let pid = run.pid().to_string();
    nsenter.args(["--target", &pid, "--pid", "--mount"]);
    nsenter
}

pub(crate) fn inside(run: &Run, args: &[&str]) -> (i32, String, String) {
    inside_via(run, &[], args)
}

/// `formation ARGS` inside, which must succeed (exit 0): its stdout.
pub(crate) fn ok(run: &Run, args: &[&str]) -> String {
    let (code, out, err) = inside(run, args);
    assert_eq!(code, 0, "{args:?}: {out}{err}");
    out
}

/// One `web` that sleeps.
const WEB: &str = "[process.web]\ncommand = \"sleep 100\"\n";

/// The abstract address of formation's control socket, computed from outside: its pid
/// namespace's inode.
fn control_address(run: &Run) -> SocketAddr {
    use std::os::unix::fs::MetadataExt;
    let ino = std::fs::metadata(format!("/proc/{}/ns/pid", run.pid()))
        .expect("formation's pid namespace")
        .ino();
    SocketAddr::from_abstract_name(format!("formation/{ino}").as_bytes()).expect("address")
}

/// The rows of `status`'s table, split into words.
fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect()
}

#[test]
fn status_is_the_tables_and_lists_other_users_and_programs_that_rewrite_their_environment() {
    needs_pid1!();
    let (_dir, mut run) = started(
        "[process.web]\ncommand = \"sleep 100\"\n\
         [process.other]\ncommand = \"sleep 100\"\nuser = \"nobody\"\n\
         [process.bare]\ncommand = \"env -i sleep 100\"\n\
         [process.flaky]\ncommand = \"sh -c 'exit 3'\"\nrestart = \"always\"\n\
         backoff = { initial = \"60s\", max = \"60s\" }\n",
        &[],
        "flaky.1 exited with code 3",
    );
    run.wait_stderr("bare.1 started");
    // `env -i` execs its sleep a moment after bare.1 started: ask until it has.
    let mut answer = inside(&run, &["status"]);
    wait_until("bare.1's sleep has replaced env", &mut || {
        let comm = |pid: &str| std::fs::read_to_string(format!("/proc/{pid}/comm"));
        answer = inside(&run, &["status"]);
        let Some(row) = rows(&answer.1).into_iter().find(|r| r[0] == "bare.1") else {
            return false;
        };
        let host = children(run.pid());
        // The host pid of bare.1 is one of formation's children whose comm is sleep and
        // whose environ is empty.
        host.iter().any(|p| {
            comm(&p.to_string()).is_ok_and(|c| c.trim() == "sleep")
                && std::fs::read(format!("/proc/{p}/environ")).is_ok_and(|e| e.is_empty())
        }) && row[1] != "-"
    });
    let (code, text, err) = answer;
    assert_eq!(code, 0, "{text}{err}");
    let rows = rows(&text);
    assert_eq!(
        rows[0],
        [
            "INSTANCE", "PID", "STATE", "READY", "RESTARTS", "LAST", "EXIT", "UPTIME", "RSS", "CPU"
        ]
    );
    let row = |name: &str| {
        rows.iter()
            .find(|r| r[0] == name)
            .unwrap_or_else(|| panic!("no {name} in\n{text}"))
            .clone()
    };
    assert_eq!(row("web.1")[1..5], ["2", "running", "yes", "0"], "{text}");
    // Another user's instance has its pid, and its group's figures.
    let other = row("other.1");
    assert!(other[1].parse::<i32>().is_ok_and(|p| p > 1), "{text}");
    assert_ne!(other[8], "-", "RSS of nobody's sleep: {text}");
    // A program whose environment has no `PS` is still there, found by its group.
    let bare = row("bare.1");
    assert!(bare[1].parse::<i32>().is_ok_and(|p| p > 1), "{text}");
    assert_ne!(bare[8], "-", "{text}");
    assert_eq!(
        row("flaky.1")[1..6],
        ["-", "waiting", "no", "1", "3"],
        "{text}"
    );
    assert!(err.is_empty(), "nothing on stderr: {err}");

    let json = ok(&run, &["status", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(doc["control"], true);
    let bare = doc["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .find(|i| i["name"] == "bare.1")
        .expect("bare.1");
    assert!(
        bare["processes"][0]["rss_bytes"]
            .as_u64()
            .is_some_and(|r| r > 0),
        "{json}"
    );
    // Asking for the table is no change: not logged at info.
    run.assert_no_stderr("control: status");

    assert_eq!(run.term(), 0);
}

#[test]
fn without_a_socket_status_says_so_and_reads_proc() {
    needs_pid1!();
    let (_dir, mut run) = started(WEB, &["--control", "off"], "web.1 started");
    let (code, text, err) = inside(&run, &["status"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(rows(&text)[0], ["INSTANCE", "PID", "UPTIME", "RSS", "CPU"]);
    assert_eq!(rows(&text)[1][..2], ["web.1", "2"], "{text}");
    assert_eq!(err.lines().count(), 1, "one line says so: {err}");
    assert!(err.contains("showing what /proc tells"), "{err}");
    let (code, _, err) = inside(&run, &["restart", "web"]);
    assert_eq!(code, 1, "nothing to ask: {err}");
    assert!(
        err.contains("nothing listens on the control socket"),
        "{err}"
    );
    assert!(
        !std::fs::read_to_string("/proc/net/unix")
            .expect("/proc/net/unix")
            .contains(&format!("@formation/{}", control_ino(&run))),
        "no socket"
    );
    assert_eq!(run.term(), 0);
}

fn control_ino(run: &Run) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/proc/{}/ns/pid", run.pid()))
        .expect("ns")
        .ino()
}

#[test]
fn the_socket_is_named_after_the_pid_namespace_and_usage_errors_exit_2() {
    needs_pid1!();
    let (_dir, mut run) = started(WEB, &[], "web.1 started");
    let unix = std::fs::read_to_string("/proc/net/unix").expect("/proc/net/unix");
    let name = format!("@formation/{}", control_ino(&run));
    assert!(
        unix.lines().any(|l| l.ends_with(&format!(" {name}"))),
        "{name} in /proc/net/unix"
    );
    for (args, want) in [
        (&["restart"][..], "restart needs a target"),
        (&["scale", "web"], "is not of the form TYPE=N"),
        (&["signal", "NOPE", "web"], "\"NOPE\" is not a signal"),
        (&["reload", "--json"], "reload takes no --json"),
    ] {
        let (code, out, err) = inside(&run, args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert_eq!(err.lines().count(), 1, "one line, no usage text: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    assert_eq!(run.term(), 0);
}

#[test]
fn another_uid_and_a_peer_outside_the_pid_namespace_are_refused() {
    needs_pid1!();
    let (_dir, mut run) = started(WEB, &[], "web.1 started");

    // Another uid, inside the container.
    let setpriv = [
        "setpriv",
        "--reuid",
        "1000",
        "--regid",
        "1000",
        "--clear-groups",
    ];
    let (code, out, err) = inside_via(&run, &setpriv, &["signal", "KILL", "web"]);
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(err.trim(), "error: permission denied");
    run.wait_stderr("control: refused a client with uid 1000");
    // `status` too: a refusal is an answer, not a missing socket to fall back from (it
    // showed an empty /proc table and exited 0; found with `docker exec --user 1000`).
    let (code, out, err) = inside_via(&run, &setpriv, &["status"]);
    assert_eq!((code, out.as_str()), (1, ""), "{out}{err}");
    assert_eq!(err.trim(), "error: permission denied");

    // A peer outside the pid namespace (this test, as root): same network namespace, so it
    // reaches the abstract name, and is refused before its request is read.
    let mut stream = UnixStream::connect_addr(&control_address(&run)).expect("connect");
    stream.set_read_timeout(Some(SOON)).expect("timeout");
    let _ = stream.write_all(b"signal\tKILL\tweb\n");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert_eq!(answer, "error: permission denied\n");
    run.wait_stderr(
        "control: refused a client with uid 0: it is outside formation's pid namespace",
    );

    // Nothing was done: web.1 still runs, nothing was asked of it.
    let text = ok(&run, &["status"]);
    assert_eq!(rows(&text)[1][..3], ["web.1", "2", "running"], "{text}");
    run.assert_no_stderr("control: signal");
    assert_eq!(run.term(), 0);
}

#[test]
fn a_second_formation_in_the_namespace_runs_without_control() {
    needs_pid1!();
    let (dir, path) = toml(WEB);
    let log = dir.path().join("first.log");
    // A first formation (not PID 1) holds the name before PID 1 starts.
    let prelude = format!(
        "{BIN} -c {path} >{log} 2>&1 &\n\
         name=\"@formation/$(stat -L -c %i /proc/self/ns/pid)\"\n\
         until grep -q \"$name\" /proc/net/unix; do sleep 0.01; done",
        log = s(&log)
    );
    let mut run = formation(&["-c", &path]).prelude(&prelude).spawn();
    run.wait_stderr("web.1 started");
    run.wait_stderr("no control socket (");
    let warn = run
        .stderr()
        .into_iter()
        .find(|l| l.contains("no control socket"))
        .expect("the warning");
    assert!(warn.contains("in use"), "{warn}");
    // The first one answers; PID 1 goes on without control and stops as ever.
    let text = ok(&run, &["status"]);
    assert_eq!(rows(&text)[1][0], "web.1", "{text}");
    assert_eq!(run.term(), 0);
}

/// Pids of `status`'s rows: instance → pid ("-" when it has none).
pub(crate) fn pids(run: &Run) -> std::collections::HashMap<String, String> {
    let text = ok(run, &["status"]);
    rows(&text)
        .into_iter()
        .skip(1)
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect()
}

pub(crate) fn state(run: &Run, name: &str) -> String {
    let (_, text, _) = inside(run, &["status"]);
    rows(&text)
        .into_iter()
        .find(|r| r[0] == name)
        .map(|r| r[2].clone())
        .unwrap_or_default()
}

#[test]
fn restart_rolls_one_instance_at_a_time_and_wait_streams_until_each_is_ready() {
    needs_pid1!();
    let (_dir, mut run) = started(
        "[process.web]\nscale = 2\n\
         command = \"sh -c 'echo up $PS; exec sleep 100'\"\n\
         ready = { log = \"up\", interval = \"10ms\" }\n",
        &[],
        "web.2 ready",
    );
    let before = pids(&run);
    let out = ok(&run, &["restart", "web", "--wait"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.last(), Some(&"ok"), "{out}");
    let ready: Vec<&&str> = lines.iter().filter(|l| l.ends_with(" ready")).collect();
    assert_eq!(ready, [&"web.1 ready", &"web.2 ready"], "{out}");
    run.wait_stderr("control: restart web --wait (uid 0)");
    // Rolling: web.2 got its stop signal only once the new web.1 was ready.
    let err = run.stderr();
    let at = |text: &str| {
        err.iter()
            .position(|l| l.contains(text))
            .unwrap_or_else(|| panic!("{text} in {err:#?}"))
    };
    let web1_ready_again = err
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains("web.1 ready"))
        .nth(1)
        .map(|(i, _)| i)
        .expect("web.1 ready twice");
    assert!(at("web.2: restarting") > web1_ready_again, "{err:#?}");
    let after = pids(&run);
    for name in ["web.1", "web.2"] {
        assert_ne!(before[name], after[name], "{name} has a new process");
    }
    assert_eq!(run.term(), 0, "the restart was no crash");
}

#[test]
fn a_stopped_essential_instance_stays_stopped_and_start_brings_it_back() {
    needs_pid1!();
    let (_dir, mut run) = started(
        "[process.web]\ncommand = \"sleep 100\"\nrestart = \"always\"\n\
         [process.db]\ncommand = \"sleep 100\"\n",
        &[],
        "db.1 started",
    );
    let (code, out, err) = inside(&run, &["stop", "web", "--wait"]);
    assert_eq!((code, out.as_str()), (0, "web.1 stopped\nok\n"), "{err}");
    assert_eq!(state(&run, "web.1"), "stopped");
    assert_eq!(pids(&run)["web.1"], "-");
    assert!(
        run.running(),
        "an essential instance stopped by the operator ends nothing"
    );
    let (code, out, _) = inside(&run, &["start", "web.1", "--wait"]);
    assert_eq!((code, out.as_str()), (0, "web.1 running\nok\n"));
    assert_eq!(state(&run, "web.1"), "running");
    // Starting what runs is no error.
    let out = ok(&run, &["start", "db"]);
    assert_eq!(out.lines().last(), Some("ok"));
    assert_eq!(run.term(), 0);
}

#[test]
fn scale_adds_instances_with_their_port_and_stops_the_highest_first() {
    needs_pid1!();
    let (_dir, path) = toml(
        "[process.web]\ncommand = \"sleep 100\"\n\
         [process.worker]\ncommand = \"sh -c 'echo port=$PORT; exec sleep 100'\"\n",
    );
    let mut run = formation(&["-c", &path]).env("PORT", "7000").spawn();
    run.wait_stdout("port=7100");
    let out = ok(&run, &["scale", "worker=3", "--wait"]);
    assert_eq!(out.lines().last(), Some("ok"));
    run.wait_stdout("port=7101");
    run.wait_stdout("port=7102");
    let names: Vec<String> = pids(&run).into_keys().collect();
    assert_eq!(names.len(), 4, "{names:?}");
    ok(&run, &["scale", "worker=1", "--wait"]);
    assert_eq!(state(&run, "worker.1"), "running");
    assert_eq!(state(&run, "worker.2"), "stopped");
    assert_eq!(state(&run, "worker.3"), "stopped");
    let (code, _, err) = inside(&run, &["scale", "nope=2"]);
    assert_eq!(code, 2);
    assert!(err.contains("nope"), "{err}");
    assert_eq!(run.term(), 0);
}

#[test]
fn signal_goes_to_the_group_as_given_and_unknown_targets_exit_2() {
    needs_pid1!();
    let (_dir, path) = toml(&format!(
        "[process.web]\nscale = 2\ncommand = [\"python3\", \"{}\", \"w\", \"--exit-on-term\"]\n\
         signals = {{ USR1 = \"USR2\" }}\n",
        fixture("signals.py")
    ));
    let mut run = formation(&["-c", &path]).spawn();
    run.wait_stdout("web.1     | w ready");
    run.wait_stdout("web.2     | w ready");
    let (code, out, err) = inside(&run, &["signal", "USR1", "web.2"]);
    assert_eq!((code, out.as_str()), (0, "ok\n"), "{err}");
    // As given: the type's `signals` rewrite is for forwarded signals only.
    run.wait_stdout("web.2     | w got SIGUSR1");
    ok(&run, &["signal", "10", "web"]);
    run.wait_stdout("web.1     | w got SIGUSR1");
    run.wait_stdout_count("web.2     | w got SIGUSR1", 2);
    assert!(
        !run.stdout().iter().any(|l| l.contains("USR2")),
        "{:?}",
        run.stdout()
    );
    run.wait_stderr("control: signal USR1 web.2 (uid 0)");
    let (code, out, err) = inside(&run, &["signal", "HUP", "web.3"]);
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("web.3"), "{err}");
    assert_eq!(run.term(), 0);
}

#[test]
fn wait_times_out_with_exit_1_and_the_request_goes_on() {
    needs_pid1!();
    let (_dir, path) = toml(
        "[process.web]\ngrace = \"1s\"\n\
         command = \"sh -c 'trap \\\"\\\" TERM; echo ready; while :; do sleep 0.05; done'\"\n",
    );
    let mut run = formation(&["-c", &path]).spawn();
    run.wait_stdout("ready");
    let started = std::time::Instant::now();
    let (code, out, err) = inside(&run, &["restart", "web", "--wait", "--timeout", "200ms"]);
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(err.trim(), "error: timed out after 200ms");
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    // The restart goes on: SIGKILL at the grace, then a new web.1.
    run.wait_stderr_count("web.1 started", 2);
    run.signal(Signal::SIGTERM);
    run.wait(SOON);
}

const CLIENTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/control_clients.py"
);

#[test]
fn hostile_clients_during_a_log_flood_lose_no_line_delay_no_stop_and_stay_bounded() {
    needs_pid1!();
    let (_dir, run) = flowing_flood(&[]);
    let pid = run.pid();
    let peak = RssPeak::start(pid);
    // Silent, slow, huge, half-closed and many clients, from inside the container.
    let started = std::time::Instant::now();
    let out = enter(&run)
        .args(["python3", CLIENTS])
        .output()
        .expect("nsenter");
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    let value = |key: &str| -> String {
        report
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("{key} in {report}{}", String::from_utf8_lossy(&out.stderr)))
            .to_string()
    };
    let seconds = |key: &str| value(key).parse::<f64>().expect("seconds");
    let at_once: usize = value("closed_at_once").parse().expect("a count");
    assert!(
        (84..=86).contains(&at_once),
        "{at_once} of 100 closed at once: {report}"
    );
    // Its newline would come at 6 s: it is closed at the 5 s deadline, unanswered.
    let slow = seconds("slow_lasted");
    assert!(
        (4.5..5.9).contains(&slow),
        "the byte-a-second client lasted {slow} s"
    );
    assert!(seconds("silent_lasted") < 8.0, "{report}");
    assert!(value("huge").starts_with("error: usage: "), "{report}");
    assert_eq!(value("half"), "closed", "{report}");
    assert_eq!(value("status"), "ok", "{report}");
    assert!(started.elapsed() < std::time::Duration::from_secs(15));

    // A stop while a client that sent half a line is connected ends within the grace.
    let script = "import os, socket, time\n\
        s = socket.socket(socket.AF_UNIX)\n\
        s.connect('\\0formation/%d' % os.stat('/proc/self/ns/pid').st_ino)\n\
        s.send(b'stat')\n\
        print('connected', flush=True)\n\
        time.sleep(30)\n";
    let mut silent = enter(&run)
        .args(["python3", "-c", script])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("nsenter");
    let mut line = String::new();
    let mut reader = std::io::BufReader::new(silent.stdout.take().expect("stdout"));
    std::io::BufRead::read_line(&mut reader, &mut line).expect("a line");
    assert_eq!(line, "connected\n");
    let stopped = std::time::Instant::now();
    let mut run = run;
    run.signal(Signal::SIGTERM);
    for n in 1..=4 {
        run.wait_stderr(&format!("w.{n} total"));
    }
    assert_eq!(
        run.wait(std::time::Duration::from_secs(5)),
        0,
        "within the grace"
    );
    assert!(stopped.elapsed() < std::time::Duration::from_secs(5));
    let peak = peak.stop();
    assert!(peak < RSS_BOUND_KIB, "RSS peak {peak} KiB");
    assert_flood_complete(&run);
    let _ = silent.kill();
    let _ = silent.wait();
}

#[test]
fn reload_dry_run_then_apply_and_a_config_with_errors_changes_nothing() {
    needs_pid1!();
    let v1 = "[process.web]\ncommand = \"sleep 100\"\n\
              [process.worker]\ncommand = \"sh -c 'echo v1; exec sleep 100'\"\n\
              [process.old]\ncommand = \"sleep 100\"\n";
    let (dir, mut run) = started(v1, &[], "old.1 started");
    run.wait_stdout("v1");
    let before = pids(&run);
    let v2 = "[process.web]\ncommand = \"sleep 100\"\n\
              [process.worker]\ncommand = \"sh -c 'echo v2; exec sleep 100'\"\n\
              [process.api]\ncommand = \"sleep 100\"\n";
    dir.write("formation.toml", v2);

    let plan = ok(&run, &["reload", "--dry-run"]);
    for want in [
        "web: unchanged",
        "worker: changed",
        "old: removed",
        "api: added",
    ] {
        assert!(plan.contains(want), "{want} in {plan}");
    }
    assert_eq!(pids(&run), before, "a dry run changes nothing");

    dir.write(
        "formation.toml",
        "[process.web]\ncommand = \"sleep 100\"\nscale = -1\n",
    );
    let (code, out, err) = inside(&run, &["reload"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("formation.toml:3:"), "file:line:col: {err}");
    assert!(
        err.lines()
            .last()
            .is_some_and(|l| l.starts_with("error: usage: ")),
        "{err}"
    );
    assert_eq!(pids(&run), before, "a config with errors changes nothing");

    dir.write("formation.toml", v2);
    let out = ok(&run, &["reload", "--wait"]);
    assert_eq!(out.lines().last(), Some("ok"), "{out}");
    run.wait_stdout("v2");
    let after = pids(&run);
    assert_eq!(after["web.1"], before["web.1"], "unchanged: untouched");
    assert_ne!(after["worker.1"], before["worker.1"], "changed: restarted");
    assert_eq!(state(&run, "old.1"), "stopped", "removed: stopped");
    assert_eq!(state(&run, "api.1"), "running", "added: started");
    run.wait_stderr("control: reload --wait (uid 0)");
    assert_eq!(run.term(), 0);
}
