//! Faults a container meets (issue #26): a process limit (`pids.max`, `--pids-limit`) at
//! which `clone` fails with EAGAIN, the OOM killer under a memory limit, and an output that
//! fails (a full disk, EIO). formation runs inside a control group made for the test.

use crate::cgroups::Cgroup;
use crate::harness::*;
use nix::sys::signal::Signal;
use std::time::{Duration, Instant};

/// How many stderr lines contain `text`.
fn count(run: &Run, text: &str) -> usize {
    run.stderr().iter().filter(|l| l.contains(text)).count()
}

const EAGAIN: &str = "cannot fork: too many processes (EAGAIN)";

/// At the pids limit an instance that cannot be forked is a spawn failure through the restart
/// policy: one line per attempt, with backoff between attempts (no busy loop), and every
/// instance starts once the limit is lifted.
#[test]
fn instances_that_cannot_fork_back_off_and_start_once_the_limit_is_lifted() {
    needs_pid1!();
    let Some(group) = Cgroup::new("pids", "fork") else {
        return;
    };
    // formation itself and two sleeps fit; the third and fourth cannot be forked.
    group.pids_max("3");
    let (_dir, path) = toml(
        "[process.w]\nscale = 4\ncommand = \"sleep 1000\"\nrestart = \"on-failure\"\n\
         backoff = { initial = \"100ms\", max = \"200ms\", restarts = 1000 }\n",
    );
    let mut run = formation(&["-c", &path]).prelude(&group.enter()).spawn();
    run.wait_stderr_count(EAGAIN, 4);
    let since = Instant::now();
    let before = count(&run, EAGAIN);
    // "Nothing happens too often for a while" is the subject here: a fixed window.
    std::thread::sleep(Duration::from_millis(1000));
    let during = count(&run, EAGAIN) - before;
    let elapsed = since.elapsed().as_millis() as usize;
    // Two instances retrying at most every 100 ms (200 ms once backed off).
    assert!(
        during <= 2 * (elapsed / 100 + 2),
        "{during} failed forks in {elapsed} ms: no backoff?\n{}",
        run.stderr().join("\n")
    );
    assert!(run.running(), "formation itself survived");
    group.pids_max("max");
    for i in 1..=4 {
        run.wait_stderr(&format!("w.{i} started"));
    }
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0, "{}", run.stderr().join("\n"));
}

/// A ready check whose command cannot be forked is a failed attempt, retried at its interval
/// and said once (not at every interval); once the limit is lifted the instance is ready.
#[test]
fn a_ready_check_that_cannot_fork_is_retried_until_the_limit_is_lifted() {
    needs_pid1!();
    let Some(group) = Cgroup::new("pids", "check") else {
        return;
    };
    // formation and the instance fit; the check's `true` does not.
    group.pids_max("2");
    let (_dir, path) = toml(
        "[process.w]\ncommand = \"sleep 1000\"\n\
         ready = { exec = \"true\", interval = \"50ms\", timeout = \"60s\" }\n",
    );
    let mut run = formation(&["-c", &path]).prelude(&group.enter()).spawn();
    run.wait_stderr("w.1 started");
    run.wait_stderr(&format!("w.1: its ready check cannot run: {EAGAIN}"));
    group.pids_max("max");
    run.wait_stderr("w.1 ready (exec");
    assert_eq!(count(&run, "check cannot run"), 1, "said once");
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0, "{}", run.stderr().join("\n"));
}

/// A scheduled job that cannot be forked says so and runs at a later fire once the limit is
/// lifted; formation goes on.
#[test]
fn a_scheduled_job_that_cannot_fork_runs_at_a_later_fire() {
    needs_pid1!();
    let Some(group) = Cgroup::new("pids", "schedule") else {
        return;
    };
    group.pids_max("1");
    let (_dir, path) = toml("[process.tick]\ncommand = \"echo tick\"\nschedule = \"@every 1s\"\n");
    let mut run = formation(&["-c", &path]).prelude(&group.enter()).spawn();
    run.wait_stderr(EAGAIN);
    assert!(run.stdout().iter().all(|l| !l.contains("tick")));
    group.pids_max("max");
    run.wait_stdout("tick");
    assert!(run.running());
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0, "{}", run.stderr().join("\n"));
}

