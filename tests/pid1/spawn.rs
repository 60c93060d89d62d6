//! How an instance is spawned (src/os/spawn.rs): the fds, fd limit and PATH search it gets,
//! whatever formation itself holds.

use crate::harness::*;
use nix::sys::signal::Signal;
use std::os::unix::fs::PermissionsExt;

/// formation raises its own soft RLIMIT_NOFILE to the hard limit (two pipe ends per instance),
/// and every instance gets the soft limit formation was started with.
#[test]
fn instances_get_the_fd_limit_formation_was_started_with() {
    needs_pid1!();
    let (_dir, path) = toml(
        "[process.w]\nscale = 3\ncommand = \"sh -c 'echo soft=$(ulimit -S -n); exec sleep 1000'\"\n",
    );
    let mut run = formation(&["-c", &path])
        .prelude("ulimit -S -n 200; ulimit -H -n 4000")
        .spawn();
    run.wait_stdout_count("soft=200", 3);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", run.pid())).expect("limits");
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("Max open files");
    let figures: Vec<&str> = line.split_whitespace().skip(3).take(2).collect();
    assert_eq!(figures, ["4000", "4000"], "formation's own: {line}");
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0);
}

/// Each instance holds only 0, 1 and 2 when it starts, however many pipes formation holds
/// (the window fds through which the pipes reach it included).
#[test]
fn every_instance_of_a_large_formation_holds_only_fds_0_1_2() {
    needs_pid1!();
    let n = 300;
    let (_dir, path) = toml(&format!(
        "[process.w]\nscale = {n}\ncommand = \"sleep 1000\"\n"
    ));
    let mut run = formation(&["-c", &path]).spawn();
    let pid = run.pid();
    let sleeping = || -> Vec<i32> {
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .filter(|p| {
                std::fs::read_to_string(format!("/proc/{p}/comm"))
                    .is_ok_and(|c| c.trim() == "sleep")
            })
            .collect()
    };
    let deadline = std::time::Instant::now() + SOON * 3;
    let pids = loop {
        let pids = sleeping();
        if pids.len() == n || std::time::Instant::now() > deadline {
            break pids;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(pids.len(), n, "instances running");
    let odd: Vec<(i32, Vec<String>)> = pids
        .iter()
        .map(|p| {
            let mut fds: Vec<String> = std::fs::read_dir(format!("/proc/{p}/fd"))
                .map(|d| {
                    d.flatten()
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            fds.sort();
            (*p, fds)
        })
        .filter(|(_, fds)| fds != &["0", "1", "2"])
        .collect();
    assert!(odd.is_empty(), "instances with other fds: {odd:?}");
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON * 3), 0);
}

/// A program without `/` is looked up in the instance's own PATH, as execvp does: a file that
/// is not executable is passed over for a later entry, and is a 126 when nothing else is found.
#[test]
fn the_program_is_found_in_the_instance_path() {
    needs_pid1!();
    let dir = TempDir::new("path");
    let script = |name: &str, text: &str, mode: u32| {
        let p = dir.write(name, text);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).expect("chmod");
    };
    std::fs::create_dir_all(dir.path().join("a")).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("b")).expect("mkdir");
    script("a/hello", "#!/bin/sh\necho from a\n", 0o644);
    script(
        "b/hello",
        "#!/bin/sh\necho from b; exec /bin/sleep 1000\n",
        0o755,
    );
    script("a/only", "#!/bin/sh\necho never\n", 0o644);
    let d = s(dir.path());
    let config = dir.write(
        "formation.toml",
        &format!(
            "[process.hello]\ncommand = \"hello\"\nenv = {{ PATH = \"{d}/a:{d}/b\" }}\n\
             [process.only]\ncommand = \"only\"\nessential = false\nenv = {{ PATH = \"{d}/a:{d}/b\" }}\n\
             [process.missing]\ncommand = \"hello\"\nessential = false\nenv = {{ PATH = \"{d}/none\" }}\n"
        ),
    );
    let mut run = formation(&["-c", s(&config)]).spawn();
    run.wait_stdout("from b");
    run.wait_stderr("only.1 exited with code 126");
    run.wait_stderr("missing.1 exited with code 127");
    let stderr = run.stderr().join("\n");
    assert!(stderr.contains("permission denied"), "{stderr}");
    assert!(stderr.contains("not found"), "{stderr}");
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0, "{:?}", run.stderr());
}

/// SPEC §4 "credentials": spawning an instance as another user leaves formation dumpable. The
/// child runs in formation's memory until its exec (CLONE_VM), and the kernel marks the memory
/// non-dumpable when a task using it changes its uid (commit_creds): formation's own
/// `/proc/1/environ` then became unreadable to `docker exec` (no CAP_SYS_PTRACE), and `status`
/// could no longer find the control socket. A non-dumpable task's /proc files are owned by
/// root, so formation runs here as uid 1000 with only the capabilities a switch needs, and its
/// `/proc/1/environ` must stay owned by 1000.
#[test]
fn spawning_as_another_user_leaves_formation_dumpable() {
    needs_pid1!();
    let (_dir, path) = toml(
        "[process.other]\ncommand = \"sh -c 'echo as $(id -u); exec sleep 1000'\"\nuser = \"65534:65534\"\n",
    );
    let mut run = formation(&["-c", &path])
        .prelude(
            "exec setpriv --reuid=1000 --regid=1000 --clear-groups \
             --inh-caps=+setuid,+setgid,+kill --ambient-caps=+setuid,+setgid,+kill \"$0\" \"$@\"",
        )
        .spawn();
    run.wait_stdout("other.1   | as 65534");
    let environ = format!("/proc/{}/environ", run.pid());
    let owner = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&environ).expect("stat"));
    assert_eq!(
        owner, 1000,
        "{environ} is owned by {owner}: formation is not dumpable"
    );
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0, "{:?}", run.stderr());
}
