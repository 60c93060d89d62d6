//! The graph keys of a process type as the config gives them (SPEC §3.2, §4.2–§4.5): `after`,
//! `ready`, `health`, `oneshot`, `schedule`, `timezone` — and their rules across types
//! (SPEC §3.4): names `after` may use, cycles, and keys that conflict.
//!
//! Pure: values come checked from the schema (`schema/lifecycle.rs`) with their places; the
//! plan resolves `$PORT` and type names into what the engine runs.

use crate::config::model::{CommandLine, ConfigError, Formation, Place, ProcessType, Restart};
use crate::time::cron::Schedule;
use crate::time::tz::Zone;
use std::collections::HashMap;
use std::time::Duration;

/// How a check is made, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckSpec {
    /// `tcp = 5432`, `"127.0.0.1:5432"` or `"$PORT"`.
    Tcp(String),
    /// `http = "http://127.0.0.1:$PORT/up"`.
    Http(String),
    /// `exec = "pg_isready -q"` (the §3.4 shell rule applies).
    Exec(CommandLine),
    /// `log = "text"`.
    Log(String),
    /// `notify = true`.
    Notify,
}

/// `ready = { … }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadySpec {
    /// What is checked.
    pub check: CheckSpec,
    /// Time between attempts (default 250 ms).
    pub interval: Duration,
    /// A failed start after this long; None: wait for ever.
    pub timeout: Option<Duration>,
}

/// `health = { … }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthSpec {
    /// What is checked (tcp, http or exec).
    pub check: CheckSpec,
    /// Time between attempts (default 10 s).
    pub interval: Duration,
    /// Failures in a row that make it unhealthy (default 3).
    pub failures: u32,
    /// The bound of one attempt (default 1 s).
    pub timeout: Duration,
}

/// `schedule` and `timezone`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleSpec {
    /// When it fires.
    pub schedule: Schedule,
    /// The schedule as written (what `export` hands to an orchestrator's cron).
    pub text: String,
    /// `timezone`, where `schedule` is read; None: UTC.
    pub timezone: Option<(String, Place)>,
    /// The zone, once loaded from the image's zoneinfo (`load.rs`).
    pub zone: Zone,
}

/// The default `ready.interval`.
pub const READY_INTERVAL: Duration = Duration::from_millis(250);
/// The default `health.interval`.
pub const HEALTH_INTERVAL: Duration = Duration::from_secs(10);

/// Every rule of the graph keys across types, errors at the place concerned.
pub fn validate(formation: &Formation, errors: &mut Vec<ConfigError>) {
    let index: HashMap<&str, usize> = formation
        .types
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.as_str(), i))
        .collect();
    for t in &formation.types {
        conflicts(t, errors);
        for (name, place) in &t.after {
            let error = match index.get(name.as_str()) {
                None => Some(format!(
                    "`after` names {name:?}, which is not a process type"
                )),
                Some(_) if name == &t.name => Some(format!("{name:?} cannot start after itself")),
                Some(&i) if formation.types[i].schedule.is_some() => Some(format!(
                    "`after` names {name:?}, a scheduled type: it never becomes ready"
                )),
                Some(_) => None,
            };
            if let Some(message) = error {
                errors.push(ConfigError::new(place, message));
            }
        }
    }
    if let Some((first, cycle)) = cycle(formation, &index) {
        let names: Vec<&str> = cycle
            .iter()
            .map(|&i| formation.types[i].name.as_str())
            .collect();
        let message = format!(
            "`after` makes a cycle: {} -> {}",
            names.join(" -> "),
            names[0]
        );
        errors.push(ConfigError::new(&formation.types[first].place, message));
    }
}

/// Keys of one type that cannot go together (SPEC §3.4).
fn conflicts(t: &ProcessType, errors: &mut Vec<ConfigError>) {
    let at = |key: &str| t.keys.iter().find(|(k, _)| k == key).map(|(_, p)| p);
    let mut conflict = |key: &str, message: &str| {
        let place = at(key).unwrap_or(&t.place);
        errors.push(ConfigError::new(place, message.to_string()));
    };
    if t.oneshot && t.restart == Restart::Always {
        conflict(
            "restart",
            "a oneshot cannot have restart = \"always\": it would never complete",
        );
    }
    if t.schedule.is_some() {
        if t.oneshot {
            // A Procfile's `release` is a oneshot without the key: the `schedule` is then
            // the place to point at.
            let key = if at("oneshot").is_some() {
                "oneshot"
            } else {
                "schedule"
            };
            conflict(
                key,
                "`schedule` and `oneshot` conflict: every scheduled run is a task already",
            );
        }
        if at("restart").is_some() {
            conflict(
                "restart",
                "`schedule` and `restart` conflict: the next fire is the retry",
            );
        }
        if t.essential && at("essential").is_some() {
            conflict(
                "essential",
                "a scheduled type cannot be essential: its runs never stop the formation",
            );
        }
        if t.health.is_some() {
            conflict(
                "health",
                "`schedule` and `health` conflict: a scheduled run is not a service",
            );
        }
    }
}

