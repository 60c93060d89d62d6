//! The `schedule` setting (SPEC §4.4): five-field cron as Vixie cron reads it, the `@hourly`
//! family, and `@every DURATION`.
//!
//! Owns: the grammar, and matching a local date and time against it (`next_local`); the
//! fire-time computation in a zone, with its DST rules and the clock-jump contract for the
//! engine, is in `cron/next.rs`.
//!
//! Must not: read a clock or a file. Errors are one line naming the field at fault; the
//! caller adds file:line:col.
//!
//! Vixie cron's rules kept here: fields are minute (0–59), hour (0–23), day-of-month (1–31),
//! month (1–12 or JAN–DEC), day-of-week (0–7 or SUN–SAT, 0 and 7 both Sunday); names are
//! case-insensitive and may end ranges; `a-b/s` and `*/s` step, a bare `a/s` does not exist.
//! A field "is a star" when its text starts with `*` (so `*/2` is one): when day-of-month
//! and day-of-week are both not stars, a day matches if *either* matches, otherwise both
//! must. A schedule is "wild" when its minute or hour field is a star — cronie runs wild and
//! fixed-time jobs differently across DST changes (see `next.rs`). Unlike Vixie cron, a
//! schedule that can never fire (`0 0 30 2 *`) is an error rather than silence; one that
//! fires rarely (`0 0 29 2 */3`: Feb 29 on a Sun/Wed/Sat, every 28 years or so) is fine.

pub mod next;
#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

use crate::time::civil::{DAY, HOUR, MINUTE, civil_from_days, days_from_civil, weekday};
use crate::time::duration;

/// A parsed `schedule`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// Five-field cron (also what the `@hourly` family stands for).
    Cron(Cron),
    /// `@every D`: at formation start + k·D, k ≥ 1; D in whole seconds, at least 1.
    Every(u64),
}

/// The sets of a five-field cron line, as bit masks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cron {
    minutes: u64,
    hours: u32,
    /// Bits 1–31.
    days: u32,
    /// Bits 1–12.
    months: u16,
    /// Bits 0–6, Sunday = 0.
    weekdays: u8,
    /// Day-of-month and day-of-week both restricted: either one matching is enough.
    either_day: bool,
    /// The minute or hour field is a star (cronie's MIN_STAR | HR_STAR).
    wild: bool,
}

/// Seconds in 400 Gregorian years (20,871 whole weeks).
pub const CYCLE: i64 = 146_097 * DAY;

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// One field's name, bounds and symbolic names (the first name is worth `low`).
struct Field {
    name: &'static str,
    low: u32,
    high: u32,
    names: &'static [&'static str],
}

const FIELDS: [Field; 5] = [
    Field {
        name: "minute",
        low: 0,
        high: 59,
        names: &[],
    },
    Field {
        name: "hour",
        low: 0,
        high: 23,
        names: &[],
    },
    Field {
        name: "day-of-month",
        low: 1,
        high: 31,
        names: &[],
    },
    Field {
        name: "month",
        low: 1,
        high: 12,
        names: &MONTHS,
    },
    Field {
        name: "day-of-week",
        low: 0,
        high: 7,
        names: &DAYS,
    },
];

impl Schedule {
    /// Parses a `schedule` value.
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let text = text.trim();
        let Some(word) = text.strip_prefix('@') else {
            return Cron::parse(text).map(Schedule::Cron);
        };
        let (word, rest) = word.split_once(char::is_whitespace).unwrap_or((word, ""));
        let macro_line = match word.to_ascii_lowercase().as_str() {
            "every" => return every(rest.trim()),
            "hourly" => "0 * * * *",
            "daily" | "midnight" => "0 0 * * *",
            "weekly" => "0 0 * * 0",
            "monthly" => "0 0 1 * *",
            "yearly" | "annually" => "0 0 1 1 *",
            "reboot" => return Err("@reboot is not a schedule: use a oneshot process".into()),
            _ => {
                return Err(format!(
                    "unknown {text:?} (use @hourly, @daily, @weekly, @monthly, @yearly or @every DURATION)"
                ));
            }
        };
        if !rest.trim().is_empty() {
            return Err(format!("@{word} takes no arguments"));
        }
        Cron::parse(macro_line).map(Schedule::Cron)
    }
}

fn every(text: &str) -> Result<Schedule, String> {
    if text.is_empty() {
        return Err("@every needs a duration, e.g. \"@every 10m\"".into());
    }
    let d = duration::duration(text).map_err(|e| format!("@every: {e}"))?;
    if d.as_secs() < 1 {
        return Err(format!("@every {text}: the interval must be at least 1s"));
    }
    if d.subsec_nanos() != 0 {
        return Err(format!("@every {text}: the interval must be whole seconds"));
    }
    Ok(Schedule::Every(d.as_secs()))
}

