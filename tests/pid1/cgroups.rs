//! Control groups made for one test: a pids or memory limit that formation, started through
//! a harness prelude (`Cgroup::enter`), runs inside, as a container's PID 1 does under
//! `docker run --pids-limit` or `--memory`. cgroup v1 (one hierarchy per controller, as on
//! this machine and in Docker 20.10's containers) and v2 (one unified hierarchy) both work.
//! Each group is removed when the handle is dropped (once its processes are gone).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A control group of this test process.
pub struct Cgroup {
    dir: PathBuf,
    /// v2: one file prefix for all controllers; v1: the controller's own hierarchy.
    v2: bool,
}

impl Cgroup {
    /// A new group with `controller` ("pids" or "memory"), or None (the test then skips
    /// loudly; under CI it fails) when this machine cannot make one.
    pub fn new(controller: &str, tag: &str) -> Option<Cgroup> {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("formation-test-{}-{tag}-{n}", std::process::id());
        let v1 = Path::new("/sys/fs/cgroup").join(controller);
        let root = Path::new("/sys/fs/cgroup");
        let made = if v1.join("cgroup.procs").exists() {
            let dir = v1.join(&name);
            std::fs::create_dir(&dir)
                .ok()
                .map(|_| Cgroup { dir, v2: false })
        } else if std::fs::read_to_string(root.join("cgroup.controllers"))
            .is_ok_and(|c| c.split_whitespace().any(|x| x == controller))
        {
            let _ = std::fs::write(
                root.join("cgroup.subtree_control"),
                format!("+{controller}"),
            );
            let dir = root.join(&name);
            std::fs::create_dir(&dir)
                .ok()
                .map(|_| Cgroup { dir, v2: true })
        } else {
            None
        };
        if made.is_none() {
            let test = std::thread::current().name().unwrap_or("?").to_string();
            assert!(
                std::env::var_os("CI").is_none(),
                "{test} needs a {controller} cgroup, and CI is set"
            );
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: no {controller} cgroup can be made here"
            );
        }
        made
    }

    /// A harness prelude line that moves the shell (and so formation, which it execs) into
    /// this group.
    pub fn enter(&self) -> String {
        format!("echo $$ > {}/cgroup.procs", self.dir.display())
    }

    /// Sets the pids limit (`max` for none).
    pub fn pids_max(&self, value: &str) {
        std::fs::write(self.dir.join("pids.max"), value).expect("pids.max");
    }

    /// Sets the memory limit in bytes, swap included where the kernel counts it apart (v1
    /// memsw, v2 swap.max = 0), so that going over it is an OOM kill, not swapping.
    pub fn memory_max(&self, bytes: u64) {
        if self.v2 {
            std::fs::write(self.dir.join("memory.max"), bytes.to_string()).expect("memory.max");
            let _ = std::fs::write(self.dir.join("memory.swap.max"), "0");
        } else {
            std::fs::write(self.dir.join("memory.limit_in_bytes"), bytes.to_string())
                .expect("memory.limit_in_bytes");
            let _ = std::fs::write(
                self.dir.join("memory.memsw.limit_in_bytes"),
                bytes.to_string(),
            );
        }
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        // A group can go only once its last process has been reaped: wait a little for the
        // killed namespace to empty, then give up quietly (a leftover group is harmless).
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::fs::remove_dir(&self.dir).is_err() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
