//! Formation mode (SPEC §1.2, §3, §4): Procfile and TOML formations, run as real PID 1 of a
//! new pid namespace unless a test says otherwise.

use crate::harness::*;
use nix::sys::signal::Signal;
use std::time::{Duration, Instant};

const SIGNALS_PY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/signals.py");

#[test]
fn a_procfile_starts_every_instance_with_prefixed_output() {
    needs_pid1!();
    let dir = TempDir::new("procfile");
    dir.write(
        "Procfile",
        "# two types\nweb: sh -c 'echo web up; echo web err >&2; exec sleep 100'\n\
         worker: sh -c 'echo worker up; exec sleep 100'\n",
    );
    let mut run = formation(&[]).dir(dir.path()).spawn();
    run.wait_stdout("web.1     | web up");
    run.wait_stdout("worker.1  | worker up");
    run.wait_stderr("web.1     | web err");
    run.wait_stderr("formation | web.1 started (pid ");
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0);
    let err = run.stderr();
    assert!(
        err.iter().any(|l| l.contains("SIGTERM received; stopping")),
        "{err:?}"
    );
    assert!(
        !run.stdout().iter().any(|l| l.contains("web err")),
        "stderr stays on stderr"
    );
}

#[test]
fn scale_gives_numbered_instances_with_foreman_ports_and_ps() {
    needs_pid1!();
    let (_dir, path) = toml(
        "[process.web]\ncommand = \"sh -c 'echo $PS $PORT; exec sleep 100'\"\nscale = 2\n\
         [process.worker]\ncommand = \"sh -c 'echo $PS $PORT; exec sleep 100'\"\n",
    );
    let mut run = formation(&["-c", &path, "-m", "worker=3"]).spawn();
    for line in [
        "web.1     | web.1 5000",
        "web.2     | web.2 5001",
        "worker.1  | worker.1 5100",
        "worker.2  | worker.2 5101",
        "worker.3  | worker.3 5102",
    ] {
        run.wait_stdout(line);
    }
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0);
}

#[test]
fn environment_precedence() {
    needs_pid1!();
    let (dir, path) = toml(
        "[env]\nC = \"config\"\nD = \"config\"\n[process.show]\nscale = 1\n\
         command = \"sh -c 'echo A=$A B=$B C=$C D=$D PS=$PS PORT=$PORT; exec sleep 100'\"\n\
         env = { D = \"process\" }\n",
    );
    dir.write(".env", "A=file\nB=file\nPORT=7000\n");
    let mut run = formation(&["-c", &path])
        .env("B", "env")
        .env("C", "env")
        .spawn();
    run.wait_stdout("A=file B=env C=config D=process PS=show.1 PORT=7000");
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0);
}

#[test]
fn on_failure_restarts_follow_the_backoff_and_always_and_never_do_as_they_say() {
    needs_pid1!();
    // Backoff from 200 ms, doubling: the restarts of `failing` come 200, 400 and 800 ms after
    // the exits before them. `again` restarts every 10 ms (it gives up after 10 restarts,
    // which leaves the rest running: it is not essential).
    let (_dir, path) = toml(
        "[process.main]\ncommand = \"sleep 100\"\n\
         [process.failing]\ncommand = \"sh -c 'echo failing run; exit 1'\"\n\
         restart = \"on-failure\"\nessential = false\n\
         backoff = { initial = \"200ms\", max = \"10s\" }\n\
         [process.done]\ncommand = \"sh -c 'echo done run; exit 0'\"\n\
         restart = \"on-failure\"\nessential = false\n\
         [process.again]\ncommand = \"sh -c 'echo again run; exit 0'\"\n\
         restart = \"always\"\nessential = false\nbackoff = { initial = \"10ms\", max = \"10ms\" }\n\
         [process.once]\ncommand = \"sh -c 'echo once run; exit 1'\"\nessential = false\n",
    );
    let mut run = formation(&["-c", &path]).spawn();
    run.wait_stdout_count("failing run", 4);
    run.wait_stdout_count("again run", 3);
    let times = run.stdout_times("failing run");
    let gaps: Vec<u128> = times
        .windows(2)
        .map(|w| (w[1] - w[0]).as_millis())
        .collect();
    // A gap is the backoff plus one short run of `sh` and the delivery of two lines: never
    // (beyond the jitter of that delivery) shorter than the backoff, which says the wait
    // grows at least as it doubles; and less than twice it (with a margin for a loaded
    // machine), which says it does not grow faster.
    for (gap, want) in gaps.iter().zip([200, 400, 800]) {
        assert!(
            *gap + 30 >= want && *gap <= 2 * want + 200,
            "backoff gaps {gaps:?} ms, want 200, 400, 800"
        );
    }
    let err = run.stderr();
    for delay in ["200ms", "400ms", "800ms"] {
        let want = format!("failing.1 exited with code 1; restarting in {delay}");
        assert!(err.iter().any(|l| l.ends_with(&want)), "{want} in {err:#?}");
    }
    assert_eq!(
        run.stdout_times("done run").len(),
        1,
        "on-failure leaves a clean exit"
    );
    assert_eq!(run.stdout_times("once run").len(), 1, "never means never");
    run.signal(Signal::SIGTERM);
    assert_eq!(
        run.wait(SOON),
        0,
        "earlier non-essential failures do not count"
    );
}

