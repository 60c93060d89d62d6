//! `formation status` (SPEC §2.1), the pure part: the /proc files of one process → its
//! figures, the listener's `/status` answer → what it knows of each instance, and both → the
//! table (or JSON) printed. The reading of /proc is `os::procfs`'s; the request is
//! `os::listener::get`'s.
//!
//! Facts about /proc (proc(5)) relied on:
//! - `/proc/PID/stat`: the second field is the command name in parentheses, and may itself
//!   hold spaces and parentheses, so fields are counted from the *last* `)`; after it come
//!   field 3 (state), 5 the process group, …, 14 utime and 15 stime (clock ticks), 22 starttime
//!   (ticks after boot), 24 rss (the resident set in pages, as `statm`'s second field).
//! - `/proc/uptime`: seconds since boot, then idle seconds.
//! - `/proc/PID/environ`: `KEY=value` entries, each ended by a NUL; it is the environment
//!   the process was exec'd with (formation gives each instance `PS=web.1`, and its children
//!   inherit it).

use super::json::{self, Value};
use super::render::seconds;
use crate::time::duration::Human;
use std::fmt::Write as _;
use std::time::Duration;

/// The figures of one process from `/proc/PID/stat`, in clock ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    /// Its process group: the instance it belongs to is the one whose leader's pid it is.
    pub pgrp: i32,
    /// User and system CPU time.
    pub cpu_ticks: u64,
    /// When it started, after boot.
    pub start_ticks: u64,
    /// Its resident set, in pages.
    pub rss_pages: u64,
}

/// Reads `/proc/PID/stat` (without collecting its fields: `status` reads one per process).
pub fn parse_stat(text: &str) -> Option<Stat> {
    let (_, rest) = text.rsplit_once(')')?;
    // The first field after the name is field 3 of proc(5).
    let mut fields = rest.split_whitespace();
    let mut number = |skip: usize| fields.nth(skip)?.parse::<u64>().ok();
    let pgrp = i32::try_from(number(2)?).ok()?; // field 5
    let utime = number(8)?; // 14
    let stime = number(0)?; // 15
    let start_ticks = number(6)?; // 22
    let rss_pages = number(1)?; // 24
    Some(Stat {
        pgrp,
        cpu_ticks: utime.checked_add(stime)?,
        start_ticks,
        rss_pages,
    })
}

/// Time since boot, from `/proc/uptime` (`1234.56`; read without a float parser).
pub fn parse_uptime(text: &str) -> Option<Duration> {
    let first = text.split_whitespace().next()?;
    let (secs, fraction) = first.split_once('.').unwrap_or((first, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(fraction) || fraction.len() > 9 {
        return None;
    }
    let nanos = format!("{fraction:0<9}").parse().ok()?;
    Some(Duration::new(
        secs.parse().ok().filter(|_| all_digits(secs))?,
        nanos,
    ))
}

/// The value of `key` in an environ file.
pub fn environ_var<'a>(environ: &'a [u8], key: &str) -> Option<&'a [u8]> {
    environ
        .split(|b| *b == 0)
        .find_map(|entry| entry.strip_prefix(key.as_bytes())?.strip_prefix(b"="))
}

/// One process of the container with `PS` in its environment.
#[derive(Clone, Debug, PartialEq)]
pub struct Process {
    /// Its `PS`: the instance it belongs to.
    pub name: String,
    pub pid: i32,
    pub uptime: Duration,
    /// Resident set, in bytes.
    pub rss: u64,
    pub cpu: Duration,
}

/// What the machine's clock and pages are, to turn ticks and pages into time and bytes.
#[derive(Clone, Copy, Debug)]
pub struct Units {
    pub ticks_per_second: u64,
    pub page_size: u64,
    /// Time since boot, now.
    pub boot_uptime: Duration,
}

