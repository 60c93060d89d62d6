//! A reload as a difference of two blueprints (SPEC §10): type by type, unchanged, removed,
//! added, only scaled, or changed — and then what changed — in the order the engine applies
//! it. `--dry-run` prints [`describe`] of it.
//!
//! Pure: both blueprints are data; the instances compared are planned, never spawned.
//! "Changed" is anything an instance would run differently with: its command, its
//! environment as resolved (`[env]`, env files, the process's `env`, `PORT` — a type whose
//! port block moved is changed), cwd, user, stop signal, own grace, signals, ready, health,
//! backoff, after, oneshot, schedule, restart, essential.

use super::blueprint::Blueprint;
use super::order;
use crate::config::model::ProcessType;

/// What a reload does to one process type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Left as it runs.
    Unchanged,
    /// Only its scale changes.
    Scaled,
    /// Restarted one instance at a time with its new settings: these changed.
    Changed(Vec<&'static str>),
    /// New: started, honouring its `after`.
    Added,
    /// Gone from the config: stopped.
    Removed,
}

/// One process type's step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// `web`.
    pub name: String,
    /// Its index in the old blueprint, if it was there.
    pub old: Option<usize>,
    /// Its index in the new blueprint, if it is there.
    pub new: Option<usize>,
    /// Its scale now (0 when added).
    pub from: u32,
    /// Its scale after the reload (0 when removed).
    pub to: u32,
    pub change: Change,
    /// The new config schedules it (SPEC §4.4): a reload arms its schedule, never runs it.
    pub scheduled: bool,
}

/// The steps of a reload from `old` to `new`: the removed types first, dependents before
/// what they depend on, then every type of the new config in its order. `scale(name)` is a
/// type's scale as it runs (a `formation scale` holds until the configured scale changes).
pub fn diff(old: &Blueprint, scale: &dyn Fn(&str) -> Option<u32>, new: &Blueprint) -> Vec<Step> {
    let mut steps = Vec::new();
    for tier in order::stop_tiers(&old.deps) {
        for o in tier {
            let name = &old.formation.types[o].name;
            if new.formation.types.iter().any(|t| &t.name == name) {
                continue;
            }
            let Some(from) = scale(name) else { continue };
            steps.push(Step {
                name: name.clone(),
                old: Some(o),
                new: None,
                from,
                to: 0,
                change: Change::Removed,
                scheduled: false,
            });
        }
    }
    for (n, t) in new.formation.types.iter().enumerate() {
        let o = old.formation.types.iter().position(|x| x.name == t.name);
        let running = scale(&t.name).filter(|_| o.is_some());
        let (Some(o), Some(from)) = (o, running) else {
            steps.push(Step {
                name: t.name.clone(),
                old: None,
                new: Some(n),
                from: 0,
                to: new.scales[n],
                change: Change::Added,
                scheduled: t.schedule.is_some(),
            });
            continue;
        };
        let to = if new.scales[n] == old.scales[o] {
            from
        } else {
            new.scales[n]
        };
        let what = changes(old, o, new, n);
        let change = match (what.is_empty(), from == to) {
            (false, _) => Change::Changed(what),
            (true, false) => Change::Scaled,
            (true, true) => Change::Unchanged,
        };
        steps.push(Step {
            name: t.name.clone(),
            old: Some(o),
            new: Some(n),
            from,
            to,
            change,
            scheduled: t.schedule.is_some(),
        });
    }
    steps
}

/// What makes type `o` of `old` run differently as type `n` of `new`.
pub fn changes(old: &Blueprint, o: usize, new: &Blueprint, n: usize) -> Vec<&'static str> {
    let (a, b) = (&old.formation.types[o], &new.formation.types[n]);
    let mut what = keys(a, b);
    // As resolved for its first instance: env files, inherited, [env], env, HOME, PORT.
    let first = |bp: &Blueprint, t| bp.instances(t, 1, 1).ok().and_then(|mut v| v.pop());
    match (first(old, o), first(new, n)) {
        (Some(x), Some(y)) => {
            let env = |i: &super::Instance| -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
                let pairs = i.env.iter().flat_map(|e| e.pairs());
                pairs.map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
            };
            if env(&x) != env(&y) && !what.contains(&"env") {
                what.push("env");
            }
            if x.cwd != y.cwd && !what.contains(&"cwd") {
                what.push("cwd");
            }
        }
        _ if !what.contains(&"env") => what.push("env"),
        _ => {}
    }
    what
}

