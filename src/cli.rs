//! Arguments and environment settings → [`Options`].
//!
//! Owns: the command line grammar (SPEC §2) and the environment variables that stand in for
//! options. Pure: the environment is passed in as a lookup, and no file is read here.
//!
//! Precedence is settled here only between a flag and its own variable (`-t` beats
//! `FORMATION_GRACE`); against the config file it is settled in `plan.rs`.

use crate::config::rewrite::{self, Rewrites};
use crate::config::units::{self, Level};
use crate::output::format::LogFormat;
use std::ffi::{OsStr, OsString};
use std::net::SocketAddr;
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
    /// `formation run TYPE [ARGS…]`: one instance of TYPE with single-command semantics
    /// (an empty TYPE while the parse has not reached it yet).
    RunType(String, Vec<OsString>),
    /// `formation run -- CMD [ARGS…]`: any command with the formation's common environment.
    RunCommand(Vec<OsString>),
    /// `formation probe TYPE`: TYPE's readiness check, once.
    Probe(String),
    /// `formation status [--json]`: what the formation in this container runs.
    Status,
    /// `formation export TARGET`: write deployment files (SPEC §8); `target` is None while
    /// the parse has not reached it yet.
    Export(Export),
    /// `-h`/`--help`.
    Help,
    /// `-V`/`--version`.
    Version,
}

/// `formation export TARGET [--image IMAGE] [--entrypoint PATH] [-o FILE]`.
#[derive(Debug, PartialEq, Eq)]
pub struct Export {
    /// compose, kubernetes or fly.
    pub target: Option<crate::export::Target>,
    /// `--image`: required by compose and kubernetes, refused by fly.
    pub image: Option<String>,
    /// `--entrypoint`: formation's path in the image (default `/formation`).
    pub entrypoint: String,
    /// `-o`/`--output`; None: stdout.
    pub output: Option<PathBuf>,
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
    /// `--listen`, else `FORMATION_LISTEN`: the status listener's address (SPEC §9).
    pub listen: Option<SocketAddr>,
    /// `status --json`.
    pub json: bool,
    /// `-r SRC:DST` rules, later ones winning for the same SRC.
    pub rewrites: Rewrites,
}

/// The short usage text printed with usage errors and `--help`.
pub const USAGE: &str = "\
usage: formation [OPTIONS]                 run the formation of ./formation.toml or ./Procfile
       formation [OPTIONS] [--] CMD [ARGS] run one command as PID 1 (like tini)
       formation check [-c FILE | -f FILE] [-m SPEC]   validate the config, print the plan
       formation run TYPE [ARGS]           one instance of TYPE in the foreground
       formation run -- CMD [ARGS]         any command with the formation's environment
       formation probe TYPE                TYPE's ready check, once (0 ready, 1 not, 2 none)
       formation status [--json] [--listen ADDR]       what runs in this container
       formation export compose|kubernetes|fly [-c FILE | -f FILE] [-m SPEC] [-e FILE]
                 [--image IMAGE] [--entrypoint /formation] [-o FILE]
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
            "-t" | "--grace" => grace = Some(units::duration(&utf8(&flag, value(&flag)?)?)?),
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
            "--image" | "--entrypoint" | "-o" | "--output" => {
                let value = value(&flag)?;
                let Some(Task::Export(export)) = task.as_mut() else {
                    return Err(format!("{flag} is for `formation export`"));
                };
                match flag.as_str() {
                    "--image" => export.image = Some(utf8(&flag, value)?),
                    "--entrypoint" => export.entrypoint = utf8(&flag, value)?,
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
        listen,
        json,
        rewrites,
    })
}

use std::path::Path;

/// A subcommand of formation (SPEC §2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Subcommand {
    /// `formation check`.
    Check,
    /// `formation run`.
    Run,
    /// `formation probe`.
    Probe,
    /// `formation status`.
    Status,
    /// `formation export`.
    Export,
}

