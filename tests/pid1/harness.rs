//! The harness: runs the real binary, as PID 1 of a new pid namespace or not, collects its
//! output line by line, and bounds every wait. Every process a test starts is killed when its
//! handle is dropped, even when the test fails.
//!
//! Synchronisation is by handshake, never by a fixed sleep: a test waits (with a deadline) for
//! a line the fixture prints once it is ready, opens a named pipe a fixture blocks on
//! (`Gate`), or holds formation's stdout until it releases it (`Start::hold_stdout`).
//! Everything a test creates is its own (temporary directories carry the pid and a counter),
//! so the tests run in parallel threads without seeing each other.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_formation");

/// A generous bound for anything that should happen "at once".
pub const SOON: Duration = Duration::from_secs(10);

/// True when formation may run as PID 1 of a new pid namespace: we are root and
/// `unshare --pid --fork --mount-proc` works (probed once). Without it a test is skipped
/// loudly, and under CI (env CI set) that is a failure instead.
pub fn can_unshare() -> bool {
    static PROBE: OnceLock<Result<(), String>> = OnceLock::new();
    let probe = PROBE.get_or_init(|| {
        if !nix::unistd::geteuid().is_root() {
            return Err("not root".into());
        }
        match Command::new("unshare")
            .args(["--pid", "--fork", "--mount-proc", "true"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
        {
            Ok(status) if status.success() => Ok(()),
            Ok(status) => Err(format!(
                "`unshare --pid --fork --mount-proc true`: {status}"
            )),
            Err(e) => Err(format!("cannot run unshare: {e}")),
        }
    });
    let Err(why) = probe else {
        return true;
    };
    let test = std::thread::current().name().unwrap_or("?").to_string();
    if std::env::var_os("CI").is_some() {
        panic!("{test} needs root and `unshare --pid` ({why}), and CI is set");
    }
    // Straight to fd 2: the test harness captures eprintln! of a passing test.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {why}; it runs formation as PID 1 under unshare"
    );
    false
}

/// Skips the calling test (loudly; a failure under CI) unless formation can run as PID 1.
macro_rules! needs_pid1 {
    () => {
        if !$crate::harness::can_unshare() {
            return;
        }
    };
}
pub(crate) use needs_pid1;

/// Lines from one stream, shared with the reader thread.
#[derive(Default)]
struct Lines {
    lines: Mutex<(Vec<String>, bool)>,
    times: Mutex<Vec<Instant>>,
    changed: Condvar,
}

/// A running formation.
pub struct Run {
    child: Child,
    /// Whether it runs under unshare (the host pid of PID 1 is then the child's child).
    unshared: bool,
    out: Arc<Lines>,
    err: Arc<Lines>,
    raw_out: Option<Arc<Mutex<Vec<u8>>>>,
    /// With `hold_stdout`: sending (or dropping) this lets the stdout reader start.
    release: Mutex<Option<Sender<()>>>,
}

/// How to start formation.
pub struct Start {
    args: Vec<String>,
    env: Vec<(String, String)>,
    dir: Option<PathBuf>,
    pid1: bool,
    stdin: Option<Vec<u8>>,
    raw: bool,
    /// With `raw`: read nothing from stdout until `Run::release_stdout` (a stuck reader).
    hold: bool,
    /// Close our end of formation's stdout after the first line (a reader that goes away).
    close_stdout: bool,
    prelude: Option<String>,
    /// A program (and its arguments) that runs formation, e.g. `setpriv …`.
    via: Vec<String>,
}

pub fn formation(args: &[&str]) -> Start {
    Start {
        args: args.iter().map(|s| s.to_string()).collect(),
        env: Vec::new(),
        dir: None,
        pid1: true,
        stdin: None,
        raw: false,
        hold: false,
        close_stdout: false,
        prelude: None,
        via: Vec::new(),
    }
}

impl Start {
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }
    pub fn dir(mut self, dir: &Path) -> Self {
        self.dir = Some(dir.to_path_buf());
        self
    }
    /// Run it as a plain child of the test (not PID 1): the subreaper path.
    pub fn not_pid1(mut self) -> Self {
        self.pid1 = false;
        self
    }
    pub fn stdin(mut self, data: Vec<u8>) -> Self {
        self.stdin = Some(data);
        self
    }
    /// Shell commands to run inside the new namespaces before formation is exec'd as PID 1
    /// (e.g. bind-mounting a test /etc/passwd).
    /// Run formation through `program` (not as PID 1): `via(&["setpriv", "--reuid=65534"])`.
    pub fn via(mut self, program: &[&str]) -> Self {
        self.via = program.iter().map(|s| s.to_string()).collect();
        self.pid1 = false;
        self
    }

    pub fn prelude(mut self, script: &str) -> Self {
        self.prelude = Some(script.into());
        self
    }
    /// Read stdout raw, but only once the test calls `Run::release_stdout`: until then
    /// formation's stdout pipe fills up and stays full.
    pub fn hold_stdout(mut self) -> Self {
        self.raw = true;
        self.hold = true;
        self
    }
    /// Read one line of stdout, then close the pipe (formation then gets EPIPE).
    pub fn close_stdout_after_a_line(mut self) -> Self {
        self.close_stdout = true;
        self
    }
    /// Keep stdout as raw bytes instead of lines.
    pub fn raw_stdout(mut self) -> Self {
        self.raw = true;
        self
    }

    pub fn spawn(self) -> Run {
        let mut cmd = if self.pid1 {
            let mut c = Command::new("unshare");
            c.args(["--pid", "--fork", "--mount-proc", "--kill-child"]);
            match &self.prelude {
                Some(script) => c.args(["sh", "-c", &format!("{script}\nexec \"$0\" \"$@\""), BIN]),
                None => c.arg(BIN),
            };
            c
        } else if let Some((program, args)) = self.via.split_first() {
            let mut c = Command::new(program);
            c.args(args).arg(BIN);
            c
        } else {
            Command::new(BIN)
        };
        cmd.args(&self.args)
            .env_remove("FORMATION")
            .env_remove("FORMATION_CONFIG")
            .env_remove("FORMATION_GRACE")
            .env_remove("FORMATION_LOG")
            .env_remove("FORMATION_LOG_FORMAT")
            .env_remove("NO_COLOR")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(dir) = &self.dir {
            cmd.current_dir(dir);
        }
        let mut child = cmd.spawn().expect("spawn formation");
        if let Some(data) = self.stdin {
            let mut stdin = child.stdin.take().expect("stdin");
            std::thread::spawn(move || {
                use std::io::Write;
                let _ = stdin.write_all(&data);
            });
        }
        let out = Arc::new(Lines::default());
        let err = Arc::new(Lines::default());
        let stdout = child.stdout.take().expect("stdout");
        let (release, held): (Sender<()>, Receiver<()>) = std::sync::mpsc::channel();
        let raw_out = if self.close_stdout {
            let o = out.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stdout);
                let mut first = String::new();
                let _ = reader.read_line(&mut first);
                let mut guard = o.lines.lock().expect("lock");
                guard.0.push(first.trim_end().to_string());
                guard.1 = true;
                o.changed.notify_all();
                // `reader` drops here: the pipe's read end is closed.
            });
            None
        } else if self.raw {
            let buf = Arc::new(Mutex::new(Vec::new()));
            let (b, o, hold) = (buf.clone(), out.clone(), self.hold);
            std::thread::spawn(move || {
                if hold {
                    // Returns on release, or when the Run (holding the sender) is dropped.
                    let _ = held.recv();
                }
                let mut stdout = stdout;
                let mut chunk = [0u8; 65536];
                while let Ok(n) = stdout.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    b.lock().expect("lock").extend_from_slice(&chunk[..n]);
                }
                o.lines.lock().expect("lock").1 = true;
                o.changed.notify_all();
            });
            Some(buf)
        } else {
            read_lines(stdout, out.clone());
            None
        };
        read_lines(child.stderr.take().expect("stderr"), err.clone());
        Run {
            child,
            unshared: self.pid1,
            out,
            err,
            raw_out,
            release: Mutex::new(Some(release)),
        }
    }

    /// Runs to the end (bounded by SOON) and returns (status, stdout, stderr).
    pub fn output(self) -> (i32, Vec<String>, Vec<String>) {
        let mut run = self.spawn();
        let status = run.wait(SOON);
        (status, run.stdout(), run.stderr())
    }
}

