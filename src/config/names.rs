//! Signal names and log levels as the command line, the environment and the config file
//! write them (`stop_signal = "QUIT"`, `-r TERM:HUP`, `FORMATION_LOG=debug`).
//!
//! Pure: text in, value or a one-line reason out. The caller adds where the text came from.

use nix::sys::signal::Signal;

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
        fn signals_and_levels_never_panic(text in "\\PC{0,30}") {
            let _ = signal(&text);
            let _ = level(&text);
        }
    }
}
