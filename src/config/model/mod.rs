//! The validated formation: what `config.rs` and `procfile.rs` produce and `plan.rs` expands
//! into instances. Also the error type that points at a file, line and column, and the rule
//! that decides whether a command string needs a shell.

use crate::config::users::Credentials;
use nix::sys::signal::Signal;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The largest `scale` of one type.
pub const MAX_SCALE: u32 = 10_000;

/// The `restart` setting of a process type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restart {
    /// Never restart (the default).
    Never,
    /// Restart when the exit was not a clean `exit(0)`.
    OnFailure,
    /// Restart whatever the exit.
    Always,
}

/// The restart backoff and crash-loop figures of one process type (SPEC §3.4 `backoff`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The wait before the first restart; each further one waits twice as long.
    pub initial: Duration,
    /// The longest wait before a restart.
    pub max: Duration,
    /// A run this long is healthy: the backoff and the restart count start over.
    pub healthy: Duration,
    /// Restarts allowed without a healthy run; the next exit ends the instance for good.
    pub restarts: u32,
}

impl Default for Backoff {
    /// SPEC §4: 1 s doubling to 30 s, reset after 30 s up, 10 restarts.
    fn default() -> Backoff {
        Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(30),
            healthy: Duration::from_secs(30),
            restarts: 10,
        }
    }
}

/// A parsed, checked config file.
#[derive(Debug)]
pub struct Formation {
    /// The config file.
    pub path: PathBuf,
    /// Top-level `grace`.
    pub grace: Option<Duration>,
    /// Top-level `env_file` entries, resolved against the file's directory, each with where
    /// it is named (a missing file is reported there); None when absent.
    pub env_files: Option<Vec<(PathBuf, Place)>>,
    /// Top-level `[env]`, in file order.
    pub env: Vec<Var>,
    /// The process types, in file order (their index sets the PORT block).
    pub types: Vec<ProcessType>,
    /// Top-level `listen`: the status listener's address (SPEC §9), when set.
    pub listen: Option<std::net::SocketAddr>,
}

/// What a parser read: the formation as far as it could be read, and every error. The
/// formation is None only when the file could not be read as a document at all (TOML
/// syntax); otherwise it holds every type, with defaults where a key was bad, so that the
/// checks that need it (`-m` names, env files) still run in the same pass.
#[derive(Debug)]
pub struct Parsed {
    /// The formation, when the document could be read.
    pub formation: Option<Formation>,
    /// Every error, in file order.
    pub errors: Vec<ConfigError>,
}

/// One `[process.NAME]` table or Procfile line.
#[derive(Debug)]
pub struct ProcessType {
    /// `web`.
    pub name: String,
    /// Where it is defined (its name in the file).
    pub place: Place,
    /// What to run.
    pub command: CommandLine,
    /// The configured number of instances.
    pub scale: u32,
    /// The restart policy.
    pub restart: Restart,
    /// When it ends for good, the formation stops.
    pub essential: bool,
    /// Sent to its group when the formation stops.
    pub stop_signal: Signal,
    /// Its own stop grace.
    pub grace: Option<Duration>,
    /// What is forwarded to its groups instead of each signal (`signals`).
    pub signals: crate::config::rewrite::Rewrites,
    /// Its working directory, resolved against the config's directory.
    pub cwd: Option<PathBuf>,
    /// Who it runs as.
    pub user: Option<Credentials>,
    /// Its own `env`, in file order.
    pub env: Vec<Var>,
    /// Its restart backoff and crash-loop figures.
    pub backoff: Backoff,
    /// The types it starts after, with where each is named.
    pub after: Vec<(String, Place)>,
    /// Its readiness check.
    pub ready: Option<crate::config::lifecycle::ReadySpec>,
    /// Its health check.
    pub health: Option<crate::config::lifecycle::HealthSpec>,
    /// A task: runs to completion (SPEC §4.3).
    pub oneshot: bool,
    /// When it runs, for a scheduled type (SPEC §4.4).
    pub schedule: Option<crate::config::lifecycle::ScheduleSpec>,
    /// Its stdout and stderr are one pseudo-terminal instead of two pipes (SPEC §5).
    pub tty: bool,
    /// The keys its table sets, with their places (for the rules across keys).
    pub keys: Vec<(String, Place)>,
}

impl ProcessType {
    /// A type with the defaults of SPEC §3.2 (what every Procfile line gets).
    pub fn new(name: String, place: Place, command: CommandLine) -> ProcessType {
        ProcessType {
            name,
            place,
            command,
            scale: 1,
            restart: Restart::Never,
            essential: true,
            stop_signal: Signal::SIGTERM,
            grace: None,
            signals: Default::default(),
            cwd: None,
            user: None,
            env: Vec::new(),
            backoff: Backoff::default(),
            after: Vec::new(),
            ready: None,
            health: None,
            oneshot: false,
            schedule: None,
            tty: false,
            keys: Vec::new(),
        }
    }
}

/// The shell that runs string commands with shell syntax.
pub const SHELL: &str = "/bin/sh";

/// A command, with the decision about the shell already made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandLine {
    /// Run as `/bin/sh -c TEXT`.
    Shell(String),
    /// Exec'd directly.
    Argv(Vec<String>),
}

