//! Supervising (SPEC §1, §4): formation mode, single-command mode, and what they share —
//! the listener bound, signals blocked, subreaper asked for, and the supervisor's loop run
//! until it returns the exit status.
//!
//! The two modes are one code path; what differs (signal policy, stdio, log level) is data
//! in [`Run`] (ARCHITECTURE: single-command mode is a formation of one instance).

use crate::cli::{Color, Options};
use crate::commands::prepare::{Prepared, prepare};
use crate::commands::{USAGE_ERROR, say_to, usage};
use crate::config::names::Level;
use crate::config::rewrite::Rewrites;
use crate::engine::signal_rules::{Rules, SignalPolicy};
use crate::engine::{self, Engine, Settings};
use crate::os;
use crate::os::child;
use crate::os::signals::Signals;
use crate::output::format::Style;
use crate::output::logmux::{LogMux, Stream};
use crate::plan::{self, Instance};
use crate::supervisor::Supervisor;
use std::ffi::OsString;
use std::os::fd::AsFd;

/// Formation mode (`formation` with a config): the config prepared, then every instance
/// supervised.
pub fn formation(options: &Options) -> i32 {
    match prepare(options, None) {
        Ok(prepared) => formation_of(options, prepared),
        Err(errors) => usage(&errors, &options.task),
    }
}

/// Single-command mode (`formation -- CMD`).
pub fn single_command(options: &Options, argv: &[OsString]) -> i32 {
    let grace = plan::default_grace(options.grace, None);
    let name = argv[0].to_string_lossy().into_owned();
    single(
        options,
        Instance::new(name, argv.to_vec(), grace, inherit()),
    )
}

fn formation_of(options: &Options, prepared: Prepared) -> i32 {
    let tty = |fd| nix::unistd::isatty(fd).unwrap_or(false);
    let style = Style {
        format: options.log_format,
        color: stream_colors(
            options.color,
            [
                tty(std::io::stdout().as_fd()),
                tty(std::io::stderr().as_fd()),
            ],
        ),
        timestamps: options.timestamps,
    };
    let names: Vec<(String, usize)> = prepared
        .instances
        .iter()
        .map(|i| (i.name.clone(), i.type_index))
        .collect();
    let mut log = LogMux::new(style, &names, false);
    let level = options.log_level.unwrap_or(Level::Info);
    for (at, note) in &prepared.notes {
        if level >= *at {
            log.own(note);
        }
    }
    // Two pipe ends per instance: 10,000 instances need more fds than the usual soft limit.
    // Each instance gets the original limit back (os/spawn/).
    os::spawn::raise_fd_limit();
    let run = Run {
        policy: SignalPolicy::StopOnTerm,
        rewrites: options.rewrites,
        grace: prepared.grace,
        level,
        types: prepared
            .blueprint
            .formation
            .types
            .iter()
            .map(|t| t.name.clone())
            .collect(),
        control: options.control,
        listen: options.listen.or(prepared.blueprint.formation.listen),
        reread: Some(rereader(options, &prepared.blueprint.dir)),
        blueprint: Some(prepared.blueprint),
    };
    supervise(run, prepared.instances, log)
}

/// How a `reload` reads the config again (SPEC §10): with the options and environment
/// formation was started with, from the directory it was started in (it has left it for `/`
/// since, and relative names — `-c app/formation.toml`, `-e .env` — are read from there).
fn rereader(options: &Options, dir: &std::path::Path) -> Box<engine::Reread> {
    let options = options.clone();
    let dir = dir.to_path_buf();
    Box::new(move || {
        nix::unistd::chdir(&dir)
            .map_err(|e| vec![format!("formation: cannot enter {}: {e}", dir.display())])?;
        let read = prepare(&options, None).map(|p| p.blueprint);
        // Back to `/` (SPEC §1.1): we hold no reference to the directory between reloads.
        let _ = nix::unistd::chdir("/");
        read
    })
}

/// `--color` per output stream: `auto` colours a stream only when that stream is a
/// terminal (`formation 2>errors.log` on a terminal keeps the file free of escape codes).
fn stream_colors(choice: Color, terminals: [bool; 2]) -> [bool; 2] {
    match choice {
        Color::Always => [true, true],
        Color::Never => [false, false],
        Color::Auto => terminals,
    }
}

/// Stdio for single-command semantics: ours, and the terminal handed over when stdin is one.
pub fn inherit() -> plan::StdioMode {
    let take_terminal = nix::unistd::isatty(std::io::stdin()).unwrap_or(false);
    plan::StdioMode::Inherit { take_terminal }
}

