//! The formation as the status listener shows it: a [`Snapshot`] taken from the engine's
//! table when a request comes, and the bodies of `/health`, `/status` and `/metrics`.
//!
//! Must not: show an instance's environment or command line — they may hold secrets (SPEC
//! §9) —, so a [`Row`] does not even carry them.
//!
//! The engine's states map onto SPEC §9's: Waiting → waiting, Running → running, Stopping
//! and Ending (the leader exited, the rest of its group is being stopped) → stopping, Ended
//! → ended. `starting`, `ready` and `skipped` come with readiness checks and `after` (§4.2);
//! until then an instance is ready as soon as it runs, which is what §4.2 says of a type
//! without a `ready` check.

use crate::engine::exit::Exit;
use crate::engine::{Check, Engine, State};
use crate::output::logmux::Counts;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// Where an instance is, in SPEC §9's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// To be started: its first start (after its dependencies), a restart after its backoff,
    /// or its schedule's next fire.
    Waiting,
    /// Its process runs and its `ready` check has not passed yet.
    Starting,
    /// Its process runs and its `ready` check passed.
    Ready,
    /// Its process runs (it has no `ready` check).
    Running,
    /// It is being stopped: by a stop, or because its leader exited and its group must empty.
    Stopping,
    /// Ended for good.
    Ended,
    /// Never started: a dependency failed for good.
    Skipped,
    /// Stopped by the operator (SPEC §10), until a `start`.
    Stopped,
}

impl Phase {
    /// Its process runs.
    pub fn up(self) -> bool {
        matches!(self, Phase::Starting | Phase::Ready | Phase::Running)
    }
}

impl Phase {
    /// The name `/status` and `/health` use.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Waiting => "waiting",
            Phase::Starting => "starting",
            Phase::Ready => "ready",
            Phase::Running => "running",
            Phase::Stopping => "stopping",
            Phase::Ended => "ended",
            Phase::Skipped => "skipped",
            Phase::Stopped => "stopped",
        }
    }
}

/// One instance.
#[derive(Clone, Debug, PartialEq)]
pub struct Row<'a> {
    /// `web.1`.
    pub name: &'a str,
    /// Its process type: `web`.
    pub kind: &'a str,
    /// Whether its end stops the formation (only essential instances count for `/health`).
    pub essential: bool,
    /// A task (SPEC §4.3): `/health` leaves it out, running or completed (SPEC §9).
    pub oneshot: bool,
    pub phase: Phase,
    /// Its leader's pid while the leader runs.
    pub pid: Option<i32>,
    /// Ready: for now, running (no `ready` checks yet).
    pub ready: bool,
    /// Every restart it ever had.
    pub restarts: u32,
    /// How its process last ended.
    pub last_exit: Option<Exit>,
    /// How long its process has run (or ran, while its group is ending).
    pub uptime: Option<Duration>,
}

/// The formation at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot<'a> {
    /// The stop of the formation has begun.
    pub stopping: bool,
    pub rows: Vec<Row<'a>>,
    /// What the instances wrote: stdout, then stderr.
    pub output: [Counts; 2],
}

impl<'a> Snapshot<'a> {
    /// The engine's table at `now`. `types` names each process type by its index.
    pub fn of(engine: &'a Engine, types: &'a [String], output: [Counts; 2], now: Instant) -> Self {
        let rows = engine
            .views()
            .map(|view| {
                let (phase, pid, uptime) = match view.state {
                    State::Waiting { .. } | State::Gated { .. } | State::Idle => {
                        (Phase::Waiting, None, None)
                    }
                    State::Running { pid, since, check } => {
                        let phase = match (check, view.plan.ready.is_some()) {
                            (Check::Starting { .. }, _) => Phase::Starting,
                            (Check::Ready { .. }, true) => Phase::Ready,
                            (Check::Ready { .. }, false) => Phase::Running,
                        };
                        (phase, Some(pid), Some(now.saturating_duration_since(since)))
                    }
                    State::Stopping { pid, since, .. } => (
                        Phase::Stopping,
                        Some(pid),
                        Some(now.saturating_duration_since(since)),
                    ),
                    State::Ending { uptime, .. } => (Phase::Stopping, None, Some(uptime)),
                    State::Ended(_) => (Phase::Ended, None, None),
                    State::Skipped(_) => (Phase::Skipped, None, None),
                    State::Stopped => (Phase::Stopped, None, None),
                };
                let plan = view.plan;
                Row {
                    name: &plan.name,
                    // The engine's name of the type (a reload may add types), else the one given.
                    kind: match engine.type_name(plan.type_index) {
                        "" => types
                            .get(plan.type_index)
                            .map_or(&plan.name, |t| t.as_str()),
                        name => name,
                    },
                    essential: plan.essential,
                    oneshot: plan.oneshot,
                    phase,
                    pid: pid.map(|p| p.as_raw()),
                    ready: matches!(phase, Phase::Ready | Phase::Running),
                    restarts: view.restarts,
                    last_exit: view.last_exit,
                    uptime,
                }
            })
            .collect();
        Snapshot {
            stopping: engine.stopping(),
            rows,
            output,
        }
    }
}

