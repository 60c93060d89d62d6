//! A validated formation and the options → the instances to run.
//!
//! Owns: the precedence rules of SPEC §3.3 and §3.4 — scale (`-m` over `FORMATION` over the
//! config), grace (`-t` over `FORMATION_GRACE` over the config), the environment of each
//! instance, `PS` and foreman's `PORT` blocks — and `formation check`'s description. Pure:
//! the inherited environment and the env files' variables are passed in.

use crate::config::model::{Backoff, CommandLine, Restart, SHELL};
use crate::config::model::{Formation, Place, ProcessType, Var};
use crate::config::rewrite::Rewrites;
use crate::config::users::Credentials;
use nix::sys::signal::Signal;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
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
    /// What to exec.
    pub argv: Vec<OsString>,
    /// Its whole environment; None passes ours on (single-command mode).
    pub env: Option<Vec<(OsString, OsString)>>,
    /// Its working directory.
    pub cwd: Option<PathBuf>,
    /// Who it runs as.
    pub user: Option<Credentials>,
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
    pub ready: Option<ReadyCheck>,
    /// Its health check.
    pub health: Option<HealthCheck>,
    /// When it runs, for a scheduled type (shared by its instances).
    pub schedule: Option<std::rc::Rc<Timetable>>,
}

pub mod checks;
pub mod graph;
pub mod order;
pub mod run;

use checks::{HealthCheck, ReadyCheck, Timetable};

