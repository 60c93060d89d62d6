//! Robustness (PID 1 must never die, hang or lose a line): hostile input, signal storms,
//! random kills, pipes held open by daemons, resource limits, SIGSTOP/SIGCONT.

use crate::harness::*;
use nix::sys::signal::Signal;
use std::time::{Duration, Instant};

const WRITER_PY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/writer.py");

#[test]
fn hostile_configs_get_a_clear_error_or_run_never_a_panic() {
    let dir = TempDir::new("hostile");
    let deep = format!("a = {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let huge_line = format!("web: echo {}\n", "x".repeat(1 << 20));
    let many: String = (0..10_000)
        // Each sets its own PORT: computed ones would pass 65535, an error of its own (below).
        .map(|i| format!("[process.p{i}]\ncommand = \"sleep 1\"\nenv = {{ PORT = \"8080\" }}\n"))
        .collect();
    // 700 types put computed ports past 65535 (5000 + 100 × 606): an error, in one line.
    let ports: String = (0..700)
        .map(|i| format!("[process.p{i}]\ncommand = \"sleep 1\"\n"))
        .collect();
    let cases: Vec<(&str, Vec<u8>, i32)> = vec![
        ("ports.toml", ports.into_bytes(), 2),
        ("deep.toml", deep.into_bytes(), 2),
        (
            "nul.toml",
            b"[process.a]\ncommand = [\"x\", \"a\\u0000b\"]\n".to_vec(),
            2,
        ),
        ("nul.Procfile", b"web: echo \0 hi\n".to_vec(), 2),
        (
            "utf8.toml",
            b"[process.a]\ncommand = \"\xff\xfe\"\n".to_vec(),
            2,
        ),
        ("huge.Procfile", huge_line.into_bytes(), 0),
        ("many.toml", many.into_bytes(), 0),
        (
            "garbage.toml",
            (0..=255u8).cycle().take(10_000).collect(),
            2,
        ),
    ];
    for (name, content, want) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, &content).expect("write");
        let flag = if name.ends_with(".toml") { "-c" } else { "-f" };
        let (status, _, stderr) = formation(&["check", flag, s(&path)]).not_pid1().output();
        assert_eq!(status, want, "{name}: {stderr:?}");
        assert!(
            !stderr.iter().any(|l| l.contains("panicked")),
            "{name}: {stderr:?}"
        );
        if want == 2 {
            assert!(
                stderr[0].starts_with(s(&path)),
                "{name} names the file: {stderr:?}"
            );
        }
    }
    let env = dir.path().join("bad.env");
    std::fs::write(&env, b"A=\xff\xfe\nB\0=1\n").expect("write");
    let procfile = dir.write("Procfile", "w: true\n");
    let (status, _, stderr) = formation(&["check", "-f", s(&procfile), "-e", s(&env)])
        .not_pid1()
        .output();
    assert_eq!(status, 2);
    assert!(
        stderr[0].contains("bad.env:1:3: not valid UTF-8"),
        "{stderr:?}"
    );
}

#[test]
fn check_into_a_closed_pipe_does_not_panic() {
    let (_dir, path) = toml("[process.a]\ncommand = \"true\"\n");
    // A pipe whose read end is already closed: every write to it fails with EPIPE.
    let (read_end, write_end) = nix::unistd::pipe().expect("pipe");
    drop(read_end);
    let out = std::process::Command::new(BIN)
        .args(["check", "-c", &path])
        .stdout(std::process::Stdio::from(write_end))
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(shell_status(out.status), 0, "{err}");
}

#[test]
fn a_storm_of_10000_mixed_signals_while_restarting_then_a_clean_stop() {
    needs_pid1!();
    // `flappy` restarts every 10 ms, all through the storm, and never gives up.
    let (_dir, path) = toml(
        "[process.flappy]\ncommand = \"sh -c 'sleep 0.05; exit 1'\"\nrestart = \"always\"\n\
         backoff = { initial = \"10ms\", max = \"10ms\", restarts = 1000000 }\n\
         [process.steady]\ncommand = [\"sh\", \"-c\", \"trap 'echo steady got HUP' HUP; trap '' USR1 USR2; \
         echo ready; while :; do sleep 0.05; done\"]\n",
    );
    let mut run = formation(&["-c", &path]).spawn();
    run.wait_stdout("ready");
    let pid = nix::unistd::Pid::from_raw(run.pid());
    let storm = [
        Signal::SIGHUP,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
        Signal::SIGWINCH,
        Signal::SIGCHLD,
    ];
    for i in 0..10_000 {
        // Forwarded to both groups: flappy may die of USR1 (and is restarted), steady traps it.
        let _ = nix::sys::signal::kill(pid, storm[i % storm.len()]);
    }
    run.wait_stdout("steady got HUP");
    assert!(run.running(), "formation survived the storm");
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0);
}

