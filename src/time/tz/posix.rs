//! The POSIX `TZ` rule at the end of a TZif v2+ file (RFC 8536 §3.3): how the zone's offset
//! changes in the years after the file's last listed transition, e.g.
//! `CET-1CEST,M3.5.0,M10.5.0/3` (Berlin) or `<+0330>-3:30` (no DST at all).
//!
//! Owns: parsing that string and computing the offset changes it gives around an instant.
//!
//! Must not: read files or clocks.
//!
//! Facts relied on: POSIX offsets count hours *west* of UTC (`CET-1` is UTC+1); the DST offset
//! defaults to one hour ahead of standard time; the rule times default to 02:00 and, in
//! TZif v3, may be negative or up to 167 hours; the start rule is in standard local time
//! and the end rule in daylight local time; `Jn` counts 1–365 and never Feb 29, `n` counts
//! 0–365 with Feb 29; `Mm.w.d` is weekday `d` (0 = Sunday) of week `w` of month `m`, week 5
//! meaning the last. A rule whose DST lasts all year (`EST5EDT,0/0,J365/25`) has no changes.

use super::Change;
use crate::time::civil::{DAY, civil_from_days, days_from_civil, days_in_month, is_leap, weekday};

/// A parsed `TZ` rule: standard offset, and optionally DST with its start and end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Seconds east of UTC outside DST.
    std: i32,
    /// DST offset (seconds east), start and end, when the zone has DST.
    dst: Option<(i32, Date, Date)>,
}

/// A day-of-year rule and the local time of day (seconds, may be negative or > 24 h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Day {
    /// `Jn`: 1–365, Feb 29 never counted.
    Julian(u32),
    /// `n`: 0–365, Feb 29 counted.
    Zero(u32),
    /// `Mm.w.d`.
    Weekday { month: u32, week: u32, day: u32 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Date {
    day: Day,
    time: i32,
}

impl Rule {
    /// Parses the footer string; `Ok(None)` when it is empty (the last transition's offset
    /// then holds for ever).
    pub fn parse(text: &str) -> Result<Option<Rule>, String> {
        if text.is_empty() {
            return Ok(None);
        }
        let bad = |why: &str| format!("TZ rule {text:?}: {why}");
        let mut s = Scanner { rest: text };
        s.name().map_err(&bad)?;
        let std = -s.offset().map_err(&bad)?;
        if s.rest.is_empty() {
            return Ok(Some(Rule { std, dst: None }));
        }
        s.name().map_err(&bad)?;
        let dst_offset = if s.rest.is_empty() || s.rest.starts_with(',') {
            std + 3_600
        } else {
            -s.offset().map_err(&bad)?
        };
        if !s.eat(',') {
            return Err(bad("a DST zone needs start and end rules"));
        }
        let start = s.date().map_err(&bad)?;
        if !s.eat(',') {
            return Err(bad("missing the end rule"));
        }
        let end = s.date().map_err(&bad)?;
        if !s.rest.is_empty() {
            return Err(bad("unexpected text after the end rule"));
        }
        Ok(Some(Rule {
            std,
            dst: Some((dst_offset, start, end)),
        }))
    }

    /// The offset in force at `t` and the changes of offset in the years around it (the
    /// year of `t` and one either side), in time order.
    pub fn around(&self, t: i64) -> (i32, Vec<Change>) {
        let Some((dst, start, end)) = self.dst else {
            return (self.std, Vec::new());
        };
        // Beyond ±34,000 years the offset is moot; the clamp keeps the arithmetic in range.
        let t = t.clamp(-(1 << 40), 1 << 40);
        let (year, _, _) = civil_from_days(t.div_euclid(DAY));
        // Events of two more years each side are walked but not reported, so that the state
        // is known before the first reported one even when the rule's events do not simply
        // alternate (all-year DST gives an end and a start at the same instant).
        let mut events: Vec<(i64, bool, i64)> = Vec::with_capacity(10);
        for y in year - 3..=year + 3 {
            events.push((start.instant(y, self.std), true, y));
            events.push((end.instant(y, dst), false, y));
        }
        // At one instant, an end before a start: all-year DST nets to no change.
        events.sort_by_key(|&(at, to_dst, _)| (at, to_dst));
        let offset = |in_dst: bool| if in_dst { dst } else { self.std };
        let mut in_dst = !events[0].1;
        let mut at_t = offset(in_dst);
        let mut changes = Vec::new();
        let mut i = 0;
        while i < events.len() {
            let at = events[i].0;
            let before = in_dst;
            let mut reported = false;
            while i < events.len() && events[i].0 == at {
                in_dst = events[i].1;
                reported |= (year - 1..=year + 1).contains(&events[i].2);
                i += 1;
            }
            if at <= t {
                at_t = offset(in_dst);
            }
            if reported && before != in_dst {
                changes.push(Change {
                    at,
                    before: offset(before),
                    after: offset(in_dst),
                });
            }
        }
        (at_t, changes)
    }
}

impl Date {
    /// The UTC instant of this rule in `year`, `offset` being the local offset it is
    /// written in.
    fn instant(self, year: i64, offset: i32) -> i64 {
        let jan1 = days_from_civil(year, 1, 1);
        let day = match self.day {
            Day::Julian(n) => jan1 + i64::from(n) - 1 + i64::from(is_leap(year) && n >= 60),
            Day::Zero(n) => jan1 + i64::from(n),
            Day::Weekday { month, week, day } => {
                let first = days_from_civil(year, month, 1);
                let mut d =
                    first + i64::from((day + 7 - weekday(first)) % 7) + 7 * i64::from(week - 1);
                while d >= first + i64::from(days_in_month(year, month)) {
                    d -= 7;
                }
                d
            }
        };
        day * DAY + i64::from(self.time) - i64::from(offset)
    }
}

struct Scanner<'a> {
    rest: &'a str,
}

