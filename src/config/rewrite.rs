//! Signal rewriting (SPEC §1.1, dumb-init's `-r`): a table SRC → DST, or SRC → nothing
//! (dropped), and the rules for what may be rewritten — `-r SRC:DST` on the command line for
//! every received signal, and a type's `signals = { HUP = "USR1", WINCH = "" }` for what is
//! forwarded to that type's groups.
//!
//! Owns: the table, the `SRC:DST` grammar (numbers or names, as `names::signal` reads them;
//! DST `0` drops), and which signals may stand on each side. Pure: text in, a value or a
//! one-line reason out; the caller adds where the text came from.
//!
//! Must not: decide what a signal means — `engine::signal_rules` looks the received signal up here
//! and then classifies what it became, as if that had arrived (dumb-init rewrites before it
//! acts, too).
//!
//! One lookup, no chains: with `-r 1:2 -r 2:3`, HUP becomes INT, not QUIT (dumb-init's table
//! works the same way); a later rule for the same SRC wins. The table covers the signals that
//! have names (1–31): real-time signals are never forwarded, so they have nothing to rewrite.

use crate::config::names;
use nix::sys::signal::Signal;
use std::fmt;

/// Signal numbers with names on Linux: 1–31.
const SLOTS: usize = 32;

/// What each signal becomes: `to[src]` is DST's number, 0 when SRC is dropped. Copy, 32
/// bytes: it sits in the engine's settings and in each process type.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Rewrites {
    to: [u8; SLOTS],
}

impl Default for Rewrites {
    /// Every signal stays itself.
    fn default() -> Self {
        let mut to = [0u8; SLOTS];
        for (n, slot) in to.iter_mut().enumerate() {
            *slot = n as u8;
        }
        Rewrites { to }
    }
}

impl Rewrites {
    /// From now on `src` becomes `dst` (None: it is dropped).
    pub fn set(&mut self, src: Signal, dst: Option<Signal>) {
        self.to[src as usize] = dst.map_or(0, |d| d as u8);
    }

    /// What `sig` becomes: itself when no rule names it, None when it is dropped.
    pub fn apply(&self, sig: Signal) -> Option<Signal> {
        let n = *self.to.get(sig as usize)?;
        Signal::try_from(i32::from(n)).ok()
    }

    /// No rule changes anything.
    pub fn is_identity(&self) -> bool {
        *self == Rewrites::default()
    }

    /// The rules that change something, by SRC number.
    fn rules(&self) -> impl Iterator<Item = (Signal, Option<Signal>)> + '_ {
        (1..SLOTS as i32)
            .filter_map(|n| Signal::try_from(n).ok())
            .filter(|&sig| self.apply(sig) != Some(sig))
            .map(|sig| (sig, self.apply(sig)))
    }
}

impl fmt::Display for Rewrites {
    /// `HUP:USR1,WINCH:0` (dumb-init's syntax, with names), or `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut any = false;
        for (src, dst) in self.rules() {
            let sep = if any { "," } else { "" };
            any = true;
            let src = short(src);
            match dst {
                Some(dst) => write!(f, "{sep}{src}:{}", short(dst))?,
                None => write!(f, "{sep}{src}:0")?,
            }
        }
        if !any {
            f.write_str("none")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Rewrites {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rewrites({self})")
    }
}

/// `QUIT` for SIGQUIT.
fn short(sig: Signal) -> &'static str {
    let name = sig.as_str();
    name.strip_prefix("SIG").unwrap_or(name)
}

/// Parses one `-r` rule, `SRC:DST`: numbers or names (`15:3`, `TERM:QUIT`, `SIGTERM:quit`);
/// DST `0` drops SRC.
pub fn rule(text: &str) -> Result<(Signal, Option<Signal>), String> {
    let Some((src, dst)) = text.split_once(':') else {
        return Err(format!(
            "{text:?} is not of the form SRC:DST (e.g. TERM:QUIT, 15:3, or WINCH:0 to drop it)"
        ));
    };
    let src = names::signal(src.trim())?;
    if let Some(why) = fixed_source(src) {
        return Err(format!("{} cannot be rewritten: {why}", src.as_str()));
    }
    let dst = match dst.trim() {
        "0" => None,
        text => Some(names::signal(text)?),
    };
    if dst == Some(Signal::SIGCHLD) {
        return Err(
            "SIGCHLD cannot be a rewrite's target: formation reaps on it, it forwards nothing"
                .into(),
        );
    }
    Ok((src, dst))
}

/// Why `sig` can never be the source of a rule, if it cannot: it never reaches formation as
/// something to act on.
fn fixed_source(sig: Signal) -> Option<&'static str> {
    match sig {
        Signal::SIGKILL | Signal::SIGSTOP => Some("it cannot be caught"),
        Signal::SIGCHLD => Some("formation reaps on it"),
        _ => None,
    }
}

/// Why a process type's `signals` table may not name `sig`, if it may not: the table rewrites
/// what is *forwarded* to that type, and these never are.
pub fn per_type_error(sig: Signal) -> Option<String> {
    if let Some(why) = fixed_source(sig) {
        return Some(format!("{} cannot be rewritten: {why}", sig.as_str()));
    }
    let why = match sig {
        Signal::SIGTERM | Signal::SIGINT | Signal::SIGQUIT => {
            "it stops the formation and is not forwarded; `stop_signal` sets what the stop sends"
        }
        Signal::SIGTSTP | Signal::SIGTTIN | Signal::SIGTTOU => {
            "job-control signals suspend the whole formation (SIGSTOP to every group), or are \
             ignored as PID 1; they are not forwarded"
        }
        Signal::SIGCONT => "it resumes every group after a suspend",
        _ => return None,
    };
    Some(format!("{} is not rewritten per type: {why}", sig.as_str()))
}