/// `/health`: (healthy, body). Healthy when no stop has begun and every essential
/// non-oneshot instance runs and is ready; otherwise the body has one line per instance that
/// is not. A oneshot's failure for good stops the formation, which shows here as the stop.
pub fn health(snap: &Snapshot) -> (bool, String) {
    let mut body = String::new();
    if snap.stopping {
        body.push_str("formation is stopping\n");
    }
    for row in snap.rows.iter().filter(|r| r.essential && !r.oneshot) {
        if row.phase.up() && row.ready {
            continue;
        }
        let _ = write!(body, "{} {}", row.name, row.phase.name());
        if row.phase.up() {
            body.push_str(" (not ready)");
        }
        match row.last_exit {
            Some(exit) if !row.phase.up() => {
                let _ = writeln!(body, " (last: {exit})");
            }
            _ => body.push('\n'),
        }
    }
    if body.is_empty() {
        return (true, "ok\n".into());
    }
    (false, body)
}

/// `/status`: one JSON object, one instance per line.
pub fn status(snap: &Snapshot) -> String {
    let mut out = format!("{{\"stopping\":{},\"instances\":[", snap.stopping);
    for (n, row) in snap.rows.iter().enumerate() {
        out.push_str(if n == 0 { "\n" } else { ",\n" });
        out.push_str("{\"name\":");
        json_string(&mut out, row.name);
        out.push_str(",\"type\":");
        json_string(&mut out, row.kind);
        let _ = write!(
            out,
            ",\"state\":\"{}\",\"pid\":{},\"ready\":{},\"essential\":{},\"restarts\":{},\"last_exit\":",
            row.phase.name(),
            optional(row.pid),
            row.ready,
            row.essential,
            row.restarts,
        );
        match row.last_exit {
            None => out.push_str("null"),
            Some(Exit::Code(code)) => {
                let _ = write!(out, "{{\"status\":{code},\"code\":{code}}}");
            }
            Some(exit @ Exit::Signal(signo)) => {
                let _ = write!(out, "{{\"status\":{},\"signal\":{signo}}}", exit.status());
            }
            Some(exit @ Exit::OutOfMemory(_)) => {
                let status = exit.status();
                let _ = write!(out, "{{\"status\":{status},\"signal\":9,\"oom\":true}}");
            }
        }
        let uptime = row.uptime.map(seconds);
        let _ = write!(out, ",\"uptime\":{}}}", optional(uptime));
    }
    out.push_str("\n]}\n");
    out
}

/// `/metrics`: Prometheus' text format.
pub fn metrics(snap: &Snapshot) -> String {
    let mut out = String::new();
    type Value = fn(&Row) -> Option<i64>;
    let families: [(&str, &str, &str, Value); 4] = [
        (
            "formation_instance_up",
            "gauge",
            "1 while the instance's process runs.",
            |r| Some(i64::from(r.pid.is_some())),
        ),
        (
            "formation_instance_ready",
            "gauge",
            "1 while the instance is ready.",
            |r| Some(i64::from(r.ready)),
        ),
        (
            "formation_instance_restarts_total",
            "counter",
            "Restarts of the instance since formation started.",
            |r| Some(i64::from(r.restarts)),
        ),
        (
            "formation_instance_last_exit_code",
            "gauge",
            "The status of the instance's last exit (128+N for signal N).",
            |r| r.last_exit.map(|e| i64::from(e.status())),
        ),
    ];
    for (name, kind, help, value) in families {
        let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n");
        for row in &snap.rows {
            if let Some(v) = value(row) {
                out.push_str(name);
                out.push_str("{instance=\"");
                label_value(&mut out, row.name);
                out.push_str("\",type=\"");
                label_value(&mut out, row.kind);
                let _ = writeln!(out, "\"}} {v}");
            }
        }
    }
    let [stdout, stderr] = snap.output;
    for (name, what, pick) in [
        (
            "formation_output_lines_total",
            "Lines the instances wrote.",
            (|c: &Counts| c.lines) as fn(&Counts) -> u64,
        ),
        (
            "formation_output_bytes_total",
            "Bytes the instances wrote.",
            |c: &Counts| c.bytes,
        ),
    ] {
        let _ = write!(
            out,
            "# HELP {name} {what}\n# TYPE {name} counter\n\
             {name}{{stream=\"stdout\"}} {}\n{name}{{stream=\"stderr\"}} {}\n",
            pick(&stdout),
            pick(&stderr)
        );
    }
    out
}

/// `12.345`: seconds with milliseconds, by integer arithmetic (no float formatting code).
pub fn seconds(d: Duration) -> String {
    format!("{}.{:03}", d.as_secs(), d.subsec_millis())
}

fn optional(value: Option<impl std::fmt::Display>) -> String {
    value.map_or_else(|| "null".into(), |v| v.to_string())
}

/// Appends `text` as a JSON string, quotes included.
fn json_string(out: &mut String, text: &str) {
    let mut bytes = Vec::with_capacity(text.len() + 2);
    bytes.push(b'"');
    crate::output::format::escape_json(text.as_bytes(), &mut bytes);
    bytes.push(b'"');
    out.push_str(&String::from_utf8_lossy(&bytes));
}

/// Appends `text` as a Prometheus label value: `\`, `"` and newlines escaped.
fn label_value(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}