impl Subcommand {
    fn task(self) -> Task {
        match self {
            Subcommand::Check => Task::Check,
            Subcommand::Run => Task::RunType(String::new(), Vec::new()),
            Subcommand::Probe => Task::Probe(String::new()),
            Subcommand::Status => Task::Status,
            Subcommand::Export => Task::Export(Export {
                target: None,
                image: None,
                entrypoint: "/formation".into(),
                output: None,
            }),
        }
    }
}

/// The words that are formation's own subcommands rather than a command to run. Only the
/// implemented ones are listed (SPEC §2.1); `formation -- NAME` runs a program of that name.
const SUBCOMMANDS: &[(&str, Subcommand)] = &[
    ("check", Subcommand::Check),
    ("run", Subcommand::Run),
    ("probe", Subcommand::Probe),
    ("status", Subcommand::Status),
    ("export", Subcommand::Export),
];

/// An option and its attached value, if any: `--grace=5s` → (`--grace`, `5s`); `-t5s` and
/// `-t=5s` → (`-t`, `5s`) (getopt's attached short values; the `=` is dropped because no
/// value of ours starts with one); `-t` → (`-t`, None). Bytes of a value are kept as they
/// are (a file name need not be UTF-8).
fn split_attached(arg: &OsStr) -> (String, Option<OsString>) {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let bytes = arg.as_bytes();
    let value = |v: &[u8]| Some(OsString::from_vec(v.to_vec()));
    if bytes.starts_with(b"--") {
        return match bytes.iter().position(|&b| b == b'=') {
            Some(eq) => (
                String::from_utf8_lossy(&bytes[..eq]).into_owned(),
                value(&bytes[eq + 1..]),
            ),
            None => (arg.to_string_lossy().into_owned(), None),
        };
    }
    match bytes {
        [b'-', letter, rest @ ..] if letter.is_ascii_alphabetic() && !rest.is_empty() => {
            let rest = rest.strip_prefix(b"=").unwrap_or(rest);
            (format!("-{}", *letter as char), value(rest))
        }
        _ => (arg.to_string_lossy().into_owned(), None),
    }
}

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

/// What `export` refuses: no target, `-t` (the containers use the config's grace), an image
/// where the target needs none or none where it needs one.
fn export_rules(export: &Export, grace: bool) -> Result<(), String> {
    let Some(target) = export.target else {
        return Err("export takes a target: compose, kubernetes or fly".into());
    };
    if grace {
        return Err("export takes no -t: the containers use the config's grace".into());
    }
    match (target.needs_image(), &export.image) {
        (true, None) => Err(format!(
            "export {} needs --image IMAGE: the image that holds formation and the app",
            target.name()
        )),
        (false, Some(_)) => Err(format!(
            "export {} takes no --image: Fly builds the image from the app's Dockerfile",
            target.name()
        )),
        _ => Ok(()),
    }
}

