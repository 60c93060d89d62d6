//! Arguments and environment settings → [`Options`].
//!
//! Owns: the command line grammar (SPEC §2) and the environment variables that stand in for
//! options. Pure: the environment is passed in as a lookup, and no file is read here.
//!
//! Precedence is settled here only between a flag and its own variable (`-t` beats
//! `FORMATION_GRACE`); against the config file it is settled in `plan.rs`.

use crate::config::units::{self, Level};
use crate::output::format::LogFormat;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::time::Duration;

/// What formation was asked to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Task {
    /// Formation mode: run the formation of a config file.
    Run,
    /// `formation check`: validate the config and print the plan.
    Check,
    /// Single-command mode: `-- CMD ARGS…`, verbatim.
    Single(Vec<OsString>),
    /// `-h`/`--help`.
    Help,
    /// `-V`/`--version`.
    Version,
}

/// Where the config comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigFile {
    /// A formation.toml.
    Toml(PathBuf),
    /// A Procfile.
    Procfile(PathBuf),
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
#[derive(Debug, PartialEq, Eq)]
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
}

/// The short usage text printed with usage errors and `--help`.
pub const USAGE: &str = "\
usage: formation [OPTIONS]                 run the formation of ./formation.toml or ./Procfile
       formation [OPTIONS] -- CMD [ARGS]   run one command as PID 1 (like tini)
       formation check [-c FILE | -f FILE] [-m SPEC]   validate the config, print the plan

options:
  -c, --config FILE      formation.toml to run            (env FORMATION_CONFIG)
  -f, --procfile FILE    Procfile to run
  -m, --formation SPEC   scale, e.g. web=2,worker=1,all=0 (env FORMATION)
  -e, --env-file FILE    env file, repeatable (default: .env beside the config)
  -t, --grace DURATION   stop grace, e.g. 10s, 500ms      (env FORMATION_GRACE, default 5s)
      --color WHEN       auto, always or never            (env NO_COLOR)
      --timestamps       prefix lines with an RFC 3339 UTC time
      --log-format FMT   text or json                     (env FORMATION_LOG_FORMAT)
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

    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy();
        if text == "--" {
            let argv: Vec<OsString> = args.by_ref().collect();
            if argv.is_empty() {
                return Err("`--` must be followed by a command".into());
            }
            if task.is_some() {
                return Err("`check` does not take a command after `--`".into());
            }
            task = Some(Task::Single(argv));
            break;
        }
        let (flag, inline) = match text.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_string(), Some(value.to_string()))
            }
            _ => (text.to_string(), None),
        };
        let mut value = |name: &str| -> Result<OsString, String> {
            inline
                .clone()
                .map(OsString::from)
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(with_task(Task::Help)),
            "-V" | "--version" => return Ok(with_task(Task::Version)),
            "-c" | "--config" => set_config(&mut config, ConfigFile::Toml(value(&flag)?.into()))?,
            "-f" | "--procfile" => {
                set_config(&mut config, ConfigFile::Procfile(value(&flag)?.into()))?
            }
            "-m" | "--formation" => formation = Some(utf8(&flag, value(&flag)?)?),
            "-e" | "--env-file" => env_files.push(value(&flag)?.into()),
            "-t" | "--grace" => grace = Some(units::duration(&utf8(&flag, value(&flag)?)?)?),
            "--color" | "--colour" => color = Some(parse_color(&utf8(&flag, value(&flag)?)?)?),
            "--timestamps" => timestamps = true,
            "--log-format" => log_format = Some(parse_log_format(&utf8(&flag, value(&flag)?)?)?),
            "check" if task.is_none() => task = Some(Task::Check),
            _ if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            _ => {
                return Err(format!(
                    "unexpected argument {text:?} (to run a command, put `--` before it)"
                ));
            }
        }
    }

    let task = task.unwrap_or(Task::Run);
    if let Task::Single(_) = task
        && (config.is_some() || formation.is_some() || !env_files.is_empty())
    {
        return Err("-c, -f, -m and -e are for formation mode, not with `--`".into());
    }
    let from_env = |name: &str| env(name).filter(|v| !v.is_empty());
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
                units::duration(&utf8("FORMATION_GRACE", v)?)
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
    let log_level = from_env("FORMATION_LOG")
        .map(|v| {
            units::level(&utf8("FORMATION_LOG", v)?).map_err(|e| format!("FORMATION_LOG: {e}"))
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
    }
}

fn set_config(slot: &mut Option<ConfigFile>, file: ConfigFile) -> Result<(), String> {
    if slot.is_some() {
        return Err("give one config: -c FILE or -f FILE, not both".into());
    }
    *slot = Some(file);
    Ok(())
}