fn fd_count(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

fn zombies_under(pid: i32) -> usize {
    children(pid)
        .iter()
        .filter(|k| {
            std::fs::read_to_string(format!("/proc/{k}/stat"))
                .map(|s| {
                    s.rsplit(')')
                        .next()
                        .unwrap_or("")
                        .trim_start()
                        .starts_with('Z')
                })
                .unwrap_or(false)
        })
        .count()
}

#[test]
fn random_sigkills_under_restart_always_leave_no_zombie_and_no_leak() {
    needs_pid1!();
    // Restarts 10 to 40 ms after each kill, and never gives up: 3 s of kills every 10 ms
    // go through many more restarts than the default 10 would allow.
    let (_dir, path) = toml(
        "[process.victim]\nscale = 8\ncommand = [\"sh\", \"-c\", \"echo up; exec sleep 1000\"]\n\
         restart = \"always\"\nbackoff = { initial = \"10ms\", max = \"40ms\", restarts = 1000000 }\n",
    );
    let mut run = formation(&["-c", &path]).spawn();
    run.wait_stdout_count("up", 8);
    // Logged once each spawn is complete (its own ends of the pipes closed).
    run.wait_stderr_count(" started (pid ", 8);
    let pid = run.pid();
    let (fds_before, rss_before) = (fd_count(pid), rss_kib(pid));
    let until = Instant::now() + Duration::from_secs(3);
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut kills = 0;
    while Instant::now() < until {
        let kids = children(pid);
        if !kids.is_empty() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let victim = kids[(seed % kids.len() as u64) as usize];
            if nix::sys::signal::kill(nix::unistd::Pid::from_raw(victim), Signal::SIGKILL).is_ok() {
                kills += 1;
            }
        }
        // The pace of the chaos (a setting), not a synchronisation.
        std::thread::sleep(Duration::from_millis(10));
    }
    // Every instance comes back, running its `sleep` again.
    wait_until("all 8 instances are back", &mut || {
        let kids = children(pid);
        kids.len() == 8
            && kids.iter().all(|k| {
                std::fs::read_to_string(format!("/proc/{k}/comm"))
                    .is_ok_and(|c| c.trim() == "sleep")
            })
    });
    assert!(kills > 50, "{kills} kills");
    assert_eq!(zombies_under(pid), 0);
    // The last spawn may still hold its ends of the new pipes and its exec-status channel
    // for a moment after the child has exec'd: the count comes back, it need not be there yet.
    wait_until(
        &format!("the fd count is back to {fds_before}"),
        &mut || fd_count(pid) == fds_before,
    );
    let rss_after = rss_kib(pid);
    assert!(
        rss_after <= rss_before + 256,
        "RSS {rss_before} → {rss_after} KiB"
    );
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0);
}

#[test]
fn a_child_closing_stdout_early_and_a_daemon_holding_the_pipe_do_not_hang_the_stop() {
    needs_pid1!();
    // `closer` closes its stdout and runs on; `parent` leaves a daemonized grandchild that
    // keeps the pipe open after the parent exits. An instance is its whole process group
    // (SPEC §4), so `parent` waits until the daemon has left its group (setsid) and said so
    // with a file in the instance's cwd, the config's directory.
    let (_dir, path) = toml(
        "grace = \"2s\"\n\
         [process.closer]\ncommand = [\"sh\", \"-c\", \"echo closing; exec 1>&-; echo still here >&2; sleep 1000\"]\n\
         [process.parent]\ncommand = [\"sh\", \"-c\", \"(setsid sh -c 'echo daemon up; touch up; exec sleep 1000' &); while [ ! -e up ]; do sleep 0.01; done; echo parent done\"]\n\
         essential = false\n",
    );
    let mut run = formation(&["-c", &path]).spawn();
    run.wait_stdout("closer.1  | closing");
    run.wait_stdout("parent.1  | daemon up");
    run.wait_stdout("parent.1  | parent done");
    run.wait_stderr("closer.1  | still here");
    run.signal(Signal::SIGTERM);
    let asked = Instant::now();
    let status = run.wait(SOON);
    assert!(
        asked.elapsed() < Duration::from_secs(4),
        "within the grace: {:?}",
        asked.elapsed()
    );
    assert_eq!(status, 0, "the daemon obeyed the sweep's SIGTERM");
}

#[test]
fn a_low_nofile_limit_gives_clear_errors_and_the_instances_that_fit_run() {
    needs_pid1!();
    let (_dir, path) = toml(
        "[process.w]\nscale = 50\ncommand = \"sh -c 'echo up; exec sleep 1000'\"\nessential = false\n",
    );
    let mut run = formation(&["-c", &path]).prelude("ulimit -n 32").spawn();
    run.wait_stderr_until("every instance started or refused", &|err| {
        err.iter()
            .filter(|l| l.contains(" started (pid") || l.contains("too many open files"))
            .count()
            >= 50
    });
    assert!(run.running(), "formation itself carries on");
    let started = run
        .stderr()
        .iter()
        .filter(|l| l.contains(" started (pid"))
        .count();
    let refused = run
        .stderr()
        .iter()
        .filter(|l| l.contains("too many open files"))
        .count();
    assert!(started >= 5, "the instances that fit run: {started}");
    assert!(
        refused >= 1,
        "clear per-instance errors: {:?}",
        run.stderr()
    );
    assert_eq!(started + refused, 50, "{:?}", run.stderr());
    run.signal(Signal::SIGTERM);
    run.wait(SOON);
}