impl Lines {
    /// Waits (bounded) until the stream has ended.
    fn wait_closed(&self) {
        let guard = self.lines.lock().expect("lock");
        let _ = self.changed.wait_timeout_while(guard, SOON, |g| !g.1);
    }
}

fn read_lines(stream: impl Read + Send + 'static, into: Arc<Lines>) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if buf.ends_with(b"\n") {
                        buf.pop();
                    }
                    let line = String::from_utf8_lossy(&buf).into_owned();
                    let mut guard = into.lines.lock().expect("lock");
                    guard.0.push(line);
                    into.times.lock().expect("lock").push(Instant::now());
                    drop(guard);
                    into.changed.notify_all();
                }
            }
        }
        into.lines.lock().expect("lock").1 = true;
        into.changed.notify_all();
    });
}

fn wait_for(lines: &Lines, what: &str, timeout: Duration, pred: &dyn Fn(&[String]) -> bool) {
    let deadline = Instant::now() + timeout;
    let mut guard = lines.lines.lock().expect("lock");
    loop {
        if pred(&guard.0) {
            return;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || guard.1 {
            let why = if guard.1 {
                "the stream ended"
            } else {
                "timed out"
            };
            let text = guard.0.join("\n");
            // Unlocked before the panic: a poisoned lock would bring down the reader thread.
            drop(guard);
            panic!("{why} waiting for {what}; lines so far:\n{text}");
        }
        guard = lines.changed.wait_timeout(guard, left).expect("lock").0;
    }
}

impl Run {
    /// The host pid of formation itself (PID 1 inside the namespace, when unshared).
    pub fn pid(&self) -> i32 {
        let unshare = self.child.id() as i32;
        if !self.unshared {
            return unshare;
        }
        let deadline = Instant::now() + SOON;
        loop {
            let path = format!("/proc/{unshare}/task/{unshare}/children");
            if let Some(pid) = std::fs::read_to_string(&path)
                .ok()
                .and_then(|t| t.split_whitespace().next()?.parse().ok())
            {
                return pid;
            }
            assert!(Instant::now() < deadline, "unshare never forked formation");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Sends `sig` to formation (through its host pid: unshare does not forward signals).
    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), sig);
    }

    /// Sends formation its stop signal (SIGTERM) and waits (bounded by SOON): its exit status.
    pub fn term(&mut self) -> i32 {
        self.signal(nix::sys::signal::Signal::SIGTERM);
        self.wait(SOON)
    }

    /// Asserts that no stderr line so far contains `text`.
    pub fn assert_no_stderr(&self, text: &str) {
        let err = self.stderr();
        assert!(
            !err.iter().any(|l| l.contains(text)),
            "{text:?} in {err:#?}"
        );
    }

    /// Waits until a stdout line contains `text`.
    pub fn wait_stdout(&self, text: &str) {
        wait_for(&self.out, text, SOON, &|l| {
            l.iter().any(|x| x.contains(text))
        });
    }

    /// Waits until a stderr line contains `text`.
    pub fn wait_stderr(&self, text: &str) {
        wait_for(&self.err, text, SOON, &|l| {
            l.iter().any(|x| x.contains(text))
        });
    }

    /// Waits until `count` stdout lines contain `text`.
    pub fn wait_stdout_count(&self, text: &str, count: usize) {
        wait_for(&self.out, text, SOON, &|l| {
            l.iter().filter(|x| x.contains(text)).count() >= count
        });
    }

    /// Waits until `count` stderr lines contain `text`.
    pub fn wait_stderr_count(&self, text: &str, count: usize) {
        wait_for(&self.err, text, SOON, &|l| {
            l.iter().filter(|x| x.contains(text)).count() >= count
        });
    }

    /// Waits until the stderr lines so far satisfy `pred` (`what` names it in the failure).
    pub fn wait_stderr_until(&self, what: &str, pred: &dyn Fn(&[String]) -> bool) {
        wait_for(&self.err, what, SOON, pred);
    }

    /// Lets the held stdout reader (`Start::hold_stdout`) start reading.
    pub fn release_stdout(&self) {
        if let Some(release) = self.release.lock().expect("lock").take() {
            let _ = release.send(());
        }
    }

    /// When each stdout line containing `text` arrived.
    pub fn stdout_times(&self, text: &str) -> Vec<Instant> {
        let lines = self.out.lines.lock().expect("lock");
        let times = self.out.times.lock().expect("lock");
        lines
            .0
            .iter()
            .zip(times.iter())
            .filter(|(l, _)| l.contains(text))
            .map(|(_, t)| *t)
            .collect()
    }

    /// True while formation runs.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn stdout(&self) -> Vec<String> {
        self.out.lines.lock().expect("lock").0.clone()
    }

    pub fn stderr(&self) -> Vec<String> {
        self.err.lines.lock().expect("lock").0.clone()
    }

    /// All raw stdout bytes (after `raw_stdout`), once the stream has ended.
    pub fn raw_stdout(&self) -> Vec<u8> {
        self.out.wait_closed();
        self.raw_out
            .as_ref()
            .expect("raw_stdout()")
            .lock()
            .expect("lock")
            .clone()
    }

    /// Waits for formation to exit; its shell status. Panics (killing it) after `timeout`.
    pub fn wait(&mut self, timeout: Duration) -> i32 {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // Let the readers finish the last lines.
                self.out.wait_closed();
                self.err.wait_closed();
                return shell_status(status);
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!(
                    "formation did not exit within {timeout:?}\nstdout:\n{}\nstderr:\n{}",
                    self.stdout().join("\n"),
                    self.stderr().join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        // --kill-child: killing unshare kills formation and, as PID 1, its whole namespace.
        if let Ok(None) = self.child.try_wait() {
            if !self.unshared {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(self.child.id() as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn shell_status(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// The fixture directory.
pub fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A fresh temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("formation-test-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write fixture");
        path
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    /// A named pipe in this directory: a fixture that runs `read x < PATH` blocks there until
    /// another fixture writes a line into it, or the test calls `open_gate(PATH)`.
    pub fn fifo(&self, name: &str) -> PathBuf {
        let path = self.0.join(name);
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600))
            .expect("mkfifo");
        path
    }
}

/// Lets a fixture blocked in `read x < fifo` through: once it has the pipe open for reading
/// (the open for writing fails with ENXIO until then), writes one line. Bounded by SOON.
pub fn open_gate(fifo: &Path) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let deadline = Instant::now() + SOON;
    loop {
        match std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
            .open(fifo)
        {
            Ok(mut gate) => {
                gate.write_all(b"go\n").expect("write to the gate");
                return;
            }
            Err(e) if e.raw_os_error() == Some(nix::libc::ENXIO) => {
                assert!(Instant::now() < deadline, "nobody waits at {fifo:?}");
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => panic!("open {fifo:?}: {e}"),
        }
    }
}

/// The host pids of the children of `pid` (formation's instances, when `pid` is formation).
pub fn children(pid: i32) -> Vec<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|k| k.parse().ok())
        .collect()
}

/// Where in the kernel `pid` sleeps (`/proc/PID/wchan`: e.g. `anon_pipe_write`, or a poll
/// function), or "" once it is gone.
pub fn wchan(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default()
}

/// Waits (bounded by SOON) until `pred` holds; `what` names it in the failure. For kernel
/// state that no line announces (a process blocked in a pipe write, children re-appearing):
/// it looks every millisecond.
pub fn wait_until(what: &str, pred: &mut dyn FnMut() -> bool) {
    let deadline = Instant::now() + SOON;
    while !pred() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A formation.toml with `text` in a fresh directory: (the directory, the file's path).
/// What runs a program as nobody (`Start::via`), with no supplementary groups.
pub const AS_NOBODY: [&str; 4] = [
    "setpriv",
    "--reuid=65534",
    "--regid=65534",
    "--clear-groups",
];

/// Lets every user into `dir` (a `TempDir` is the creator's alone), as nobody must be to read
/// a config there.
pub fn open_to_all(dir: &Path) {
    let _ = Command::new("chmod").args(["755", s(dir)]).status();
}

pub fn toml(text: &str) -> (TempDir, String) {
    let dir = TempDir::new("toml");
    let path = dir.write("formation.toml", text);
    (dir, s(&path).to_string())
}

/// formation as PID 1 on `config` (a formation.toml in a new directory) with `args`, once a
/// line of its stderr contains `line`: the directory (a reload edits the config) and the run.
pub fn started(config: &str, args: &[&str], line: &str) -> (TempDir, Run) {
    let (dir, path) = toml(config);
    let mut all = vec!["-c", path.as_str()];
    all.extend_from_slice(args);
    let run = formation(&all).spawn();
    run.wait_stderr(line);
    (dir, run)
}

/// The resident set size of a process, in KiB (0 once it is gone).
pub fn rss_kib(pid: i32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The highest resident set size of a process, sampled every 100 ms on a thread of its own
/// from `start` to `stop`.
pub struct RssPeak {
    peak: Arc<std::sync::atomic::AtomicU64>,
    sampling: Arc<std::sync::atomic::AtomicBool>,
    sampler: std::thread::JoinHandle<()>,
}

impl RssPeak {
    pub fn start(pid: i32) -> RssPeak {
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
        let peak = Arc::new(AtomicU64::new(0));
        let sampling = Arc::new(AtomicBool::new(true));
        let sampler = {
            let (peak, sampling) = (peak.clone(), sampling.clone());
            std::thread::spawn(move || {
                while sampling.load(SeqCst) {
                    peak.fetch_max(rss_kib(pid), SeqCst);
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        };
        RssPeak {
            peak,
            sampling,
            sampler,
        }
    }

    /// Ends the sampling: the peak, in KiB.
    pub fn stop(self) -> u64 {
        use std::sync::atomic::Ordering::SeqCst;
        self.sampling.store(false, SeqCst);
        let _ = self.sampler.join();
        self.peak.load(SeqCst)
    }
}

/// The bound docs/output.md states for formation's RSS under a flood with stdout blocked.
pub const RSS_BOUND_KIB: u64 = 8 * 1024;

const WRITER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/writer.py");

/// Four writers that flood stdout until SIGTERM while nothing reads formation's stdout (it is
/// held until `Run::release_stdout`). Returns once every writer has had a write refused: the
/// pipes are full, and formation has stopped taking more than its stuck stdout can carry.
pub fn stuck_flood(grace: &str) -> (TempDir, Run) {
    let (dir, path) = toml(&flood(grace));
    let run = formation(&["-c", &path]).hold_stdout().spawn();
    for n in 1..=4 {
        run.wait_stderr(&format!("w.{n} blocked"));
    }
    (dir, run)
}

/// Four writers (`w.1`..`w.4`) that flood stdout until SIGTERM, with `grace`.
fn flood(grace: &str) -> String {
    format!(
        "grace = \"{grace}\"\n[process.w]\nscale = 4\n\
         command = \"exec python3 {WRITER} $PS 0 0 --until-term\"\n"
    )
}

/// The same four writers with a 5 s grace and stdout read as fast as it comes (raw), run with
/// `args`, once each is ready.
pub fn flowing_flood(args: &[&str]) -> (TempDir, Run) {
    let (dir, path) = toml(&flood("5s"));
    let mut all = vec!["-c", path.as_str()];
    all.extend_from_slice(args);
    let run = formation(&all).raw_stdout().spawn();
    for n in 1..=4 {
        run.wait_stderr(&format!("w.{n} ready"));
    }
    (dir, run)
}

/// After a `stuck_flood` was stopped and released: every line each writer says it wrote arrived, in
/// order and unchanged. Returns the lines per writer.
pub fn assert_flood_complete(run: &Run) -> HashMap<String, usize> {
    let totals: HashMap<String, usize> = run
        .stderr()
        .iter()
        .filter_map(|l| {
            let (_, payload) = l.split_once(" | ")?;
            let (id, n) = payload.split_once(" total ")?;
            Some((id.to_string(), n.parse().ok()?))
        })
        .collect();
    assert_eq!(totals.len(), 4, "every writer reported: {:?}", run.stderr());
    let out = String::from_utf8(run.raw_stdout()).expect("utf-8");
    let mut seen: HashMap<String, usize> = HashMap::new();
    for line in out.lines() {
        let (name, payload) = line.split_once(" | ").expect("prefixed line");
        let name = name.trim_end();
        let n = seen.entry(name.to_string()).or_default();
        assert_eq!(
            payload,
            format!("{name} stdout {n} {}", "x".repeat(80)),
            "in order, unchanged"
        );
        *n += 1;
    }
    assert_eq!(seen, totals, "no line lost");
    totals
}

/// Text of a path as &str for argument lists.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Runs `cmd` on a fresh pseudo-terminal (util-linux `script`), typing `keys` once `ready`
/// shows up; returns (status, output).
pub fn on_a_terminal(cmd: &str, keys: &[u8]) -> (i32, String) {
    on_a_terminal_after(cmd, &["ready"], keys)
}

/// [`on_a_terminal`], typing `keys` once every one of `ready` has shown up.
pub fn on_a_terminal_after(cmd: &str, ready: &[&str], keys: &[u8]) -> (i32, String) {
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};
    let mut child = Command::new("script")
        .args(["-qefc", cmd, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("script (util-linux) must be installed");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stdin = child.stdin.take().expect("stdin");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
            let _ = tx.send(String::from_utf8_lossy(&all).into_owned());
        }
    });
    let deadline = Instant::now() + SOON;
    let mut text = String::new();
    while !ready.iter().all(|r| text.contains(r)) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(t) => text = t,
            Err(_) => {
                let _ = child.kill();
                panic!("no {ready:?} on the terminal: {text:?}");
            }
        }
    }
    stdin.write_all(keys).expect("type");
    // Everything up to the end of the terminal's output (the reader ends at EOF), bounded.
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(t) => text = t,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                panic!("the terminal's output did not end: {text:?}");
            }
        }
    }
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break shell_status(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("still running on the terminal: {text:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (status, text)
}
