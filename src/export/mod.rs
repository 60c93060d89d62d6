//! `formation export TARGET`: a validated [`Formation`] → deployment files for an
//! orchestrator (SPEC §8): a compose file, Kubernetes objects, or a fly.toml.
//!
//! Owns: the mapping table of SPEC §8, row by row, for each target; the writers of the two
//! text formats (`yaml.rs`, `toml_text.rs`); and the notes — whatever a target cannot express
//! becomes a comment in the file *and* a line for stderr, made by one call ([`Notes::add`]) so
//! that neither can be forgotten.
//!
//! Must not: read the host's environment, the clock or any file. Everything is passed in
//! through [`Input`] (`commands/export.rs` reads the config and settles the options), so the output is a
//! function of the input: same input, same bytes. Golden files pin it (`golden.rs`).
//!
//! The idea every target shares: one process type = one deployment (a compose service, a
//! Kubernetes Deployment, a Fly process group) whose replicas are the type's scale, each
//! container running the same image and config as `formation -m TYPE=1,all=0`. formation
//! inside the container still applies the type's own settings (env, cwd, user, stop signal,
//! restarts with backoff), so a row only has to carry what the orchestrator itself must know:
//! replicas, the environment it injects, the port it routes, its own restart and kill timing.
//!
//! The graph keys (SPEC §4.2–4.4) map onto what each orchestrator has for them: `ready` →
//! a check the orchestrator runs (`formation probe TYPE` from inside the container, or Fly's
//! own tcp/http checks); `after` → compose's `depends_on` (Kubernetes and Fly have no order
//! between deployments: a note); `oneshot` → a run-to-completion unit (a compose service that
//! is not restarted, a Kubernetes Job, Fly's `release_command`); `schedule` → the
//! orchestrator's cron where there is one (a Kubernetes CronJob), else one replica running
//! formation's own scheduler. A dependency scaled to 0 drops out of `after` in the container
//! (formation logs it), so the files leave it out too instead of waiting on what never runs.

mod compose;
mod fly;
mod kubernetes;
mod secrets;
mod toml_text;
mod yaml;

#[cfg(test)]
mod golden;

use crate::config::lifecycle::{CheckSpec, ReadySpec, ScheduleSpec};
use crate::config::model::{Formation, ProcessType, Restart};
use crate::plan;
use crate::time::cron::Schedule;
use std::path::Path;
use std::time::Duration;

/// The targets of SPEC §8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A compose file (compose spec): docker compose and `docker stack deploy`.
    Compose,
    /// Kubernetes objects (apps/v1 Deployments, a v1 Service).
    Kubernetes,
    /// A fly.toml.
    Fly,
}

impl Target {
    /// The target named on the command line.
    pub fn parse(name: &str) -> Option<Target> {
        match name {
            "compose" => Some(Target::Compose),
            "kubernetes" => Some(Target::Kubernetes),
            "fly" => Some(Target::Fly),
            _ => None,
        }
    }

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Target::Compose => "compose",
            Target::Kubernetes => "kubernetes",
            Target::Fly => "fly",
        }
    }

    /// Whether `--image` is required: Fly builds the image from the app's Dockerfile.
    pub fn needs_image(self) -> bool {
        !matches!(self, Target::Fly)
    }
}

/// Everything a target needs, settled by the caller.
pub struct Input<'a> {
    /// The validated config.
    pub formation: &'a Formation,
    /// The config's arguments in every container ([`config_in_image`]): empty when the
    /// image's discovery finds it.
    pub config_args: Vec<String>,
    /// The app's name (the config directory's name): Kubernetes names and labels, the
    /// Secret's name, fly's `app`.
    pub app: String,
    /// Each type's scale after `-m`, in config order.
    pub scales: Vec<u32>,
    /// The default grace (the config's, else 5 s): the grace of a type without its own.
    pub grace: Duration,
    /// The env files the containers need, as paths to write into the file.
    pub env_files: Vec<String>,
    /// `web.1`'s `PORT` as formation computes it in the container (SPEC §3.3); None
    /// without a `web` type.
    pub web_port: Option<u32>,
    /// Each type's first instance's `PORT`, in config order (what `$PORT` in its `ready`
    /// check means in its container).
    pub ports: Vec<Option<u32>>,
    /// `--image`.
    pub image: Option<String>,
    /// `--entrypoint`: the path of formation in the image.
    pub entrypoint: String,
}

