//! A validated formation and the options → the instances to run.
//!
//! Owns: the precedence rules of SPEC §3.3 and §3.4 — scale (`-m` over `FORMATION` over the
//! config), grace (`-t` over `FORMATION_GRACE` over the config), the environment of each
//! instance, `PS` and foreman's `PORT` blocks — and `formation check`'s description. Pure:
//! the inherited environment and the env files' variables are passed in.

use crate::config::model::{Backoff, Restart};
use crate::config::model::{Formation, Place, Var};
use crate::config::rewrite::Rewrites;
use crate::config::users::Credentials;
use nix::sys::signal::Signal;
use std::ffi::OsString;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

/// The stop grace when nothing sets one.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);
/// foreman's first port when the environment sets no `PORT`.
const DEFAULT_BASE_PORT: u64 = 5000;

/// Where an instance's standard streams go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StdioMode {
    /// Single-command mode: stdin, stdout and stderr are ours. With `take_terminal`, stdin is
    /// a terminal and the child's group becomes its foreground group.
    Inherit { take_terminal: bool },
    /// Formation mode: stdin is /dev/null; stdout and stderr are pipes that we read.
    Piped,
    /// Formation mode with `tty = true`: stdin is /dev/null; stdout and stderr are one
    /// pseudo-terminal, which we read, and the instance is its session leader.
    Terminal,
    /// A check's command: stdin, stdout and stderr are /dev/null.
    Null,
}

/// One instance, ready to spawn.
#[derive(Debug)]
pub struct Instance {
    /// `web.1`.
    pub name: String,
    /// Its process type's position in the config (sets its colour).
    pub type_index: usize,
    /// What to exec (shared by the instances of a type).
    pub argv: Rc<[OsString]>,
    /// Its whole environment; None passes ours on (single-command mode).
    pub env: Option<env::Env>,
    /// Its working directory (shared by the instances of a type).
    pub cwd: Option<Rc<Path>>,
    /// Who it runs as. (Boxed, as are the checks: most instances have none of them, and an
    /// instance's size is paid 10,000 times.)
    pub user: Option<Box<Credentials>>,
    /// Its restart policy.
    pub restart: Restart,
    /// Its restart backoff and crash-loop figures.
    pub backoff: Backoff,
    /// Whether its end stops the formation.
    pub essential: bool,
    /// What a stop sends it.
    pub stop_signal: Signal,
    /// What is forwarded to it instead of each signal (its type's `signals`).
    pub signals: Rewrites,
    /// How long a stop waits before SIGKILL.
    pub grace: Duration,
    /// Inherited or piped stdio.
    pub stdio: StdioMode,
    /// A task: exit 0 completes it (SPEC §4.3).
    pub oneshot: bool,
    /// The types (by `type_index`) it starts after (SPEC §4.2).
    pub after: Vec<usize>,
    /// Its readiness check.
    pub ready: Option<Box<ReadyCheck>>,
    /// Its health check.
    pub health: Option<Box<HealthCheck>>,
    /// When it runs, for a scheduled type (shared by its instances).
    pub schedule: Option<Rc<Timetable>>,
}

pub mod blueprint;
pub mod checks;
mod describe;
pub mod env;
pub mod link;
pub mod order;
pub mod reload;
pub mod run;
pub mod search;
pub mod secrets;
mod warnings;

use checks::{HealthCheck, ReadyCheck, Timetable};
pub use describe::describe;
pub use warnings::{Host, warnings};

impl Instance {
    /// The one constructor: an instance named `name` that runs `argv` with the defaults of
    /// SPEC §3.2 (our environment and cwd, no restart, essential, SIGTERM); a process type's
    /// settings are laid over it with struct update syntax.
    pub fn new(
        name: String,
        argv: impl Into<Rc<[OsString]>>,
        grace: Duration,
        stdio: StdioMode,
    ) -> Instance {
        Instance {
            name,
            type_index: 0,
            argv: argv.into(),
            env: None,
            cwd: None,
            user: None,
            restart: Restart::Never,
            backoff: Backoff::default(),
            essential: true,
            stop_signal: Signal::SIGTERM,
            signals: Rewrites::default(),
            grace,
            stdio,
            oneshot: false,
            after: Vec::new(),
            ready: None,
            health: None,
            schedule: None,
        }
    }
}

