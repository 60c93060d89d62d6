//! Small value parsers shared by the command line, the environment and the config file:
//! durations, signal names and log levels.
//!
//! Pure: text in, value or a one-line reason out. The caller adds where the text came from.

use nix::sys::signal::Signal;
use std::time::Duration;

/// Parses `500ms`, `10s`, `1.5s`, `2m`, `1h`, or a plain number of seconds.
pub fn duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let not_a_duration = || format!("{text:?} is not a duration (e.g. \"500ms\", \"10s\", \"2m\")");
    if number.is_empty() {
        return Err(not_a_duration());
    }
    let scale = match unit.trim() {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "unknown unit {other:?} in duration {text:?} (use ms, s, m or h)"
            ));
        }
    };
    let value: f64 = number.parse().map_err(|_| not_a_duration())?;
    Duration::try_from_secs_f64(value * scale)
        .ok()
        .filter(|d| *d <= Duration::from_secs(365 * 86_400))
        .ok_or_else(|| format!("duration {text:?} is out of range"))
}

/// A duration as formation prints it: `0s`, `250ms`, `1.5s`, `2m`, `1m30s`, `1h`.
pub fn show_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 || !ms.is_multiple_of(1000) && ms >= 60_000 {
        // Zero, or a sub-second remainder on minutes: seconds with a fraction say it exactly.
        return format!("{}s", d.as_secs_f64());
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    if ms < 60_000 {
        return format!("{}s", d.as_secs_f64());
    }
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    for (n, unit) in [(h, "h"), (m, "m"), (s, "s")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    out
}

/// Parses `SIGQUIT`, `QUIT` (any case) or `3`.
pub fn signal(text: &str) -> Result<Signal, String> {
    let bad =
        || format!("{text:?} is not a signal name or number (e.g. \"SIGQUIT\", \"QUIT\", \"3\")");
    if let Ok(number) = text.parse::<i32>() {
        return Signal::try_from(number).map_err(|_| bad());
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse::<Signal>().map_err(|_| bad())
}

/// formation's own verbosity (`FORMATION_LOG`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Only errors.
    Error,
    /// Errors and warnings.
    Warn,
    /// Lifecycle lines: started, exited, restarting, stopping (formation mode's default).
    Info,
    /// Everything, including single-command mode's otherwise silent decisions.
    Debug,
}

/// Parses `error`, `warn`, `info` or `debug`.
pub fn level(text: &str) -> Result<Level, String> {
    match text.to_ascii_lowercase().as_str() {
        "error" => Ok(Level::Error),
        "warn" | "warning" => Ok(Level::Warn),
        "info" => Ok(Level::Info),
        "debug" => Ok(Level::Debug),
        _ => Err(format!(
            "{text:?} is not a log level (error, warn, info, debug)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_people_write_them() {
        let ms = Duration::from_millis;
        let table = [
            (ms(0), "0s"),
            (ms(10), "10ms"),
            (ms(250), "250ms"),
            (ms(1000), "1s"),
            (ms(1500), "1.5s"),
            (ms(30_000), "30s"),
            (ms(60_000), "1m"),
            (ms(90_000), "1m30s"),
            (ms(3_600_000), "1h"),
            (ms(4_500_000), "1h15m"),
            (ms(60_500), "60.5s"),
        ];
        for (d, want) in table {
            assert_eq!(show_duration(d), want, "{d:?}");
        }
    }

    #[test]
    fn durations() {
        let ms = Duration::from_millis;
        let table = [
            ("500ms", ms(500)),
            ("10s", ms(10_000)),
            ("1.5s", ms(1_500)),
            ("2m", ms(120_000)),
            ("1h", ms(3_600_000)),
            ("5", ms(5_000)),
            ("0", ms(0)),
        ];
        for (text, want) in table {
            assert_eq!(duration(text), Ok(want), "{text}");
        }
        for bad in ["", "s", "10x", "-1s", "1e3", "ten", "999999h", "1.2.3s"] {
            assert!(duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn signals() {
        for text in ["SIGQUIT", "QUIT", "quit", "3"] {
            assert_eq!(signal(text), Ok(Signal::SIGQUIT), "{text}");
        }
        for bad in ["SIGNOPE", "0", "65", "", "-1"] {
            assert!(signal(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn levels() {
        assert_eq!(level("DEBUG"), Ok(Level::Debug));
        assert!(level("loud").is_err());
        assert!(Level::Debug > Level::Info && Level::Warn > Level::Error);
    }

    proptest::proptest! {
        #[test]
        fn durations_and_signals_never_panic(text in "\\PC{0,30}") {
            let _ = duration(&text);
            let _ = signal(&text);
            let _ = level(&text);
        }

        #[test]
        fn whole_milliseconds_round_trip(ms in 0u64..10_000_000) {
            proptest::prop_assert_eq!(duration(&format!("{ms}ms")), Ok(Duration::from_millis(ms)));
        }
    }
}
