//! Spawning one instance, and signalling its process group.
//!
//! Owns: turning a [`Launch`] into what the child execs — argv, envp and the execve candidates
//! of a PATH search, all as C strings — its stdout/stderr pipes, the exit status of a failed
//! spawn, and `killpg`. The clone itself and everything the child does are `spawn/`.
//!
//! Must not: wait for a running child (the reaper owns every `waitpid`) or decide anything
//! about restarts.
//!
//! Semantics kept from std's `Command` (which formation used before): the program is looked
//! up, when it has no `/`, in the PATH of the *child's* environment (execvp's rule: an empty
//! entry is the working directory, ENOENT and ENOTDIR try the next entry, an EACCES met on
//! the way is the final error; no PATH: musl's default `/usr/local/bin:/bin:/usr/bin`). Not
//! found is 127, anything else that prevents the exec (permission, bad cwd, failed user
//! switch, no fds, no processes) is 126 (SPEC §4).

use crate::config::users::Credentials;
use crate::os::spawn::{self, Failure, Memory, Program, Stdio, Step};
use crate::os::terminal;
use crate::plan::StdioMode;
use crate::plan::env::Env;
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::libc::c_char;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::{Pid, pipe2};
use std::ffi::{CString, OsStr, OsString};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::plan::search::candidates;

/// Everything needed to start one instance.
pub struct Launch<'a> {
    /// The program (looked up in PATH when it has no `/`) and its arguments.
    pub argv: &'a [OsString],
    /// The whole environment of the child; `None` passes ours on unchanged.
    pub env: Option<&'a Env>,
    /// The working directory; `None` keeps ours.
    pub cwd: Option<&'a Path>,
    /// The user to become; `None` keeps ours.
    pub user: Option<&'a Credentials>,
    /// Where its stdio goes.
    pub stdio: StdioMode,
}

/// A running instance, fresh from `spawn`.
pub struct Started {
    /// Its pid, which is also its process group id.
    pub pid: Pid,
    /// The non-blocking read end of its stdout pipe (piped mode only).
    pub stdout: Option<OwnedFd>,
    /// The non-blocking read end of its stderr pipe (piped mode only).
    pub stderr: Option<OwnedFd>,
    /// The non-blocking master end of its terminal, where its stdout and stderr both go
    /// (`tty = true` only).
    pub terminal: Option<OwnedFd>,
}

/// Why an instance could not start, as an exit status and a reason for the log.
#[derive(Debug, PartialEq, Eq)]
pub struct SpawnError {
    /// 127 when the program was not found, 126 for anything else that prevents the exec.
    pub status: i32,
    /// A short reason, e.g. `not found`.
    pub reason: String,
}

impl SpawnError {
    fn cannot(reason: impl Into<String>) -> SpawnError {
        SpawnError {
            status: 126,
            reason: reason.into(),
        }
    }
}