/// Parses `-m`/`FORMATION`: `web=2,worker=1,all=0`.
pub fn parse_scale(spec: &str) -> Result<Vec<(String, u32)>, String> {
    spec.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (name, count) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?} is not of the form TYPE=N"))?;
            let count: u32 = count
                .trim()
                .parse()
                .ok()
                .filter(|n| *n <= crate::config::model::MAX_SCALE)
                .ok_or_else(|| format!("{part:?}: the scale must be a number from 0 to 10000"))?;
            Ok((name.trim().to_string(), count))
        })
        .collect()
}

/// The scale of each type, in config order, after `-m`/`FORMATION`.
pub fn scales(formation: &Formation, spec: Option<&str>) -> Result<Vec<u32>, String> {
    let overrides = match spec {
        Some(spec) => parse_scale(spec).map_err(|e| format!("formation spec: {e}"))?,
        None => Vec::new(),
    };
    for (name, _) in &overrides {
        if name != "all" && !formation.types.iter().any(|t| &t.name == name) {
            let known: Vec<&str> = formation.types.iter().map(|t| t.name.as_str()).collect();
            return Err(format!(
                "formation spec names {name:?}, which {} does not define (it has: {})",
                formation.path.display(),
                known.join(", ")
            ));
        }
    }
    let find = |name: &str| {
        overrides
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, c)| *c)
    };
    Ok(formation
        .types
        .iter()
        .map(|t| find(&t.name).or_else(|| find("all")).unwrap_or(t.scale))
        .collect())
}

/// Per type, in config order: whether `-m`/`FORMATION` set its scale through `all=N` rather
/// than by its name. A type scaled to 0 that way in an exported container
/// (`-m web=1,all=0`, SPEC §8) runs in a container of its own.
pub fn set_by_all(formation: &Formation, spec: Option<&str>) -> Vec<bool> {
    let named = spec.and_then(|s| parse_scale(s).ok()).unwrap_or_default();
    let all = named.iter().any(|(n, _)| n == "all");
    formation
        .types
        .iter()
        .map(|t| all && !named.iter().any(|(n, _)| *n == t.name))
        .collect()
}

/// The default grace: `-t`/`FORMATION_GRACE`, else the config's, else 5 s.
pub fn default_grace(option: Option<Duration>, formation: Option<&Formation>) -> Duration {
    option
        .or_else(|| formation.and_then(|f| f.grace))
        .unwrap_or(DEFAULT_GRACE)
}

/// Each type's index in the `PORT` blocks (SPEC §3.3): the type named `web` is 0 wherever
/// it stands in the file — the platform routes its `PORT` to `web` —, the others follow in
/// file order from 1. Without a `web`, the first server (a type that is neither a oneshot nor
/// scheduled) is 0, so that the platform's `PORT` reaches a process that listens, not an
/// `initdb` task listed before it; with only tasks, the first type is 0, as foreman numbers
/// them. Types scaled to 0 keep their index.
pub fn port_indexes(formation: &Formation) -> Vec<u64> {
    let types = &formation.types;
    let first = types
        .iter()
        .position(|t| t.name == "web")
        .or_else(|| {
            types
                .iter()
                .position(|t| !t.oneshot && t.schedule.is_none())
        })
        .unwrap_or(0);
    let mut next = 1;
    (0..types.len())
        .map(|t| {
            if t == first {
                0
            } else {
                next += 1;
                next - 1
            }
        })
        .collect()
}

/// Where the base `PORT` was set, for the errors that name it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum PortOrigin {
    /// Nothing set one: foreman's 5000.
    Default,
    /// Our own environment.
    Inherited,
    /// An env file line or an `[env]` key.
    Set(Place),
}

impl PortOrigin {
    /// `place: PORT "x"` or `formation: PORT "x" from the inherited environment`.
    fn name(&self, value: &str) -> String {
        match self {
            PortOrigin::Default => format!("formation: the default PORT {value}"),
            PortOrigin::Inherited => {
                format!("formation: PORT {value:?} from the inherited environment")
            }
            PortOrigin::Set(place) => format!("{place}: PORT {value:?}"),
        }
    }
}

/// A port number from 1 to 65535.
fn port_number(text: &str) -> Option<u64> {
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|p| (1..=65_535).contains(p))
}

