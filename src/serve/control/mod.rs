//! The control line protocol (SPEC §10), the pure part: the words of a request → a
//! [`Request`] (the client checks its own arguments with the same parse, the server the line
//! it received), and the last line of an answer, both ways.
//!
//! A request is one line: the command's words as typed after `formation`, tab-separated
//! (`restart\tweb\t--wait`). An answer is lines, the last of which is `ok`, `error: REASON`
//! (refused or failed: the client exits 1) or `error: usage: REASON` (an unknown command,
//! type or instance, bad words, a config with errors: the client exits 2).
//!
//! Must not: touch a socket or the engine: the targets are words here, resolved by the engine.

use crate::config::names;
use crate::engine::control::Order;
use crate::time::duration;
use std::time::Duration;

/// The longest request line, its newline included.
pub const MAX_LINE: usize = 4096;

/// The control commands, as the command line and the wire name them.
pub const COMMANDS: [&str; 7] = [
    "status", "restart", "stop", "start", "scale", "signal", "reload",
];

/// What a request asks for: the table, or an order for the engine (the engine's own type:
/// the wire names the same commands the engine carries out).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `status [--json]`: the table; `json` only changes what the client prints.
    Status { json: bool },
    /// `restart`, `stop`, `start`, `scale`, `signal` or `reload`.
    Order(Order),
}

/// One request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub command: Command,
    /// `--wait`: stream progress until the request is done.
    pub wait: bool,
    /// `--timeout D`: how long `--wait` waits (None: the request's default).
    pub timeout: Option<Duration>,
}

/// How an answer ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// Done: `ok`.
    Ok,
    /// Refused, failed or timed out: `error: REASON`; the client exits 1.
    Failed(String),
    /// A usage or config error: `error: usage: REASON`; the client exits 2.
    Usage(String),
}

impl End {
    /// The answer's last line, newline included.
    pub fn line(&self) -> String {
        match self {
            End::Ok => "ok\n".into(),
            End::Failed(reason) => format!("error: {}\n", one_line(reason)),
            End::Usage(reason) => format!("error: usage: {}\n", one_line(reason)),
        }
    }

    /// Reads an answer's line: Some when it is the last one.
    pub fn parse(line: &str) -> Option<End> {
        if line == "ok" {
            return Some(End::Ok);
        }
        let reason = line.strip_prefix("error: ")?;
        Some(match reason.strip_prefix("usage: ") {
            Some(usage) => End::Usage(usage.into()),
            None => End::Failed(reason.into()),
        })
    }

    /// The client's exit status.
    pub fn status(&self) -> i32 {
        match self {
            End::Ok => 0,
            End::Failed(_) => 1,
            End::Usage(_) => 2,
        }
    }
}

/// A line of an answer never holds a newline: one line per line, whatever the text.
pub fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

/// The words of a request line (its newline, and a CR before it, removed), or why it is none.
pub fn words(line: &[u8]) -> Result<Vec<&str>, String> {
    let Some(line) = line.strip_suffix(b"\n") else {
        return Err(format!("a request is one line of at most {MAX_LINE} bytes"));
    };
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let text = std::str::from_utf8(line).map_err(|_| "the request is not UTF-8".to_string())?;
    if text.is_empty() {
        return Err("an empty request".into());
    }
    Ok(text.split('\t').collect())
}

/// Parses the words of a control command (`restart web --wait`). Errors are usage errors:
/// one line, naming what is wrong.
pub fn parse<S: AsRef<str>>(words: &[S]) -> Result<Request, String> {
    let mut words = words.iter().map(AsRef::as_ref);
    let name = words.next().unwrap_or_default();
    if !COMMANDS.contains(&name) {
        return Err(format!("unknown command {name:?}"));
    }
    let mut wait = false;
    let mut timeout = None;
    let mut dry_run = false;
    let mut json = false;
    let mut rest = Vec::new();
    while let Some(word) = words.next() {
        let (flag, inline) = match word.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value)),
            _ => (word, None),
        };
        let switch = |on: &mut bool, for_: &[&str]| {
            if !for_.contains(&name) {
                return Err(format!("{name} takes no {flag}"));
            }
            if inline.is_some() {
                return Err(format!("{flag} takes no value"));
            }
            *on = true;
            Ok(())
        };
        match flag {
            "--wait" => switch(&mut wait, &WAITS)?,
            "--dry-run" => switch(&mut dry_run, &["reload"])?,
            "--json" => switch(&mut json, &["status"])?,
            "--timeout" => {
                if !WAITS.contains(&name) {
                    return Err(format!("{name} takes no --timeout"));
                }
                let value = inline
                    .or_else(|| words.next())
                    .ok_or("--timeout needs a duration")?;
                timeout = Some(duration::duration(value).map_err(|e| format!("--timeout: {e}"))?);
            }
            // `--` ends the options: a target may start with `-` after it.
            "--" => rest.extend(words.by_ref()),
            _ if word.starts_with('-') && word.len() > 1 && !is_number(&word[1..]) => {
                return Err(format!("unknown option {flag} for {name}"));
            }
            _ => rest.push(word),
        }
    }
    if timeout.is_some() && !wait {
        return Err("--timeout is for --wait".into());
    }
    if rest.iter().any(|w| w.is_empty()) {
        return Err(format!("an empty word in {name}'s arguments"));
    }
    let targets = |rest: &[&str]| -> Result<Vec<String>, String> {
        if rest.is_empty() {
            return Err(format!(
                "{name} needs a target: a process type (web) or an instance (web.2)"
            ));
        }
        Ok(rest.iter().map(|w| w.to_string()).collect())
    };
    let none = |rest: &[&str]| match rest.first() {
        Some(word) => Err(format!("{name} takes no argument (not {word:?})")),
        None => Ok(()),
    };
    let command = match name {
        "status" => none(&rest).map(|()| Command::Status { json })?,
        "restart" => Command::Order(Order::Restart(targets(&rest)?)),
        "stop" => Command::Order(Order::Stop(targets(&rest)?)),
        "start" => Command::Order(Order::Start(targets(&rest)?)),
        "scale" => {
            if rest.is_empty() {
                return Err("scale needs TYPE=N (e.g. worker=3)".into());
            }
            let mut scales = Vec::new();
            for word in &rest {
                scales.extend(crate::plan::parse_scale(word)?);
            }
            if scales.is_empty() {
                return Err("scale needs TYPE=N (e.g. worker=3)".into());
            }
            Command::Order(Order::Scale(scales))
        }
        "signal" => {
            let (signal, rest) = rest
                .split_first()
                .ok_or("signal needs a signal and a target (signal HUP web)")?;
            // `-9` as kill(1) takes it.
            let signal = signal
                .strip_prefix('-')
                .filter(|n| is_number(n))
                .unwrap_or(signal);
            Command::Order(Order::Signal(names::signal(signal)?, targets(rest)?))
        }
        _ => none(&rest).map(|()| Command::Order(Order::Reload { dry_run }))?,
    };
    Ok(Request {
        command,
        wait,
        timeout,
    })
}

/// The commands that take `--wait` and `--timeout`.
const WAITS: [&str; 5] = ["restart", "stop", "start", "scale", "reload"];

/// `9`: also what makes `-9` (`signal -9 web`) no option.
fn is_number(word: &str) -> bool {
    !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests;
