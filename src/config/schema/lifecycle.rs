//! The graph keys of `[process.NAME]` (SPEC §3.2, §4.2–§4.5): `after`, `ready`, `health`,
//! `oneshot`, `schedule`, `timezone`, each checked at its place. Their rules across keys and
//! types are `config::validate::lifecycle`.

use super::values::{command_line, duration, table, whole_number};
use super::{Cx, Key, Value, walk};
use crate::config::document::Item;
use crate::config::listen::{check_host_ok, http_parts};
use crate::config::model::ProcessType;
use crate::config::model::{
    CheckSpec, HEALTH_INTERVAL, HealthSpec, READY_INTERVAL, ReadySpec, ScheduleSpec,
};
use crate::time::cron::Schedule;
use crate::time::tz::Zone;
use std::time::Duration;

/// The rows of `PROCESS_KEYS` for the graph.
pub const KEYS: &[Key<ProcessType>] = &[
    Key {
        name: "after",
        set: |cx, t, v| t.after = after(cx, v),
    },
    Key {
        name: "ready",
        set: |cx, t, v| t.ready = ready(cx, v),
    },
    Key {
        name: "health",
        set: |cx, t, v| t.health = health(cx, v),
    },
    Key {
        name: "oneshot",
        set: |cx, t, v| match v.get_ref().as_bool() {
            Some(b) => t.oneshot = b,
            None => cx
                .diag
                .at(v.span().start, "`oneshot` must be true or false"),
        },
    },
    Key {
        name: "schedule",
        set: |cx, t, v| match v.get_ref().as_str().map(|s| (s, Schedule::parse(s))) {
            Some((text, Ok(schedule))) => {
                let timezone = t.schedule.take().and_then(|s| s.timezone);
                t.schedule = Some(ScheduleSpec {
                    schedule,
                    text: text.trim().to_string(),
                    timezone,
                    zone: Zone::utc(),
                });
            }
            Some((_, Err(e))) => cx.diag.at(v.span().start, format!("`schedule`: {e}")),
            None => cx.diag.at(v.span().start, "`schedule` must be a string"),
        },
    },
    Key {
        name: "timezone",
        // Kept aside until `schedule` is known; checked against the zoneinfo in `load.rs`.
        set: |cx, _, v| {
            if v.get_ref().as_str().is_none_or(str::is_empty) {
                let message = "`timezone` must be a zone name such as \"Europe/Berlin\"";
                cx.diag.at(v.span().start, message);
            }
        },
    },
];

/// `after = ["release", "db"]` or `after = "db"`.
fn after(cx: &mut Cx<'_, '_>, value: &Value) -> Vec<(String, crate::config::model::Place)> {
    let items: Vec<&Value> = match value.get_ref() {
        Item::Array(items) => items.iter().collect(),
        _ => vec![value],
    };
    let mut names = Vec::new();
    for item in items {
        match item.get_ref().as_str() {
            Some(name) if !name.is_empty() => {
                names.push((name.to_string(), cx.diag.place(item.span().start)));
            }
            _ => cx.diag.at(
                item.span().start,
                "`after` must be a process type name or an array of them",
            ),
        }
    }
    names
}

/// A check's parts as its table gives them.
#[derive(Default)]
struct Parts {
    kinds: Vec<CheckSpec>,
    interval: Option<Duration>,
    timeout: Option<Duration>,
    failures: Option<u32>,
}