#[test]
fn a_crash_loop_gives_up_and_stops_with_that_status() {
    needs_pid1!();
    // 10 restarts (10+20+40+40+... ms of backoff, none of them a 5 s healthy run), then the
    // 11th exit is final; `crash` is essential, so the formation stops with its status.
    let (_dir, path) = toml(
        "[process.web]\ncommand = \"sleep 1000\"\n\
         [process.crash]\ncommand = \"sh -c 'echo crash run; exit 5'\"\nrestart = \"always\"\n\
         backoff = { initial = \"10ms\", max = \"40ms\", healthy = \"5s\", restarts = 10 }\n",
    );
    let mut run = formation(&["-c", &path]).spawn();
    assert_eq!(run.wait(SOON), 5);
    assert_eq!(run.stdout_times("crash run").len(), 11);
    let err = run.stderr();
    assert_eq!(
        err.iter()
            .filter(|l| l.contains("crash.1 exited with code 5; restarting in"))
            .count(),
        10,
        "{err:#?}"
    );
    assert!(
        err.iter().any(|l| l.contains(
            "crash.1 exited with code 5 after 10 restarts without a healthy run of 5s; giving up"
        )),
        "{err:#?}"
    );
}

#[test]
fn an_essential_exit_stops_everything_with_its_status() {
    needs_pid1!();
    // `web` exits once the test opens its gate, after the worker said it is ready.
    let (dir, path) = toml(&format!(
        "[process.worker]\ncommand = [\"python3\", \"{SIGNALS_PY}\", \"worker\", \"--exit-on-term\"]\n\
         [process.web]\ncommand = \"sh -c 'read x < gate; exit 3'\"\n"
    ));
    let gate = dir.fifo("gate");
    let mut run = formation(&["-c", &path]).spawn();
    run.wait_stdout("worker ready");
    open_gate(&gate);
    assert_eq!(run.wait(SOON), 3);
    assert!(
        run.stdout()
            .iter()
            .any(|l| l.contains("worker got SIGTERM"))
    );
    let err = run.stderr();
    assert!(
        err.iter()
            .any(|l| l.ends_with("web.1 exited with code 3; stopping")),
        "{err:?}"
    );
}

/// The only stop in these lines is the one our SIGTERM asked for.
fn assert_only_stop_is_sigterm(err: &[String]) {
    let stops: Vec<&String> = err.iter().filter(|l| l.contains("stopping")).collect();
    assert!(
        stops.len() == 1 && stops[0].contains("SIGTERM received; stopping"),
        "{err:#?}"
    );
}

#[test]
fn a_non_essential_exit_leaves_the_rest_running() {
    needs_pid1!();
    let (_dir, path) = toml(
        "[process.web]\ncommand = \"sh -c 'echo web up; exec sleep 100'\"\n\
         [process.job]\ncommand = \"sh -c 'exit 4'\"\nessential = false\n",
    );
    let mut run = formation(&["-c", &path]).spawn();
    run.wait_stderr("job.1 exited with code 4");
    run.wait_stdout("web up");
    assert!(run.running());
    // Anything the exit had set off would be said before the SIGTERM is handled.
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0);
    assert_only_stop_is_sigterm(&run.stderr());
}

