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

use cli::{Color, ConfigFile, Options, Task};
use config::load;
use config::rewrite::Rewrites;
use config::units::Level;
use engine::signals::{Rules, SignalPolicy};
use engine::{Engine, Settings};
use os::child;
use os::signals::Signals;
use output::format::Style;
use output::logmux::{LogMux, Stream};
use plan::Instance;
use std::os::fd::AsFd;
use std::path::Path;
use supervisor::Supervisor;

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
                    format_args!(
                        "formation: {}\n",
                        error_summary(errors.len(), &options.task)
                    ),
                );
                USAGE_ERROR
            }
            Ok(prepared) if options.task == Task::Check => {
                say_to(Stream::Stdout, format_args!("{}", prepared.description));
                for w in &prepared.warnings {
                    say_to(Stream::Stderr, format_args!("{w}\n"));
                }
                0
            }
            Ok(prepared) => formation(&options, prepared),
        },
    }
}

/// The last line of a failed start: `check` starts nothing anyway, so only a run says so.
fn error_summary(count: usize, task: &Task) -> String {
    match task {
        Task::Check => format!("{count} error(s)"),
        _ => format!("{count} error(s); nothing started"),
    }
}

/// A formation ready to run, and `check`'s description of it.
struct Prepared {
    /// Lines for the start of a run (a dependency scaled to 0 that drops out).
    notes: Vec<String>,
    instances: Vec<Instance>,
    grace: std::time::Duration,
    description: String,
    /// What `check` notices that would make a spawn fail here (missing cwd, no /bin/sh).
    warnings: Vec<String>,
}

/// Everything that can fail before a process starts: every error of the config, the env
/// files and `-m` in one pass (SPEC §3.4), as printable lines.
fn prepare(options: &Options) -> Result<Prepared, Vec<String>> {
    let dir =
        std::env::current_dir().map_err(|e| vec![format!("formation: current directory: {e}")])?;
    let file = load::discover(options.config.clone(), &dir)
        .map_err(|e| vec![format!("formation: {e}")])?;
    let (formation, mut errors) = load::formation(&file);
    let (ConfigFile::Toml(path) | ConfigFile::Procfile(path)) = &file;
    let named = formation.as_ref().and_then(|f| f.env_files.as_deref());
    let (file_vars, env_errors) = load::env_files(path, named, &options.env_files);
    errors.extend(env_errors);
    let spec = options.formation.as_deref();
    let scales = match &formation {
        Some(f) => plan::scales(f, spec).map(Some),
        // Without the types, `-m` can still be checked for its form.
        None => spec
            .map_or(Ok(()), |s| plan::parse_scale(s).map(drop))
            .map(|()| None),
    };
    let scales = scales
        .map_err(|e| errors.push(format!("formation: {e}")))
        .ok()
        .flatten();
    let (Some(formation), Some(scales)) = (formation, scales) else {
        return Err(errors);
    };
    let grace = plan::default_grace(options.grace, Some(&formation));
    let inherited: Vec<_> = std::env::vars_os().collect();
    let mut instances = plan::instances(&formation, &scales, grace, &inherited, &file_vars)
        .unwrap_or_else(|e| {
            errors.extend(e);
            Vec::new()
        });
    if !errors.is_empty() {
        return Err(errors);
    }
    let me = (nix::unistd::geteuid(), nix::unistd::getegid());
    keep_own_credentials(&mut instances, me);
    absolute_cwds(&mut instances, &dir);
    let (deps, notes) = plan::graph::deps(&formation, &scales);
    plan::graph::link(&formation, &deps, &mut instances);
    let mut description = plan::describe(&formation, &scales, &instances, &inherited);
    for note in &notes {
        description.push_str(&format!("\nnote: {note}\n"));
    }
    let graces: Vec<std::time::Duration> = formation
        .types
        .iter()
        .map(|t| t.grace.unwrap_or(grace))
        .collect();
    let now = supervisor::wall_ms().div_euclid(1000);
    description.push_str(&plan::graph::describe(
        &formation, &scales, &deps, &graces, grace, now,
    ));
    let warnings = plan::warnings(
        &formation,
        &scales,
        &instances,
        &Path::is_dir,
        &Path::is_file,
    );
    Ok(Prepared {
        instances,
        grace,
        description,
        warnings,
        notes,
    })
}