fn utf8(name: &str, value: OsString) -> Result<String, String> {
    value
        .into_string()
        .map_err(|v| format!("{name}: {v:?} is not valid UTF-8"))
}

fn parse_color(text: &str) -> Result<Color, String> {
    match text {
        "auto" => Ok(Color::Auto),
        "always" => Ok(Color::Always),
        "never" => Ok(Color::Never),
        _ => Err(format!("--color takes auto, always or never, not {text:?}")),
    }
}

fn parse_log_format(text: &str) -> Result<LogFormat, String> {
    match text {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        _ => Err(format!("the log format is text or json, not {text:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str], env: &[(&str, &str)]) -> Result<Options, String> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse(args.iter().map(OsString::from), move |name| {
            env.iter().find(|(k, _)| k == name).map(|(_, v)| v.into())
        })
    }

    #[test]
    fn single_command_keeps_argv_verbatim() {
        let o = run(&["-t", "2s", "--", "sh", "-c", "--", "", "-x"], &[]).expect("parses");
        let argv: Vec<OsString> = ["sh", "-c", "--", "", "-x"]
            .iter()
            .map(OsString::from)
            .collect();
        assert_eq!(o.task, Task::Single(argv));
        assert_eq!(o.grace, Some(Duration::from_secs(2)));
    }

    #[test]
    fn formation_mode_options() {
        let o = run(
            &[
                "-c",
                "f.toml",
                "--formation=web=2",
                "-e",
                "a",
                "-e",
                "b",
                "--timestamps",
            ],
            &[],
        )
        .expect("parses");
        assert_eq!(o.task, Task::Run);
        assert_eq!(o.config, Some(ConfigFile::Toml("f.toml".into())));
        assert_eq!(o.formation.as_deref(), Some("web=2"));
        assert_eq!(o.env_files, [PathBuf::from("a"), PathBuf::from("b")]);
        assert!(o.timestamps);
        assert_eq!(
            run(&["check", "-f", "Procfile"], &[]).expect("parses").task,
            Task::Check
        );
    }

    #[test]
    fn flags_beat_their_variables() {
        let env = [
            ("FORMATION_GRACE", "9s"),
            ("FORMATION", "w=3"),
            ("FORMATION_CONFIG", "x/Procfile.dev"),
            ("FORMATION_LOG_FORMAT", "json"),
            ("FORMATION_LOG", "debug"),
        ];
        let o = run(&[], &env).expect("parses");
        assert_eq!(o.grace, Some(Duration::from_secs(9)));
        assert_eq!(o.formation.as_deref(), Some("w=3"));
        assert_eq!(
            o.config,
            Some(ConfigFile::Procfile("x/Procfile.dev".into()))
        );
        assert_eq!(o.log_format, LogFormat::Json);
        assert_eq!(o.log_level, Some(Level::Debug));
        let o = run(&["-t", "1s", "-m", "w=1", "--log-format", "text"], &env).expect("parses");
        assert_eq!(o.grace, Some(Duration::from_secs(1)));
        assert_eq!(o.formation.as_deref(), Some("w=1"));
        assert_eq!(o.log_format, LogFormat::Text);
        let o = run(&[], &[("FORMATION_CONFIG", "app.toml")]).expect("parses");
        assert_eq!(o.config, Some(ConfigFile::Toml("app.toml".into())));
    }

    #[test]
    fn color_and_no_color() {
        assert_eq!(run(&[], &[]).expect("parses").color, Color::Auto);
        assert_eq!(
            run(&[], &[("NO_COLOR", "1")]).expect("parses").color,
            Color::Never
        );
        assert_eq!(
            run(&[], &[("NO_COLOR", "")]).expect("parses").color,
            Color::Auto
        );
        let o = run(&["--color", "always"], &[("NO_COLOR", "1")]).expect("parses");
        assert_eq!(o.color, Color::Always);
    }

    #[test]
    fn usage_errors() {
        for args in [
            &["--"][..],
            &["-c", "a.toml", "-f", "Procfile"],
            &["-t"],
            &["-t", "soon"],
            &["--bogus"],
            &["sleep", "1"],
            &["--color", "sometimes"],
            &["-c", "a.toml", "--", "true"],
            &["check", "--", "true"],
        ] {
            assert!(run(args, &[]).is_err(), "{args:?}");
        }
        assert!(run(&[], &[("FORMATION_GRACE", "later")]).is_err());
        assert!(run(&[], &[("FORMATION_LOG", "chatty")]).is_err());
    }

    #[test]
    fn help_and_version() {
        assert_eq!(
            run(&["--help", "--bogus"], &[]).expect("parses").task,
            Task::Help
        );
        assert_eq!(run(&["-V"], &[]).expect("parses").task, Task::Version);
    }
}
