//! The graph keys of the config → what the engine runs (SPEC §4.2–§4.5), and `check`'s
//! account of them (SPEC §2.1): the order, the stop's worst case, the next fire times.
//!
//! Owns: `after` names → type indexes (a type scaled to 0 drops out, with a note: this is what
//! lets `-m web=1,all=0` run one type alone), `$PORT` in `tcp` and `http` → the instance's own
//! port, a bare port → `127.0.0.1:PORT`, and one shared timetable per scheduled type.
//! Pure: the wall clock for the fire times is passed in.

use super::Instance;
use super::checks::{HealthCheck, ProbeKind, ReadyCheck, Timetable};
use super::order;
use crate::config::lifecycle::CheckSpec;
use crate::config::model::Formation;
use crate::time::civil::rfc3339;
use crate::time::duration::Human;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::rc::Rc;
use std::time::Duration;

/// The types each type starts after, by index, without types scaled to 0; and a note for
/// each one dropped, with the dropped type's index.
pub fn deps(formation: &Formation, scales: &[u32]) -> (Vec<Vec<usize>>, Vec<(usize, String)>) {
    let index = |name: &str| formation.types.iter().position(|t| t.name == name);
    let mut notes = Vec::new();
    let deps = formation
        .types
        .iter()
        .map(|t| {
            t.after
                .iter()
                .filter_map(|(name, _)| {
                    let d = index(name)?;
                    if scales[d] == 0 {
                        notes.push((
                            d,
                            format!("{}: not waiting for {name}: it is scaled to 0", t.name),
                        ));
                        return None;
                    }
                    Some(d)
                })
                .collect()
        })
        .collect();
    (deps, notes)
}

/// Sets each instance's oneshot, dependencies, checks and timetable from its type.
pub fn link(formation: &Formation, deps: &[Vec<usize>], instances: &mut [Instance]) {
    let timetables: Vec<Option<Rc<Timetable>>> = formation
        .types
        .iter()
        .map(|t| {
            let s = t.schedule.as_ref()?;
            Some(Rc::new(Timetable {
                schedule: s.schedule.clone(),
                zone: s.zone.clone(),
            }))
        })
        .collect();
    for i in instances {
        let t = &formation.types[i.type_index];
        let port = port_of(i);
        i.oneshot = t.oneshot;
        i.after = deps[i.type_index].clone();
        i.ready = t.ready.as_ref().map(|r| {
            Box::new(ReadyCheck {
                kind: kind(&r.check, &port),
                interval: r.interval,
                timeout: r.timeout,
            })
        });
        i.health = t.health.as_ref().map(|h| {
            Box::new(HealthCheck {
                kind: kind(&h.check, &port),
                interval: h.interval,
                failures: h.failures,
                timeout: h.timeout,
            })
        });
        i.schedule = timetables[i.type_index].clone();
    }
}

/// The `PORT` an instance gets, or "" without one.
fn port_of(i: &Instance) -> String {
    let port = i.env.as_ref().and_then(|e| e.get("PORT"));
    port.map(|v| v.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A check as written → as made for an instance whose port is `port`.
pub fn kind(check: &CheckSpec, port: &str) -> ProbeKind {
    match check {
        CheckSpec::Tcp(target) => {
            let target = target.replace("$PORT", port);
            if target.contains(':') {
                ProbeKind::Tcp(target)
            } else {
                ProbeKind::Tcp(format!("127.0.0.1:{target}"))
            }
        }
        CheckSpec::Http(url) => ProbeKind::Http(url.replace("$PORT", port)),
        CheckSpec::Exec(command) => {
            ProbeKind::Exec(command.argv().into_iter().map(OsString::from).collect())
        }
        CheckSpec::Log(text) => ProbeKind::Log(text.clone()),
        CheckSpec::Notify => ProbeKind::Notify,
    }
}

/// `check`'s account of the graph: the start order, the next fire times of schedules, and
/// the stop's worst case, with a warning past docker stop's default 10 s.
pub fn describe(
    formation: &Formation,
    scales: &[u32],
    deps: &[Vec<usize>],
    graces: &[Duration],
    default_grace: Duration,
    start: i64,
) -> String {
    let mut out = String::new();
    let running: Vec<bool> = scales.iter().map(|&s| s > 0).collect();
    let name = |t: usize| formation.types[t].name.as_str();
    if deps.iter().any(|d| !d.is_empty()) {
        // Each tier's running types, tiers joined by arrows: `db -> release -> web, worker`.
        let line = |tiers: Vec<Vec<usize>>| {
            let tiers: Vec<String> = tiers
                .iter()
                .map(|tier| {
                    let names: Vec<&str> = tier
                        .iter()
                        .filter(|&&t| running[t])
                        .map(|&t| name(t))
                        .collect();
                    names.join(", ")
                })
                .filter(|tier| !tier.is_empty())
                .collect();
            tiers.join(" -> ")
        };
        let _ = writeln!(out, "\nstart order: {}", line(order::start_tiers(deps)));
        let _ = writeln!(out, "stop order: {}", line(order::stop_tiers(deps)));
    }
    for (t, ty) in formation.types.iter().enumerate() {
        let Some(s) = ty.schedule.as_ref().filter(|_| running[t]) else {
            continue;
        };
        let fires: Vec<String> = s
            .schedule
            .upcoming(start, &s.zone, start, 3)
            .into_iter()
            .map(rfc3339)
            .collect();
        let zone = s.timezone.as_ref().map_or("UTC", |(n, _)| n.as_str());
        let _ = writeln!(
            out,
            "\n{} runs on its schedule ({zone}); next: {}",
            ty.name,
            fires.join(", ")
        );
    }
    let graces: Vec<Duration> = graces
        .iter()
        .zip(&running)
        .map(|(g, &r)| if r { *g } else { Duration::ZERO })
        .collect();
    let oneshot: Vec<bool> = formation.types.iter().map(|t| t.oneshot).collect();
    let worst = order::worst_stop(deps, &graces, &oneshot, default_grace);
    let _ = writeln!(out, "\nworst-case stop: {}", Human(worst));
    if worst > Duration::from_secs(10) {
        let _ = writeln!(
            out,
            "warning: a stop may take {}, longer than docker stop's default 10s: run the container with --stop-timeout {} (or lower the graces)",
            Human(worst),
            worst.as_secs() + 1
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_get_the_instances_port() {
        let table = [
            (
                CheckSpec::Tcp("$PORT".into()),
                ProbeKind::Tcp("127.0.0.1:5100".into()),
            ),
            (
                CheckSpec::Tcp("5432".into()),
                ProbeKind::Tcp("127.0.0.1:5432".into()),
            ),
            (
                CheckSpec::Tcp("db:$PORT".into()),
                ProbeKind::Tcp("db:5100".into()),
            ),
            (
                CheckSpec::Http("http://127.0.0.1:$PORT/up".into()),
                ProbeKind::Http("http://127.0.0.1:5100/up".into()),
            ),
            (CheckSpec::Notify, ProbeKind::Notify),
        ];
        for (spec, want) in table {
            assert_eq!(kind(&spec, "5100"), want, "{spec:?}");
        }
    }
}
