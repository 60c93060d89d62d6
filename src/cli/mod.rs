//! Arguments and environment settings → [`Options`].
//!
//! Owns: the command line grammar (SPEC §2) and the environment variables that stand in for
//! options. Pure: the environment is passed in as a lookup, and no file is read here.
//!
//! Precedence is settled here only between a flag and its own variable (`-t` beats
//! `FORMATION_GRACE`); against the config file it is settled in `plan.rs`.

use crate::config::load::ConfigFile;
use crate::config::names::{self, Level};
use crate::config::rewrite::{self, Rewrites};
use crate::output::format::LogFormat;
use crate::time::duration;
use std::ffi::{OsStr, OsString};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// What formation was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Task {
    /// Formation mode: run the formation of a config file.
    Run,
    /// `formation check`: validate the config and print the plan.
    Check,
    /// Single-command mode: `-- CMD ARGS…`, verbatim.
    Single(Vec<OsString>),
    /// `formation run TYPE [CMD…]`: one instance of TYPE (running CMD instead, when given)
    /// (an empty TYPE while the parse has not reached it yet).
    RunType(String, Vec<OsString>),
    /// `formation run -- CMD [ARGS…]`: any command with the formation's common environment.
    RunCommand(Vec<OsString>),
    /// `formation probe TYPE`: TYPE's readiness check, once.
    Probe(String),
    /// `formation status [--json]`: what the formation in this container runs.
    Status,
    /// `formation restart|stop|start|scale|signal|reload ...`: a request to the formation in
    /// this container (SPEC §10), its words as typed (checked by the control protocol).
    Control(Vec<String>),
    /// `formation export TARGET`: write deployment files (SPEC §8); `target` is None while
    /// the parse has not reached it yet.
    Export(Export),
    /// `-h`/`--help`.
    Help,
    /// `-V`/`--version`.
    Version,
}

/// `formation export TARGET [--image IMAGE] [--entrypoint PATH] [--config-in-image PATH]
/// [-o FILE]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Export {
    /// compose, kubernetes or fly.
    pub target: Option<crate::export::Target>,
    /// `--image`: required by compose and kubernetes, refused by fly.
    pub image: Option<String>,
    /// `--entrypoint`: formation's path in the image (default `/formation`).
    pub entrypoint: String,
    /// `-o`/`--output`; None: stdout.
    pub output: Option<PathBuf>,
    /// `--config-in-image`: the config's path as the image's containers find it.
    pub config_in_image: Option<String>,
}

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    /// Colour when the output is a terminal and `NO_COLOR` is not set.
    Auto,
    /// Always colour, `NO_COLOR` or not.
    Always,
    /// Never colour.
    Never,
}

/// Everything the command line and the environment settle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// What to do.
    pub task: Task,
    /// `-c`/`-f`, else `FORMATION_CONFIG`; None: look for ./formation.toml, ./Procfile.
    pub config: Option<ConfigFile>,
    /// `-m`, else `FORMATION`.
    pub formation: Option<String>,
    /// `-e` files, in order.
    pub env_files: Vec<PathBuf>,
    /// `-t`, else `FORMATION_GRACE`.
    pub grace: Option<Duration>,
    /// `--color`, with `NO_COLOR` folded in (SPEC §5).
    pub color: Color,
    /// `--timestamps`.
    pub timestamps: bool,
    /// `--log-format`, else `FORMATION_LOG_FORMAT`.
    pub log_format: LogFormat,
    /// `FORMATION_LOG`; None: the mode's default.
    pub log_level: Option<Level>,
    /// `--listen`, else `FORMATION_LISTEN`: the status listener's address (SPEC §9).
    pub listen: Option<SocketAddr>,
    /// `status --json`.
    pub json: bool,
    /// `--control on|off`, else `FORMATION_CONTROL`: serve the control socket (SPEC §10).
    pub control: bool,
    /// `-r SRC:DST` rules, later ones winning for the same SRC.
    pub rewrites: Rewrites,
}