#[test]
fn fork_failures_back_off_and_recover_when_the_limit_is_lifted() {
    needs_pid1!();
    // RLIMIT_NPROC counts the processes of the user: run as an unprivileged uid with a limit
    // that leaves no room, then lift it from outside with prlimit.
    // Retries every 20 ms until the limit is lifted.
    let (_dir, path) = toml(
        "[process.w]\ncommand = \"sh -c 'echo up; exec sleep 1000'\"\nrestart = \"on-failure\"\n\
         backoff = { initial = \"20ms\", max = \"20ms\", restarts = 1000000 }\n",
    );
    let mut run = formation(&["-c", &path])
        .prelude(&format!(
            "chmod -R a+rX {dir}; exec setpriv --reuid 4242 --regid 4242 --clear-groups \
             prlimit --nproc=1: \"$0\" \"$@\"",
            dir = s(_dir.path())
        ))
        .env("FORMATION_LOG", "info")
        .spawn();
    run.wait_stderr("restarting in 20ms");
    let pid = run.pid();
    // Raising the soft limit of a process of the same user up to its hard limit needs no
    // privilege (prlimit(2)); root without CAP_SYS_RESOURCE could not do it for another user.
    let lifted = std::process::Command::new("setpriv")
        .args([
            "--reuid",
            "4242",
            "--regid",
            "4242",
            "--clear-groups",
            "prlimit",
        ])
        .args([&format!("--pid={pid}"), "--nproc=1000:"])
        .status()
        .expect("prlimit");
    assert!(lifted.success());
    run.wait_stdout("w.1       | up");
    assert!(run.stderr().iter().any(|l| l.contains("w.1: cannot run") && l.contains("cannot fork: too many processes")), "{:?}", run.stderr());
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0);
}

#[test]
fn sigstop_and_sigcont_of_formation_during_a_flood_lose_nothing() {
    needs_pid1!();
    // Each writer stops halfway at its gate. Formation is stopped there; then the writers go
    // on until both are blocked on their full pipes, and only then is formation continued.
    let (dir, path) = toml(&format!(
        "[process.w]\nscale = 2\n\
         command = \"exec python3 {WRITER_PY} $PS 30000 $PORT --halfway gate-$PS\"\n\
         essential = false\n"
    ));
    let gates = [dir.fifo("gate-w.1"), dir.fifo("gate-w.2")];
    let mut run = formation(&["-c", &path]).spawn();
    run.wait_stderr_count("halfway", 2);
    let pid = run.pid();
    let writers = children(pid);
    assert_eq!(writers.len(), 2);
    run.signal(Signal::SIGSTOP);
    for gate in &gates {
        open_gate(gate);
    }
    wait_until("both writers block on a full pipe", &mut || {
        writers.iter().all(|w| wchan(*w).contains("pipe_write"))
    });
    run.signal(Signal::SIGCONT);
    assert_eq!(run.wait(SOON), 0);
    let lines = run.stdout().len()
        + run
            .stderr()
            .iter()
            .filter(|l| !l.starts_with("formation") && !l.ends_with(" halfway"))
            .count();
    assert_eq!(
        lines,
        2 * 30_000,
        "every line after the stop and the continue"
    );
}

#[test]
fn stdout_blocked_under_a_flood_loses_nothing_keeps_memory_bounded_and_obeys_sigterm() {
    needs_pid1!();
    // Stuck for 2 s of flood (RSS sampled throughout), then SIGTERM; the writers end, and for
    // another second formation holds on to every line rather than drop one, well within its
    // grace; then the reader comes back. The two spans are settings of the test.
    let (_dir, mut run) = stuck_flood("30s");
    let pid = run.pid();
    let mut peak = 0;
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until {
        peak = peak.max(rss_kib(pid));
        std::thread::sleep(Duration::from_millis(20));
    }
    run.signal(Signal::SIGTERM);
    for n in 1..=4 {
        run.wait_stderr(&format!("w.{n} total"));
    }
    let until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < until {
        assert!(run.running(), "it waits for the reader, within the grace");
        peak = peak.max(rss_kib(pid));
        std::thread::sleep(Duration::from_millis(20));
    }
    run.release_stdout();
    assert_eq!(run.wait(SOON), 0);
    assert!(
        peak < RSS_BOUND_KIB,
        "RSS peak {peak} KiB with stdout blocked"
    );
    assert_flood_complete(&run);
}