impl CommandLine {
    /// A NUL byte cannot be passed to `exec`: the reason to reject a command that holds one.
    pub fn nul_error(words: &[&str]) -> Option<&'static str> {
        words
            .iter()
            .any(|w| w.contains('\0'))
            .then_some("a command may not contain a NUL byte")
    }

    /// A command string: `/bin/sh -c` when it holds shell syntax or starts with a shell
    /// builtin or keyword (SPEC §3.4), else its whitespace-separated words. Words need no
    /// quote handling: a quote is shell syntax.
    pub fn from_text(text: &str) -> CommandLine {
        const SHELL: &[char] = &[
            '|', '&', ';', '<', '>', '(', ')', '$', '`', '\\', '"', '\'', '*', '?', '[', ']', '#',
            '~', '{', '}', '\n',
        ];
        // There is no `exec` or `cd` program to exec: only a shell knows these words.
        const BUILTINS: &[&str] = &[
            "exec", "exit", "cd", "export", "set", ".", "source", "eval", "ulimit", "umask",
            "trap", "if", "for", "while", "until", "case", "!",
        ];
        let first_word = text.split_whitespace().next().unwrap_or("");
        if text.contains(SHELL) || first_word.contains('=') || BUILTINS.contains(&first_word) {
            CommandLine::Shell(text.to_string())
        } else {
            CommandLine::Argv(text.split_whitespace().map(String::from).collect())
        }
    }

    /// The argv to exec. One simple command run by the shell gets `exec` before its program,
    /// so that the program replaces the shell (SPEC §3.4, `handover.rs`).
    pub fn argv(&self) -> Vec<String> {
        match self {
            CommandLine::Shell(text) => {
                let text = handover::handed_over(text).into_owned();
                vec![SHELL.into(), "-c".into(), text]
            }
            CommandLine::Argv(words) => words.clone(),
        }
    }
}

impl fmt::Display for CommandLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandLine::Shell(text) => write!(f, "/bin/sh -c {text:?}"),
            CommandLine::Argv(words) => write!(f, "{words:?}"),
        }
    }
}

/// The directory of a config file: relative paths in it are resolved against this.
pub fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// The lines of a line-based file (Procfile, env file) that hold something: each with the
/// byte offset of its first non-blank character and its text from there, without the line
/// end. Blank lines and `#` comments are skipped.
pub fn content_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut offset = 0;
    text.split_inclusive('\n').filter_map(move |raw| {
        let start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let content = line.trim_start();
        let skip = content.is_empty() || content.starts_with('#');
        (!skip).then_some((start + line.len() - content.len(), content))
    })
}

/// `[A-Za-z0-9_-]+`: process type names (SPEC §3.1).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A place in a config or env file: what errors and `PORT`'s origin point at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// The file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.col)
    }
}

/// An environment variable set by a file (`[env]`, a process's `env`, an env file), with
/// where it is set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Var {
    /// `PORT`.
    pub name: String,
    /// Its value, or the file that holds it.
    pub value: VarValue,
    /// Where it is set.
    pub place: Place,
}

/// What a variable is set to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VarValue {
    /// The text itself.
    Text(String),
    /// `{ file = "/run/secrets/x" }`: the file's content, read when each instance is spawned
    /// (SPEC §3.4), so a rotated secret reaches the next restart. Never read by the plan, and
    /// never printed: only the path is. As written: a relative path is relative to the config
    /// file's directory.
    File(PathBuf),
}

impl Var {
    /// A variable set to `value`.
    pub fn text(name: impl Into<String>, value: impl Into<String>, place: Place) -> Var {
        Var {
            name: name.into(),
            value: VarValue::Text(value.into()),
            place,
        }
    }

    /// Its text, unless it comes from a file.
    pub fn as_text(&self) -> Option<&str> {
        match &self.value {
            VarValue::Text(text) => Some(text),
            VarValue::File(_) => None,
        }
    }
}

/// A config error, pointing at a place in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    /// An error at `place`.
    pub fn new(place: &Place, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: place.file.clone(),
            line: place.line,
            col: place.col,
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.col,
            self.message
        )
    }
}

/// Collects errors against one file's text, turning byte offsets into line and column.
pub struct Diagnostics<'a> {
    file: PathBuf,
    text: &'a str,
    /// The byte offset where each line starts: a place is a binary search, not a scan of
    /// the text (every process type and variable records its place; 10,000 types must not
    /// cost 10,000 scans of the file).
    line_starts: Vec<usize>,
    /// Everything found so far.
    pub errors: Vec<ConfigError>,
}

impl<'a> Diagnostics<'a> {
    /// Errors for `file`, whose contents are `text`.
    pub fn new(file: PathBuf, text: &'a str) -> Diagnostics<'a> {
        let line_starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
            .collect();
        Diagnostics {
            file,
            text,
            line_starts,
            errors: Vec::new(),
        }
    }

    /// An error at byte `offset` of the text.
    pub fn at(&mut self, offset: usize, message: impl Into<String>) {
        let place = self.place(offset);
        self.errors.push(ConfigError::new(&place, message));
    }

    /// The file, line and column of byte `offset` of the text.
    pub fn place(&self, offset: usize) -> Place {
        let offset = offset.min(self.text.len());
        // The number of lines that start at or before `offset` is the 1-based line.
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let line_start = self.line_starts[line - 1];
        let col = self
            .text
            .get(line_start..offset)
            .map_or(0, |s| s.chars().count())
            + 1;
        Place {
            file: self.file.clone(),
            line,
            col,
        }
    }

    /// The errors, in the order they stand in the file (a formation.toml's errors may name
    /// its Procfile too: file by file); Err when there is any.
    pub fn finish(mut self) -> Result<(), Vec<ConfigError>> {
        self.errors
            .sort_by(|a, b| (&a.file, a.line, a.col).cmp(&(&b.file, b.line, b.col)));
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }
}

pub mod handover;
#[cfg(test)]
mod tests;