/// A cycle of `after`, if any: the type it was found at and the types on it, in order.
fn cycle(formation: &Formation, index: &HashMap<&str, usize>) -> Option<(usize, Vec<usize>)> {
    let deps: Vec<Vec<usize>> = formation
        .types
        .iter()
        .map(|t| {
            t.after
                .iter()
                .filter_map(|(n, _)| index.get(n.as_str()).copied())
                .collect()
        })
        .collect();
    // Colours: 0 unseen, 1 on the current path, 2 done. Iterative, for 10,000 types.
    let mut colour = vec![0u8; deps.len()];
    for start in 0..deps.len() {
        if colour[start] != 0 {
            continue;
        }
        let mut path: Vec<(usize, usize)> = vec![(start, 0)];
        colour[start] = 1;
        while let Some(&mut (node, ref mut next)) = path.last_mut() {
            if let Some(&d) = deps[node].get(*next) {
                *next += 1;
                match colour[d] {
                    0 => {
                        colour[d] = 1;
                        path.push((d, 0));
                    }
                    1 if d != node => {
                        let from = path.iter().position(|&(n, _)| n == d)?;
                        return Some((d, path[from..].iter().map(|&(n, _)| n).collect()));
                    }
                    _ => {}
                }
            } else {
                colour[node] = 2;
                path.pop();
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn formation(types: &[(&str, &[&str])]) -> Formation {
        let place = |line| Place {
            file: "f.toml".into(),
            line,
            col: 1,
        };
        Formation {
            path: "f.toml".into(),
            grace: None,
            env_files: None,
            listen: None,
            env: Vec::new(),
            types: types
                .iter()
                .enumerate()
                .map(|(i, (name, after))| {
                    let mut t = ProcessType::new(
                        name.to_string(),
                        place(i * 10 + 1),
                        CommandLine::Argv(vec!["x".into()]),
                    );
                    t.after = after
                        .iter()
                        .map(|a| (a.to_string(), place(i * 10 + 2)))
                        .collect();
                    t
                })
                .collect(),
        }
    }

    fn errors(f: &Formation) -> Vec<String> {
        let mut errors = Vec::new();
        validate(f, &mut errors);
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn after_names_known_other_unscheduled_types() {
        let f = formation(&[("web", &["db", "web", "ghost"]), ("db", &[])]);
        assert_eq!(
            errors(&f),
            [
                "f.toml:2:1: \"web\" cannot start after itself",
                "f.toml:2:1: `after` names \"ghost\", which is not a process type",
            ]
        );
        let mut f = formation(&[("web", &["cron"]), ("cron", &[])]);
        f.types[1].schedule = Some(ScheduleSpec {
            schedule: Schedule::parse("@hourly").expect("valid"),
            text: "@hourly".into(),
            timezone: None,
            zone: Zone::utc(),
        });
        assert_eq!(
            errors(&f),
            ["f.toml:2:1: `after` names \"cron\", a scheduled type: it never becomes ready"]
        );
    }

    #[test]
    fn a_cycle_is_named_whole() {
        let f = formation(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"]), ("d", &["a"])]);
        assert_eq!(
            errors(&f),
            ["f.toml:1:1: `after` makes a cycle: a -> b -> c -> a"]
        );
        let f = formation(&[("a", &[]), ("b", &["a"]), ("c", &["a", "b"])]);
        assert!(errors(&f).is_empty(), "a diamond is no cycle");
    }

    #[test]
    fn conflicting_keys() {
        let mut f = formation(&[("release", &[]), ("cron", &[])]);
        let p = |line| Place {
            file: "f.toml".into(),
            line,
            col: 3,
        };
        f.types[0].oneshot = true;
        f.types[0].restart = Restart::Always;
        f.types[0].keys = vec![("restart".into(), p(5))];
        f.types[1].schedule = Some(ScheduleSpec {
            schedule: Schedule::parse("@hourly").expect("valid"),
            text: "@hourly".into(),
            timezone: None,
            zone: Zone::utc(),
        });
        f.types[1].oneshot = true;
        f.types[1].keys = vec![("oneshot".into(), p(12)), ("essential".into(), p(13))];
        assert_eq!(
            errors(&f),
            [
                "f.toml:5:3: a oneshot cannot have restart = \"always\": it would never complete",
                "f.toml:12:3: `schedule` and `oneshot` conflict: every scheduled run is a task already",
                "f.toml:13:3: a scheduled type cannot be essential: its runs never stop the formation",
            ]
        );
    }
}