/// The short usage text printed with usage errors and `--help`.
pub const USAGE: &str = "\
usage: formation [OPTIONS]                 run the formation of ./formation.toml or ./Procfile
       formation [OPTIONS] [--] CMD [ARGS] run one command as PID 1 (like tini)
       formation check [-c FILE | -f FILE] [-m SPEC]   validate the config, print the plan
       formation run TYPE [CMD [ARGS]]     TYPE's command, or CMD, in TYPE's environment
       formation run -- CMD [ARGS]         any command with the formation's environment
       formation probe TYPE                TYPE's ready check, once (0 ready, 1 not, 2 none)
       formation status [--json] [--listen ADDR]       what runs in this container
       formation restart|stop|start TARGET... [--wait] [--timeout D]
       formation scale TYPE=N[,...] [--wait] [--timeout D]
       formation signal SIGNAL TARGET...
       formation reload [--dry-run] [--wait] [--timeout D]
                                           control the formation in this container
       formation export compose|kubernetes|fly [-c FILE | -f FILE] [-m SPEC] [-e FILE]
                 [--image IMAGE] [--entrypoint /formation] [--config-in-image PATH] [-o FILE]
                                           write deployment files, one per process type

options:
  -c, --config FILE      formation.toml to run            (env FORMATION_CONFIG)
  -f, --procfile FILE    Procfile to run
  -m, --formation SPEC   scale, e.g. web=2,worker=1,all=0 (env FORMATION)
  -e, --env-file FILE    env file, repeatable (default: .env beside the config)
  -t, --grace DURATION   stop grace, e.g. 10s, 500ms      (env FORMATION_GRACE, default 5s)
  -r, --rewrite SRC:DST  act on signal SRC as if DST came (0: drop SRC), repeatable,
                         e.g. -r TERM:QUIT, -r 28:0
      --color WHEN       auto, always or never            (env NO_COLOR)
      --timestamps       prefix lines with an RFC 3339 UTC time
      --log-format FMT   text or json                     (env FORMATION_LOG_FORMAT)
      --listen ADDR      serve /health, /status, /metrics (env FORMATION_LISTEN;
                         9090 = 0.0.0.0:9090, or 127.0.0.1:9090, [::1]:9090)
      --control on|off   the control socket of `formation restart` & co (env
                         FORMATION_CONTROL; default on)
  -h, --help             this text
  -V, --version          the version
env FORMATION_LOG=error|warn|info|debug sets formation's own verbosity.";