/// The keys of a type that differ, by name.
fn keys(a: &ProcessType, b: &ProcessType) -> Vec<&'static str> {
    let after = |t: &ProcessType| t.after.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    let env = |t: &ProcessType| {
        let vars = t.env.iter().map(|v| (v.name.clone(), v.value.clone()));
        vars.collect::<Vec<_>>()
    };
    // As written, with its zone's name: where in the file it stands does not matter.
    let schedule = |t: &ProcessType| {
        let s = t.schedule.as_ref();
        s.map(|s| (s.text.clone(), s.timezone.as_ref().map(|(n, _)| n.clone())))
    };
    let table: [(&'static str, bool); 15] = [
        ("command", a.command != b.command),
        ("restart", a.restart != b.restart),
        ("essential", a.essential != b.essential),
        ("stop_signal", a.stop_signal != b.stop_signal),
        ("grace", a.grace != b.grace),
        ("signals", a.signals != b.signals),
        ("cwd", a.cwd != b.cwd),
        ("user", a.user != b.user),
        ("env", env(a) != env(b)),
        ("backoff", a.backoff != b.backoff),
        ("after", after(a) != after(b)),
        ("ready", a.ready != b.ready),
        ("health", a.health != b.health),
        ("oneshot", a.oneshot != b.oneshot),
        ("schedule", schedule(a) != schedule(b)),
    ];
    table
        .into_iter()
        .filter(|&(_, differs)| differs)
        .map(|(key, _)| key)
        .collect()
}

