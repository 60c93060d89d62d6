//! Durations as formation reads and prints them (SPEC §2, §3): `-t 5`, `grace = "1m30s"`,
//! `@every 10s`, and every line of ours that shows one ([`Human`]). Shared by the command
//! line, the environment, the config file and the schedule grammar.
//!
//! Pure: text in, value or a one-line reason out. The caller adds where the text came from.

use std::time::Duration;

/// The longest duration accepted anywhere: a year. Longer is surely a typo, and the cap keeps
/// every sum of durations (a worst-case stop time) far from overflowing an `Instant`.
const MAX_DURATION: Duration = Duration::from_secs(365 * 86_400);

/// Parses `500ms`, `10s`, `1.5s`, `2m`, `1h`, compound forms (`1m30s`, `1h15m`, `2s500ms`:
/// units from largest to smallest, each once), or a plain number of seconds (`0`, `5`).
///
/// Decimals are read exactly (no float rounding): `0.001s` is one millisecond, and what
/// [`Human`] prints parses back to the same value.
pub fn duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let not_a_duration =
        || format!("{text:?} is not a duration (e.g. \"500ms\", \"10s\", \"1m30s\", \"2h\")");
    if text.is_empty() {
        return Err(not_a_duration());
    }
    // A plain number is seconds (SPEC §2: `-t 5`).
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return number_nanos(text, NANOS_PER_SEC)
            .and_then(cap)
            .ok_or_else(|| too_long_or_bad(text));
    }
    let mut rest = text;
    let mut total: u128 = 0;
    let mut last_unit = u128::MAX;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(digits);
        if number.is_empty() {
            return Err(not_a_duration());
        }
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let per_unit = match unit {
            "ms" => NANOS_PER_SEC / 1000,
            "s" => NANOS_PER_SEC,
            "m" => 60 * NANOS_PER_SEC,
            "h" => 3600 * NANOS_PER_SEC,
            "" => return Err(not_a_duration()),
            other => {
                return Err(format!(
                    "unknown unit {other:?} in duration {text:?} (use ms, s, m or h)"
                ));
            }
        };
        if per_unit >= last_unit {
            return Err(format!(
                "{text:?}: give each unit once, largest first (e.g. \"1h15m\", \"1m30s\")"
            ));
        }
        last_unit = per_unit;
        total = total.saturating_add(number_nanos(number, per_unit).ok_or_else(not_a_duration)?);

        if total > MAX_DURATION.as_nanos() {
            return Err(too_long_or_bad(text));
        }
        rest = next;
    }
    cap(total).ok_or_else(|| too_long_or_bad(text))
}

const NANOS_PER_SEC: u128 = 1_000_000_000;

/// `digits[.digits]` times `per_unit` nanoseconds, exactly; digits past a nanosecond are
/// dropped. None when it is not such a number.
fn number_nanos(number: &str, per_unit: u128) -> Option<u128> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole = whole.trim_start_matches('0');
    if whole.len() > 20 {
        // Over a year in any unit; saturate rather than overflow, the cap rejects it.
        return Some(u128::MAX);
    }
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut nanos = whole.saturating_mul(per_unit);
    let mut scale = per_unit;
    for digit in fraction.bytes().take(18) {
        scale /= 10;
        nanos += u128::from(digit - b'0') * scale;
    }
    Some(nanos)
}

fn cap(nanos: u128) -> Option<Duration> {
    (nanos <= MAX_DURATION.as_nanos()).then(|| {
        let secs = (nanos / NANOS_PER_SEC) as u64;
        Duration::new(secs, (nanos % NANOS_PER_SEC) as u32)
    })
}

fn too_long_or_bad(text: &str) -> String {
    format!("duration {text:?} is out of range (at most a year)")
}

/// A duration as formation prints it, in the form [`duration`] reads: `0s`, `500ms`, `1.5s`,
/// `1m30s`, `1h15m`. Every line of ours that shows a duration uses it, so that what a user
/// reads can be pasted back into the config.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Human(pub Duration);

impl std::fmt::Display for Human {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let total = self.0.as_secs();
        let nanos = self.0.subsec_nanos();
        let (hours, minutes, secs) = (total / 3600, total / 60 % 60, total % 60);
        if hours > 0 {
            write!(f, "{hours}h")?;
        }
        if minutes > 0 {
            write!(f, "{minutes}m")?;
        }
        if secs == 0 && nanos == 0 {
            if total == 0 {
                f.write_str("0s")?;
            }
            return Ok(());
        }
        if total == 0 && nanos.is_multiple_of(1_000_000) {
            return write!(f, "{}ms", nanos / 1_000_000);
        }
        write!(f, "{secs}")?;
        if nanos > 0 {
            let fraction = format!("{nanos:09}");
            write!(f, ".{}", fraction.trim_end_matches('0'))?;
        }
        f.write_str("s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            ("0s", ms(0)),
            ("1m30s", ms(90_000)),
            ("1h15m", ms(4_500_000)),
            ("2s500ms", ms(2_500)),
            ("1h0m5s", ms(3_605_000)),
            ("0.001s", ms(1)),
            ("0000000000000000000000001s", ms(1000)),
            (".5s", ms(500)),
            ("1.5m", ms(90_000)),
            (" 10s ", ms(10_000)),
        ];
        for (text, want) in table {
            assert_eq!(duration(text), Ok(want), "{text}");
        }
        for bad in [
            "",
            "s",
            "10x",
            "-1s",
            "1e3",
            "ten",
            "999999h",
            "1.2.3s",
            "1s1m",
            "1s1s",
            "1m 30s",
            "1m30",
            ".",
            "5.s.",
            "366d",
            "8761h",
            "99999999999999999999999s",
        ] {
            assert!(duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn durations_print_as_they_are_written() {
        let ms = Duration::from_millis;
        let table = [
            (ms(0), "0s"),
            (ms(500), "500ms"),
            (ms(1_500), "1.5s"),
            (ms(10_000), "10s"),
            (ms(60_000), "1m"),
            (ms(90_000), "1m30s"),
            (ms(4_500_000), "1h15m"),
            (ms(3_605_250), "1h5.25s"),
            (Duration::from_nanos(1_500), "0.0000015s"),
        ];
        for (d, want) in table {
            assert_eq!(Human(d).to_string(), want, "{d:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn durations_never_panic(text in "\\PC{0,30}") {
            let _ = duration(&text);
        }

        #[test]
        fn whole_milliseconds_round_trip(ms in 0u64..10_000_000) {
            proptest::prop_assert_eq!(duration(&format!("{ms}ms")), Ok(Duration::from_millis(ms)));
        }

        /// What we print reads back as the same duration, to the nanosecond.
        #[test]
        fn printed_durations_parse_back(nanos in 0u64..=365 * 86_400 * 1_000_000_000) {
            let d = Duration::from_nanos(nanos);
            proptest::prop_assert_eq!(duration(&Human(d).to_string()), Ok(d));
        }
    }
}