impl Scanner<'_> {
    fn eat(&mut self, c: char) -> bool {
        match self.rest.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    /// `<+0330>` or three or more letters.
    fn name(&mut self) -> Result<(), &'static str> {
        let len = if let Some(quoted) = self.rest.strip_prefix('<') {
            quoted.find('>').ok_or("unterminated <name>")? + 2
        } else {
            self.rest
                .find(|c: char| !c.is_ascii_alphabetic())
                .unwrap_or(self.rest.len())
        };
        if len < 3 {
            return Err("zone names have at least three letters");
        }
        self.rest = &self.rest[len..];
        Ok(())
    }

    /// `[+-]h[h][:mm[:ss]]`, as seconds (sign as written); hours up to 167.
    fn offset(&mut self) -> Result<i32, &'static str> {
        let negative = self.eat('-');
        if !negative {
            self.eat('+');
        }
        let hours = self.number(167).ok_or("expected an offset or time")?;
        let mut seconds = hours * 3_600;
        if self.eat(':') {
            seconds += self.number(59).ok_or("bad minutes")? * 60;
            if self.eat(':') {
                seconds += self.number(59).ok_or("bad seconds")?;
            }
        }
        Ok(if negative { -seconds } else { seconds })
    }

    fn number(&mut self, max: i32) -> Option<i32> {
        let len = self
            .rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(self.rest.len());
        let value: i32 = self.rest.get(..len.min(3))?.parse().ok()?;
        if len > 3 || value > max {
            return None;
        }
        self.rest = &self.rest[len..];
        Some(value)
    }

    fn date(&mut self) -> Result<Date, &'static str> {
        let day = if self.eat('J') {
            Day::Julian(self.number(365).filter(|&n| n >= 1).ok_or("bad Jn day")? as u32)
        } else if self.eat('M') {
            let month = self.number(12).filter(|&n| n >= 1).ok_or("bad month")?;
            let week = self.eat('.').then(|| self.number(5)).flatten();
            let week = week.filter(|&w| w >= 1).ok_or("bad week")?;
            let day = self
                .eat('.')
                .then(|| self.number(6))
                .flatten()
                .ok_or("bad weekday")?;
            Day::Weekday {
                month: month as u32,
                week: week as u32,
                day: day as u32,
            }
        } else {
            Day::Zero(self.number(365).ok_or("bad day rule")? as u32)
        };
        let time = if self.eat('/') { self.offset()? } else { 7_200 };
        Ok(Date { day, time })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::civil::{rfc3339, utc};

    fn changes(rule: &str, at: &str) -> Vec<String> {
        let rule = Rule::parse(rule).unwrap().unwrap();
        let (_, changes) = rule.around(utc(at));
        changes
            .iter()
            .map(|c| format!("{} {}>{}", rfc3339(c.at), c.before, c.after))
            .collect()
    }

    #[test]
    fn berlin_and_new_york() {
        let berlin = changes("CET-1CEST,M3.5.0,M10.5.0/3", "2030-06-01T00:00");
        assert_eq!(berlin[2], "2030-03-31T01:00:00Z 3600>7200");
        assert_eq!(berlin[3], "2030-10-27T01:00:00Z 7200>3600");
        assert_eq!(berlin.len(), 6);
        let ny = changes("EST5EDT,M3.2.0,M11.1.0", "2030-06-01T00:00");
        assert_eq!(ny[2], "2030-03-10T07:00:00Z -18000>-14400");
        assert_eq!(ny[3], "2030-11-03T06:00:00Z -14400>-18000");
    }

    #[test]
    fn southern_hemisphere_and_odd_forms() {
        let sydney = changes("AEST-10AEDT,M10.1.0,M4.1.0/3", "2030-06-01T00:00");
        assert_eq!(sydney[2], "2030-04-06T16:00:00Z 39600>36000");
        assert_eq!(sydney[3], "2030-10-05T16:00:00Z 36000>39600");
        // Negative DST (Dublin: "summer" is standard time) and v3 negative rule times (Nuuk).
        let dublin = changes("IST-1GMT0,M10.5.0,M3.5.0/1", "2030-06-01T00:00");
        assert_eq!(dublin[2], "2030-03-31T01:00:00Z 0>3600");
        let nuuk = changes("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", "2030-06-01T00:00");
        assert_eq!(nuuk[2], "2030-03-31T01:00:00Z -7200>-3600");
        // Julian days: J60 is always March 1; 59 is Feb 29 in a leap year.
        let julian = changes("AAA3BBB,J60/0,59/0", "2028-06-01T00:00");
        assert_eq!(julian[2], "2028-02-29T02:00:00Z -7200>-10800");
        assert_eq!(julian[3], "2028-03-01T03:00:00Z -10800>-7200");
    }

    #[test]
    fn fixed_and_all_year_dst() {
        let kolkata = Rule::parse("IST-5:30").unwrap().unwrap();
        assert_eq!(kolkata.around(0), (19_800, vec![]));
        let quoted = Rule::parse("<+0330>-3:30").unwrap().unwrap();
        assert_eq!(quoted.around(0).0, 12_600);
        let all_year = Rule::parse("EST5EDT,0/0,J365/25").unwrap().unwrap();
        assert_eq!(all_year.around(utc("2030-01-01T03:00")), (-14_400, vec![]));
        assert_eq!(all_year.around(utc("2030-12-31T23:00")), (-14_400, vec![]));
        assert_eq!(Rule::parse(""), Ok(None));
        let berlin = Rule::parse("CET-1CEST,M3.5.0,M10.5.0/3").unwrap().unwrap();
        assert_eq!(berlin.around(i64::MAX).0, berlin.around(1 << 40).0);
        assert_eq!(berlin.around(i64::MIN).0, berlin.around(-(1 << 40)).0);
    }

    #[test]
    fn rejects_bad_rules() {
        for bad in [
            "C-1",
            "CET",
            "CET-1CEST",
            "CET-1CEST,M3.5.0",
            "CET-1CEST,M13.5.0,M10.5.0",
            "CET-1CEST,M3.6.0,M10.5.0",
            "CET-1CEST,M3.5.7,M10.5.0",
            "CET-1CEST,J0,J10",
            "CET-1CEST,M3.5.0,M10.5.0/3x",
            "<+03-3",
            "CET-168",
        ] {
            assert!(Rule::parse(bad).is_err(), "{bad}");
        }
    }
}