#[test]
fn when_only_non_essential_processes_end_the_first_failure_is_the_status() {
    needs_pid1!();
    // `c` fails after `b` has: it waits at its gate until the test has seen b's exit.
    let (dir, path) = toml(
        "[process.a]\ncommand = \"sh -c 'exit 0'\"\nessential = false\n\
         [process.b]\ncommand = \"sh -c 'exit 6'\"\nessential = false\n\
         [process.c]\ncommand = \"sh -c 'read x < gate; exit 7'\"\nessential = false\n",
    );
    let gate = dir.fifo("gate");
    let mut run = formation(&["-c", &path]).spawn();
    run.wait_stderr("a.1 exited with code 0");
    run.wait_stderr("b.1 exited with code 6");
    open_gate(&gate);
    assert_eq!(run.wait(SOON), 6);
}

#[test]
fn stop_signal_is_what_arrives() {
    needs_pid1!();
    let (_dir, path) = toml(&format!(
        "[process.web]\ncommand = [\"python3\", \"{SIGNALS_PY}\", \"web\"]\nstop_signal = \"SIGQUIT\"\n\
         grace = \"200ms\"\n"
    ));
    let mut run = formation(&["-c", &path]).spawn();
    run.wait_stdout("web ready");
    run.signal(Signal::SIGTERM);
    run.wait_stdout("web got SIGQUIT");
    // The fixture only prints: it is SIGKILLed at its grace, so the stop was forced.
    assert_eq!(run.wait(SOON), 137);
    assert!(!run.stdout().iter().any(|l| l.contains("got SIGTERM")));
}

#[test]
fn a_process_ignoring_its_stop_signal_is_killed_at_its_grace() {
    needs_pid1!();
    // The grace is the subject: short, but long enough to tell apart from "at once".
    let (_dir, path) = toml(
        "[process.stubborn]\ncommand = [\"sh\", \"-c\", \"trap '' TERM; echo ready; exec sleep 100\"]\n\
         grace = \"500ms\"\n[process.polite]\ncommand = \"sleep 100\"\n",
    );
    let mut run = formation(&["-c", &path, "-t", "10s"]).spawn();
    run.wait_stdout("ready");
    run.signal(Signal::SIGTERM);
    let asked = Instant::now();
    assert_eq!(run.wait(SOON), 137);
    let took = asked.elapsed();
    assert!(
        took >= Duration::from_millis(450) && took < Duration::from_millis(2500),
        "{took:?}"
    );
    assert!(
        run.stderr()
            .iter()
            .any(|l| l.contains("stubborn.1 did not stop within 500ms; sending SIGKILL"))
    );
}

#[test]
fn a_second_sigterm_kills_at_once() {
    needs_pid1!();
    let (_dir, path) = toml(
        "[process.stubborn]\ncommand = [\"sh\", \"-c\", \"trap '' TERM; echo ready; exec sleep 100\"]\n\
         grace = \"60s\"\n",
    );
    let mut run = formation(&["-c", &path]).spawn();
    run.wait_stdout("ready");
    run.signal(Signal::SIGTERM);
    run.wait_stderr("stopping");
    let again = Instant::now();
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 137);
    assert!(
        again.elapsed() < Duration::from_secs(2),
        "{:?}",
        again.elapsed()
    );
}

#[test]
fn an_adopted_orphan_dying_stops_nothing() {
    needs_pid1!();
    let (_dir, path) = toml(
        "[process.web]\ncommand = \"sh -c '(sleep 0.01 &); (sleep 0.02 &); echo spawned; exec sleep 100'\"\n",
    );
    let mut run = formation(&["-c", &path])
        .env("FORMATION_LOG", "debug")
        .spawn();
    run.wait_stdout("spawned");
    run.wait_stderr_count("reaped orphan", 2);
    assert!(run.running());
    // Anything the orphans' deaths had set off would be said before the SIGTERM is handled.
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0);
    assert_only_stop_is_sigterm(&run.stderr());
}

#[test]
fn a_spawn_failure_goes_through_the_policy_and_the_rest_runs_on() {
    needs_pid1!();
    let (_dir, path) = toml(
        "[process.web]\ncommand = \"sh -c 'echo web up; exec sleep 100'\"\n\
         [process.ghost]\ncommand = \"no-such-program --flag\"\nessential = false\nrestart = \"on-failure\"\n\
         [process.cwd]\ncommand = \"true\"\ncwd = \"missing-dir\"\nessential = false\n",
    );
    let mut run = formation(&["-c", &path]).spawn();
    run.wait_stdout("web up");
    run.wait_stderr("ghost.1: cannot run \"no-such-program\": not found");
    run.wait_stderr("ghost.1 exited with code 127; restarting in 1s");
    run.wait_stderr("cwd.1 exited with code 126");
    assert!(run.running());
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0);
}

