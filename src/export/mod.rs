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
mod unit;
mod yaml;

pub use unit::{Condition, Unit, units};

#[cfg(test)]
mod golden;

use crate::config::model::ScheduleSpec;
use crate::config::model::{Formation, Restart};
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
mod tests;