/// An instance whose `user` is the one formation already runs as keeps our credentials:
/// not being root, we could not call setgroups even to set what we have, and Kubernetes'
/// `runAsUser` (or `docker run --user` with a config that names the same user) would fail
/// every spawn. As root, the switch is made as written (it sets the groups exactly).
fn keep_own_credentials(
    instances: &mut [Instance],
    (euid, egid): (nix::unistd::Uid, nix::unistd::Gid),
) {
    if euid.is_root() {
        return;
    }
    for i in instances {
        if i.user
            .as_ref()
            .is_some_and(|u| u.uid == euid && u.gid == egid)
        {
            i.user = None;
        }
    }
}

/// Makes every instance's cwd absolute against `dir` (ours): formation leaves its own cwd once
/// the children are spawned (SPEC §1.1), and a restart must still find `-c app/formation.toml`'s
/// directory. `.` components go (`./` → `dir` itself).
fn absolute_cwds(instances: &mut [Instance], dir: &Path) {
    for cwd in instances.iter_mut().filter_map(|i| i.cwd.as_mut()) {
        if cwd.is_relative() {
            *cwd = dir.join(&*cwd).components().collect();
        }
    }
}

/// Formation mode.
fn formation(options: &Options, prepared: Prepared) -> i32 {
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
    if level >= Level::Info {
        for note in &prepared.notes {
            log.own(note);
        }
    }
    supervise(
        SignalPolicy::StopOnTerm,
        options.rewrites,
        prepared.grace,
        level,
        prepared.instances,
        log,
    )
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

/// Single-command mode: a formation of one essential instance with inherited stdio.
fn single(options: &Options, argv: Vec<std::ffi::OsString>) -> i32 {
    let take_terminal = nix::unistd::isatty(std::io::stdin()).unwrap_or(false);
    let grace = plan::default_grace(options.grace, None);
    let name = argv[0].to_string_lossy().into_owned();
    let stdio = plan::StdioMode::Inherit { take_terminal };
    let instance = Instance::new(name, argv, grace, stdio);
    let style = Style {
        format: options.log_format,
        color: [false, false],
        timestamps: options.timestamps,
    };
    let log = LogMux::new(style, &[], true);
    let level = options.log_level.unwrap_or(Level::Error);
    let rewrites = options.rewrites;
    supervise(
        SignalPolicy::ForwardAll,
        rewrites,
        grace,
        level,
        vec![instance],
        log,
    )
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
    rewrites: Rewrites,
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
        supervisor::wall_ms(),
    );
    let mut supervisor = Supervisor::new(engine, signals, log, pid1, level);
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

#[cfg(test)]
mod tests {
    use super::*;
    use config::users::Credentials;
    use nix::unistd::{Gid, Uid};

    fn instance(user: Option<(u32, u32)>) -> Instance {
        Instance {
            user: user.map(|(uid, gid)| Credentials {
                uid: Uid::from_raw(uid),
                gid: Gid::from_raw(gid),
                groups: vec![Gid::from_raw(10)],
                home: "/home/app".into(),
            }),
            ..Instance::new(
                "web.1".into(),
                vec!["x".into()],
                plan::DEFAULT_GRACE,
                plan::StdioMode::Piped,
            )
        }
    }

    #[test]
    fn naming_the_user_we_run_as_needs_no_switch() {
        // (our uid, gid), the instance's user, whether a switch is still made.
        let table = [
            ((1000, 1000), Some((1000, 1000)), false),
            ((1000, 1000), Some((1000, 0)), true),
            ((1000, 1000), Some((1001, 1000)), true),
            ((0, 0), Some((0, 0)), true),
            ((0, 0), Some((1000, 1000)), true),
            ((1000, 1000), None, false),
        ];
        for ((uid, gid), user, switch) in table {
            let mut all = [instance(user)];
            keep_own_credentials(&mut all, (Uid::from_raw(uid), Gid::from_raw(gid)));
            assert_eq!(all[0].user.is_some(), switch, "{uid}:{gid} {user:?}");
        }
    }

    #[test]
    fn every_cwd_is_made_absolute() {
        let table = [
            (Some("."), Some("/srv/app")),
            (Some("./web"), Some("/srv/app/web")),
            (Some("conf/.."), Some("/srv/app/conf/..")),
            (Some("/data"), Some("/data")),
            (None, None),
        ];
        for (cwd, want) in table {
            let mut all = [instance(None)];
            all[0].cwd = cwd.map(std::path::PathBuf::from);
            absolute_cwds(&mut all, Path::new("/srv/app"));
            assert_eq!(all[0].cwd.as_deref(), want.map(Path::new), "{cwd:?}");
        }
    }

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

    #[test]
    fn only_a_run_says_nothing_started() {
        assert_eq!(error_summary(2, &Task::Check), "2 error(s)");
        assert_eq!(error_summary(1, &Task::Run), "1 error(s); nothing started");
    }
}