/// Starts one instance in a new process group.
pub fn spawn(launch: &Launch) -> Result<Started, SpawnError> {
    let program = launch.argv.first().ok_or_else(|| SpawnError {
        status: 127,
        reason: "empty command".into(),
    })?;
    let c = |s: &[u8]| {
        CString::new(s).map_err(|_| SpawnError::cannot("a NUL byte in the command or environment"))
    };
    let argv: Vec<CString> = launch
        .argv
        .iter()
        .map(|a| c(a.as_bytes()))
        .collect::<Result<_, _>>()?;
    // Values from files are read now, at each spawn (SPEC §3.4): a rotated secret reaches the
    // next restart. A file that cannot be read is a failed spawn (126) naming it.
    let secrets: Vec<(&OsStr, OsString)> = match launch.env {
        Some(env) => env
            .files()
            .map(|(k, path)| {
                crate::os::secret::read(path)
                    .map(|v| (k, v))
                    .map_err(|e| SpawnError::cannot(format!("{}: {e}", k.to_string_lossy())))
            })
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    let envp: Vec<CString> = match launch.env {
        Some(env) => env
            .pairs()
            .chain(secrets.iter().map(|(k, v)| (*k, v.as_os_str())))
            .map(|(k, v)| c(&assignment(k, v)))
            .collect::<Result<_, _>>()?,
        None => std::env::vars_os()
            .map(|(k, v)| c(&assignment(&k, &v)))
            .collect::<Result<_, _>>()?,
    };
    // A variable of the child's environment (a value from a file included).
    let var = |name: &str| match launch.env {
        Some(env) => env
            .get(name)
            .or_else(|| {
                secrets
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.as_os_str())
            })
            .map(OsStr::to_os_string),
        None => std::env::var_os(name),
    };
    let path = var("PATH");
    let search = !program.as_bytes().contains(&b'/');
    let candidates: Vec<CString> = if search {
        candidates(program.as_bytes(), path.as_deref().map(OsStr::as_bytes))
            .iter()
            .map(|p| c(p))
            .collect::<Result<_, _>>()?
    } else {
        vec![c(program.as_bytes())?]
    };
    let cwd = launch
        .cwd
        .map(|d| c(d.as_os_str().as_bytes()))
        .transpose()?;
    let groups: Vec<nix::libc::gid_t> = launch
        .user
        .map(|u| u.groups.iter().map(|g| g.as_raw()).collect())
        .unwrap_or_default();
    let prepared = Program {
        candidates: &candidates,
        search,
        argv: &pointers(&argv),
        envp: &pointers(&envp),
        cwd: cwd.as_ref(),
        user: launch
            .user
            .map(|u| (u.uid.as_raw(), u.gid.as_raw(), groups.as_slice())),
        take_terminal: matches!(
            launch.stdio,
            StdioMode::Inherit {
                take_terminal: true
            }
        ),
        // Single-command mode's one child: its end is our exit, whose latency a shared
        // address space would raise (spawn/); formation mode and checks spawn many.
        memory: match launch.stdio {
            StdioMode::Inherit { .. } => Memory::Copied,
            StdioMode::Piped | StdioMode::Terminal | StdioMode::Null => Memory::Shared,
        },
    };
    let mut terminal = None;
    let (pid, stdout, stderr) = match launch.stdio {
        StdioMode::Inherit { .. } => {
            let pid =
                spawn::clone_exec(&prepared, Stdio::Inherit).map_err(|f| failed(f, launch))?;
            (pid, None, None)
        }
        StdioMode::Terminal => {
            let (cols, rows) = terminal::size(var("COLUMNS").as_deref(), var("LINES").as_deref());
            let pair = terminal::open(cols, rows).map_err(|errno| SpawnError {
                status: 126,
                reason: format!("no pseudo-terminal for `tty = true`: {}", describe(errno)),
            })?;
            let stdio = Stdio::Terminal { tty: &pair.slave };
            let pid = spawn::clone_exec(&prepared, stdio).map_err(|f| failed(f, launch))?;
            // Our copy of the slave closes here: the master reads EIO once the child's have.
            terminal = Some(pair.master);
            (pid, None, None)
        }
        StdioMode::Piped => {
            let (out_r, out_w) = pipe().map_err(|f| failed(f, launch))?;
            let (err_r, err_w) = pipe().map_err(|f| failed(f, launch))?;
            let stdio = Stdio::Piped {
                out: &out_w,
                err: &err_w,
            };
            let pid = spawn::clone_exec(&prepared, stdio).map_err(|f| failed(f, launch))?;
            (pid, Some(out_r), Some(err_r))
        }
        StdioMode::Null => {
            let pid = spawn::clone_exec(&prepared, Stdio::Null).map_err(|f| failed(f, launch))?;
            (pid, None, None)
        }
    };
    Ok(Started {
        pid,
        stdout,
        stderr,
        terminal,
    })
}

/// A close-on-exec pipe whose read end (ours) is non-blocking and whose write end (the
/// child's) blocks, so that a child writing faster than we read waits instead of failing.
fn pipe() -> Result<(OwnedFd, OwnedFd), Failure> {
    let parent = |errno| Failure { step: None, errno };
    let (read, write) = pipe2(OFlag::O_CLOEXEC).map_err(parent)?;
    // A fresh pipe's read end has no other status flag to keep.
    fcntl(&read, FcntlArg::F_SETFL(OFlag::O_NONBLOCK)).map_err(parent)?;
    Ok((read, write))
}

/// `KEY=VALUE`.
fn assignment(key: &OsStr, value: &OsStr) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + 1 + value.len());
    out.extend_from_slice(key.as_bytes());
    out.push(b'=');
    out.extend_from_slice(value.as_bytes());
    out
}

/// The NULL-terminated pointer array of `strings` (which must outlive it).
fn pointers(strings: &[CString]) -> Vec<*const c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain([std::ptr::null()])
        .collect()
}

/// The exit status and log reason of a failed spawn.
fn failed(failure: Failure, launch: &Launch) -> SpawnError {
    let status = match (failure.step, failure.errno) {
        (Some(Step::Exec), Errno::ENOENT) => 127,
        _ => 126,
    };
    let reason = match (failure.step, launch.cwd) {
        (Some(Step::Cwd), Some(cwd)) => format!("cannot change directory to {}", cwd.display()),
        (Some(Step::Terminal), _) => {
            format!("cannot take its terminal: {}", describe(failure.errno))
        }
        _ => describe(failure.errno),
    };
    SpawnError { status, reason }
}

