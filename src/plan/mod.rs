//! A validated formation and the options → the instances to run.
//!
//! Owns: the precedence rules of SPEC §3.3 and §3.4 — scale (`-m` over `FORMATION` over the
//! config), grace (`-t` over `FORMATION_GRACE` over the config), the environment of each
//! instance, `PS` and foreman's `PORT` blocks — and `formation check`'s description. Pure:
//! the inherited environment and the env files' variables are passed in.

use crate::config::model::{Backoff, Restart};
use crate::config::model::{Formation, ProcessType};
use crate::config::users::Credentials;
use nix::sys::signal::Signal;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

/// The stop grace when nothing sets one.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);
/// foreman's first port when the environment sets no `PORT`.
const DEFAULT_BASE_PORT: u32 = 5000;

/// Where an instance's standard streams go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StdioMode {
    /// Single-command mode: stdin, stdout and stderr are ours. With `take_terminal`, stdin is
    /// a terminal and the child's group becomes its foreground group.
    Inherit { take_terminal: bool },
    /// Formation mode: stdin is /dev/null; stdout and stderr are pipes that we read.
    Piped,
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
    /// How long a stop waits before SIGKILL.
    pub grace: Duration,
    /// Inherited or piped stdio.
    pub stdio: StdioMode,
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

/// Expands a formation into its instances. `inherited` is our own environment;
/// `file_vars` the env files' variables, later files last.
pub fn instances(
    formation: &Formation,
    scales: &[u32],
    grace: Duration,
    inherited: &[(OsString, OsString)],
    file_vars: &[(String, String)],
) -> Vec<Instance> {
    let dir = crate::config::model::dir_of(&formation.path);
    // Env files, then our environment (deploy-time config beats a file baked into the
    // image), then [env] (SPEC §3.3).
    let mut base: BTreeMap<OsString, OsString> = BTreeMap::new();
    base.extend(file_vars.iter().map(|(k, v)| (k.into(), v.into())));
    base.extend(inherited.iter().cloned());
    base.extend(formation.env.iter().map(|(k, v)| (k.into(), v.into())));
    let base_port = base
        .get(&OsString::from("PORT"))
        .and_then(|p| p.to_str()?.trim().parse::<u32>().ok())
        .unwrap_or(DEFAULT_BASE_PORT);

    let mut out = Vec::new();
    for (index, (t, &scale)) in formation.types.iter().zip(scales).enumerate() {
        for n in 1..=scale {
            let name = format!("{}.{n}", t.name);
            let mut env = base.clone();
            env.extend(t.env.iter().map(|(k, v)| (k.into(), v.into())));
            env.insert("PS".into(), name.clone().into());
            if !t.env.iter().any(|(k, _)| k == "PORT") {
                let port = base_port + 100 * index as u32 + (n - 1);
                env.insert("PORT".into(), port.to_string().into());
            }
            out.push(Instance {
                name,
                type_index: index,
                argv: t.command.argv().into_iter().map(OsString::from).collect(),
                env: Some(env.into_iter().collect()),
                cwd: Some(t.cwd.clone().unwrap_or_else(|| dir.to_path_buf())),
                user: t.user.clone(),
                restart: t.restart,
                backoff: t.backoff,
                essential: t.essential,
                stop_signal: t.stop_signal,
                grace: t.grace.unwrap_or(grace),
                stdio: StdioMode::Piped,
            });
        }
    }
    out
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
    for (index, (t, scale)) in formation.types.iter().zip(scales).enumerate() {
        let _ = writeln!(out, "\n{} (scale {scale}): {}", t.name, t.command);
        let _ = writeln!(
            out,
            "  {}",
            policies(t, instances.iter().find(|i| i.type_index == index))
        );
        let mine: Vec<&Instance> = instances.iter().filter(|i| i.type_index == index).collect();
        for i in &mine {
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
            env: vec![
                ("FROM_CONFIG".into(), "config".into()),
                ("SHARED".into(), "config".into()),
            ],
            types: types
                .iter()
                .map(|(name, scale)| {
                    let mut t = ProcessType::new(name.to_string(), CommandLine::from_text("run"));
                    t.scale = *scale;
                    t
                })
                .collect(),
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

    #[test]
    fn ports_and_ps_follow_foreman() {
        let f = formation(&[("web", 2), ("worker", 1)]);
        let all = instances(&f, &[2, 1], DEFAULT_GRACE, &[], &[]);
        let got: Vec<(String, Option<String>, Option<String>)> = all
            .iter()
            .map(|i| (i.name.clone(), env_of(i, "PS"), env_of(i, "PORT")))
            .collect();
        let want = [("web.1", "5000"), ("web.2", "5001"), ("worker.1", "5100")];
        for ((name, ps, port), (wname, wport)) in got.iter().zip(want) {
            assert_eq!(
                (name.as_str(), ps.as_deref(), port.as_deref()),
                (wname, Some(wname), Some(wport))
            );
        }
        assert_eq!(all[0].cwd, Some(PathBuf::from("/app")));
    }

    #[test]
    fn environment_precedence() {
        let mut f = formation(&[("web", 1)]);
        f.types[0].env = vec![
            ("SHARED".into(), "process".into()),
            ("PORT".into(), "80".into()),
        ];
        let inherited: Vec<(OsString, OsString)> = vec![
            ("FROM_ENV".into(), "env".into()),
            ("FROM_FILE".into(), "env".into()),
            ("SHARED".into(), "env".into()),
        ];
        let files = vec![
            ("FROM_FILE".into(), "file".into()),
            ("ONLY_FILE".into(), "file".into()),
        ];
        let i = &instances(&f, &[1], DEFAULT_GRACE, &inherited, &files)[0];
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
    fn base_port_from_the_environment() {
        let f = formation(&[("a", 1), ("b", 2)]);
        let inherited = vec![("PORT".into(), "3000".into())];
        let all = instances(&f, &[1, 2], DEFAULT_GRACE, &inherited, &[]);
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
