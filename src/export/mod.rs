//! `formation export TARGET`: a validated [`Formation`] → deployment files for an
//! orchestrator (SPEC §8): a compose file, Kubernetes objects, or a fly.toml.
//!
//! Owns: the mapping table of SPEC §8, row by row, for each target; the writers of the two
//! text formats (`yaml.rs`, `toml_text.rs`); and the notes — whatever a target cannot express
//! becomes a comment in the file *and* a line for stderr, made by one call ([`Notes::add`]) so
//! that neither can be forgotten.
//!
//! Must not: read the host's environment, the clock or any file. Everything is passed in
//! through [`Input`] (main.rs reads the config and settles the options), so the output is a
//! function of the input: same input, same bytes. Golden files pin it (`golden.rs`).
//!
//! The idea every target shares: one process type = one deployment (a compose service, a
//! Kubernetes Deployment, a Fly process group) whose replicas are the type's scale, each
//! container running the same image and config as `formation -m TYPE=1,all=0`. formation
//! inside the container still applies the type's own settings (env, cwd, user, stop signal,
//! restarts with backoff), so a row only has to carry what the orchestrator itself must know:
//! replicas, the environment it injects, the port it routes, its own restart and kill timing.
//!
//! Rows still to come, one function each per target, when the config model has the keys
//! (SPEC §4.2–4.4): `ready` (compose `healthcheck` running `formation probe TYPE`; Kubernetes
//! `startupProbe`/`readinessProbe`; fly `[checks]`), `after` (compose `depends_on`; a comment
//! for Kubernetes and fly), `oneshot` (compose `restart: "no"` and
//! `service_completed_successfully`; a Kubernetes Job; fly `release_command` for the Procfile's
//! `release`) and `schedule` (a compose service and a fly process group of one replica running
//! the scheduler; a Kubernetes CronJob). Each target's `deployment` function lists its rows in
//! table order; a new row is a new function called from there.

mod compose;
mod fly;
mod kubernetes;
mod toml_text;
mod yaml;

#[cfg(test)]
mod golden;

use crate::config::model::{Formation, ProcessType, Restart};
use crate::plan;
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
    /// The config as given to export (`-c FILE`/`-f FILE`), passed on to every container so
    /// that it runs the same file; empty when it was found by discovery.
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
        let web_port = plan::instances(formation, &only_web, grace, &[], &[])
            .ok()
            .and_then(|all| all.into_iter().next())
            .and_then(|web| {
                let (_, port) = web.env.iter().flatten().find(|(k, _)| k == "PORT")?;
                port.to_str()?.parse().ok()
            });
        Ok(Input {
            formation,
            config_args,
            app,
            scales,
            grace,
            env_files,
            web_port,
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
        Target::Compose => compose::render(input),
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
}

impl Unit<'_> {
    /// The container's arguments after the entrypoint: the config, then `-m TYPE=1,all=0`.
    pub fn args(&self, input: &Input) -> Vec<String> {
        let mut args = input.config_args.clone();
        args.push("-m".into());
        args.push(format!("{}=1,all=0", self.t.name));
        args
    }

    /// Whether this is the type the platform routes `PORT` to.
    pub fn is_web(&self) -> bool {
        self.t.name == "web"
    }

    /// The environment the orchestrator injects: `[env]` without the keys the type's `env`
    /// sets, then the type's `env`. formation in the container sets the same from the
    /// config; the orchestrator's copy makes them visible there.
    pub fn env<'b>(&'b self, input: &'b Input) -> Vec<(&'b str, &'b str)> {
        let own = &self.t.env;
        let mut env = Vec::new();
        for v in &input.formation.env {
            if !own.iter().any(|o| o.name == v.name) {
                env.push((v.name.as_str(), v.value.as_str()));
            }
        }
        for v in own {
            env.push((v.name.as_str(), v.value.as_str()));
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
        .map(|(t, &scale)| Unit {
            t,
            scale,
            grace: t.grace.unwrap_or(input.grace),
        })
        .collect()
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
    fn targets() {
        for t in [Target::Compose, Target::Kubernetes, Target::Fly] {
            assert_eq!(Target::parse(t.name()), Some(t));
        }
        assert_eq!(Target::parse("nomad"), None);
        assert!(!Target::Fly.needs_image() && Target::Compose.needs_image());
    }
}
