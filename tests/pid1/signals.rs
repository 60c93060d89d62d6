//! Signals (SPEC §1.1, issue #16): rewriting (`-r`, a type's `signals`), a SIGPIPE someone
//! else sends against the one formation's own write raises, job control when not PID 1 (on a
//! real terminal too), and formation leaving its cwd once the children are spawned.

use crate::harness::*;
use nix::sys::signal::Signal;

const SIGNALS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/signals.py");

/// The state letter of `pid` in /proc/PID/stat (`S`, `R`, `T` for stopped), "" once gone.
fn state(pid: i32) -> String {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name, in parentheses, may hold spaces: the state follows the last `)`.
    let after = stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
    after.split(' ').next().unwrap_or("").to_string()
}

fn all_in(pids: &[i32], want: &str) -> bool {
    pids.iter().all(|&p| state(p) == want)
}

#[test]
fn single_command_mode_forwards_the_rewritten_signal_and_drops_zero() {
    needs_pid1!();
    let mut run = formation(&[
        "-r",
        "TERM:USR1",
        "-r",
        "1:0",
        "--rewrite=10:2",
        "--",
        "python3",
        SIGNALS,
        "child",
    ])
    .spawn();
    run.wait_stdout("child ready");
    run.signal(Signal::SIGTERM);
    run.wait_stdout("child got SIGUSR1");
    run.signal(Signal::SIGUSR1);
    run.wait_stdout("child got SIGINT");
    // HUP is dropped: USR2, sent after it, arrives, and HUP never did.
    run.signal(Signal::SIGHUP);
    run.signal(Signal::SIGUSR2);
    run.wait_stdout("child got SIGUSR2");
    let got: Vec<String> = run
        .stdout()
        .into_iter()
        .filter(|l| l.contains("got"))
        .collect();
    assert_eq!(
        got,
        ["child got SIGUSR1", "child got SIGINT", "child got SIGUSR2"],
        "no TERM, no HUP"
    );
    run.signal(Signal::SIGKILL);
    run.wait(SOON);
}

#[test]
fn formation_mode_rewrites_then_acts_and_each_type_gets_its_own_table() {
    needs_pid1!();
    let (_dir, path) = toml(&format!(
        "[process.web]\ncommand = \"python3 {SIGNALS} web --exit-on-term\"\n\
         signals = {{ HUP = \"USR1\", WINCH = \"\" }}\n\
         [process.worker]\ncommand = \"python3 {SIGNALS} worker --exit-on-term\"\n"
    ));
    // TERM is forwarded as HUP instead of stopping; USR2 stops the formation instead.
    let mut run = formation(&["-c", &path, "-r", "TERM:HUP", "-r", "USR2:TERM"]).spawn();
    run.wait_stdout("web ready");
    run.wait_stdout("worker ready");
    run.signal(Signal::SIGTERM);
    run.wait_stdout("web got SIGUSR1");
    run.wait_stdout("worker got SIGHUP");
    run.signal(Signal::SIGWINCH);
    run.wait_stdout("worker got SIGWINCH");
    assert!(run.running(), "TERM did not stop it");
    run.signal(Signal::SIGUSR2);
    run.wait_stderr("SIGUSR2 (as SIGTERM) received; stopping");
    assert_eq!(run.wait(SOON), 0, "every instance ended on its stop signal");
    let web: Vec<String> = run
        .stdout()
        .iter()
        .filter_map(|l| l.split_once(" | ")?.1.strip_prefix("web got "))
        .map(String::from)
        .collect();
    assert_eq!(
        web,
        ["SIGUSR1", "SIGTERM"],
        "web never got HUP or WINCH; the stop sent its stop_signal"
    );
}

#[test]
fn bad_rewrites_are_usage_and_config_errors_before_anything_starts() {
    let (status, _, stderr) = formation(&["-r", "TERM", "--", "true"]).not_pid1().output();
    assert_eq!(status, 2);
    assert!(
        stderr[0].contains("-r: \"TERM\" is not of the form SRC:DST"),
        "{stderr:?}"
    );
    let (status, _, stderr) = formation(&["-r", "KILL:TERM", "--", "true"])
        .not_pid1()
        .output();
    assert_eq!(status, 2);
    assert!(
        stderr[0].contains("SIGKILL cannot be rewritten"),
        "{stderr:?}"
    );
    let (_dir, path) =
        toml("[process.web]\ncommand = \"true\"\nsignals = { HUP = \"NOPE\", TERM = \"QUIT\" }\n");
    let (status, _, stderr) = formation(&["-c", &path]).not_pid1().output();
    assert_eq!(status, 2);
    assert!(
        stderr[0].ends_with(
            "formation.toml:3:19: `signals.HUP`: \"NOPE\" is not a signal name or number \
             (e.g. \"SIGQUIT\", \"QUIT\", \"3\")"
        ),
        "{stderr:?}"
    );
    assert!(
        stderr[1].contains("formation.toml:3:27: `signals`: SIGTERM is not rewritten per type"),
        "{stderr:?}"
    );
}