/// `formation run` (single-command semantics) whose command cannot be forked exits 126 with
/// one line naming why, as any spawn failure in that mode.
#[test]
fn run_whose_command_cannot_fork_exits_126_saying_why() {
    needs_pid1!();
    let Some(group) = Cgroup::new("pids", "run") else {
        return;
    };
    group.pids_max("1");
    let (_dir, path) = toml("[process.w]\ncommand = \"sleep 1000\"\n");
    let mut run = formation(&["run", "-c", &path, "--", "true"])
        .prelude(&group.enter())
        .spawn();
    assert_eq!(run.wait(SOON), 126, "{}", run.stderr().join("\n"));
    assert_eq!(count(&run, EAGAIN), 1, "{}", run.stderr().join("\n"));
}

/// formation lowers its own `oom_score_adj` as far as it may (-1000 as root), and every
/// instance gets back the value formation was started with, not formation's.
#[test]
fn formation_is_never_the_oom_victim_and_instances_get_the_score_it_was_started_with() {
    needs_pid1!();
    let (_dir, path) = toml(
        "[process.w]\ncommand = \"sh -c 'echo adj=$(cat /proc/self/oom_score_adj); exec sleep 1000'\"\n",
    );
    let mut run = formation(&["-c", &path])
        .prelude("echo 300 > /proc/self/oom_score_adj")
        .spawn();
    run.wait_stdout("adj=300");
    let own = std::fs::read_to_string(format!("/proc/{}/oom_score_adj", run.pid()));
    let own: i32 = own
        .expect("oom_score_adj")
        .trim()
        .parse()
        .expect("a number");
    // Without CAP_SYS_RESOURCE (a sandbox, Docker's default capabilities) the floor is the
    // one the runtime set, which only a write can find.
    let privileged = std::process::Command::new("sh")
        .args(["-c", "echo -1000 > /proc/self/oom_score_adj"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if privileged {
        assert_eq!(own, -1000);
    } else {
        assert!(own < 300, "lowered as far as it may: {own}");
    }
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0, "{}", run.stderr().join("\n"));
}

/// An instance the OOM killer takes (its memory group's `oom_kill` count rose) is named as
/// such, with the limit; a SIGKILL from anyone else is not.
#[test]
fn an_oom_kill_is_told_apart_from_another_sigkill() {
    needs_pid1!();
    let Some(group) = Cgroup::new("memory", "oom") else {
        return;
    };
    group.memory_max(64 << 20);
    // dash keeps a command substitution's whole output in memory: 200 MB of it cannot fit.
    // `keeper` keeps the formation running once both others have ended for good (with none
    // left, formation exits by itself, and the SIGTERM below would race that exit).
    let (dir, path) = toml(
        "[process.hog]\ncommand = [\"sh\", \"-c\", \"read x < gate; x=$(yes | head -c 200000000); echo survived\"]\n\
         essential = false\n\
         [process.victim]\ncommand = [\"sh\", \"-c\", \"echo victim pid $$; exec sleep 1000\"]\nessential = false\n\
         [process.keeper]\ncommand = \"sleep 1000\"\n",
    );
    let gate = dir.fifo("gate");
    let mut run = formation(&["-c", &path])
        .dir(dir.path())
        .prelude(&group.enter())
        .spawn();
    run.wait_stdout("victim pid");
    open_gate(&gate);
    run.wait_stderr("hog.1 was killed by SIGKILL (out of memory: the container's limit is 64 MiB)");
    let victim = run
        .stdout()
        .iter()
        .find_map(|l| l.split("victim pid ").nth(1).map(str::to_string))
        .expect("victim pid");
    // Its pid inside the namespace: find it on the host as formation's child running sleep.
    let host = children(run.pid())
        .into_iter()
        .find(|p| {
            std::fs::read_to_string(format!("/proc/{p}/status")).is_ok_and(|s| {
                s.lines()
                    .any(|l| l.starts_with("NSpid:") && l.ends_with(&format!("\t{victim}")))
            })
        })
        .expect("the victim on the host");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(host), Signal::SIGKILL).expect("kill");
    run.wait_stderr("victim.1 was killed by SIGKILL");
    let line = run
        .stderr()
        .into_iter()
        .find(|l| l.contains("victim.1 was killed"))
        .expect("victim line");
    assert!(!line.contains("out of memory"), "{line}");
    assert!(run.running(), "formation survived");
    run.signal(Signal::SIGTERM);
    run.wait(SOON);
}