/// Single-command mode (and `run`): a formation of one essential instance with inherited stdio.
pub fn single(options: &Options, instance: Instance) -> i32 {
    let grace = instance.grace;
    let style = Style {
        format: options.log_format,
        color: [false, false],
        timestamps: options.timestamps,
    };
    let log = LogMux::new(style, &[], true);
    let level = options.log_level.unwrap_or(Level::Error);
    let run = Run {
        policy: SignalPolicy::ForwardAll,
        rewrites: options.rewrites,
        grace,
        level,
        // The one instance's type is its command (or its process type, for `run`).
        types: vec![instance.name.clone()],
        listen: options.listen,
        // SPEC §10: single-command mode has no control socket.
        control: false,
        blueprint: None,
        reread: None,
    };
    supervise(run, vec![instance], log)
}

/// What differs between the modes that run instances.
struct Run {
    policy: SignalPolicy,
    /// `-r` rules.
    rewrites: Rewrites,
    grace: std::time::Duration,
    level: Level,
    /// The name of each process type, by index (for the status listener).
    types: Vec<String>,
    /// The status listener's address: `--listen`/`FORMATION_LISTEN`, else the config's.
    listen: Option<std::net::SocketAddr>,
    /// Serve the control socket (SPEC §10).
    control: bool,
    /// What the instances were planned from (formation mode): for `scale` and `reload`.
    blueprint: Option<plan::blueprint::Blueprint>,
    /// How a `reload` reads the config again (formation mode).
    reread: Option<Box<engine::Reread>>,
}

fn supervise(run: Run, instances: Vec<Instance>, log: LogMux) -> i32 {
    let Run {
        policy,
        rewrites,
        grace,
        level,
        types,
        listen,
        control,
        blueprint,
        reread,
    } = run;
    // Bound before anything starts: an address in use is a start-up error (exit 2).
    let listener = match listen.map(os::listener::bind) {
        None => None,
        Some(Ok(listener)) => Some(listener),
        Some(Err(e)) => {
            let addr = listen.map(|a| a.to_string()).unwrap_or_default();
            say_to(
                Stream::Stderr,
                format_args!("formation: cannot listen on {addr}: {e}\n"),
            );
            return USAGE_ERROR;
        }
    };
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
    // Single-command mode is silent about its command's exit, as tini is (SPEC §1.1).
    let cause_level = match policy {
        SignalPolicy::ForwardAll => Level::Debug,
        SignalPolicy::StopOnTerm => Level::Error,
    };
    let settings = Settings {
        signals: Rules {
            policy,
            rewrites,
            // As PID 1 job control is ignored: a container has no shell to `fg` it.
            job_control: !pid1,
        },
        grace,
        level,
        cause_level,
    };
    let engine = Engine::new(
        settings,
        instances,
        std::time::Instant::now(),
        os::clock::wall_ms(),
    );
    let mut engine = engine;
    if let Some(blueprint) = blueprint {
        engine.blueprint(blueprint);
    }
    let mut supervisor = Supervisor::new(engine, signals, log, pid1, level);
    if let Some(reread) = reread {
        supervisor.rereader(reread);
    }
    if !pid1 {
        let how = if subreaper {
            "registered as child subreaper"
        } else {
            "could not become child subreaper"
        };
        supervisor.say(Level::Debug, format_args!("not PID 1: {how}"));
    }
    if let Some(listener) = listener {
        if let Ok(addr) = listener.socket().local_addr() {
            supervisor.say(
                Level::Info,
                format_args!("status listener on http://{addr}"),
            );
        }
        supervisor.listen(listener);
    }
    supervisor.name_types(types);
    if control {
        // Not a start-up error (SPEC §10): a second formation of this pid namespace (not
        // PID 1) runs without control.
        match os::control::bind() {
            Ok(control) => supervisor.open_control(control),
            Err(e) => supervisor.say(
                Level::Warn,
                format_args!(
                    "no control socket ({e}): `formation restart` & co cannot reach this formation"
                ),
            ),
        }
    }
    supervisor.run()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_is_decided_per_stream() {
        let table = [
            (Color::Auto, [true, false], [true, false]),
            (Color::Auto, [false, true], [false, true]),
            (Color::Always, [false, false], [true, true]),
            (Color::Never, [true, true], [false, false]),
        ];
        for (choice, terminals, want) in table {
            assert_eq!(
                stream_colors(choice, terminals),
                want,
                "{choice:?} {terminals:?}"
            );
        }
    }
}
