//! What `check` warns about without failing (SPEC §2.1): what would make a spawn fail (126,
//! 127) or a run misbehave on the machine where `check` runs — which may not be the one the
//! config is meant for (a config checked on a developer's machine for an image's `/app`), so
//! these are warnings, never errors: a `cwd` or a program that is not there, a shell that is
//! not there, a `user` that formation could not switch to, more pipes than the fd limit, and
//! a compound shell string whose shell a forwarded signal would end (SPEC §3.4).
//!
//! Pure: what the machine says is passed in ([`Host`]).

use super::Instance;
use super::describe::by_type;
use super::search::candidates;
use crate::config::model::handover::{self, Shape};
use crate::config::model::{CommandLine, Formation, SHELL};
use std::collections::HashMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// What the machine that runs `check` says.
pub struct Host<'a> {
    /// Whether a path is a directory.
    pub is_dir: &'a dyn Fn(&Path) -> bool,
    /// Whether a path is a file.
    pub is_file: &'a dyn Fn(&Path) -> bool,
    /// Whether a path is a file formation could exec.
    pub is_executable: &'a dyn Fn(&Path) -> bool,
    /// Whether formation may switch to another user here (root, or CAP_SETUID and
    /// CAP_SETGID).
    pub can_switch_user: bool,
    /// The most fds formation can have open here (its hard `RLIMIT_NOFILE`).
    pub fd_limit: u64,
}

/// Fds formation holds besides the pipes: its stdio, the signalfd, the epoll sets, the fd
/// window of the spawn, sockets.
const OWN_FDS: u64 = 32;

/// The warnings, each a line naming the type's place.
pub fn warnings(
    formation: &Formation,
    scales: &[u32],
    instances: &[Instance],
    host: &Host,
) -> Vec<String> {
    let mut out = Vec::new();
    let groups = by_type(formation.types.len(), instances);
    // Types often run the same program with the same PATH (10,000 `sleep`s): look once.
    let mut seen: HashMap<Lookup, bool> = HashMap::new();
    for ((t, &scale), mine) in formation.types.iter().zip(scales).zip(groups) {
        if scale == 0 {
            continue;
        }
        let (place, name) = (&t.place, &t.name);
        let first = mine.first();
        let cwd = first.and_then(|i| i.cwd.as_deref());
        let cwd_here = cwd.is_none_or(|cwd| (host.is_dir)(cwd));
        if let Some(cwd) = cwd.filter(|_| !cwd_here) {
            out.push(format!(
                "{place}: warning: {name}: cwd {} is not a directory here",
                cwd.display()
            ));
        }
        if let CommandLine::Shell(text) = &t.command
            && let Shape::Compound {
                last_exec: false,
                traps: false,
            } = handover::shape(text)
        {
            out.push(format!(
                "{place}: warning: {name}: a forwarded signal other than its stop signal ({}), such as HUP, ends the shell that runs this compound command, not its program: write `exec` before the last command",
                t.stop_signal.as_str()
            ));
        }
        let shell_here = (host.is_file)(Path::new(SHELL));
        if matches!(t.command, CommandLine::Shell(_)) && !shell_here {
            out.push(format!(
                "{place}: warning: {name}: the command needs {SHELL}, which is not here (use an array command to run without a shell)"
            ));
        }
        if let (Some(program), Some(first)) = (program(&t.command), first)
            && cwd_here
            && (!matches!(t.command, CommandLine::Shell(_)) || shell_here)
            && !*seen
                .entry((
                    program.to_string(),
                    first.cwd.as_deref().map(Path::to_path_buf),
                    path_of(first).map(<[u8]>::to_vec),
                ))
                .or_insert_with(|| found(program, first, host))
        {
            let looked = if program.contains('/') {
                "is not an executable file here".to_string()
            } else {
                "is not on its PATH here".to_string()
            };
            out.push(format!(
                "{place}: warning: {name}: the program {program:?} {looked}"
            ));
        }
        if let Some(user) = first.and_then(|i| i.user.as_deref())
            && !host.can_switch_user
        {
            out.push(format!(
                "{place}: warning: {name}: formation cannot switch to user {}:{} here (it needs root, or CAP_SETUID and CAP_SETGID)",
                user.uid, user.gid
            ));
        }
    }
    // Two pipe ends per instance (SPEC §5), besides formation's own fds.
    let pipes: u64 = scales.iter().map(|&s| 2 * u64::from(s)).sum();
    if pipes + OWN_FDS > host.fd_limit {
        out.push(format!(
            "{}: warning: {} instances need {} open files, more than this machine's limit of {} (RLIMIT_NOFILE): raise it (docker run --ulimit nofile=N) or lower the scale",
            formation.path.display(),
            pipes / 2,
            pipes + OWN_FDS,
            host.fd_limit
        ));
    }
    out
}

/// The program a command runs, when it can be told without running a shell: an array's
/// first word, or the program of one simple shell command written without expansions.
fn program(command: &CommandLine) -> Option<&str> {
    match command {
        CommandLine::Argv(words) => words.first().map(String::as_str),
        CommandLine::Shell(text) => {
            let Shape::Simple(at) = handover::shape(text) else {
                return None;
            };
            let word = text[at..].split_whitespace().next()?;
            let plain = word
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_./+@%:,".contains(&b));
            plain.then_some(word)
        }
    }
}

/// A program looked for: its name, the instance's cwd and PATH.
type Lookup = (String, Option<PathBuf>, Option<Vec<u8>>);

/// The PATH of an instance's environment.
fn path_of(instance: &Instance) -> Option<&[u8]> {
    let path = instance.env.as_ref().and_then(|env| env.get("PATH"));
    path.map(OsStr::as_bytes)
}

/// Whether `program` is found as the instance's spawn would find it: a path against its cwd,
/// else in the PATH of its environment.
fn found(program: &str, instance: &Instance, host: &Host) -> bool {
    if program.contains('/') {
        let path = match instance.cwd.as_deref() {
            Some(cwd) => cwd.join(program),
            None => PathBuf::from(program),
        };
        return (host.is_executable)(&path);
    }
    candidates(program.as_bytes(), path_of(instance))
        .iter()
        .any(|p| (host.is_executable)(Path::new(OsStr::from_bytes(p))))
}