#[test]
fn user_switching_sets_uid_gid_and_groups() {
    needs_pid1!();
    let dir = TempDir::new("user");
    dir.write(
        "passwd",
        "root:x:0:0::/root:/bin/sh\napp:x:4321:4322::/:/bin/sh\n",
    );
    dir.write(
        "group",
        "root:x:0:\napp:x:4322:\nextra:x:5555:app\nother:x:5556:root,app\n",
    );
    let path = dir.write(
        "formation.toml",
        "[process.named]\ncommand = \"grep -E '^(Uid|Gid|Groups)' /proc/self/status\"\nuser = \"app\"\n\
         essential = false\n\
         [process.numeric]\ncommand = [\"grep\", \"-E\", \"^(Uid|Gid|Groups)\", \"/proc/self/status\"]\n\
         user = \"12345:12346\"\nessential = false\n",
    );
    let prelude = format!(
        "mount --bind {0}/passwd /etc/passwd && mount --bind {0}/group /etc/group",
        s(dir.path())
    );
    let mut run = formation(&["-c", s(&path)]).prelude(&prelude).spawn();
    assert_eq!(run.wait(SOON), 0);
    let out = run.stdout();
    for want in [
        "named.1   | Uid:\t4321\t4321\t4321\t4321",
        "named.1   | Gid:\t4322\t4322\t4322\t4322",
        "named.1   | Groups:\t5555 5556",
        "numeric.1 | Uid:\t12345\t12345\t12345\t12345",
        "numeric.1 | Gid:\t12346\t12346\t12346\t12346",
    ] {
        assert!(
            out.iter().any(|l| l.trim_end() == want),
            "{want:?} in {out:#?}"
        );
    }
    assert!(
        out.iter().any(|l| l.trim_end() == "numeric.1 | Groups:"),
        "{out:#?}"
    );
}

#[test]
fn cwd_defaults_to_the_config_directory_and_is_resolved_against_it() {
    needs_pid1!();
    let (dir, path) = toml(
        "[process.here]\ncommand = \"pwd\"\nessential = false\n\
         [process.sub]\ncommand = \"pwd\"\ncwd = \"sub\"\nessential = false\n",
    );
    std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
    let mut run = formation(&["-c", &path]).spawn();
    assert_eq!(run.wait(SOON), 0);
    let out = run.stdout();
    let root = s(dir.path());
    assert!(out.contains(&format!("here.1    | {root}")), "{out:?}");
    assert!(out.contains(&format!("sub.1     | {root}/sub")), "{out:?}");
}

#[test]
fn config_errors_are_all_reported_at_once_and_nothing_starts() {
    let dir = TempDir::new("bad");
    let marker = dir.path().join("started");
    let path = dir.write(
        "formation.toml",
        &format!(
            "grace = \"soon\"\n[process.web]\ncommand = \"touch {}\"\nscale = 20000\n\
             restart = \"maybe\"\nstop_signal = \"SIGBOGUS\"\nflavour = 1\n",
            marker.display()
        ),
    );
    let (status, stdout, stderr) = formation(&["-c", s(&path)]).not_pid1().output();
    assert_eq!(status, 2);
    assert!(stdout.is_empty());
    let file = s(&path);
    for want in [
        format!("{file}:1:9: `grace`"),
        format!("{file}:4:9: `scale`"),
        format!("{file}:5:11: `restart`"),
        format!("{file}:6:15: `stop_signal`"),
        format!("{file}:7:1: unknown key `flavour`"),
    ] {
        assert!(
            stderr.iter().any(|l| l.starts_with(&want)),
            "{want} in {stderr:#?}"
        );
    }
    assert!(
        stderr
            .last()
            .expect("summary")
            .contains("5 error(s); nothing started")
    );
    assert!(!marker.exists(), "nothing may start");
}