impl Process {
    /// A process from its `PS`, pid and /proc figures.
    pub fn new(name: String, pid: i32, stat: Stat, units: Units) -> Process {
        let per_second = units.ticks_per_second.max(1);
        let ticks = |n: u64| {
            let nanos = n % per_second * 1_000_000_000 / per_second;
            Duration::new(n / per_second, nanos as u32)
        };
        Process {
            name,
            pid,
            uptime: units.boot_uptime.saturating_sub(ticks(stat.start_ticks)),
            rss: stat.rss_pages.saturating_mul(units.page_size),
            cpu: ticks(stat.cpu_ticks),
        }
    }
}

/// What the listener says of one instance.
#[derive(Clone, Debug, PartialEq)]
pub struct Known {
    pub name: String,
    pub state: String,
    pub pid: Option<i32>,
    pub ready: bool,
    pub restarts: u64,
    /// The shell status of its last exit.
    pub last_exit: Option<i64>,
    /// How long its process has run, when the table says.
    pub uptime: Option<Duration>,
}

/// Reads the listener's answer to `GET /status`: the whole HTTP response.
pub fn parse_known(response: &[u8]) -> Result<Vec<Known>, String> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut head = httparse::Response::new(&mut headers);
    let len = match head.parse(response) {
        Ok(httparse::Status::Complete(len)) => len,
        _ => return Err("not an HTTP response".into()),
    };
    if head.code != Some(200) {
        return Err(format!("it answered {}", head.code.unwrap_or(0)));
    }
    let body = std::str::from_utf8(&response[len..]).map_err(|_| "the body is not UTF-8")?;
    parse_instances(body)
}

/// Reads a `/status` document (the listener's body, the control socket's answer).
pub fn parse_instances(body: &str) -> Result<Vec<Known>, String> {
    let doc = json::parse(body).ok_or("the body is not JSON")?;
    let Some(Value::Array(items)) = doc.get("instances") else {
        return Err("the JSON has no instances".into());
    };
    items
        .iter()
        .map(|item| {
            let text = |key| item.get(key).and_then(Value::as_str).map(String::from);
            let number = |key| item.get(key).and_then(Value::as_i64);
            Some(Known {
                name: text("name")?,
                state: text("state")?,
                pid: number("pid").and_then(|p| i32::try_from(p).ok()),
                ready: item.get("ready").and_then(Value::as_bool)?,
                restarts: u64::try_from(number("restarts")?).ok()?,
                last_exit: item
                    .get("last_exit")
                    .and_then(|e| e.get("status"))
                    .and_then(Value::as_i64),
                uptime: match item.get("uptime") {
                    Some(Value::Number(n)) => parse_uptime(n),
                    _ => None,
                },
            })
        })
        .collect::<Option<_>>()
        .ok_or_else(|| "an instance lacks a field".into())
}

/// The instances to show, in order: the listener's first (its table order), then names seen
/// only in /proc (sorted); each with its processes (sorted by pid).
fn group<'a>(
    procs: &'a [Process],
    known: &'a [Known],
) -> Vec<(&'a str, Option<&'a Known>, Vec<&'a Process>)> {
    let mut names: Vec<&str> = known.iter().map(|k| k.name.as_str()).collect();
    let mut extra: Vec<&str> = procs
        .iter()
        .map(|p| p.name.as_str())
        .filter(|n| !names.contains(n))
        .collect();
    extra.sort_unstable();
    extra.dedup();
    names.extend(extra);
    names
        .into_iter()
        .map(|name| {
            let mut mine: Vec<&Process> = procs.iter().filter(|p| p.name == name).collect();
            mine.sort_by_key(|p| p.pid);
            (name, known.iter().find(|k| k.name == name), mine)
        })
        .collect()
}