impl Cron {
    fn parse(text: &str) -> Result<Cron, String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        if words.len() != 5 {
            return Err(format!(
                "{text:?} has {} fields; cron needs 5 (minute hour day-of-month month day-of-week)",
                words.len()
            ));
        }
        let mut sets = [0u64; 5];
        for ((set, word), field) in sets.iter_mut().zip(&words).zip(&FIELDS) {
            *set = parse_field(word, field)
                .map_err(|why| format!("{} field {word:?}: {why}", field.name))?;
        }
        let star = |i: usize| words[i].starts_with('*');
        let weekdays = (sets[4] | sets[4] >> 7) as u8 & 0x7f;
        let cron = Cron {
            minutes: sets[0],
            hours: sets[1] as u32,
            days: sets[2] as u32,
            months: sets[3] as u16,
            weekdays,
            either_day: !star(2) && !star(4),
            wild: star(0) || star(1),
        };
        // The calendar repeats, weekdays included, every 400 years: a date that matches
        // exists in any 400 years or never.
        let from = days_from_civil(2000, 1, 1) * DAY;
        if cron.next_local(from, from + CYCLE).is_none() {
            return Err(format!(
                "{text:?} would never run: no date has day-of-month {}, month {} and day-of-week {}",
                words[2], words[3], words[4]
            ));
        }
        Ok(cron)
    }

    #[cfg(test)]
    /// Whether the minute or hour field is a star (DST handling, `next.rs`).
    pub fn is_wild(&self) -> bool {
        self.wild
    }

    /// Whether a local date matches the month and day fields.
    fn day_matches(&self, days: i64, month: u32, day: u32) -> bool {
        let dom = self.days & 1 << day != 0;
        let dow = self.weekdays & 1 << weekday(days) != 0;
        self.months & 1 << month != 0
            && if self.either_day {
                dom || dow
            } else {
                dom && dow
            }
    }

    /// The first matching local minute at or after local time `from` and not after `until`
    /// (both local seconds; the result is a whole minute).
    pub fn next_local(&self, from: i64, until: i64) -> Option<i64> {
        let mut t = from.checked_add(MINUTE - 1)?.div_euclid(MINUTE) * MINUTE;
        while t <= until {
            let days = t.div_euclid(DAY);
            let (year, month, day) = civil_from_days(days);
            if self.months & 1 << month == 0 {
                let (y, m) = if month == 12 {
                    (year + 1, 1)
                } else {
                    (year, month + 1)
                };
                t = days_from_civil(y, m, 1) * DAY;
                continue;
            }
            if !self.day_matches(days, month, day) {
                t = (days + 1) * DAY;
                continue;
            }
            let rest = t - days * DAY;
            let (hour, minute) = ((rest / HOUR) as u32, (rest / MINUTE % 60) as u32);
            let Some(h) = next_bit(u64::from(self.hours), hour) else {
                t = (days + 1) * DAY;
                continue;
            };
            let from_minute = if h == hour { minute } else { 0 };
            match next_bit(self.minutes, from_minute) {
                Some(m) => {
                    let found = days * DAY + i64::from(h) * HOUR + i64::from(m) * MINUTE;
                    return (found <= until).then_some(found);
                }
                None => t = days * DAY + i64::from(h + 1) * HOUR,
            }
        }
        None
    }
}

/// The lowest set bit at or above `from`.
fn next_bit(set: u64, from: u32) -> Option<u32> {
    let rest = set.checked_shr(from)? << from;
    (rest != 0).then(|| rest.trailing_zeros())
}

/// One field: a comma-separated list of `*`, `*/s`, `a`, `a-b`, `a-b/s`.
fn parse_field(word: &str, field: &Field) -> Result<u64, String> {
    let mut set = 0u64;
    for item in word.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => {
                let step: u32 = step
                    .parse()
                    .map_err(|_| format!("step {step:?} is not a number"))?;
                if step == 0 {
                    return Err("a step must be at least 1".into());
                }
                (range, Some(step))
            }
            None => (item, None),
        };
        let (low, high) = if range == "*" {
            (field.low, field.high)
        } else if let Some((a, b)) = range.split_once('-') {
            let (a, b) = (value(a, field)?, value(b, field)?);
            if a > b {
                return Err(format!("range {range:?} runs backwards"));
            }
            (a, b)
        } else if step.is_some() {
            return Err(format!(
                "a step needs a range: {range}-{}/… or */…",
                field.high
            ));
        } else {
            let a = value(range, field)?;
            (a, a)
        };
        // A step longer than the whole field cannot be meant (`*/61` for minutes would be
        // minute 0 only): a typo to report, not a schedule to accept.
        let values = field.high - field.low + 1;
        if let Some(step) = step.filter(|&s| s > values) {
            return Err(format!(
                "step {step} is longer than the {} field's {values} values",
                field.name
            ));
        }
        for v in (low..=high).step_by(step.unwrap_or(1) as usize) {
            set |= 1 << v;
        }
    }
    Ok(set)
}

fn value(text: &str, field: &Field) -> Result<u32, String> {
    if text.is_empty() {
        return Err("empty value".into());
    }
    if let Some(i) = field
        .names
        .iter()
        .position(|n| n.eq_ignore_ascii_case(text))
    {
        return Ok(field.low + i as u32);
    }
    let v: u32 = text.parse().map_err(|_| {
        let names = match field.names.first() {
            Some(first) => format!(", or a name like {first}"),
            None => String::new(),
        };
        format!("{text:?} is not a number{names}")
    })?;
    if v < field.low || v > field.high {
        return Err(format!("{v} is out of range {}-{}", field.low, field.high));
    }
    Ok(v)
}