/// A stdout on which every write fails with ENOSPC (/dev/full): lines are dropped and
/// counted, one line on stderr says so, supervision goes on (a crash loop keeps restarting),
/// and the stop ends with the count.
#[test]
fn a_stdout_that_is_full_drops_and_counts_lines_and_supervision_goes_on() {
    needs_pid1!();
    let (_dir, path) = toml(
        "[process.flood]\ncommand = \"sh -c 'while :; do echo flood; done'\"\n\
         [process.crash]\ncommand = \"sh -c 'echo crashing >&2; exit 1'\"\n\
         restart = \"always\"\nessential = false\n\
         backoff = { initial = \"50ms\", max = \"50ms\", restarts = 1000 }\n",
    );
    let mut run = formation(&["-c", &path])
        .prelude("exec > /dev/full")
        .spawn();
    run.wait_stderr(
        "stdout: cannot write (no space left on device (ENOSPC)): its lines are dropped",
    );
    let restarts = count(&run, "crash.1 exited with code 1; restarting");
    run.wait_stderr_count("crash.1 exited with code 1; restarting", restarts + 5);
    run.wait_stderr_count("| crashing", restarts + 5);
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0, "{}", run.stderr().join("\n"));
    let dropped = run
        .stderr()
        .iter()
        .find_map(|l| {
            let rest = l.split("stdout: ").nth(1)?;
            rest.strip_suffix(" line(s) dropped (no space left on device (ENOSPC))")?
                .parse::<u64>()
                .ok()
        })
        .expect("the count of dropped lines");
    assert!(dropped > 0);
}

/// A stdout file on a small tmpfs that fills up: lines are dropped while it is full, and
/// once space is freed, lines are written again and the count of what was dropped is said.
#[test]
fn a_full_disk_that_frees_up_gets_lines_again() {
    needs_pid1!();
    let (dir, path) = toml(
        "[process.tick]\ncommand = \"sh -c 'i=0; while :; do i=$((i+1)); echo tick $i ........................................................................; sleep 0.01; done'\"\n",
    );
    let mnt = dir.path().join("mnt");
    std::fs::create_dir(&mnt).expect("mnt");
    let mut run = formation(&["-c", &path])
        .prelude(&format!(
            "mount -t tmpfs -o size=4k tmpfs {0} && exec > {0}/out",
            s(&mnt)
        ))
        .spawn();
    run.wait_stderr("stdout: cannot write (no space left on device (ENOSPC))");
    // The tmpfs is in formation's mount namespace: reach it through its root.
    let out = format!("/proc/{}/root{}/out", run.pid(), s(&mnt));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&out)
        .expect("the stdout file");
    file.set_len(0).expect("truncate");
    run.wait_stderr_until("the count of dropped lines", &|l| {
        l.iter()
            .any(|x| x.contains("stdout: ") && x.contains("line(s) dropped (no space left"))
    });
    // Writes land again (past the old end: a sparse file takes only what is written).
    wait_until("lines written after the space was freed", &mut || {
        std::fs::read(&out).is_ok_and(|b| b.windows(5).any(|w| w == b"tick "))
    });
    assert!(run.running());
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0, "{}", run.stderr().join("\n"));
}
