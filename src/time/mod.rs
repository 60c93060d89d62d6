//! Time as the config writes it and the scheduler needs it: durations (`duration.rs`), cron
//! schedules (`cron/`), time zones from TZif files and POSIX TZ rules (`tz/`), and civil
//! dates (`civil.rs`). Used by config, plan, engine, output and export alike, so it sits
//! below all of them.
//!
//! Owns: the grammars (`1m30s`, five-field cron, `Europe/Berlin`, `CET-1CEST,M3.5.0,M10.5.0/3`),
//! and fire-time and offset arithmetic on plain integers.
//!
//! Must not: know a process, read a clock (the caller passes `now`), or read a file other
//! than the zoneinfo the caller names (`tz::Zone::load`).

pub mod civil;
pub mod cron;
pub mod duration;
pub mod tz;
