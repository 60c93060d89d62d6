//! formation: a process formation as PID 1 of a container.
//!
//! Parses the options and dispatches to a command's start-up (`commands/`), and exits with
//! the status it returns. The layers are folders (ARCHITECTURE.md): `cli/` → `config/`,
//! `time/` → `plan/` → `engine/` (pure) ← `supervisor/` (the loop) → `os/`, `output/`,
//! `serve/`; `export/` renders a config for other runtimes.

#![deny(unsafe_code)]

mod cli;
mod commands;
mod config;
mod engine;
mod export;
mod os;
mod output;
mod plan;
mod serve;
mod supervisor;
mod time;

use cli::Task;
use commands::{USAGE_ERROR, say_to};
use output::logmux::Stream;

fn main() {
    std::process::exit(run());
}

fn run() -> i32 {
    let options = match cli::parse(std::env::args_os().skip(1), |k| std::env::var_os(k)) {
        Ok(options) => options,
        Err(e) => {
            say_to(
                Stream::Stderr,
                // One line: what is wrong, and where the usage is (not its 27 lines, which
                // would push the one that matters off a terminal).
                format_args!("formation: {e} (formation --help shows the usage)\n"),
            );
            return USAGE_ERROR;
        }
    };
    match &options.task {
        Task::Help => {
            say_to(Stream::Stdout, format_args!("{}\n", cli::USAGE));
            0
        }
        Task::Version => {
            say_to(
                Stream::Stdout,
                format_args!("formation {}\n", env!("CARGO_PKG_VERSION")),
            );
            0
        }
        Task::Single(argv) => commands::supervise::single_command(&options, argv),
        Task::RunType(name, args) => commands::run::run_type(&options, name, args),
        Task::RunCommand(argv) => commands::run::run_command(&options, argv),
        Task::Status => commands::control::status(&options),
        Task::Control(words) => commands::control::request(words),
        Task::Export(request) => commands::export::export(&options, request),
        Task::Probe(name) => commands::probe::probe(&options, name),
        Task::Check => commands::check::check(&options),
        Task::Run => commands::supervise::formation(&options),
    }
}