/// The plan as `reload --dry-run` prints it: one line per type.
pub fn describe(steps: &[Step]) -> Vec<String> {
    steps
        .iter()
        .map(|s| {
            let name = &s.name;
            match &s.change {
                Change::Unchanged => format!("{name}: unchanged"),
                Change::Scaled => format!("{name}: scale {} -> {}", s.from, s.to),
                Change::Added if s.scheduled => {
                    format!("{name}: added: scheduled (scale {})", s.to)
                }
                Change::Added => format!("{name}: added: started (scale {})", s.to),
                Change::Removed => format!("{name}: removed: stopped"),
                Change::Changed(what) => {
                    let scale = if s.from == s.to {
                        String::new()
                    } else {
                        format!(", scale {} -> {}", s.from, s.to)
                    };
                    let how = if s.scheduled {
                        "its next run uses the new settings"
                    } else {
                        "restarted one instance at a time"
                    };
                    format!("{name}: changed ({}): {how}{scale}", what.join(", "))
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::blueprint::from_toml;

    const BASE: &str = r#"
[process.web]
command = "server"
scale = 2
[process.worker]
command = "work"
[process.old]
command = "old"
"#;

    /// Each type's change and scales, from `old` (running at its configured scales, but for
    /// `running`) to `new`.
    /// A type's name, change, scale before and after.
    type Row = (String, Change, u32, u32);

    fn steps(old: &str, running: &[(&str, u32)], new: &str) -> Vec<Row> {
        let (old, new) = (from_toml(old), from_toml(new));
        let scale = |name: &str| {
            let set = running.iter().find(|(n, _)| *n == name).map(|(_, s)| *s);
            let t = old.names().position(|n| n == name)?;
            Some(set.unwrap_or(old.scales[t]))
        };
        let steps = diff(&old, &scale, &new);
        steps
            .into_iter()
            .map(|s| (s.name, s.change, s.from, s.to))
            .collect()
    }

    fn step(name: &str, change: Change, from: u32, to: u32) -> Row {
        (name.into(), change, from, to)
    }

    #[test]
    fn each_kind_of_change() {
        use Change::*;
        let base_with = |extra: &str| format!("{BASE}{extra}");
        let table: Vec<(String, Vec<Row>)> = vec![
            (
                BASE.into(),
                vec![
                    step("web", Unchanged, 2, 2),
                    step("worker", Unchanged, 1, 1),
                    step("old", Unchanged, 1, 1),
                ],
            ),
            (
                BASE.replace("command = \"server\"", "command = \"server2\""),
                vec![
                    step("web", Changed(vec!["command"]), 2, 2),
                    step("worker", Unchanged, 1, 1),
                    step("old", Unchanged, 1, 1),
                ],
            ),
            (
                BASE.replace("command = \"work\"", "command = \"work\"\nscale = 3"),
                vec![
                    step("web", Unchanged, 2, 2),
                    step("worker", Scaled, 1, 3),
                    step("old", Unchanged, 1, 1),
                ],
            ),
            (
                BASE.replace("[process.old]\ncommand = \"old\"\n", ""),
                vec![
                    step("old", Removed, 1, 0),
                    step("web", Unchanged, 2, 2),
                    step("worker", Unchanged, 1, 1),
                ],
            ),
            (
                base_with("[process.clock]\ncommand = \"tick\"\nafter = [\"web\"]\n"),
                vec![
                    step("web", Unchanged, 2, 2),
                    step("worker", Unchanged, 1, 1),
                    step("old", Unchanged, 1, 1),
                    step("clock", Added, 0, 1),
                ],
            ),
            (
                // A type before worker moves worker's and old's PORT blocks.
                BASE.replace("[process.worker]", "[process.api]\ncommand = \"api\"\n[process.worker]"),
                vec![
                    step("web", Unchanged, 2, 2),
                    step("api", Added, 0, 1),
                    step("worker", Changed(vec!["env"]), 1, 1),
                    step("old", Changed(vec!["env"]), 1, 1),
                ],
            ),
            (
                format!("[env]\nFOO = \"1\"\n{BASE}"),
                vec![
                    step("web", Changed(vec!["env"]), 2, 2),
                    step("worker", Changed(vec!["env"]), 1, 1),
                    step("old", Changed(vec!["env"]), 1, 1),
                ],
            ),
            (
                BASE.replace(
                    "command = \"old\"",
                    "command = \"old\"\ngrace = \"3s\"\nstop_signal = \"INT\"\nafter = [\"web\"]",
                ),
                vec![
                    step("web", Unchanged, 2, 2),
                    step("worker", Unchanged, 1, 1),
                    step("old", Changed(vec!["stop_signal", "grace", "after"]), 1, 1),
                ],
            ),
            (
                BASE.replace(
                    "command = \"server\"",
                    "command = \"server\"\nready = { http = \"http://127.0.0.1:$PORT/\" }\ncwd = \"/tmp\"",
                ),
                vec![
                    step("web", Changed(vec!["cwd", "ready"]), 2, 2),
                    step("worker", Unchanged, 1, 1),
                    step("old", Unchanged, 1, 1),
                ],
            ),
            (
                // Lines moved (a comment added) change nothing.
                format!("# a comment\n\n{BASE}"),
                vec![
                    step("web", Unchanged, 2, 2),
                    step("worker", Unchanged, 1, 1),
                    step("old", Unchanged, 1, 1),
                ],
            ),
        ];
        for (new, want) in table {
            assert_eq!(steps(BASE, &[], &new), want, "{new}");
        }
    }

    #[test]
    fn an_operators_scale_holds_until_the_configured_scale_changes() {
        use Change::*;
        let running = [("web", 4)];
        let got = steps(BASE, &running, BASE);
        assert_eq!(got[0], step("web", Unchanged, 4, 4));
        let new = BASE.replace("scale = 2", "scale = 3");
        assert_eq!(steps(BASE, &running, &new)[0], step("web", Scaled, 4, 3));
        let new = new.replace("\"server\"", "\"server2\"");
        let changed = Changed(vec!["command"]);
        assert_eq!(steps(BASE, &running, &new)[0], step("web", changed, 4, 3));
    }

    #[test]
    fn a_scheduled_type_is_armed_never_started() {
        let clock = "[process.clock]\ncommand = \"tick\"\nschedule = \"@hourly\"\n";
        let plan = |old: &str, new: &str| {
            let (old, new) = (from_toml(old), from_toml(new));
            let scale = |name: &str| old.names().position(|n| n == name).map(|t| old.scales[t]);
            describe(&diff(&old, &scale, &new))
        };
        let with = format!("{BASE}{clock}");
        assert_eq!(plan(BASE, &with)[3], "clock: added: scheduled (scale 1)");
        let daily = with.replace("@hourly", "@daily");
        assert_eq!(
            plan(&with, &daily)[3],
            "clock: changed (schedule): its next run uses the new settings"
        );
    }

    #[test]
    fn removed_types_go_dependents_first() {
        let old = "[process.db]\ncommand = \"db\"\n[process.app]\ncommand = \"app\"\nafter = [\"db\"]\n[process.web]\ncommand = \"web\"\n";
        let new = "[process.web]\ncommand = \"web\"\n";
        let names: Vec<String> = steps(old, &[], new).into_iter().map(|s| s.0).collect();
        assert_eq!(names, ["app", "db", "web"]);
    }

    #[test]
    fn the_dry_run_says_what_each_type_gets() {
        let step = |name: &str, change, from, to| Step {
            name: name.into(),
            old: None,
            new: None,
            from,
            to,
            change,
            scheduled: false,
        };
        let scheduled = |name: &str, change, from, to| Step {
            scheduled: true,
            ..step(name, change, from, to)
        };
        let plan = [
            step("old", Change::Removed, 1, 0),
            step("web", Change::Changed(vec!["command", "env"]), 2, 3),
            step("worker", Change::Scaled, 1, 3),
            step("db", Change::Unchanged, 1, 1),
            step("clock", Change::Added, 0, 1),
            scheduled("cron", Change::Added, 0, 1),
            scheduled("cleanup", Change::Changed(vec!["schedule"]), 1, 1),
        ];
        assert_eq!(
            describe(&plan),
            [
                "old: removed: stopped",
                "web: changed (command, env): restarted one instance at a time, scale 2 -> 3",
                "worker: scale 1 -> 3",
                "db: unchanged",
                "clock: added: started (scale 1)",
                "cron: added: scheduled (scale 1)",
                "cleanup: changed (schedule): its next run uses the new settings",
            ]
        );
    }
}
