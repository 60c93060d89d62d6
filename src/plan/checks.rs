//! Readiness and health checks, and the start order, as the engine and the probes need them:
//! resolved for one instance (`$PORT` expanded, a bare port made an address).
//!
//! Pure data: the engine schedules attempts and counts results; `os::probe` makes them.

use std::ffi::OsString;
use std::time::Duration;

/// How one check is made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeKind {
    /// A TCP connect to `host:port` succeeds.
    Tcp(String),
    /// A GET of this `http://` URL answers 2xx or 3xx.
    Http(String),
    /// This command exits 0 (run with the instance's environment, cwd and user).
    Exec(Vec<OsString>),
    /// A line of the instance's output contains this text.
    Log(String),
    /// The instance sends `READY=1` on its notify socket.
    Notify,
}

impl ProbeKind {
    /// Whether formation makes attempts (tcp, http, exec), rather than waiting to be told
    /// (log, notify).
    pub fn active(&self) -> bool {
        matches!(
            self,
            ProbeKind::Tcp(_) | ProbeKind::Http(_) | ProbeKind::Exec(_)
        )
    }

    /// A few words for lines: `tcp 127.0.0.1:5432`.
    pub fn describe(&self) -> String {
        match self {
            ProbeKind::Tcp(addr) => format!("tcp {addr}"),
            ProbeKind::Http(url) => format!("http {url}"),
            ProbeKind::Exec(argv) => {
                let words: Vec<_> = argv.iter().map(|w| w.to_string_lossy()).collect();
                format!("exec {}", words.join(" "))
            }
            ProbeKind::Log(text) => format!("log {text:?}"),
            ProbeKind::Notify => "notify".into(),
        }
    }
}

/// `ready` (SPEC §4.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadyCheck {
    /// What is checked.
    pub kind: ProbeKind,
    /// Time between attempts.
    pub interval: Duration,
    /// A start not ready by then has failed; None waits for ever.
    pub timeout: Option<Duration>,
}

/// `health` (SPEC §4.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthCheck {
    /// What is checked (tcp, http or exec).
    pub kind: ProbeKind,
    /// Time between attempts.
    pub interval: Duration,
    /// Failures in a row that make the instance unhealthy.
    pub failures: u32,
    /// The bound of one attempt.
    pub timeout: Duration,
}

/// The bound of one readiness attempt: its interval, or 1 s, whichever is larger.
pub fn attempt_bound(interval: Duration) -> Duration {
    interval.max(Duration::from_secs(1))
}

/// `schedule` with its zone (SPEC §4.4), shared by a scheduled type's instances.
#[derive(Debug)]
pub struct Timetable {
    /// When it fires.
    pub schedule: crate::time::cron::Schedule,
    /// The zone cron fields are read in.
    pub zone: crate::time::tz::Zone,
}
