//! formation: a process formation as PID 1 of a container.
//!
//! The start-up sequence, and nothing else: parse the options, build the plan (exit 2 on any
//! error, before anything starts), block signals, become subreaper when not PID 1, hand over
//! to the supervisor's loop, and exit with the status it returns. See SPEC.md and
//! ARCHITECTURE.md beside the project.

#![deny(unsafe_code)]

mod cli;
mod config;
mod engine;
mod os;
mod output;
mod plan;
mod supervisor;

use cli::{Color, Options, Task};
use config::load;
use config::units::Level;
use engine::signals::SignalPolicy;
use os::child;
use os::signals::Signals;
use output::format::Style;
use output::logmux::{LogMux, Stream};
use plan::Instance;
use supervisor::{Settings, Supervisor};

/// Exit status of usage and config errors: nothing was started.
const USAGE_ERROR: i32 = 2;

fn main() {
    std::process::exit(run());
}

fn run() -> i32 {
    let options = match cli::parse(std::env::args_os().skip(1), |k| std::env::var_os(k)) {
        Ok(options) => options,
        Err(e) => {
            say_to(
                Stream::Stderr,
                format_args!("formation: {e}\n\n{}\n", cli::USAGE),
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
        Task::Single(argv) => single(&options, argv.clone()),
        Task::Check | Task::Run => match prepare(&options) {
            Err(errors) => {
                for e in &errors {
                    say_to(Stream::Stderr, format_args!("{e}\n"));
                }
                say_to(
                    Stream::Stderr,
                    format_args!("formation: {} error(s); nothing started\n", errors.len()),
                );
                USAGE_ERROR
            }
            Ok(prepared) if options.task == Task::Check => {
                say_to(Stream::Stdout, format_args!("{}", prepared.description));
                0
            }
            Ok(prepared) => formation(&options, prepared),
        },
    }
}

/// A formation ready to run, and `check`'s description of it.
struct Prepared {
    instances: Vec<Instance>,
    grace: std::time::Duration,
    description: String,
}

/// Everything that can fail before a process starts: all errors, as printable lines.
fn prepare(options: &Options) -> Result<Prepared, Vec<String>> {
    let dir =
        std::env::current_dir().map_err(|e| vec![format!("formation: current directory: {e}")])?;
    let file = load::discover(options.config.clone(), &dir)
        .map_err(|e| vec![format!("formation: {e}")])?;
    let formation = load::formation(&file)?;
    let file_vars = load::env_files(&formation, &options.env_files)?;
    let scales = plan::scales(&formation, options.formation.as_deref())
        .map_err(|e| vec![format!("formation: {e}")])?;
    let grace = plan::default_grace(options.grace, Some(&formation));
    let inherited: Vec<_> = std::env::vars_os().collect();
    let instances = plan::instances(&formation, &scales, grace, &inherited, &file_vars);
    let description = plan::describe(&formation, &scales, &instances, &inherited);
    Ok(Prepared {
        instances,
        grace,
        description,
    })
}

/// Formation mode.
fn formation(options: &Options, prepared: Prepared) -> i32 {
    let color = match options.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => nix::unistd::isatty(std::io::stdout()).unwrap_or(false),
    };
    let style = Style {
        format: options.log_format,
        color,
        timestamps: options.timestamps,
    };
    let names: Vec<(String, usize)> = prepared
        .instances
        .iter()
        .map(|i| (i.name.clone(), i.type_index))
        .collect();
    let log = LogMux::new(style, &names, false);
    let level = options.log_level.unwrap_or(Level::Info);
    // Two pipe ends per instance: 10,000 instances need more fds than the usual soft limit.
    // Each instance gets the original limit back (os/spawn.rs).
    os::spawn::raise_fd_limit();
    supervise(
        SignalPolicy::StopOnTerm,
        prepared.grace,
        level,
        prepared.instances,
        log,
    )
}

/// Single-command mode: a formation of one essential instance with inherited stdio.
fn single(options: &Options, argv: Vec<std::ffi::OsString>) -> i32 {
    let take_terminal = nix::unistd::isatty(std::io::stdin()).unwrap_or(false);
    let grace = plan::default_grace(options.grace, None);
    let instance = Instance {
        name: argv[0].to_string_lossy().into_owned(),
        type_index: 0,
        argv,
        env: None,
        cwd: None,
        user: None,
        restart: config::model::Restart::Never,
        backoff: config::model::Backoff::default(),
        essential: true,
        stop_signal: nix::sys::signal::Signal::SIGTERM,
        grace,
        stdio: plan::StdioMode::Inherit { take_terminal },
    };
    let style = Style {
        format: options.log_format,
        color: false,
        timestamps: options.timestamps,
    };
    let log = LogMux::new(style, &[], true);
    let level = options.log_level.unwrap_or(Level::Error);
    supervise(SignalPolicy::ForwardAll, grace, level, vec![instance], log)
}

/// Writes start-up text (usage, errors, `check`'s plan). Unlike `print!`, a closed stdout or
/// stderr (`formation check | head`) is not a panic: the text is simply not seen.
fn say_to(stream: Stream, text: std::fmt::Arguments) {
    use std::io::Write;
    let _ = match stream {
        Stream::Stdout => std::io::stdout().write_fmt(text),
        Stream::Stderr => std::io::stderr().write_fmt(text),
    };
}

fn supervise(
    policy: SignalPolicy,
    grace: std::time::Duration,
    level: Level,
    instances: Vec<Instance>,
    log: LogMux,
) -> i32 {
    child::close_inherited_fds_on_exec();
    let signals = match Signals::install() {
        Ok(signals) => signals,
        Err(e) => {
            say_to(
                Stream::Stderr,
                format_args!("formation: cannot set up signal handling: {e}\n"),
            );
            return USAGE_ERROR;
        }
    };
    let pid1 = nix::unistd::getpid().as_raw() == 1;
    let subreaper = !pid1 && nix::sys::prctl::set_child_subreaper(true).is_ok();
    let settings = Settings {
        policy,
        grace,
        level,
        pid1,
    };
    let mut supervisor = Supervisor::new(settings, instances, signals, log);
    if !pid1 {
        let how = if subreaper {
            "registered as child subreaper"
        } else {
            "could not become child subreaper"
        };
        supervisor.say(Level::Debug, format_args!("not PID 1: {how}"));
    }
    supervisor.run()
}