/// The table `formation status` prints: one row per process, the listener's columns on the
/// row of the instance's leader (or its first process), a row with pid `-` for an instance
/// with no process. `known` is None without a listener.
pub fn render_text(procs: &[Process], known: Option<&[Known]>) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut header = vec!["INSTANCE", "PID"];
    if known.is_some() {
        header.extend(["STATE", "READY", "RESTARTS", "LAST EXIT"]);
    }
    header.extend(["UPTIME", "RSS", "CPU"]);
    rows.push(header.into_iter().map(String::from).collect());
    for (name, k, mine) in group(procs, known.unwrap_or(&[])) {
        let leader = k
            .and_then(|k| k.pid)
            .filter(|pid| mine.iter().any(|p| p.pid == *pid));
        let leader = leader.or_else(|| mine.first().map(|p| p.pid));
        let listener_columns = |on_this_row: bool| -> Vec<String> {
            match (known, k) {
                (None, _) => vec![],
                (Some(_), Some(k)) if on_this_row => vec![
                    k.state.clone(),
                    (if k.ready { "yes" } else { "no" }).into(),
                    k.restarts.to_string(),
                    k.last_exit.map_or("-".into(), |s| s.to_string()),
                ],
                (Some(_), _) => vec!["-".into(); 4],
            }
        };
        if mine.is_empty() {
            let mut row = vec![name.to_string(), "-".into()];
            row.extend(listener_columns(true));
            row.extend(["-", "-", "-"].map(String::from));
            rows.push(row);
        }
        for p in mine {
            let mut row = vec![name.to_string(), p.pid.to_string()];
            row.extend(listener_columns(Some(p.pid) == leader));
            row.push(Human(Duration::from_secs(p.uptime.as_secs())).to_string());
            row.push(show_bytes(p.rss));
            row.push(format!(
                "{}.{:02}s",
                p.cpu.as_secs(),
                p.cpu.subsec_millis() / 10
            ));
            rows.push(row);
        }
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    out
}

/// `formation status --json`: one object per instance with its processes; `control`: the
/// instances are the control socket's (else /proc's, and the listener's, if any).
pub fn render_json(
    procs: &[Process],
    known: Option<&[Known]>,
    listener: Option<&str>,
    control: bool,
) -> String {
    let mut out = format!("{{\"control\":{control},\"listener\":");
    push_opt_string(&mut out, listener);
    out.push_str(",\"instances\":[");
    for (n, (name, k, mine)) in group(procs, known.unwrap_or(&[])).into_iter().enumerate() {
        out.push_str(if n == 0 {
            "\n{\"name\":"
        } else {
            ",\n{\"name\":"
        });
        push_opt_string(&mut out, Some(name));
        if let Some(k) = k {
            out.push_str(",\"state\":");
            push_opt_string(&mut out, Some(&k.state));
            let exit = k.last_exit.map_or("null".into(), |s| s.to_string());
            let _ = write!(
                out,
                ",\"ready\":{},\"restarts\":{},\"last_exit\":{exit}",
                k.ready, k.restarts
            );
        }
        out.push_str(",\"processes\":[");
        for (i, p) in mine.iter().enumerate() {
            let _ = write!(
                out,
                "{}{{\"pid\":{},\"uptime\":{},\"rss_bytes\":{},\"cpu_seconds\":{}}}",
                if i == 0 { "" } else { "," },
                p.pid,
                seconds(p.uptime),
                p.rss,
                seconds(p.cpu)
            );
        }
        out.push_str("]}");
    }
    out.push_str("\n]}\n");
    out
}

fn push_opt_string(out: &mut String, text: Option<&str>) {
    match text {
        None => out.push_str("null"),
        Some(text) => {
            let mut bytes = vec![b'"'];
            crate::output::format::escape_json(text.as_bytes(), &mut bytes);
            bytes.push(b'"');
            out.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
}

/// `123` tenths of `unit` → `12.3 unit`.
fn tenths(n: u64, unit: &str) -> String {
    format!("{}.{} {unit}", n / 10, n % 10)
}

/// `12.3 MiB`.
fn show_bytes(n: u64) -> String {
    match n {
        0..1024 => format!("{n} B"),
        1024..1_048_576 => tenths(n * 10 / 1024, "KiB"),
        _ => tenths(n / 1024 * 10 / 1024, "MiB"),
    }
}

pub mod groups;
#[cfg(test)]
mod tests;
