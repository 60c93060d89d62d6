//! Single-command mode (`formation -- CMD`, SPEC §1.1), run as real PID 1 of a new pid
//! namespace, unless a test says otherwise.

use crate::harness::*;
use nix::sys::signal::Signal;
use std::time::{Duration, Instant};

const FORWARDED: [Signal; 7] = [
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGTERM,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];

#[test]
fn every_signal_reaches_the_child_and_a_grandchild_in_its_group() {
    needs_pid1!();
    let script = fixture("signals.py");
    let mut run = formation(&["--", "python3", &script, "child", "--grandchild"]).spawn();
    run.wait_stdout("child-grandchild ready");
    run.wait_stdout("child ready");
    for sig in FORWARDED {
        run.signal(sig);
        run.wait_stdout(&format!("child got {sig}"));
        run.wait_stdout(&format!("child-grandchild got {sig}"));
    }
    // TERM, INT and QUIT were forwarded, not acted on: formation is still there.
    run.signal(Signal::SIGKILL);
    run.wait(SOON);
}

#[test]
fn a_forwarded_term_that_kills_the_child_gives_143() {
    needs_pid1!();
    let mut run = formation(&["--", "sh", "-c", "echo ready; exec sleep 100"]).spawn();
    run.wait_stdout("ready");
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 143);
}

#[test]
fn exit_statuses_pass_through() {
    needs_pid1!();
    let table = [
        ("exit 0", 0),
        ("exit 1", 1),
        ("exit 7", 7),
        ("exit 255", 255),
        ("kill -TERM $$", 143),
        ("kill -KILL $$", 137),
        ("kill -SEGV $$", 139),
    ];
    for (script, want) in table {
        let (status, _, stderr) = formation(&["--", "sh", "-c", script]).output();
        assert_eq!(status, want, "{script}");
        assert!(stderr.is_empty(), "silent: {stderr:?}");
    }
}

#[test]
fn not_found_is_127_and_not_executable_is_126_with_a_message() {
    needs_pid1!();
    let (status, _, stderr) = formation(&["--", "no-such-program-here"]).output();
    assert_eq!(status, 127);
    assert_eq!(stderr.len(), 1, "{stderr:?}");
    assert!(stderr[0].contains("\"no-such-program-here\"") && stderr[0].contains("not found"));

    let dir = TempDir::new("noexec");
    let file = dir.write("script", "#!/bin/sh\necho hi\n");
    let (status, _, stderr) = formation(&["--", s(&file)]).output();
    assert_eq!(status, 126);
    assert_eq!(stderr.len(), 1, "{stderr:?}");
    assert!(stderr[0].contains(s(&file)) && stderr[0].contains("permission denied"));
}

/// Starts 200 double-forked orphans that die at once, then watches the namespace from inside
/// it until no orphan is alive and exactly `$WANT` zombies are left (or 10 s have passed), and
/// prints the zombie count. Whoever is PID 1 decides what that count becomes.
const ORPHANS: &str = "for i in $(seq 200); do (sleep 0.01 &) ; done; end=$(( $(date +%s) + 10 )); \
    while :; do z=0; live=0; for f in /proc/[0-9]*/stat; do \
      read -r line < $f 2>/dev/null || continue; \
      case \"${line##*) }\" in Z*) z=$((z+1));; *) case \"$line\" in *'(sleep) '*) live=$((live+1));; esac;; esac; \
    done; \
    [ $live = 0 ] && [ $z = $WANT ] && break; [ $(date +%s) -ge $end ] && break; done; \
    echo zombies=$z";

#[test]
fn two_hundred_orphans_leave_no_zombie() {
    needs_pid1!();
    let (status, stdout, _) = formation(&["--", "sh", "-c", ORPHANS])
        .env("WANT", "0")
        .output();
    assert_eq!(status, 0);
    assert_eq!(stdout, ["zombies=0"]);
}

#[test]
fn the_zombie_counter_sees_zombies_when_pid_1_does_not_reap() {
    needs_pid1!();
    // PID 1 is `head`, which never waits: the same orphans stay zombies. It exits (ending
    // the namespace) once the counter has written its count and then a line into `done`.
    let dir = TempDir::new("zombies");
    let done = dir.fifo("done");
    let script = format!(
        "sh -c '{}; echo >\"$0\"' \"$0\" & exec head -n1 \"$0\" >/dev/null",
        ORPHANS.replace('\'', "'\\''")
    );
    let out = std::process::Command::new("timeout")
        .args([
            "20",
            "unshare",
            "--pid",
            "--fork",
            "--mount-proc",
            "--kill-child",
            "sh",
            "-c",
            &script,
            s(&done),
        ])
        .env("WANT", "200")
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    let zombies: u32 = text
        .trim()
        .trim_start_matches("zombies=")
        .parse()
        .expect("count");
    assert!(zombies >= 200, "{text}");
}