impl<'a> Input<'a> {
    /// Settles what the config and `-m` say: each type's scale (SPEC §3.4), the default
    /// grace (the config's: `-t` and `FORMATION_GRACE` on the machine that exports do not
    /// reach the containers), and `web.1`'s `PORT` as the plan computes it with nothing
    /// inherited (an orchestrator sets no `PORT`).
    pub fn new(
        formation: &'a Formation,
        scale_spec: Option<&str>,
        config_args: Vec<String>,
        app: String,
        env_files: Vec<String>,
        image: Option<String>,
        entrypoint: String,
    ) -> Result<Input<'a>, String> {
        let scales = plan::scales(formation, scale_spec)?;
        let grace = plan::default_grace(None, Some(formation));
        let only_web: Vec<u32> = formation
            .types
            .iter()
            .map(|t| u32::from(t.name == "web"))
            .collect();
        let port_of = |i: &plan::Instance| -> Option<u32> {
            let port = i.env.as_ref()?.get("PORT")?;
            port.to_str()?.parse().ok()
        };
        let web_port = plan::instances(formation, &only_web, grace, &[], &[])
            .ok()
            .and_then(|all| all.into_iter().next())
            .and_then(|web| port_of(&web));
        // A type's PORT depends on its index, not on the others' scales: one of each.
        let ones = vec![1; formation.types.len()];
        let all = plan::instances(formation, &ones, grace, &[], &[]).unwrap_or_default();
        let ports = (0..formation.types.len())
            .map(|t| all.iter().find(|i| i.type_index == t).and_then(port_of))
            .collect();
        Ok(Input {
            formation,
            config_args,
            app,
            scales,
            grace,
            env_files,
            web_port,
            ports,
            image,
            entrypoint,
        })
    }
}

/// The written file and the lines for stderr.
#[derive(Debug, PartialEq, Eq)]
pub struct Output {
    /// The file's text.
    pub text: String,
    /// One line per thing the target cannot express (each is a comment in `text` too).
    pub notes: Vec<String>,
}

/// Writes `input` for `target`. Err: the formation cannot be written for this target at all
/// (a usage error).
pub fn render(target: Target, input: &Input) -> Result<Output, String> {
    let mut notes = Notes::default();
    let text = match target {
        Target::Compose => compose::render(input, &mut notes),
        Target::Kubernetes => kubernetes::render(input, &mut notes)?,
        Target::Fly => fly::render(input, &mut notes),
    };
    Ok(Output {
        text,
        notes: notes.lines,
    })
}

/// What a target cannot express, collected for stderr.
#[derive(Default)]
pub struct Notes {
    lines: Vec<String>,
}

impl Notes {
    /// Records `text` about `scope` (a type name, or the app) for stderr and returns the
    /// comment to write into the file.
    pub fn add(&mut self, scope: &str, text: String) -> String {
        self.lines.push(format!("{scope}: {text}"));
        text
    }
}

/// One process type as every target sees it.
pub struct Unit<'a> {
    /// The type.
    pub t: &'a ProcessType,
    /// Its replicas.
    pub scale: u32,
    /// Its stop grace.
    pub grace: Duration,
    /// Its first instance's `PORT`.
    pub port: Option<u32>,
}

/// How a dependent waits for a type it is `after` (SPEC §4.2), in compose's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    /// A oneshot: it exited 0.
    Completed,
    /// A service with a check the orchestrator can run: the check passed.
    Healthy,
    /// A service without one (or with a `log`/`notify` check): it started.
    Started,
}

/// One entry of a type's `after`, as the files see it.
pub struct Dependency<'a> {
    /// The type waited for.
    pub name: &'a str,
    /// What is waited for.
    pub condition: Condition,
    /// It is scaled to 0: formation in the container drops it (SPEC §4.2), and so do the
    /// files.
    pub dropped: bool,
}

