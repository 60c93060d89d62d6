//! Civil-calendar arithmetic on plain integers: the proleptic Gregorian calendar that cron
//! fields, time-zone rules and RFC 3339 timestamps are written in.
//!
//! Owns: days ↔ (year, month, day), the weekday of a day, and "seconds since the epoch" ↔
//! date and time of day, for UTC instants and for local times alike (a local time is just an
//! instant shifted by the zone's offset, so the same arithmetic serves both).
//!
//! Must not: read a clock or a zone. Pure functions of their arguments.
//!
//! Relies on: Unix time has no leap seconds (every day is 86,400 s), and 1970-01-01 was a
//! Thursday. The day-count formulas are Howard Hinnant's `days_from_civil` and
//! `civil_from_days` (eras of 400 years, 146,097 days each, counted from March so that the
//! leap day is the last day of the shifted year).

/// Seconds in a minute, an hour and a day.
pub const MINUTE: i64 = 60;
pub const HOUR: i64 = 3_600;
pub const DAY: i64 = 86_400;

/// Days since 1970-01-01 of a civil date. `month` is 1–12; `day` may run past the month's
/// end (it is simply added), which the rule code relies on for "day 1 + n".
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month 1–12, day 1–31) of a day counted from 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Day of the week of a day counted from 1970-01-01: 0 = Sunday … 6 = Saturday.
pub fn weekday(days: i64) -> u32 {
    (days + 4).rem_euclid(7) as u32
}

pub fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A date and time of day, without a zone: what a wall clock shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl DateTime {
    /// The date and time `seconds` after 1970-01-01T00:00:00 (of whatever clock).
    pub fn from_seconds(seconds: i64) -> DateTime {
        let (year, month, day) = civil_from_days(seconds.div_euclid(DAY));
        let rest = seconds.rem_euclid(DAY) as u32;
        DateTime {
            year,
            month,
            day,
            hour: rest / 3_600,
            minute: rest / 60 % 60,
            second: rest % 60,
        }
    }

    #[cfg(test)]
    /// The inverse of [`DateTime::from_seconds`].
    pub fn to_seconds(self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * DAY
            + i64::from(self.hour) * HOUR
            + i64::from(self.minute) * MINUTE
            + i64::from(self.second)
    }
}

/// An instant as RFC 3339 in UTC, to the second: `2026-12-02T10:15:00Z` (the form our log
/// lines and `formation check` print fire times in).
pub fn rfc3339(instant: i64) -> String {
    let t = DateTime::from_seconds(instant);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

/// `2026-12-02T10:15:00` (seconds optional) as seconds since the epoch, in UTC: the tests'
/// way of naming an instant.
#[cfg(test)]
pub fn utc(text: &str) -> i64 {
    let n = |r: std::ops::Range<usize>| {
        text.get(r)
            .and_then(|t| t.parse::<u32>().ok())
            .expect("a date of the form YYYY-MM-DDTHH:MM[:SS]")
    };
    DateTime {
        year: i64::from(n(0..4)),
        month: n(5..7),
        day: n(8..10),
        hour: n(11..13),
        minute: n(14..16),
        second: if text.len() >= 19 { n(17..19) } else { 0 },
    }
    .to_seconds()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_days() {
        let table = [
            ((1970, 1, 1), 0, 4),
            ((1969, 12, 31), -1, 3),
            ((2000, 2, 29), 11_016, 2),
            ((2000, 3, 1), 11_017, 3),
            ((2026, 12, 2), 20_789, 3),
            ((2100, 3, 1), 47_541, 1),
            ((1600, 1, 1), -135_140, 6),
        ];
        for ((y, m, d), days, wd) in table {
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
            assert_eq!(civil_from_days(days), (y, m, d), "{days}");
            assert_eq!(weekday(days), wd, "{y}-{m}-{d}");
        }
    }

    #[test]
    fn month_lengths() {
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2100, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(2026, 4), 30);
        assert_eq!(days_in_month(2026, 12), 31);
    }

    #[test]
    fn formats_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_796_206_500), "2026-12-02T10:15:00Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    proptest! {
        #[test]
        fn days_round_trip(days in -1_000_000i64..1_000_000) {
            let (y, m, d) = civil_from_days(days);
            prop_assert!((1..=12).contains(&m));
            prop_assert!(d >= 1 && d <= days_in_month(y, m));
            prop_assert_eq!(days_from_civil(y, m, d), days);
            // Consecutive days are consecutive dates.
            let (y2, m2, d2) = civil_from_days(days + 1);
            let next = if d < days_in_month(y, m) { (y, m, d + 1) }
                else if m < 12 { (y, m + 1, 1) } else { (y + 1, 1, 1) };
            prop_assert_eq!((y2, m2, d2), next);
        }

        #[test]
        fn seconds_round_trip(s in -100_000_000_000i64..100_000_000_000) {
            prop_assert_eq!(DateTime::from_seconds(s).to_seconds(), s);
        }
    }
}
