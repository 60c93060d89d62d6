//! The lifecycle keys of a process type as the config gives them (SPEC §3.2, §4.2–§4.5):
//! `ready`, `health`, `schedule` and `timezone` (`after` and `oneshot` are plain fields of
//! `ProcessType`). The schema reads them (`schema/lifecycle.rs`), `validate/lifecycle.rs`
//! checks them across types, and the plan resolves `$PORT` and type names into what the
//! engine runs.

use super::{CommandLine, Place};
use crate::time::cron::Schedule;
use crate::time::tz::Zone;
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