impl Unit<'_> {
    /// The container's arguments after the entrypoint: the config, then `-m TYPE=1,all=0`;
    /// for a scheduled type `-m TYPE=SCALE,all=0` in one container, since its scale is the
    /// number of instances each fire starts (SPEC §4.4).
    pub fn args(&self, input: &Input) -> Vec<String> {
        let mut args = input.config_args.clone();
        args.push("-m".into());
        let n = if self.t.schedule.is_some() {
            self.scale
        } else {
            1
        };
        args.push(format!("{}={n},all=0", self.t.name));
        args
    }

    /// `formation run TYPE` with the config: one run to completion, its exit status the
    /// container's (a Job's, a CronJob's, Fly's release command's).
    pub fn run_args(&self, input: &Input) -> Vec<String> {
        let mut args = input.config_args.clone();
        args.push("run".into());
        args.push(self.t.name.clone());
        args
    }

    /// `formation probe TYPE` with the config: the type's `ready` check, once.
    pub fn probe_args(&self, input: &Input) -> Vec<String> {
        let mut args = input.config_args.clone();
        args.push("probe".into());
        args.push(self.t.name.clone());
        args
    }

    /// Its `ready` check when it can be made from outside formation (tcp, http, exec):
    /// `log` and `notify` watch the instance from inside formation only.
    pub fn probe(&self) -> Option<&ReadySpec> {
        self.t
            .ready
            .as_ref()
            .filter(|r| !matches!(r.check, CheckSpec::Log(_) | CheckSpec::Notify))
    }

    /// The note for a `log`/`notify` check, which no orchestrator can run.
    pub fn unprobeable_note(&self) -> Option<String> {
        let kind = match self.t.ready.as_ref()?.check {
            CheckSpec::Log(_) => "log",
            CheckSpec::Notify => "notify",
            _ => return None,
        };
        Some(format!(
            "ready = {{ {kind} = ... }} cannot be checked from outside formation: the \
             orchestrator sees it as ready once started (inside, formation still waits for it)"
        ))
    }

    /// Its `after`, in config order, with what each entry waits for.
    pub fn dependencies<'a>(&'a self, units: &'a [Unit<'a>]) -> Vec<Dependency<'a>> {
        self.t
            .after
            .iter()
            .filter_map(|(name, _)| units.iter().find(|u| u.t.name == *name))
            .map(|dep| Dependency {
                name: &dep.t.name,
                condition: if dep.t.oneshot {
                    Condition::Completed
                } else if dep.probe().is_some() {
                    Condition::Healthy
                } else {
                    Condition::Started
                },
                dropped: dep.scale == 0,
            })
            .collect()
    }

    /// The note for `after` where a target has no order between deployments; `done`: a
    /// type the target does run first (Fly's release command).
    pub fn after_note(&self, units: &[Unit], done: Option<&str>) -> Option<String> {
        let names: Vec<&str> = self
            .dependencies(units)
            .iter()
            .filter(|d| !d.dropped && Some(d.name) != done)
            .map(|d| d.name)
            .collect();
        (!names.is_empty()).then(|| {
            format!(
                "after = {names:?} cannot be expressed: the containers start in any order \
                 (inside each, formation -m {}=1,all=0 runs none of them to wait for)",
                self.t.name
            )
        })
    }

    /// Whether this is the type the platform routes `PORT` to.
    pub fn is_web(&self) -> bool {
        self.t.name == "web"
    }

    /// The environment the orchestrator injects: `[env]` without the keys the type's `env`
    /// sets, then the type's `env`; values from files are not in it. formation in the container sets the same from the
    /// config; the orchestrator's copy makes them visible there.
    pub fn env<'b>(&'b self, input: &'b Input) -> Vec<(&'b str, &'b str)> {
        let own = &self.t.env;
        let mut env = Vec::new();
        // A value from a file is not copied: the file is mounted (`secrets.rs`) and
        // formation in the container reads it.
        for v in &input.formation.env {
            if let Some(text) = v.as_text()
                && !own.iter().any(|o| o.name == v.name)
            {
                env.push((v.name.as_str(), text));
            }
        }
        for v in own {
            if let Some(text) = v.as_text() {
                env.push((v.name.as_str(), text));
            }
        }
        env
    }

    /// The grace the orchestrator waits before its own SIGKILL: formation's grace plus 1 s
    /// (SPEC §8), in whole seconds, rounded up, so that formation's own SIGKILL comes first.
    pub fn kill_after_secs(&self) -> u64 {
        self.grace.as_millis().div_ceil(1000) as u64 + 1
    }
}

/// The types in config order, with their scale and grace.
pub fn units<'a>(input: &'a Input) -> Vec<Unit<'a>> {
    input
        .formation
        .types
        .iter()
        .zip(&input.scales)
        .enumerate()
        .map(|(i, (t, &scale))| Unit {
            t,
            scale,
            grace: t.grace.unwrap_or(input.grace),
            port: input.ports.get(i).copied().flatten(),
        })
        .collect()
}

/// Whole seconds, at least 1: the orchestrators' probe periods and timeouts.
pub fn secs_at_least_1(d: Duration) -> u64 {
    d.as_millis().div_ceil(1000).max(1) as u64
}

/// A `schedule` as Kubernetes' CronJob reads it (robfig/cron's standard parser: five fields
/// with names, the `@hourly` family, Vixie cron's day rule, as formation's): the text as
/// written, but `@every D` in whole seconds. None is never returned today; the caller keeps a
/// fallback for a schedule a target could not read.
pub fn cron_text(spec: &ScheduleSpec) -> Option<String> {
    match &spec.schedule {
        Schedule::Every(secs) => Some(format!("@every {secs}s")),
        Schedule::Cron(_) => Some(spec.text.clone()),
    }
}