/// A type's `signals` value: a signal name or number, or `""`/`0` for "not forwarded".
pub fn target(text: &str) -> Result<Option<Signal>, String> {
    match text.trim() {
        "" | "0" => Ok(None),
        text => names::signal(text).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Signal::*;

    #[test]
    fn rules_parse_by_number_or_name() {
        let table = [
            ("15:3", Ok((SIGTERM, Some(SIGQUIT)))),
            ("TERM:QUIT", Ok((SIGTERM, Some(SIGQUIT)))),
            ("sigterm:sigquit", Ok((SIGTERM, Some(SIGQUIT)))),
            ("SIGHUP:usr1", Ok((SIGHUP, Some(SIGUSR1)))),
            ("28:0", Ok((SIGWINCH, None))),
            (" WINCH : 0 ", Ok((SIGWINCH, None))),
            ("TSTP:0", Ok((SIGTSTP, None))),
            ("PIPE:HUP", Ok((SIGPIPE, Some(SIGHUP)))),
            ("HUP:KILL", Ok((SIGHUP, Some(SIGKILL)))),
        ];
        for (text, want) in table {
            assert_eq!(rule(text), want, "{text}");
        }
    }

    #[test]
    fn bad_rules_say_why() {
        let table = [
            ("15", "is not of the form SRC:DST"),
            ("", "is not of the form SRC:DST"),
            ("TERM:", "is not a signal name or number"),
            (":3", "is not a signal name or number"),
            ("0:3", "is not a signal name or number"),
            ("TERM:NOPE", "\"NOPE\" is not a signal name or number"),
            ("99:1", "\"99\" is not a signal"),
            (
                "KILL:TERM",
                "SIGKILL cannot be rewritten: it cannot be caught",
            ),
            ("19:1", "SIGSTOP cannot be rewritten: it cannot be caught"),
            (
                "CHLD:0",
                "SIGCHLD cannot be rewritten: formation reaps on it",
            ),
            ("HUP:CHLD", "SIGCHLD cannot be a rewrite's target"),
            ("1:2:3", "is not a signal name or number"),
        ];
        for (text, want) in table {
            let err = rule(text).expect_err(text);
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn the_table_is_one_lookup_and_the_last_rule_wins() {
        let mut r = Rewrites::default();
        assert!(r.is_identity());
        assert_eq!(r.to_string(), "none");
        r.set(SIGHUP, Some(SIGINT));
        r.set(SIGINT, Some(SIGQUIT));
        r.set(SIGWINCH, Some(SIGUSR1));
        r.set(SIGWINCH, None);
        assert_eq!(r.apply(SIGHUP), Some(SIGINT), "no chain");
        assert_eq!(r.apply(SIGINT), Some(SIGQUIT));
        assert_eq!(r.apply(SIGWINCH), None);
        assert_eq!(r.apply(SIGUSR2), Some(SIGUSR2));
        assert_eq!(r.to_string(), "HUP:INT,INT:QUIT,WINCH:0");
        r.set(SIGHUP, Some(SIGHUP));
        assert_eq!(
            r.to_string(),
            "INT:QUIT,WINCH:0",
            "a rule back to itself is none"
        );
        assert!(!r.is_identity());
    }

    #[test]
    fn per_type_keys_name_only_forwarded_signals() {
        for sig in [SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH, SIGPIPE, SIGALRM] {
            assert_eq!(per_type_error(sig), None, "{sig}");
        }
        let table = [
            (SIGTERM, "`stop_signal` sets what the stop sends"),
            (SIGINT, "it stops the formation"),
            (SIGQUIT, "it stops the formation"),
            (SIGTSTP, "suspend the whole formation"),
            (SIGTTOU, "suspend the whole formation"),
            (SIGCONT, "resumes every group"),
            (SIGCHLD, "formation reaps on it"),
            (SIGKILL, "it cannot be caught"),
        ];
        for (sig, want) in table {
            let err = per_type_error(sig).expect("an error");
            assert!(err.contains(want), "{sig}: {err}");
        }
        assert_eq!(target(""), Ok(None));
        assert_eq!(target("0"), Ok(None));
        assert_eq!(target("usr1"), Ok(Some(SIGUSR1)));
        assert!(target("USR3").is_err());
    }

    proptest::proptest! {
        #[test]
        fn rules_never_panic(text in "\\PC{0,20}") {
            let _ = rule(&text);
            let _ = target(&text);
        }

        /// Every rule that parses reads back the same from its printed form, and numbers and
        /// names are the same rule.
        #[test]
        fn rules_round_trip(src in 1i32..32, dst in 0i32..32) {
            let by_number = rule(&format!("{src}:{dst}"));
            if let Ok((s, d)) = by_number {
                let mut r = Rewrites::default();
                r.set(s, d);
                let printed = r.to_string();
                if printed != "none" {
                    proptest::prop_assert_eq!(rule(&printed), Ok((s, d)));
                }
                proptest::prop_assert_eq!(r.apply(s), d);
            } else {
                let fixed = [SIGKILL as i32, SIGSTOP as i32, SIGCHLD as i32];
                proptest::prop_assert!(fixed.contains(&src) || dst == SIGCHLD as i32);
            }
        }
    }
}