#[test]
fn missing_config_and_unknown_types_are_usage_errors() {
    let dir = TempDir::new("empty");
    let (status, _, stderr) = formation(&[]).dir(dir.path()).not_pid1().output();
    assert_eq!(status, 2);
    assert!(stderr[0].contains(&format!(
        "no formation.toml or Procfile in {}",
        s(dir.path())
    )));
    assert!(stderr[0].contains("-c FILE") && stderr[0].contains("-f FILE"));

    dir.write("Procfile", "web: sleep 1\n");
    let (status, _, stderr) = formation(&["-m", "db=1"])
        .dir(dir.path())
        .not_pid1()
        .output();
    assert_eq!(status, 2);
    assert!(stderr[0].contains("\"db\""), "{stderr:?}");

    let (status, _, stderr) = formation(&["-e", "nope.env"])
        .dir(dir.path())
        .not_pid1()
        .output();
    assert_eq!(status, 2);
    assert!(stderr[0].starts_with("nope.env: cannot read"), "{stderr:?}");
}

#[test]
fn check_prints_the_plan_with_env_keys_but_never_values() {
    let (dir, path) = toml(
        "[env]\nSECRET = \"hunter2\"\n[process.web]\ncommand = \"./server -p $PORT\"\nscale = 2\n\
         restart = \"always\"\n[process.worker]\ncommand = [\"./worker\"]\nessential = false\n",
    );
    dir.write(".env", "TOKEN=sesame\n");
    let (status, stdout, _) = formation(&["check", "-c", &path, "-m", "worker=0"])
        .not_pid1()
        .output();
    assert_eq!(status, 0);
    let text = stdout.join("\n");
    assert!(text.contains("2 process types, 2 instances"), "{text}");
    assert!(
        text.contains("web (scale 2): /bin/sh -c \"./server -p $PORT\""),
        "{text}"
    );
    assert!(
        text.contains("restart=always essential=true stop_signal=SIGTERM"),
        "{text}"
    );
    assert!(
        text.contains("web.1        PORT=5000") && text.contains("web.2        PORT=5001"),
        "{text}"
    );
    assert!(text.contains("worker (scale 0)"), "{text}");
    assert!(text.contains("SECRET") && text.contains("TOKEN"), "{text}");
    assert!(
        !text.contains("hunter2") && !text.contains("sesame"),
        "values leaked: {text}"
    );

    dir.write("formation.toml", "[process.web]\ncommand = \"\"\n");
    let (status, _, stderr) = formation(&["check", "-c", &path]).not_pid1().output();
    assert_eq!(status, 2);
    assert!(stderr[0].ends_with("`command` is empty"), "{stderr:?}");
}

#[test]
fn the_same_formation_runs_when_not_pid_1() {
    let (_dir, path) = toml(
        "[process.web]\ncommand = \"sh -c '(sleep 0.01 &); echo web up; exec sleep 100'\"\n\
         [process.worker]\ncommand = \"sh -c 'echo worker up; exec sleep 100'\"\n",
    );
    let mut run = formation(&["-c", &path])
        .env("FORMATION_LOG", "debug")
        .not_pid1()
        .spawn();
    run.wait_stdout("web up");
    run.wait_stdout("worker up");
    run.wait_stderr("reaped orphan");
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0);
}

#[test]
fn formation_log_warn_still_shows_restarts_the_crash_loop_and_the_stop_cause() {
    needs_pid1!();
    let (_dir, path) = toml(
        "[process.web]\ncommand = \"sh -c 'exit 3'\"\nrestart = \"on-failure\"\n\
         backoff = { initial = \"10ms\", restarts = 2 }\n",
    );
    let mut run = formation(&["-c", &path])
        .env("FORMATION_LOG", "warn")
        .spawn();
    assert_eq!(run.wait(SOON), 3);
    let err = run.stderr();
    let has = |t: &str| err.iter().any(|l| l.contains(t));
    assert!(
        has("web.1 exited with code 3; restarting in 10ms"),
        "{err:#?}"
    );
    assert!(
        has("after 2 restarts without a healthy run of 30s; giving up"),
        "{err:#?}"
    );
    assert!(
        has("web.1 exited with code 3; stopping"),
        "the cause, at error: {err:#?}"
    );
    assert!(
        !has("started (pid"),
        "info lines stay out at warn: {err:#?}"
    );
}

#[test]
fn a_shell_builtin_as_the_first_word_runs_under_the_shell() {
    needs_pid1!();
    let dir = TempDir::new("builtin");
    dir.write("Procfile", "web: exec sh -c 'echo hi $PS'\n");
    let mut run = formation(&[]).dir(dir.path()).spawn();
    assert_eq!(run.wait(SOON), 0, "not 127: `exec` is the shell's");
    let out = run.stdout();
    assert!(out.iter().any(|l| l == "web.1     | hi web.1"), "{out:?}");
}