/// Parses the arguments after the program name. `env` looks up an environment variable.
pub fn parse(
    args: impl IntoIterator<Item = OsString>,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<Options, String> {
    let mut args = args.into_iter();
    let mut task = None;
    let mut config = None;
    let mut formation = None;
    let mut env_files = Vec::new();
    let mut grace = None;
    let mut color = None;
    let mut timestamps = false;
    let mut log_format = None;
    let mut listen = None;
    let mut json = false;
    let mut control = None;
    let mut rewrites = Rewrites::default();

    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy();
        if text == "--" {
            let argv: Vec<OsString> = args.by_ref().collect();
            if argv.is_empty() {
                return Err("`--` must be followed by a command".into());
            }
            task = Some(match task {
                None => Task::Single(argv),
                Some(Task::RunType(t, _)) if t.is_empty() => Task::RunCommand(argv),
                Some(_) => return Err("only `run` takes a command after `--`".into()),
            });
            break;
        }
        if !text.starts_with('-') {
            // SPEC §1.1: the first word that is not an option and not one of our subcommands
            // is a command, as after `--` (platforms append theirs to the ENTRYPOINT).
            match &task {
                Some(Task::RunType(t, _)) if t.is_empty() => {
                    // `run TYPE ARGS…`: everything after TYPE is the command's, options too.
                    task = Some(Task::RunType(text.into_owned(), args.by_ref().collect()));
                    break;
                }
                Some(Task::Probe(t)) if t.is_empty() => {
                    task = Some(Task::Probe(text.into_owned()));
                    continue;
                }
                Some(Task::Export(e)) if e.target.is_none() => {
                    let target = crate::export::Target::parse(&text).ok_or_else(|| {
                        format!("export takes a target: compose, kubernetes or fly (not {text:?})")
                    })?;
                    if let Some(Task::Export(e)) = task.as_mut() {
                        e.target = Some(target);
                    }
                    continue;
                }
                Some(_) => {
                    return Err(format!(
                        "unexpected argument {text:?} (that subcommand takes options only)"
                    ));
                }
                None => {}
            }
            if crate::serve::control::COMMANDS[1..].contains(&text.as_ref()) {
                // The control commands' words are the protocol's to check (serve::control).
                let words = std::iter::once(arg).chain(args.by_ref());
                task = Some(Task::Control(
                    words.map(|w| w.to_string_lossy().into_owned()).collect(),
                ));
                break;
            }
            match SUBCOMMANDS.iter().find(|(name, _)| *name == text) {
                Some((_, sub)) => task = Some(sub.task()),
                None => {
                    task = Some(Task::Single(std::iter::once(arg).chain(args).collect()));
                    break;
                }
            }
            continue;
        }
        let (flag, inline) = split_attached(&arg);
        let mut value = |name: &str| -> Result<OsString, String> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        let no_value = |flag: &str| match &inline {
            Some(_) => Err(format!("{flag} takes no value")),
            None => Ok(()),
        };
        match flag.as_str() {
            "-h" | "--help" => return no_value(&flag).map(|()| with_task(Task::Help)),
            "-V" | "--version" => return no_value(&flag).map(|()| with_task(Task::Version)),
            "-c" | "--config" => set_config(&mut config, ConfigFile::Toml(value(&flag)?.into()))?,
            "-f" | "--procfile" => {
                set_config(&mut config, ConfigFile::Procfile(value(&flag)?.into()))?
            }
            "-m" | "--formation" => {
                // Repeated specs merge; a later value for the same type wins (plan::scales
                // reads the last one).
                let spec = utf8(&flag, value(&flag)?)?;
                formation = Some(match formation {
                    Some(earlier) => format!("{earlier},{spec}"),
                    None => spec,
                });
            }
            "-e" | "--env-file" => env_files.push(value(&flag)?.into()),
            "-t" | "--grace" => grace = Some(duration::duration(&utf8(&flag, value(&flag)?)?)?),
            "-r" | "--rewrite" => {
                let (src, dst) = rewrite::rule(&utf8(&flag, value(&flag)?)?)
                    .map_err(|e| format!("{flag}: {e}"))?;
                rewrites.set(src, dst);
            }
            "--color" | "--colour" => color = Some(parse_color(&utf8(&flag, value(&flag)?)?)?),
            "--timestamps" => {
                no_value(&flag)?;
                timestamps = true;
            }
            "--log-format" => log_format = Some(parse_log_format(&utf8(&flag, value(&flag)?)?)?),
            "--listen" => listen = Some(parse_listen(&utf8(&flag, value(&flag)?)?)?),
            "--json" => {
                no_value(&flag)?;
                json = true;
            }
            "--control" => control = Some(parse_switch(&flag, &utf8(&flag, value(&flag)?)?)?),
            "--image" | "--entrypoint" | "--config-in-image" | "-o" | "--output" => {
                let value = value(&flag)?;
                let Some(Task::Export(export)) = task.as_mut() else {
                    return Err(format!("{flag} is for `formation export`"));
                };
                match flag.as_str() {
                    "--image" => export.image = Some(utf8(&flag, value)?),
                    "--entrypoint" => export.entrypoint = utf8(&flag, value)?,
                    "--config-in-image" => export.config_in_image = Some(utf8(&flag, value)?),
                    _ => export.output = Some(value.into()),
                }
            }
            _ => return Err(format!("unknown option {flag}")),
        }
    }

    let task = task.unwrap_or(Task::Run);
    match &task {
        Task::RunType(t, _) if t.is_empty() => {
            return Err(
                "`run` needs a process type (`run web`) or a command (`run -- CMD`)".into(),
            );
        }
        Task::Probe(t) if t.is_empty() => return Err("`probe` needs a process type".into()),
        Task::Export(e) => export_rules(e, grace.is_some())?,
        _ => {}
    }
    if let Task::Single(_) = task
        && (config.is_some() || formation.is_some() || !env_files.is_empty())
    {
        return Err("-c, -f, -m and -e are for formation mode, not with a command to run".into());
    }
    if json && task != Task::Status {
        return Err("--json is for `formation status`".into());
    }
    let from_env = |name: &str| env(name).filter(|v| !v.is_empty());
    let listen = match listen {
        Some(addr) => Some(addr),
        None => from_env("FORMATION_LISTEN")
            .map(|v| {
                parse_listen(&utf8("FORMATION_LISTEN", v)?)
                    .map_err(|e| format!("FORMATION_LISTEN: {e}"))
            })
            .transpose()?,
    };
    let config = match config {
        Some(c) => Some(c),
        None => from_env("FORMATION_CONFIG").map(|path| {
            if Path::new(&path).extension() == Some(OsStr::new("toml")) {
                ConfigFile::Toml(path.into())
            } else {
                ConfigFile::Procfile(path.into())
            }
        }),
    };
    let formation = match formation {
        Some(f) => Some(f),
        None => from_env("FORMATION")
            .map(|v| utf8("FORMATION", v))
            .transpose()?,
    };
    let grace = match grace {
        Some(g) => Some(g),
        None => from_env("FORMATION_GRACE")
            .map(|v| {
                duration::duration(&utf8("FORMATION_GRACE", v)?)
                    .map_err(|e| format!("FORMATION_GRACE: {e}"))
            })
            .transpose()?,
    };
    let color = match color {
        Some(c) => c,
        None if from_env("NO_COLOR").is_some() => Color::Never,
        None => Color::Auto,
    };
    let log_format = match log_format {
        Some(f) => f,
        None => from_env("FORMATION_LOG_FORMAT")
            .map(|v| parse_log_format(&utf8("FORMATION_LOG_FORMAT", v)?))
            .transpose()?
            .unwrap_or(LogFormat::Text),
    };
    let control = match control {
        Some(on) => on,
        None => from_env("FORMATION_CONTROL")
            .map(|v| parse_switch("FORMATION_CONTROL", &utf8("FORMATION_CONTROL", v)?))
            .transpose()?
            .unwrap_or(true),
    };
    let log_level = from_env("FORMATION_LOG")
        .map(|v| {
            names::level(&utf8("FORMATION_LOG", v)?).map_err(|e| format!("FORMATION_LOG: {e}"))
        })
        .transpose()?;
    Ok(Options {
        task,
        config,
        formation,
        env_files,
        grace,
        color,
        timestamps,
        log_format,
        log_level,
        listen,
        json,
        control,
        rewrites,
    })
}

use std::path::Path;

fn with_task(task: Task) -> Options {
    Options {
        task,
        config: None,
        formation: None,
        env_files: Vec::new(),
        grace: None,
        color: Color::Auto,
        timestamps: false,
        log_format: LogFormat::Text,
        log_level: None,
        listen: None,
        json: false,
        control: true,
        rewrites: Rewrites::default(),
    }
}

fn set_config(slot: &mut Option<ConfigFile>, file: ConfigFile) -> Result<(), String> {
    if slot.is_some() {
        return Err("give one config: -c FILE or -f FILE, not both".into());
    }
    *slot = Some(file);
    Ok(())
}

mod subcommand;
mod values;
use crate::config::listen::parse_listen;
use subcommand::{SUBCOMMANDS, export_rules};
use values::{parse_color, parse_log_format, parse_switch, split_attached, utf8};

#[cfg(test)]
mod tests;
