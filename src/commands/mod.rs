//! The start-ups: one file per subcommand, from parsed `Options` to the exit status
//! (SPEC §2.1). `main.rs` parses and dispatches here; nothing here is imported by the layers
//! below.
//!
//! Owns: the order of a start-up (config → plan → the supervisor's loop, or a one-shot look
//! such as `check`, `probe`, `status`, `export`), and the start-up messages: usage errors,
//! the error summary, and [`say_to`], which writes them without panicking on a closed stream.
//!
//! Must not: decide policy (that is `config/`, `plan/`, `engine/`), make system calls of its
//! own beyond what a start-up needs from `os/`, or run after the loop has started.

pub mod check;
pub mod control;
pub mod export;
pub mod prepare;
pub mod probe;
pub mod run;
pub mod status;
pub mod supervise;

use crate::cli::Task;
use crate::output::logmux::Stream;

/// Exit status of usage and config errors: nothing was started.
pub const USAGE_ERROR: i32 = 2;

/// The last line of a failed start: `check` starts nothing anyway, so only a run says so.
fn error_summary(count: usize, task: &Task) -> String {
    match task {
        Task::Check | Task::Probe(_) => format!("{count} error(s)"),
        _ => format!("{count} error(s); nothing started"),
    }
}

/// Prints start-up errors and the summary line; the usage-error status.
pub fn usage(errors: &[String], task: &Task) -> i32 {
    for e in errors {
        say_to(Stream::Stderr, format_args!("{e}\n"));
    }
    let summary = error_summary(errors.len(), task);
    say_to(Stream::Stderr, format_args!("formation: {summary}\n"));
    USAGE_ERROR
}

/// Writes start-up text (usage, errors, `check`'s plan). Unlike `print!`, a closed stdout or
/// stderr (`formation check | head`) is not a panic: the text is simply not seen.
pub fn say_to(stream: Stream, text: std::fmt::Arguments) {
    use std::io::Write;
    let _ = match stream {
        Stream::Stdout => std::io::stdout().write_fmt(text),
        Stream::Stderr => std::io::stderr().write_fmt(text),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_run_says_nothing_started() {
        assert_eq!(error_summary(2, &Task::Check), "2 error(s)");
        assert_eq!(error_summary(1, &Task::Run), "1 error(s); nothing started");
    }
}