/// The config's arguments in every container (SPEC §8), never a path of the machine that runs
/// `export`: `--config-in-image PATH` when given (`-c PATH`, or `-f PATH` for a Procfile);
/// else none when the file is named `formation.toml` or `Procfile`, which discovery finds in
/// the image's working directory; else its file name (`-c prod.toml`), in that directory.
pub fn config_in_image(path: &Path, procfile: bool, in_image: Option<&str>) -> Vec<String> {
    let flag = if procfile { "-f" } else { "-c" };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    match (in_image, name.as_deref()) {
        (Some(given), _) => vec![flag.into(), given.into()],
        (None, Some("formation.toml" | "Procfile") | None) => Vec::new(),
        (None, Some(name)) => vec![flag.into(), name.into()],
    }
}

/// The config's name for the header of each file.
pub fn source(input: &Input) -> String {
    input.formation.path.display().to_string()
}

/// `restart`'s word in formation.toml.
pub fn restart_word(restart: Restart) -> &'static str {
    match restart {
        Restart::Never => "never",
        Restart::OnFailure => "on-failure",
        Restart::Always => "always",
    }
}

/// The app's name from the config directory's name: a DNS label (lower case letters, digits
/// and `-`, starting with a letter, at most 40 characters so that `APP-TYPE` and `APP-env`
/// still fit Kubernetes' 63), or `app` when nothing is left.
pub fn app_name(dir_name: &str) -> String {
    let label = dns_label(dir_name);
    let label = label.trim_start_matches(|c: char| c.is_ascii_digit() || c == '-');
    let mut label: String = label.chars().take(40).collect();
    while label.ends_with('-') {
        label.pop();
    }
    if label.is_empty() {
        "app".into()
    } else {
        label
    }
}

/// Lower case, `[a-z0-9-]` only (others become `-`), no `-` at either end.
pub fn dns_label(text: &str) -> String {
    let mapped: String = text
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect();
    mapped.trim_matches('-').to_string()
}

/// A word for a command line that a shell-words splitter (Fly's) reads back as itself.
pub fn shell_word(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-=,./:@%+".contains(&b));
    if safe {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_names() {
        for (dir, want) in [
            ("examples", "examples"),
            ("My_App", "my-app"),
            ("2048-game", "game"),
            ("", "app"),
            ("---", "app"),
            ("ünïcode", "n-code"),
        ] {
            assert_eq!(app_name(dir), want, "{dir:?}");
        }
        assert_eq!(app_name(&"x".repeat(99)).len(), 40);
    }

    #[test]
    fn shell_words() {
        assert_eq!(shell_word("web=1,all=0"), "web=1,all=0");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word(""), "''");
    }

    #[test]
    fn cron_text_is_the_schedule_as_written() {
        for (text, want) in [
            ("*/15 * * * *", "*/15 * * * *"),
            ("0 0 * * mon-fri", "0 0 * * mon-fri"),
            ("@daily", "@daily"),
            ("@every 10m", "@every 600s"),
        ] {
            let spec = ScheduleSpec {
                schedule: Schedule::parse(text).expect("parses"),
                text: text.into(),
                timezone: None,
                zone: crate::time::tz::Zone::utc(),
            };
            assert_eq!(cron_text(&spec).as_deref(), Some(want), "{text:?}");
        }
    }

    #[test]
    fn the_config_is_named_as_the_image_finds_it() {
        let table: [(&str, bool, Option<&str>, &[&str]); 6] = [
            ("/home/me/app/formation.toml", false, None, &[]),
            ("Procfile", true, None, &[]),
            ("deploy/prod.toml", false, None, &["-c", "prod.toml"]),
            (
                "/home/me/app/Procfile.dev",
                true,
                None,
                &["-f", "Procfile.dev"],
            ),
            (
                "formation.toml",
                false,
                Some("/app/formation.toml"),
                &["-c", "/app/formation.toml"],
            ),
            (
                "x/Procfile",
                true,
                Some("conf/Procfile"),
                &["-f", "conf/Procfile"],
            ),
        ];
        for (path, procfile, given, want) in table {
            assert_eq!(
                config_in_image(Path::new(path), procfile, given),
                want,
                "{path}"
            );
        }
    }

    #[test]
    fn targets() {
        for t in [Target::Compose, Target::Kubernetes, Target::Fly] {
            assert_eq!(Target::parse(t.name()), Some(t));
        }
        assert_eq!(Target::parse("nomad"), None);
        assert!(!Target::Fly.needs_image() && Target::Compose.needs_image());
    }
}