#[test]
fn a_sigpipe_someone_sends_is_forwarded_from_outside_or_inside_the_namespace() {
    needs_pid1!();
    let dir = TempDir::new("pipe");
    dir.fifo("gate");
    // `k` sends SIGPIPE to PID 1 from inside the namespace once the gate opens (and ignores
    // the copies forwarded to its own group).
    let path = dir.write(
        "Procfile",
        &format!(
            "a: python3 {SIGNALS} a --exit-on-term\n\
             k: trap '' PIPE; read x < gate; kill -PIPE 1; exec sleep 100\n"
        ),
    );
    let mut run = formation(&["-f", s(&path)]).spawn();
    run.wait_stdout("a ready");
    run.signal(Signal::SIGPIPE);
    run.wait_stdout("a got SIGPIPE");
    open_gate(&dir.path().join("gate"));
    run.wait_stdout_count("a got SIGPIPE", 2);
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0);

    let mut run = formation(&["--", "python3", SIGNALS, "cmd"]).spawn();
    run.wait_stdout("cmd ready");
    run.signal(Signal::SIGPIPE);
    run.wait_stdout("cmd got SIGPIPE");
    run.signal(Signal::SIGKILL);
    run.wait(SOON);
}

#[test]
fn the_sigpipe_of_formations_own_write_is_not_forwarded() {
    needs_pid1!();
    // `w` writes lines to formation's stdout, which the test closes after the first one:
    // formation's next write to it is an EPIPE with a SIGPIPE of its own (later output is
    // discarded unwritten).
    // A trap shows any SIGPIPE that reaches `w`, on stderr (still open). The array form: `w`'s
    // shell is the leader itself, not under a `/bin/sh -c` wrapper that a SIGPIPE would kill.
    let (_dir, path) = toml(
        "[process.w]\ncommand = [\"sh\", \"-c\", \"\"\"trap 'echo got PIPE >&2' PIPE; i=0; \
         while [ $i -lt 30 ]; do echo tick $i; i=$((i+1)); sleep 0.01; done; \
         echo wrote >&2; while :; do sleep 0.01; done\"\"\"]\n",
    );
    let mut run = formation(&["-c", &path])
        .close_stdout_after_a_line()
        .spawn();
    run.wait_stderr("| wrote");
    // `w`'s stderr is one pipe, read in order: a trap line from a SIGPIPE of formation's first
    // write to the closed stdout (at `tick 1`) would stand before `wrote`.
    let before = run.stderr();
    assert!(
        !before.iter().any(|l| l.contains("got PIPE")),
        "formation's own SIGPIPE was forwarded: {before:?}"
    );
    // Someone else's SIGPIPE now: the control that `w` shows one when it gets one.
    run.signal(Signal::SIGPIPE);
    run.wait_stderr("got PIPE");
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0);
}

#[test]
fn not_pid1_tstp_suspends_every_instance_and_formation_and_cont_resumes_them() {
    let (_dir, path) = toml(&format!(
        "[process.a]\ncommand = \"python3 {SIGNALS} a --exit-on-term\"\n\
         [process.b]\ncommand = \"python3 {SIGNALS} b --exit-on-term\"\n"
    ));
    let mut run = formation(&["-c", &path]).not_pid1().spawn();
    run.wait_stdout("a ready");
    run.wait_stdout("b ready");
    let me = run.pid();
    let instances = children(me);
    assert_eq!(instances.len(), 2);
    run.signal(Signal::SIGTSTP);
    run.wait_stderr("SIGTSTP received; suspending until SIGCONT");
    wait_until("formation and both instances are stopped", &mut || {
        all_in(&instances, "T") && state(me) == "T"
    });
    // They catch TSTP and would go on: it was SIGSTOP that stopped them.
    assert!(!run.stdout().iter().any(|l| l.contains("got SIGTSTP")));
    run.signal(Signal::SIGCONT);
    run.wait_stdout("a got SIGCONT");
    run.wait_stdout("b got SIGCONT");
    assert!(!all_in(&instances, "T") && state(me) != "T");
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0);
}