fn describe(errno: Errno) -> String {
    match errno {
        Errno::ENOENT => "not found".into(),
        Errno::EACCES => "permission denied".into(),
        Errno::EPERM => "operation not permitted (switching user?)".into(),
        Errno::ENOEXEC => "not an executable format".into(),
        Errno::EAGAIN => "cannot fork: too many processes (EAGAIN)".into(),
        Errno::EMFILE | Errno::ENFILE => "too many open files".into(),
        errno => errno.desc().to_ascii_lowercase(),
    }
}

/// Marks every fd above 2 that we inherited close-on-exec, so an instance inherits only
/// 0, 1 and 2 even when whoever started formation leaked descriptors into it (our own fds are
/// created close-on-exec already). One `close_range(CLOSE_RANGE_CLOEXEC)` (Linux 5.11); on an
/// older kernel, one fcntl per fd listed in /proc/self/fd.
pub fn close_inherited_fds_on_exec() {
    #[allow(unsafe_code)]
    // SAFETY: close_range only sets a flag on descriptors of this process; no memory is passed.
    let done = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_close_range,
            3u32,
            u32::MAX,
            nix::libc::CLOSE_RANGE_CLOEXEC,
        )
    } == 0;
    if done {
        return;
    }
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    let fds: Vec<i32> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter(|fd| *fd > 2)
        .collect();
    for fd in fds {
        #[allow(unsafe_code)]
        // SAFETY: `fd` was listed open in /proc/self/fd a moment ago and formation is
        // single-threaded, so nothing closed it since; the borrow lives for this one fcntl.
        // (The fd of the directory listing itself is closed by now: fcntl then fails, EBADF.)
        let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        let _ = fcntl(fd, FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC));
    }
}

/// Whether process group `pgid` still has a member (signal 0 checks without sending; a
/// group of other users' processes answers EPERM, which also means it exists).
pub fn group_alive(pgid: Pid) -> bool {
    !matches!(killpg(pgid, None), Err(Errno::ESRCH))
}

/// Sends `sig` to the process group `pgid`. Returns false when the group is gone (ESRCH).
pub fn signal_group(pgid: Pid, sig: Signal) -> bool {
    killpg(pgid, sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: Vec<Vec<u8>>) -> Vec<String> {
        v.into_iter()
            .map(|p| String::from_utf8(p).expect("utf-8"))
            .collect()
    }

    #[test]
    fn path_search_follows_execvp() {
        let table: &[(&str, Option<&str>, &[&str])] = &[
            (
                "sleep",
                Some("/usr/bin:/bin"),
                &["/usr/bin/sleep", "/bin/sleep"],
            ),
            // An empty entry, leading, inner or trailing, is the working directory.
            ("x", Some(":/bin"), &["x", "/bin/x"]),
            ("x", Some("/a::/b"), &["/a/x", "x", "/b/x"]),
            ("x", Some("/a:"), &["/a/x", "x"]),
            ("x", Some(""), &["x"]),
            // No PATH at all: musl's default.
            ("x", None, &["/usr/local/bin/x", "/bin/x", "/usr/bin/x"]),
            ("", Some("/bin"), &[]),
        ];
        for (program, path, want) in table {
            let got = strings(candidates(program.as_bytes(), path.map(str::as_bytes)));
            assert_eq!(got, *want, "{program:?} in {path:?}");
        }
    }

    #[test]
    fn failures_map_to_127_only_when_the_program_is_not_found() {
        let argv = [OsString::from("x")];
        let cwd = Path::new("/nowhere");
        let launch = Launch {
            argv: &argv,
            env: None,
            cwd: Some(cwd),
            user: None,
            stdio: StdioMode::Piped,
        };
        let table = [
            (Some(Step::Exec), Errno::ENOENT, 127, "not found"),
            (Some(Step::Exec), Errno::EACCES, 126, "permission denied"),
            (Some(Step::Exec), Errno::ENOTDIR, 126, "not a directory"),
            (
                Some(Step::Cwd),
                Errno::ENOENT,
                126,
                "cannot change directory to /nowhere",
            ),
            (
                Some(Step::User),
                Errno::EPERM,
                126,
                "operation not permitted (switching user?)",
            ),
            (None, Errno::EMFILE, 126, "too many open files"),
            (
                None,
                Errno::EAGAIN,
                126,
                "cannot fork: too many processes (EAGAIN)",
            ),
        ];
        for (step, errno, status, reason) in table {
            let got = failed(Failure { step, errno }, &launch);
            assert_eq!(
                (got.status, got.reason.as_str()),
                (status, reason),
                "{step:?} {errno}"
            );
        }
    }
}