/// The listener's address: `9090` is `0.0.0.0:9090`; otherwise an IP address and a port
/// (`127.0.0.1:9090`, `[::1]:9090`). No host names: PID 1 resolves nothing.
pub fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::from(([0, 0, 0, 0], port)));
    }
    text.parse().map_err(|_| {
        format!("--listen takes a port or an IP address and port (9090, 127.0.0.1:9090, [::1]:9090), not {text:?}")
    })
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
            &["check", "sleep"],
            &["check", "check"],
            &["-c", "a.toml", "sleep", "1"],
            &["-mweb=2", "true"],
            &["--timestamps=yes"],
            &["-hx"],
            &["-"],
            &["-m"],
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
    fn rewrites_repeat_in_both_modes_and_the_last_rule_wins() {
        use nix::sys::signal::Signal::*;
        let o = run(
            &[
                "-r",
                "15:3",
                "--rewrite=WINCH:0",
                "-rHUP:USR1",
                "-r=HUP:USR2",
                "--",
                "sh",
            ],
            &[],
        )
        .expect("parses");
        assert_eq!(o.rewrites.apply(SIGTERM), Some(SIGQUIT));
        assert_eq!(o.rewrites.apply(SIGWINCH), None);
        assert_eq!(o.rewrites.apply(SIGHUP), Some(SIGUSR2));
        assert_eq!(o.rewrites.apply(SIGINT), Some(SIGINT));
        let o = run(&["-c", "f.toml", "-r", "TERM:QUIT"], &[]).expect("parses");
        assert_eq!(o.rewrites.to_string(), "TERM:QUIT");
        assert!(run(&[], &[]).expect("parses").rewrites.is_identity());
        let table = [
            (&["-r"][..], "-r needs a value"),
            (&["-r", "15"], "-r: \"15\" is not of the form SRC:DST"),
            (
                &["--rewrite", "TERM:NOPE"],
                "--rewrite: \"NOPE\" is not a signal",
            ),
            (&["-r", "9:1"], "-r: SIGKILL cannot be rewritten"),
            (&["-r", "CHLD:1"], "-r: SIGCHLD cannot be rewritten"),
        ];
        for (args, want) in table {
            let err = run(args, &[]).expect_err("a usage error");
            assert!(err.starts_with(want), "{args:?}: {err}");
        }
    }

    #[test]
    fn values_may_be_attached() {
        let table: [&[&str]; 4] = [
            &["-mweb=2", "-t5s", "-cf.toml", "-e.env", "-e", "b.env"],
            &["-m=web=2", "-t=5s", "-c=f.toml", "-e=.env", "-eb.env"],
            &[
                "--formation=web=2",
                "--grace=5s",
                "--config=f.toml",
                "--env-file=.env",
                "--env-file",
                "b.env",
            ],
            &[
                "-m", "web=2", "-t", "5s", "-c", "f.toml", "-e", ".env", "-e", "b.env",
            ],
        ];
        for args in table {
            let o = run(args, &[]).expect("parses");
            assert_eq!(o.formation.as_deref(), Some("web=2"), "{args:?}");
            assert_eq!(o.grace, Some(Duration::from_secs(5)), "{args:?}");
            assert_eq!(
                o.config,
                Some(ConfigFile::Toml("f.toml".into())),
                "{args:?}"
            );
            assert_eq!(
                o.env_files,
                [PathBuf::from(".env"), PathBuf::from("b.env")],
                "{args:?}"
            );
        }
        let o = run(&["-fProcfile.dev"], &[]).expect("parses");
        assert_eq!(o.config, Some(ConfigFile::Procfile("Procfile.dev".into())));
    }

    #[test]
    fn repeated_formation_specs_merge_and_the_last_wins() {
        let o = run(
            &["-m", "web=2,worker=1", "-mworker=3", "--formation=all=0"],
            &[("FORMATION", "web=9")],
        )
        .expect("parses");
        assert_eq!(
            o.formation.as_deref(),
            Some("web=2,worker=1,worker=3,all=0")
        );
        let scales = crate::plan::parse_scale(o.formation.as_deref().unwrap_or_default())
            .expect("valid spec");
        let last = |name: &str| {
            scales
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, c)| *c)
        };
        assert_eq!(
            (last("web"), last("worker"), last("all")),
            (Some(2), Some(3), Some(0))
        );
    }

    #[test]
    fn a_command_without_dashes_runs_as_after_them() {
        let argv = |w: &[&str]| Task::Single(w.iter().map(OsString::from).collect());
        let table: [(&[&str], Task); 6] = [
            (
                &["bin/rails", "db:migrate"],
                argv(&["bin/rails", "db:migrate"]),
            ),
            (
                &["-t", "2s", "sleep", "-t", "1"],
                argv(&["sleep", "-t", "1"]),
            ),
            (&["--", "check"], argv(&["check"])),
            (&["check"], Task::Check),
            (&["--color", "never", "check", "-c", "f.toml"], Task::Check),
            (&["sh", "--", "-c"], argv(&["sh", "--", "-c"])),
        ];
        for (args, want) in table {
            assert_eq!(run(args, &[]).expect("parses").task, want, "{args:?}");
        }
        let names: Vec<&str> = SUBCOMMANDS.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            ["check", "run", "probe", "status", "export"],
            "only implemented subcommands are listed"
        );
        let o = run(&["-t", "2s", "sleep", "-t", "1"], &[]).expect("parses");
        assert_eq!(
            o.grace,
            Some(Duration::from_secs(2)),
            "options before CMD are ours"
        );
    }

    #[test]
    fn attached_values_keep_their_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let arg = OsStr::from_bytes(b"-c\xffx.toml");
        assert_eq!(
            split_attached(arg),
            (
                "-c".into(),
                Some(OsStr::from_bytes(b"\xffx.toml").to_os_string())
            )
        );
        assert_eq!(split_attached(OsStr::new("-t")), ("-t".into(), None));
        assert_eq!(
            split_attached(OsStr::new("--grace=")),
            ("--grace".into(), Some("".into()))
        );
    }

    proptest::proptest! {
        /// Any argument list is options, a subcommand or a command; it never panics, and a
        /// first word that is not an option nor a subcommand is kept verbatim as the command.
        #[test]
        fn any_arguments_parse_or_fail_cleanly(args in proptest::collection::vec("\\PC{0,8}", 0..6)) {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let parsed = run(&refs, &[]);
            if let (Ok(o), Some(first)) = (parsed, args.first())
                && !first.starts_with('-')
                && first != "check"
            {
                proptest::prop_assert_eq!(o.task, Task::Single(args.iter().map(OsString::from).collect()), "{}", first);
            }
        }
    }

    #[test]
    fn listen_addresses_and_status() {
        let table = [
            ("9090", "0.0.0.0:9090"),
            ("127.0.0.1:9090", "127.0.0.1:9090"),
            ("[::1]:9090", "[::1]:9090"),
            ("0", "0.0.0.0:0"),
        ];
        for (text, want) in table {
            assert_eq!(
                parse_listen(text).map(|a| a.to_string()),
                Ok(want.into()),
                "{text}"
            );
        }
        for bad in ["", "localhost:9090", "65536", "1.2.3.4", ":9090", "[::1]"] {
            assert!(parse_listen(bad).is_err(), "{bad}");
        }
        let o = run(&["--listen", "127.0.0.1:1"], &[("FORMATION_LISTEN", "2")]).expect("parses");
        assert_eq!(
            o.listen,
            parse_listen("127.0.0.1:1").ok(),
            "the flag beats the variable"
        );
        let o = run(&[], &[("FORMATION_LISTEN", "2")]).expect("parses");
        assert_eq!(o.listen, parse_listen("0.0.0.0:2").ok());
        assert!(run(&[], &[("FORMATION_LISTEN", "nope")]).is_err());
        let o = run(&["status", "--json"], &[]).expect("parses");
        assert_eq!((o.task, o.json), (Task::Status, true));
        assert!(run(&["--json"], &[]).is_err(), "--json only with status");
        assert!(run(&["status", "check"], &[]).is_err());
    }

    #[test]
    fn export_and_its_options() {
        let o = run(
            &[
                "export", "compose", "-c", "f.toml", "--image", "app:1", "-o", "out.yaml",
            ],
            &[],
        )
        .expect("parses");
        let want = Export {
            target: Some(crate::export::Target::Compose),
            image: Some("app:1".into()),
            entrypoint: "/formation".into(),
            output: Some("out.yaml".into()),
        };
        assert_eq!(o.task, Task::Export(want));
        assert_eq!(o.config, Some(ConfigFile::Toml("f.toml".into())));
        let o = run(
            &["-m", "web=2", "export", "fly", "--entrypoint=/bin/f"],
            &[],
        )
        .expect("fly");
        let Task::Export(e) = o.task else {
            panic!("not export: {:?}", o.task)
        };
        assert_eq!((e.image, e.entrypoint.as_str()), (None, "/bin/f"));
        assert_eq!(o.formation.as_deref(), Some("web=2"));
        for args in [
            &["export"][..],
            &["export", "nomad", "--image", "x"],
            &["export", "compose"],
            &["export", "kubernetes", "-c", "f.toml"],
            &["export", "fly", "--image", "x"],
            &["export", "fly", "-t", "3s"],
            &["export", "fly", "--", "true"],
            &["--image", "x"],
            &["check", "-o", "x"],
        ] {
            assert!(run(args, &[]).is_err(), "{args:?}");
        }
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