#[test]
fn as_pid1_job_control_signals_are_ignored() {
    needs_pid1!();
    let (_dir, path) = toml(&format!(
        "[process.a]\ncommand = \"python3 {SIGNALS} a --exit-on-term\"\n"
    ));
    let mut run = formation(&["-c", &path])
        .env("FORMATION_LOG", "debug")
        .spawn();
    run.wait_stdout("a ready");
    let me = run.pid();
    let instances = children(me);
    for sig in [Signal::SIGTSTP, Signal::SIGTTIN, Signal::SIGTTOU] {
        run.signal(sig);
        run.wait_stderr(&format!("ignoring {sig}"));
    }
    assert!(state(me) != "T" && !all_in(&instances, "T"));
    run.signal(Signal::SIGHUP);
    run.wait_stdout("a got SIGHUP");
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0);
}

/// ^Z on a real terminal: bash (job control on) runs formation in the foreground; ^Z
/// suspends it and its two instances, bash sees it stopped and checks /proc, and `fg`
/// resumes it — formation forwards the SIGCONT, on which `a` exits and ends the formation.
#[test]
fn ctrl_z_on_a_terminal_suspends_the_formation_and_fg_resumes_it() {
    let dir = TempDir::new("ctrlz");
    let procfile = dir.write(
        "Procfile",
        &format!("a: python3 {SIGNALS} a --exit-on-cont\nb: python3 {SIGNALS} b --exit-on-term\n"),
    );
    let script = dir.write(
        "job.sh",
        &format!(
            "set -m\n{BIN} -f {} --color never\necho \"suspended with $?\"\n\
             pid=$(jobs -p)\n\
             for k in $pid $(cat /proc/$pid/task/$pid/children); do\n\
             for i in $(seq 500); do\n\
             s=$(sed 's/.*) //' /proc/$k/stat | cut -d' ' -f1); [ \"$s\" = T ] && break; sleep 0.01\n\
             done\n\
             echo \"state $s\"\n\
             done\n\
             fg\necho \"after fg $?\"\n",
            s(&procfile)
        ),
    );
    let (status, text) = on_a_terminal_after(
        &format!("bash --norc --noprofile {}", s(&script)),
        &["a ready", "b ready"],
        b"\x1a",
    );
    assert_eq!(status, 0, "{text}");
    assert!(
        text.contains("SIGTSTP received; suspending until SIGCONT"),
        "{text}"
    );
    assert!(
        text.contains("suspended with 147"),
        "stopped (SIGSTOP): {text}"
    );
    let states: Vec<&str> = text.lines().filter(|l| l.starts_with("state ")).collect();
    assert_eq!(
        states.iter().map(|l| l.trim()).collect::<Vec<_>>(),
        ["state T"; 3],
        "formation and its two instances: {text}"
    );
    assert!(text.contains("a got SIGCONT"), "{text}");
    assert!(text.contains("after fg 0"), "a exited 0 on CONT: {text}");
}

#[test]
fn formation_leaves_its_cwd_and_the_instances_keep_theirs_across_restarts() {
    needs_pid1!();
    let dir = TempDir::new("cwd");
    let app = dir.path().join("app");
    std::fs::create_dir(&app).expect("mkdir");
    std::fs::write(
        app.join("formation.toml"),
        "[process.w]\ncommand = \"sh -c 'echo at $(pwd); exec sleep 100'\"\n\
         [process.r]\ncommand = \"sh -c 'echo run in $(pwd); exit 1'\"\nrestart = \"always\"\n\
         essential = false\nbackoff = { initial = \"10ms\", max = \"10ms\", restarts = 1000 }\n",
    )
    .expect("write");
    // A relative -c: the instances' cwd must not depend on formation's.
    let mut run = formation(&["-c", "app/formation.toml"])
        .dir(dir.path())
        .spawn();
    let app = s(&app).to_string();
    run.wait_stdout(&format!("at {app}"));
    run.wait_stdout_count(&format!("run in {app}"), 3);
    let me = run.pid();
    let cwd = |pid: i32| std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap_or_default();
    assert_eq!(cwd(me), std::path::Path::new("/"));
    let w = children(me)
        .into_iter()
        .find(|&k| {
            std::fs::read_to_string(format!("/proc/{k}/cmdline")).is_ok_and(|c| c.contains("sleep"))
        })
        .expect("w's sleep");
    assert_eq!(cwd(w), std::path::Path::new(&app));
    run.signal(Signal::SIGTERM);
    assert_eq!(run.wait(SOON), 0);

    // Single-command mode: the command inherits the directory, then formation leaves it.
    let mut run = formation(&["--", "sh", "-c", "echo at $(pwd); exec sleep 100"])
        .dir(dir.path())
        .spawn();
    run.wait_stdout(&format!("at {}", s(dir.path())));
    let me = run.pid();
    wait_until("formation has left its cwd", &mut || {
        cwd(me) == std::path::Path::new("/")
    });
    let cmd = children(me)[0];
    assert_eq!(cwd(cmd), dir.path());
    run.signal(Signal::SIGKILL);
    run.wait(SOON);
}