/// The kinds of check, shared by `ready` and `health` (health refuses log and notify).
const CHECK_KEYS: &[Key<Parts>] = &[
    Key {
        name: "tcp",
        set: |cx, p, v| {
            let text = match v.get_ref() {
                Item::Integer(_) => whole_number(v).map(|n| n.to_string()),
                Item::String(s) => Some(s.to_string()),
                _ => None,
            };
            match text.filter(|t| tcp_target_ok(t)) {
                Some(t) => p.kinds.push(CheckSpec::Tcp(t)),
                None => cx.diag.at(
                    v.span().start,
                    "`tcp` must be a port, \"IP:port\", \"localhost:port\" or \"$PORT\" \
                     (formation looks up no names)",
                ),
            }
        },
    },
    Key {
        name: "http",
        set: |cx, p, v| match v.get_ref().as_str() {
            Some(url) if http_url_ok(url) => p.kinds.push(CheckSpec::Http(url.into())),
            _ => cx.diag.at(
                v.span().start,
                "`http` must be an http:// URL to an IP address or localhost, such as \
                 \"http://127.0.0.1:$PORT/up\" (formation looks up no names)",
            ),
        },
    },
    Key {
        name: "exec",
        set: |cx, p, v| {
            if let Some(c) = command_line(cx.diag, v) {
                p.kinds.push(CheckSpec::Exec(c));
            }
        },
    },
    Key {
        name: "log",
        set: |cx, p, v| match v.get_ref().as_str() {
            Some(text) if !text.is_empty() && !text.contains('\n') => {
                p.kinds.push(CheckSpec::Log(text.into()));
            }
            _ => cx
                .diag
                .at(v.span().start, "`log` must be the text of one line"),
        },
    },
    Key {
        name: "notify",
        set: |cx, p, v| match v.get_ref().as_bool() {
            Some(true) => p.kinds.push(CheckSpec::Notify),
            _ => cx
                .diag
                .at(v.span().start, "`notify` must be true (or leave it out)"),
        },
    },
    Key {
        name: "interval",
        set: |cx, p, v| p.interval = duration(cx.diag, "interval", v),
    },
    Key {
        name: "timeout",
        set: |cx, p, v| p.timeout = duration(cx.diag, "timeout", v),
    },
    Key {
        name: "failures",
        set: |cx, p, v| match whole_number(v).filter(|n| *n > 0) {
            Some(n) => p.failures = Some(n),
            None => cx
                .diag
                .at(v.span().start, "`failures` must be a whole number from 1"),
        },
    },
];

/// A `tcp` target: a port, `host:port`, or one with `$PORT` for its port.
fn tcp_target_ok(text: &str) -> bool {
    let (host, port) = text.rsplit_once(':').unwrap_or(("localhost", text));
    check_host_ok(host) && (port == "$PORT" || port.parse::<u16>().is_ok_and(|p| p > 0))
}

/// An `http` check's URL: http://, then a host formation can connect to without a lookup.
fn http_url_ok(url: &str) -> bool {
    http_parts(url).is_some_and(|(_, _, host)| check_host_ok(host))
}

/// The table of a check with exactly one kind; `what` is `ready` or `health`.
fn parts(cx: &mut Cx<'_, '_>, what: &str, value: &Value) -> Option<Parts> {
    let t = table(cx.diag, what, value)?;
    let mut parts = Parts::default();
    walk(cx, t, CHECK_KEYS, &mut parts);
    if parts.kinds.len() != 1 {
        let message = format!("`{what}` needs exactly one of tcp, http, exec, log or notify");
        cx.diag.at(value.span().start, message);
        return None;
    }
    Some(parts)
}

fn ready(cx: &mut Cx<'_, '_>, value: &Value) -> Option<ReadySpec> {
    let mut parts = parts(cx, "ready", value)?;
    if parts.failures.is_some() {
        cx.diag.at(
            value.span().start,
            "`failures` belongs to `health`, not `ready`",
        );
    }
    Some(ReadySpec {
        check: parts.kinds.remove(0),
        interval: parts.interval.unwrap_or(READY_INTERVAL),
        timeout: parts.timeout,
    })
}

fn health(cx: &mut Cx<'_, '_>, value: &Value) -> Option<HealthSpec> {
    let mut parts = parts(cx, "health", value)?;
    let check = parts.kinds.remove(0);
    if matches!(check, CheckSpec::Log(_) | CheckSpec::Notify) {
        let message = "`health` needs a way to reach the instance: tcp, http or exec";
        cx.diag.at(value.span().start, message);
        return None;
    }
    Some(HealthSpec {
        check,
        interval: parts.interval.unwrap_or(HEALTH_INTERVAL),
        failures: parts.failures.unwrap_or(3),
        timeout: parts.timeout.unwrap_or(Duration::from_secs(1)),
    })
}