#[test]
fn argv_passes_verbatim() {
    needs_pid1!();
    let args = [
        "with space",
        "",
        "ünïcödé ✓",
        "-x",
        "--",
        "--flag=1",
        "two\nlines",
    ];
    let mut argv = vec!["--", "sh", "-c", "printf '<%s>' \"$@\"", "sh"];
    argv.extend(args);
    let mut run = formation(&argv).raw_stdout().spawn();
    assert_eq!(run.wait(SOON), 0);
    let want: String = args.iter().map(|a| format!("<{a}>")).collect();
    assert_eq!(String::from_utf8(run.raw_stdout()).expect("utf-8"), want);
}

#[test]
fn environment_and_binary_stdin_pass_through() {
    needs_pid1!();
    let (_, stdout, _) = formation(&["--", "sh", "-c", "echo \"$SOME_VAR\""])
        .env("SOME_VAR", "a value = with stuff")
        .output();
    assert_eq!(stdout, ["a value = with stuff"]);

    let data: Vec<u8> = (0..256 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut run = formation(&["--", "cat"])
        .stdin(data.clone())
        .raw_stdout()
        .spawn();
    assert_eq!(run.wait(SOON), 0);
    assert!(run.raw_stdout() == data, "stdin came back changed");
}

#[test]
fn a_burst_of_2000_usr1_keeps_forwarding_and_the_status_right() {
    needs_pid1!();
    let script = fixture("signals.py");
    let mut run = formation(&["--", "python3", &script, "child", "--exit-on-term"]).spawn();
    run.wait_stdout("child ready");
    let pid = nix::unistd::Pid::from_raw(run.pid());
    for _ in 0..2000 {
        nix::sys::signal::kill(pid, Signal::SIGUSR1).expect("kill");
    }
    run.wait_stdout("child got SIGUSR1");
    run.signal(Signal::SIGUSR2);
    run.wait_stdout("child got SIGUSR2");
    run.signal(Signal::SIGTERM);
    assert_eq!(
        run.wait(SOON),
        42,
        "the child's own exit code after the burst"
    );
}

#[test]
fn a_straggler_ignoring_term_is_killed_at_the_grace() {
    needs_pid1!();
    // The main process exits only once the straggler has said (through the fifo) that it
    // ignores TERM. The grace is the subject here: short, but long enough to tell apart.
    let dir = TempDir::new("straggler");
    let ready = dir.fifo("ready");
    let script = "sh -c 'trap \"\" TERM; echo >\"$0\"; exec sleep 100' \"$0\" & \
                  read x <\"$0\"; echo main exits; exit 3";
    let mut run = formation(&["-t", "500ms", "--", "sh", "-c", script, s(&ready)]).spawn();
    run.wait_stdout("main exits");
    let main_exit = Instant::now();
    assert_eq!(run.wait(SOON), 3);
    let took = main_exit.elapsed();
    assert!(
        took >= Duration::from_millis(450),
        "waited for the grace: {took:?}"
    );
    assert!(
        took <= Duration::from_millis(2500),
        "grace + 2 s at most (the default grace is 5 s): {took:?}"
    );
}

#[test]
fn leftovers_that_obey_term_end_at_once() {
    needs_pid1!();
    let script = "sleep 100 & echo main exits; exit 4";
    let mut run = formation(&["-t", "5s", "--", "sh", "-c", script]).spawn();
    run.wait_stdout("main exits");
    let main_exit = Instant::now();
    assert_eq!(run.wait(SOON), 4);
    assert!(
        main_exit.elapsed() < Duration::from_secs(2),
        "{:?}",
        main_exit.elapsed()
    );
}

#[test]
fn not_pid_1_it_reaps_orphans_as_subreaper() {
    // Orphans re-parent onto formation ($PPID of the shell) and are reaped by it. The first
    // orphan's parent is read once its own parent has been waited for: the kernel re-parents
    // children before it reports the exit. Then the shell watches formation's children until
    // only itself is left (bounded) and counts the zombies among them.
    let script = "(sleep 100 & echo $! > \"$D/orphan\"); o=$(cat \"$D/orphan\"); \
        echo parent=$(awk '/^PPid/ {print $2}' /proc/$o/status); kill $o; \
        for i in $(seq 20); do (sleep 0.01 &); done; end=$(( $(date +%s) + 10 )); \
        while :; do z=0; others=0; \
          for k in $(cat /proc/$PPID/task/$PPID/children); do [ $k = $$ ] && continue; \
            others=$((others+1)); grep -q '^State:.*Z' /proc/$k/status 2>/dev/null && z=$((z+1)); \
          done; [ $others = 0 ] && break; [ $(date +%s) -ge $end ] && break; \
        done; echo zombies=$z; echo me=$PPID";
    let dir = TempDir::new("subreaper");
    let (status, stdout, _) = formation(&["--", "sh", "-c", script])
        .env("D", s(dir.path()))
        .env("FORMATION_LOG", "debug")
        .not_pid1()
        .output();
    assert_eq!(status, 0);
    let me = stdout
        .iter()
        .find_map(|l| l.strip_prefix("me="))
        .expect("me")
        .to_string();
    assert!(
        stdout.contains(&format!("parent={me}")),
        "adopted by formation: {stdout:?}"
    );
    assert!(stdout.contains(&"zombies=0".to_string()), "{stdout:?}");
}

#[test]
fn the_child_starts_with_no_blocked_or_ignored_signal() {
    needs_pid1!();
    let (status, stdout, _) =
        formation(&["--", "grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"]).output();
    assert_eq!(status, 0);
    assert_eq!(
        stdout,
        ["SigBlk:\t0000000000000000", "SigIgn:\t0000000000000000"]
    );
}

#[test]
fn the_child_inherits_only_fds_0_1_2() {
    needs_pid1!();
    // An fd leaked into formation by whoever started it must not reach the child either.
    let inner = format!("exec 7</dev/null; exec {BIN} -- sh -c 'ls /proc/$$/fd; exit 0'");
    let (status, stdout, _) = formation(&["--", "sh", "-c", &inner]).output();
    assert_eq!(status, 0);
    assert_eq!(stdout, ["0", "1", "2"]);
}

#[test]
fn idle_means_no_wake_ups() {
    needs_pid1!();
    let mut run = formation(&["--", "sh", "-c", "echo ready; exec sleep 100"]).spawn();
    run.wait_stdout("ready");
    let pid = run.pid();
    let switches = || {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
            .expect("field")
            .trim()
            .parse::<u64>()
            .expect("number")
    };
    // Once the child's line is out, formation goes back to sleep in its one blocking call (the
    // signalfd's read when only signals can come, else poll): wait for that,
    // then "no wake-up for a second" is the subject, and the second is the test's length.
    wait_until("formation sleeps in its wait", &mut || {
        let at = wchan(pid);
        at.contains("poll") || at.contains("signalfd")
    });
    let before = switches();
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(switches(), before, "formation woke up while idle");
    run.signal(Signal::SIGKILL);
    run.wait(SOON);
}

#[test]
fn debug_level_tells_what_it_does() {
    let (status, _, stderr) = formation(&["--", "true"])
        .env("FORMATION_LOG", "debug")
        .not_pid1()
        .output();
    assert_eq!(status, 0);
    assert!(
        stderr
            .iter()
            .any(|l| l.contains("registered as child subreaper")),
        "{stderr:?}"
    );
}

/// A usage error is the one line that says what is wrong and where the usage is, not that
/// line followed by the 27 lines of usage (issue #24).
#[test]
fn usage_errors_exit_2_with_one_line_and_a_hint() {
    let (status, _, stderr) = formation(&["--bogus"]).not_pid1().output();
    assert_eq!(status, 2);
    assert_eq!(
        stderr,
        ["formation: unknown option --bogus (formation --help shows the usage)"]
    );
    let (status, stdout, _) = formation(&["--version"]).not_pid1().output();
    assert_eq!((status, stdout[0].starts_with("formation ")), (0, true));
}

#[test]
fn on_a_terminal_the_child_gets_the_foreground_and_ctrl_c() {
    needs_pid1!();
    // Field 5 of /proc/self/stat is the process group, field 8 the terminal's foreground group.
    let cmd = format!(
        "unshare --pid --fork --mount-proc --kill-child {BIN} -- sh -c \
         'set -- $(cat /proc/self/stat); echo pgrp=$5 tpgid=$8; echo ready; exec sleep 100'"
    );
    let (status, text) = on_a_terminal(&cmd, b"\x03");
    let line = text
        .lines()
        .find(|l| l.starts_with("pgrp="))
        .expect("stat line");
    let (pgrp, tpgid) = line.trim().split_once(' ').expect("two fields");
    assert_eq!(
        pgrp.trim_start_matches("pgrp="),
        tpgid.trim_start_matches("tpgid="),
        "{line}"
    );
    assert_eq!(status, 130, "^C killed the child with SIGINT: {text:?}");
}