impl Instance {
    /// The one constructor: an instance named `name` that runs `argv` with the defaults of
    /// SPEC §3.2 (our environment and cwd, no restart, essential, SIGTERM); a process type's
    /// settings are laid over it with struct update syntax.
    pub fn new(name: String, argv: Vec<OsString>, grace: Duration, stdio: StdioMode) -> Instance {
        Instance {
            name,
            type_index: 0,
            argv,
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

/// The default grace: `-t`/`FORMATION_GRACE`, else the config's, else 5 s.
pub fn default_grace(option: Option<Duration>, formation: Option<&Formation>) -> Duration {
    option
        .or_else(|| formation.and_then(|f| f.grace))
        .unwrap_or(DEFAULT_GRACE)
}

/// Each type's index in the `PORT` blocks (SPEC §3.3): the type named `web` is 0 wherever
/// it stands in the file — the platform routes its `PORT` to `web` —, the others follow in
/// file order from 1. Without a `web`, the first type is 0, as foreman numbers them, so that
/// the platform's `PORT` still reaches a process. Types scaled to 0 keep their index.
pub fn port_indexes(formation: &Formation) -> Vec<u64> {
    let has_web = formation.types.iter().any(|t| t.name == "web");
    let mut next = u64::from(has_web);
    formation
        .types
        .iter()
        .map(|t| {
            if t.name == "web" {
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
    let var = |v: &Var| (OsString::from(&v.name), OsString::from(&v.value));
    // Env files, then our environment (deploy-time config beats a file baked into the
    // image); then, per instance, the user's HOME, [env] and the process's env (SPEC §3.3).
    let mut lower: BTreeMap<OsString, OsString> = file_vars.iter().map(var).collect();
    lower.extend(inherited.iter().cloned());
    let mut origin = PortOrigin::Default;
    let mut base_text = DEFAULT_BASE_PORT.to_string();
    let sets_port = |v: &&Var| v.name == "PORT";
    if let Some(v) = file_vars.iter().rfind(sets_port) {
        (origin, base_text) = (PortOrigin::Set(v.place.clone()), v.value.clone());
    }
    if let Some((_, v)) = inherited.iter().rfind(|(k, _)| k == "PORT") {
        (origin, base_text) = (PortOrigin::Inherited, v.to_string_lossy().into_owned());
    }
    if let Some(v) = formation.env.iter().rfind(sets_port) {
        (origin, base_text) = (PortOrigin::Set(v.place.clone()), v.value.clone());
    }
    let base_port = port_number(&base_text);

    let mut errors = Vec::new();
    let (mut too_high, mut first_too_high) = (0, String::new());
    let mut out = Vec::new();
    let indexes = port_indexes(formation);
    for (index, (t, &scale)) in formation.types.iter().zip(scales).enumerate() {
        let own_port = t.env.iter().rfind(sets_port);
        if let Some(v) = own_port.filter(|v| port_number(&v.value).is_none()) {
            errors.push(format!(
                "{}: PORT {:?} is not a port number from 1 to 65535",
                v.place, v.value
            ));
        }
        for n in 1..=scale {
            let name = format!("{}.{n}", t.name);
            let mut env = lower.clone();
            if let Some(user) = &t.user {
                env.insert("HOME".into(), user.home.clone().into());
            }
            env.extend(formation.env.iter().map(var));
            env.extend(t.env.iter().map(var));
            env.insert("PS".into(), name.clone().into());
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
                        env.insert("PORT".into(), port.to_string().into());
                    }
                }
            }
            let argv = t.command.argv().into_iter().map(OsString::from).collect();
            out.push(Instance {
                type_index: index,
                env: Some(env.into_iter().collect()),
                cwd: Some(t.cwd.clone().unwrap_or_else(|| dir.to_path_buf())),
                user: t.user.clone(),
                restart: t.restart,
                backoff: t.backoff,
                essential: t.essential,
                stop_signal: t.stop_signal,
                signals: t.signals,
                ..Instance::new(name, argv, t.grace.unwrap_or(grace), StdioMode::Piped)
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

/// What `check` warns about without failing: things that make a spawn fail (126/127) in
/// this file system, which may not be the one the config is meant for (a config checked on
/// a developer's machine for an image's `/app`). `is_dir` and `is_file` ask the file system.
pub fn warnings(
    formation: &Formation,
    scales: &[u32],
    instances: &[Instance],
    is_dir: &dyn Fn(&Path) -> bool,
    is_file: &dyn Fn(&Path) -> bool,
) -> Vec<String> {
    let mut out = Vec::new();
    let groups = by_type(formation.types.len(), instances);
    for ((t, &scale), mine) in formation.types.iter().zip(scales).zip(groups) {
        if scale == 0 {
            continue;
        }
        let cwd = mine.first().and_then(|i| i.cwd.as_deref());
        if let Some(cwd) = cwd.filter(|cwd| !is_dir(cwd)) {
            out.push(format!(
                "{}: warning: {}: cwd {} is not a directory here",
                t.place,
                t.name,
                cwd.display()
            ));
        }
        if matches!(t.command, CommandLine::Shell(_)) && !is_file(Path::new(SHELL)) {
            out.push(format!(
                "{}: warning: {}: the command needs {SHELL}, which is not here (use an array command to run without a shell)",
                t.place, t.name
            ));
        }
    }
    out
}

/// The instances of each type, by type index: [`instances`] makes them type by type, so
/// each type's are one run (none for a type scaled to 0). Linear, for 10,000 types.
fn by_type(types: usize, instances: &[Instance]) -> Vec<&[Instance]> {
    let mut groups: Vec<&[Instance]> = vec![&[]; types];
    for run in instances.chunk_by(|a, b| a.type_index == b.type_index) {
        if let Some(slot) = groups.get_mut(run[0].type_index) {
            *slot = run;
        }
    }
    groups
}

/// `formation check`'s description of the plan: types, scale, commands, ports and the keys
/// (never the values) of the environment each instance gets beyond our own.
pub fn describe(
    formation: &Formation,
    scales: &[u32],
    instances: &[Instance],
    inherited: &[(OsString, OsString)],
) -> String {
    let mut out = String::new();
    let total: u32 = scales.iter().sum();
    let _ = writeln!(
        out,
        "{}: {} process types, {total} instances",
        formation.path.display(),
        formation.types.len()
    );
    let groups = by_type(formation.types.len(), instances);
    for ((t, scale), mine) in formation.types.iter().zip(scales).zip(groups) {
        let _ = writeln!(out, "\n{} (scale {scale}): {}", t.name, t.command);
        let _ = writeln!(out, "  {}", policies(t, mine.first()));
        for i in mine {
            let port = i
                .env
                .iter()
                .flatten()
                .find(|(k, _)| k == "PORT")
                .map(|(_, v)| v.to_string_lossy());
            let _ = writeln!(out, "  {:<12} PORT={}", i.name, port.unwrap_or_default());
        }
        if let Some(first) = mine.first() {
            let keys: Vec<String> = first
                .env
                .iter()
                .flatten()
                .filter(|(k, v)| !inherited.iter().any(|(ik, iv)| ik == k && iv == v))
                .map(|(k, _)| k.to_string_lossy().into_owned())
                .collect();
            let _ = writeln!(out, "  env keys: {}", keys.join(" "));
        }
    }
    out
}

fn policies(t: &ProcessType, instance: Option<&Instance>) -> String {
    let restart = match t.restart {
        Restart::Never => "never",
        Restart::OnFailure => "on-failure",
        Restart::Always => "always",
    };
    let mut text = format!(
        "restart={restart} essential={} stop_signal={}",
        t.essential,
        t.stop_signal.as_str()
    );
    if let Some(i) = instance {
        let _ = write!(text, " grace={}", crate::config::units::Human(i.grace));
        if let Some(cwd) = &i.cwd {
            let _ = write!(text, " cwd={}", cwd.display());
        }
    }
    if let Some(u) = &t.user {
        let _ = write!(text, " user={}:{}", u.uid, u.gid);
    }
    if !t.signals.is_identity() {
        let _ = write!(text, " signals={}", t.signals);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::CommandLine;

    fn formation(types: &[(&str, u32)]) -> Formation {
        Formation {
            path: "/app/formation.toml".into(),
            grace: Some(Duration::from_secs(10)),
            env_files: None,
            env: vec![var("FROM_CONFIG", "config", 1), var("SHARED", "config", 2)],
            types: types
                .iter()
                .enumerate()
                .map(|(line, (name, scale))| {
                    let place = at("/app/formation.toml", line + 10);
                    let mut t =
                        ProcessType::new(name.to_string(), place, CommandLine::from_text("run"));
                    t.scale = *scale;
                    t
                })
                .collect(),
        }
    }

    #[test]
    fn a_types_signals_reach_its_instances_and_check() {
        let mut f = formation(&[("web", 2), ("worker", 1)]);
        f.types[0]
            .signals
            .set(Signal::SIGHUP, Some(Signal::SIGUSR1));
        f.types[0].signals.set(Signal::SIGWINCH, None);
        let all = instances(&f, &[2, 1], Duration::from_secs(5), &[], &[]).expect("plan");
        let hup = |i: &Instance| i.signals.apply(Signal::SIGHUP);
        let got: Vec<_> = all.iter().map(hup).collect();
        assert_eq!(
            got,
            [
                Some(Signal::SIGUSR1),
                Some(Signal::SIGUSR1),
                Some(Signal::SIGHUP)
            ]
        );
        assert!(policies(&f.types[0], None).ends_with(" signals=HUP:USR1,WINCH:0"));
        assert!(!policies(&f.types[1], None).contains("signals="));
    }

    fn at(file: &str, line: usize) -> Place {
        Place {
            file: file.into(),
            line,
            col: 1,
        }
    }

    fn var(name: &str, value: &str, line: usize) -> Var {
        Var {
            name: name.into(),
            value: value.into(),
            place: at("/app/formation.toml", line),
        }
    }

    fn env_of(i: &Instance, key: &str) -> Option<String> {
        i.env
            .iter()
            .flatten()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.to_string_lossy().into())
    }

    #[test]
    fn scale_precedence() {
        let f = formation(&[("web", 2), ("worker", 1), ("clock", 1)]);
        assert_eq!(scales(&f, None), Ok(vec![2, 1, 1]));
        assert_eq!(scales(&f, Some("web=3")), Ok(vec![3, 1, 1]));
        assert_eq!(scales(&f, Some("web=1,all=0")), Ok(vec![1, 0, 0]));
        assert_eq!(scales(&f, Some("all=4, clock=0")), Ok(vec![4, 4, 0]));
        assert!(
            scales(&f, Some("db=1"))
                .expect_err("unknown")
                .contains("\"db\"")
        );
        for bad in ["web", "web=x", "web=10001", "web=-1"] {
            assert!(scales(&f, Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn grace_precedence() {
        let f = formation(&[("web", 1)]);
        let s = Duration::from_secs;
        assert_eq!(default_grace(Some(s(1)), Some(&f)), s(1));
        assert_eq!(default_grace(None, Some(&f)), s(10));
        assert_eq!(default_grace(None, None), DEFAULT_GRACE);
    }

    fn ok(
        f: &Formation,
        scales: &[u32],
        inherited: &[(&str, &str)],
        files: &[Var],
    ) -> Vec<Instance> {
        let inherited: Vec<(OsString, OsString)> = inherited
            .iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        instances(f, scales, DEFAULT_GRACE, &inherited, files).expect("valid")
    }

    #[test]
    fn ports_and_ps_follow_foreman() {
        let f = formation(&[("web", 2), ("worker", 1)]);
        let all = ok(&f, &[2, 1], &[], &[]);
        let got: Vec<(String, Option<String>, Option<String>)> = all
            .iter()
            .map(|i| (i.name.clone(), env_of(i, "PS"), env_of(i, "PORT")))
            .collect();
        let want = [("web.1", "5000"), ("web.2", "5001"), ("worker.1", "5100")];
        assert_eq!(got.len(), want.len());
        for ((name, ps, port), (wname, wport)) in got.iter().zip(want) {
            assert_eq!(
                (name.as_str(), ps.as_deref(), port.as_deref()),
                (wname, Some(wname), Some(wport))
            );
        }
        assert_eq!(all[0].cwd, Some(PathBuf::from("/app")));
    }

    #[test]
    fn base_port_from_the_environment() {
        let f = formation(&[("a", 1), ("b", 2)]);
        let all = ok(&f, &[1, 2], &[("PORT", "3000")], &[]);
        let ports: Vec<Option<String>> = all.iter().map(|i| env_of(i, "PORT")).collect();
        assert_eq!(
            ports,
            [
                Some("3000".into()),
                Some("3100".into()),
                Some("3101".into())
            ]
        );
    }

    /// SPEC §3.3: `web` is block 0 wherever it stands; the others count from 1 in file order;
    /// a type scaled to 0 keeps its block; without `web` the first type is block 0.
    #[test]
    fn web_gets_the_first_port_block_wherever_it_stands() {
        type Case<'a> = (&'a [(&'a str, u32)], &'a [(&'a str, &'a str)]);
        let table: [Case; 4] = [
            (
                &[("worker", 1), ("clock", 1), ("web", 1)],
                &[("worker.1", "5100"), ("clock.1", "5200"), ("web.1", "5000")],
            ),
            (
                &[("worker", 0), ("web", 1), ("clock", 1)],
                &[("web.1", "5000"), ("clock.1", "5200")],
            ),
            (
                &[("a", 1), ("b", 2)],
                &[("a.1", "5000"), ("b.1", "5100"), ("b.2", "5101")],
            ),
            (&[("web", 0), ("a", 1)], &[("a.1", "5100")]),
        ];
        for (types, want) in table {
            let f = formation(types);
            let scales: Vec<u32> = types.iter().map(|(_, n)| *n).collect();
            let got: Vec<(String, String)> = ok(&f, &scales, &[], &[])
                .iter()
                .map(|i| (i.name.clone(), env_of(i, "PORT").unwrap_or_default()))
                .collect();
            let want: Vec<(String, String)> = want
                .iter()
                .map(|(n, p)| (n.to_string(), p.to_string()))
                .collect();
            assert_eq!(got, want, "{types:?}");
        }
        let f = formation(&[("worker", 1), ("web", 1)]);
        let types: Vec<usize> = ok(&f, &[1, 1], &[], &[])
            .iter()
            .map(|i| i.type_index)
            .collect();
        assert_eq!(types, [0, 1], "the colour index stays the file order");
    }

    #[test]
    fn a_bad_port_is_an_error_naming_where_it_came_from() {
        let file_port = |v: &str| Var {
            name: "PORT".into(),
            value: v.into(),
            place: at(".env", 3),
        };
        let err = |f: &Formation, scales: &[u32], inherited: &[(&str, &str)], files: &[Var]| {
            let inherited: Vec<(OsString, OsString)> = inherited
                .iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect();
            instances(f, scales, DEFAULT_GRACE, &inherited, files).expect_err("invalid")
        };
        let f = formation(&[("web", 2), ("worker", 1)]);
        assert_eq!(
            err(&f, &[2, 1], &[], &[file_port("abc")]),
            [".env:3:1: PORT \"abc\" is not a port number from 1 to 65535"],
            "reported once, not per instance"
        );
        assert_eq!(
            err(&f, &[2, 1], &[("PORT", "0")], &[file_port("80")]),
            [
                "formation: PORT \"0\" from the inherited environment is not a port number from 1 to 65535"
            ]
        );
        assert_eq!(
            err(&f, &[2, 1], &[("PORT", "65500")], &[]),
            [
                "/app/formation.toml:11:1: PORT \"65500\" from the inherited environment puts worker.1 at port 65600, above 65535"
            ]
        );
        assert_eq!(
            err(&f, &[3, 3], &[("PORT", "65500")], &[]),
            [
                "/app/formation.toml:11:1: PORT \"65500\" from the inherited environment puts worker.1 at port 65600, above 65535 (and 2 more)"
            ],
            "one line for every port too high"
        );
        let mut g = formation(&[("web", 1)]);
        g.env.push(var("PORT", "99999", 4));
        assert_eq!(
            err(&g, &[1], &[("PORT", "8080")], &[]),
            ["/app/formation.toml:4:1: PORT \"99999\" is not a port number from 1 to 65535"],
            "[env] beats the environment, and names its line"
        );
        let mut h = formation(&[("web", 1)]);
        h.types[0].env.push(var("PORT", "http", 12));
        assert_eq!(
            err(&h, &[1], &[], &[]),
            ["/app/formation.toml:12:1: PORT \"http\" is not a port number from 1 to 65535"]
        );
        assert!(
            instances(&f, &[0, 0], DEFAULT_GRACE, &[], &[file_port("abc")]).is_ok(),
            "no instance uses it"
        );
        let edge = ok(&f, &[1, 1], &[("PORT", "65435")], &[]);
        assert_eq!(env_of(&edge[1], "PORT").as_deref(), Some("65535"));
    }

    #[test]
    fn environment_precedence() {
        let mut f = formation(&[("web", 1)]);
        f.types[0].env = vec![var("SHARED", "process", 20), var("PORT", "80", 21)];
        let files = vec![var("FROM_FILE", "file", 1), var("ONLY_FILE", "file", 2)];
        let all = ok(
            &f,
            &[1],
            &[("FROM_ENV", "env"), ("FROM_FILE", "env"), ("SHARED", "env")],
            &files,
        );
        let i = &all[0];
        assert_eq!(env_of(i, "ONLY_FILE").as_deref(), Some("file"));
        assert_eq!(
            env_of(i, "FROM_FILE").as_deref(),
            Some("env"),
            "environment beats files"
        );
        assert_eq!(env_of(i, "FROM_CONFIG").as_deref(), Some("config"));
        assert_eq!(
            env_of(i, "SHARED").as_deref(),
            Some("process"),
            "process env wins"
        );
        assert_eq!(
            env_of(i, "PORT").as_deref(),
            Some("80"),
            "a process's own PORT is kept"
        );
    }

    #[test]
    fn home_comes_from_the_user_unless_the_config_sets_it() {
        let user = Credentials {
            uid: nix::unistd::Uid::from_raw(1000),
            gid: nix::unistd::Gid::from_raw(1000),
            groups: Vec::new(),
            home: "/home/app".into(),
        };
        let mut f = formation(&[("a", 1), ("b", 1), ("c", 1)]);
        for t in &mut f.types[..2] {
            t.user = Some(user.clone());
        }
        f.types[1].env.push(var("HOME", "/srv", 30));
        let inherited = [("HOME", "/root")];
        let files = [var("HOME", "/file", 1)];
        let homes: Vec<Option<String>> = ok(&f, &[1, 1, 1], &inherited, &files)
            .iter()
            .map(|i| env_of(i, "HOME"))
            .collect();
        assert_eq!(
            homes,
            [
                Some("/home/app".into()),
                Some("/srv".into()),
                Some("/root".into())
            ]
        );
        f.env.push(var("HOME", "/config", 5));
        let first = ok(&f, &[1, 0, 0], &inherited, &[]);
        assert_eq!(
            env_of(&first[0], "HOME").as_deref(),
            Some("/config"),
            "[env] wins"
        );
    }

    #[test]
    fn check_warns_about_a_missing_cwd_or_shell() {
        let mut f = formation(&[("web", 1), ("worker", 1), ("off", 0)]);
        f.types[0].cwd = Some("/nope".into());
        f.types[1].command = CommandLine::from_text("exec worker");
        f.types[2].cwd = Some("/nope".into());
        let all = ok(&f, &[1, 1, 0], &[], &[]);
        let is_dir = |p: &Path| p == Path::new("/app");
        let got = warnings(&f, &[1, 1, 0], &all, &is_dir, &|_| false);
        assert_eq!(
            got,
            [
                "/app/formation.toml:10:1: warning: web: cwd /nope is not a directory here",
                "/app/formation.toml:11:1: warning: worker: the command needs /bin/sh, which is not here (use an array command to run without a shell)",
            ]
        );
        assert_eq!(
            warnings(&f, &[1, 1, 0], &all, &|_| true, &|_| true),
            Vec::<String>::new()
        );
    }

    proptest::proptest! {
        #[test]
        fn any_formation_spec_is_parsed_or_rejected(text in "(\\PC|,|=|[0-9]){0,60}") {
            let f = formation(&[("web", 1), ("worker", 2)]);
            if let Ok(s) = scales(&f, Some(&text)) {
                assert!(s.iter().all(|n| *n <= crate::config::model::MAX_SCALE));
            }
        }
    }
}