/// Expands a formation into its instances. `inherited` is our own environment;
/// `file_vars` the env files' variables, later files last. Errors: a `PORT` that is not a
/// port number, or a computed one above 65535, each naming where the `PORT` came from.
pub fn instances(
    formation: &Formation,
    scales: &[u32],
    grace: Duration,
    inherited: &[(OsString, OsString)],
    file_vars: &[Var],
) -> Result<Vec<Instance>, Vec<String>> {
    let dir = crate::config::model::dir_of(&formation.path);
    // Env files, then our environment (deploy-time config beats a file baked into the
    // image); then, per instance, the user's HOME, [env] and the process's env (SPEC §3.3).
    let mut lower = env::Layers::default();
    file_vars.iter().for_each(|v| lower.var(v, dir));
    inherited
        .iter()
        .for_each(|(k, v)| lower.set(k.clone(), v.clone()));
    let mut origin = PortOrigin::Default;
    let mut base_text = DEFAULT_BASE_PORT.to_string();
    // The schema refuses `PORT` from a file: its value is needed here.
    let port_text = |v: &Var| Some(v.as_text()?.to_string());
    let sets_port = |v: &&Var| v.name == "PORT";
    if let Some(v) = file_vars.iter().rfind(sets_port) {
        (origin, base_text) = (
            PortOrigin::Set(v.place.clone()),
            port_text(v).unwrap_or_default(),
        );
    }
    if let Some((_, v)) = inherited.iter().rfind(|(k, _)| k == "PORT") {
        (origin, base_text) = (PortOrigin::Inherited, v.to_string_lossy().into_owned());
    }
    if let Some(v) = formation.env.iter().rfind(sets_port) {
        (origin, base_text) = (
            PortOrigin::Set(v.place.clone()),
            port_text(v).unwrap_or_default(),
        );
    }
    let base_port = port_number(&base_text);

    let mut errors = Vec::new();
    let (mut too_high, mut first_too_high) = (0, String::new());
    let mut out = Vec::new();
    let indexes = port_indexes(formation);
    for (index, (t, &scale)) in formation.types.iter().zip(scales).enumerate() {
        let own_port = t.env.iter().rfind(sets_port);
        // What every instance of the type shares; each adds its own PS and PORT.
        let mut shared = lower.clone();
        if let Some(user) = &t.user {
            shared.set("HOME".into(), user.home.clone().into());
        }
        formation.env.iter().for_each(|v| shared.var(v, dir));
        t.env.iter().for_each(|v| shared.var(v, dir));
        let shared = shared.build();
        let argv: Rc<[OsString]> = t.command.argv().into_iter().map(OsString::from).collect();
        let cwd: Rc<Path> = t.cwd.as_deref().unwrap_or(dir).into();
        let own_text = own_port.and_then(port_text);
        if let Some(v) = own_port.filter(|_| own_text.as_deref().and_then(port_number).is_none()) {
            errors.push(format!(
                "{}: PORT {:?} is not a port number from 1 to 65535",
                v.place,
                own_text.unwrap_or_default()
            ));
        }
        for n in 1..=scale {
            let name = format!("{}.{n}", t.name);
            let mut own: Vec<(OsString, OsString)> = vec![("PS".into(), name.clone().into())];
            if own_port.is_none() {
                match base_port {
                    None => {
                        let message = format!(
                            "{} is not a port number from 1 to 65535",
                            origin.name(&base_text)
                        );
                        if !errors.contains(&message) {
                            errors.push(message);
                        }
                    }
                    Some(base) => {
                        let port = base + 100 * indexes[index] + u64::from(n - 1);
                        if port > 65_535 {
                            if too_high == 0 {
                                // Named at the type that overflows: that is where to act.
                                let origin = origin.name(&base_text);
                                let origin = origin.strip_prefix("formation: ").unwrap_or(&origin);
                                first_too_high = format!(
                                    "{}: {origin} puts {name} at port {port}, above 65535",
                                    t.place
                                );
                            }
                            too_high += 1;
                        }
                        own.push(("PORT".into(), port.to_string().into()));
                    }
                }
            }
            out.push(Instance {
                type_index: index,
                env: Some(env::Env::of(shared.clone(), own)),
                cwd: Some(cwd.clone()),
                user: t.user.clone().map(Box::new),
                restart: t.restart,
                backoff: t.backoff,
                essential: t.essential,
                stop_signal: t.stop_signal,
                signals: t.signals,
                ..Instance::new(
                    name,
                    argv.clone(),
                    t.grace.unwrap_or(grace),
                    if t.tty {
                        StdioMode::Terminal
                    } else {
                        StdioMode::Piped
                    },
                )
            });
        }
    }
    // One line, not one per instance: 10,000 types would otherwise print 9,394 of them.
    match too_high {
        0 => {}
        1 => errors.push(first_too_high),
        n => errors.push(format!("{first_too_high} (and {} more)", n - 1)),
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests;
