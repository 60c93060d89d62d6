//! The wall clock, read in one place: schedules fire on it (SPEC §4.4), and the engine is
//! handed its value rather than reading it.

/// The wall clock in milliseconds since the Unix epoch (0 if the clock is before it).
pub fn wall_ms() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
