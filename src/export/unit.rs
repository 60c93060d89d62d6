//! One process type as every target sees it: its replicas, grace and port, the container's
//! arguments, its dependencies in compose's words and its kill timing, computed once for all
//! three targets (the rows of SPEC §8 that they share).

use super::Input;
use crate::config::model::{CheckSpec, ProcessType, ReadySpec};
use std::time::Duration;

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
