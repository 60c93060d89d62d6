//! Properties against brute-force references that test every minute one by one: random
//! schedules (built as items, rendered to text, and matched without the parser) at random
//! instants in UTC, near DST changes in Berlin and New York, and the engine's wake-ups under
//! a jumping clock.

use super::*;
use crate::time::civil::utc;
use crate::time::civil::{DateTime, days_in_month, rfc3339};
use crate::time::tz::Zone;
use proptest::prelude::*;
use std::path::Path;

/// One cron field as items, rendered to text and matched independently of the parser.
#[derive(Clone, Debug)]
enum Item {
    Star(u32),
    Range(u32, u32, u32),
    One(u32),
}

fn field(low: u32, high: u32) -> impl Strategy<Value = Vec<Item>> {
    let item = prop_oneof![
        (1..=high).prop_map(Item::Star),
        (low..=high, low..=high, 1..=high).prop_map(|(a, b, s)| Item::Range(a.min(b), a.max(b), s)),
        (low..=high).prop_map(Item::One),
    ];
    prop::collection::vec(item, 1..4)
}

fn render(items: &[Item]) -> String {
    let text: Vec<String> = items
        .iter()
        .map(|item| match *item {
            Item::Star(1) => "*".into(),
            Item::Star(s) => format!("*/{s}"),
            Item::Range(a, b, 1) => format!("{a}-{b}"),
            Item::Range(a, b, s) => format!("{a}-{b}/{s}"),
            Item::One(a) => format!("{a}"),
        })
        .collect();
    text.join(",")
}

fn contains(items: &[Item], low: u32, high: u32, v: u32) -> bool {
    items.iter().any(|item| match *item {
        Item::Star(s) => (v - low).is_multiple_of(s) && v <= high,
        Item::Range(a, b, s) => v >= a && v <= b && (v - a).is_multiple_of(s),
        Item::One(a) => v == a,
    })
}

/// The brute-force matcher: minute, hour, day-of-month, month, day-of-week (0–7) items.
#[derive(Debug)]
struct Reference([Vec<Item>; 5]);

impl Reference {
    fn text(&self) -> String {
        self.0
            .iter()
            .map(|f| render(f))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn day(&self, t: &DateTime, wd: u32) -> bool {
        let [_, _, dom, month, dow] = &self.0;
        let dom_ok = contains(dom, 1, 31, t.day);
        let dow_ok = contains(dow, 0, 7, wd) || (wd == 0 && contains(dow, 0, 7, 7));
        let star = |f: &[Item]| matches!(f[0], Item::Star(_));
        contains(month, 1, 12, t.month)
            && if star(dom) || star(dow) {
                dom_ok && dow_ok
            } else {
                dom_ok || dow_ok
            }
    }

    fn matches(&self, local: i64) -> bool {
        let t = DateTime::from_seconds(local);
        let wd = (local.div_euclid(86_400) + 4).rem_euclid(7) as u32;
        t.second == 0
            && contains(&self.0[0], 0, 59, t.minute)
            && contains(&self.0[1], 0, 23, t.hour)
            && self.day(&t, wd)
    }

    /// The first UTC minute after `after`, walking day by day (dates counted by hand) and
    /// testing each minute of the days that match.
    fn next_utc(&self, after: i64, years: i64) -> Option<i64> {
        let mut day = DateTime::from_seconds(after.div_euclid(86_400) * 86_400);
        let mut wd = (after.div_euclid(86_400) + 4).rem_euclid(7) as u32;
        for _ in 0..years * 366 {
            if self.day(&day, wd) {
                let midnight = day.to_seconds();
                let hit = (0..1_440)
                    .map(|m| midnight + m * 60)
                    .find(|&t| t > after && self.matches(t));
                if hit.is_some() {
                    return hit;
                }
            }
            wd = (wd + 1) % 7;
            day.day += 1;
            if day.day > days_in_month(day.year, day.month) {
                (day.day, day.month) = (1, day.month + 1);
                if day.month > 12 {
                    (day.month, day.year) = (1, day.year + 1);
                }
            }
        }
        None
    }
}

fn reference() -> impl Strategy<Value = Reference> {
    (
        field(0, 59),
        field(0, 23),
        field(1, 31),
        field(1, 12),
        field(0, 7),
    )
        .prop_map(|(a, b, c, d, e)| Reference([a, b, c, d, e]))
}

/// The brute-force rule in a zone (cronie's, see next.rs), minute by minute in UTC.
fn fires_in_zone(r: &Reference, wild: bool, zone: &Zone, t: i64) -> bool {
    let offset = i64::from(zone.offset_at(t));
    let local = t + offset;
    if wild {
        return r.matches(local);
    }
    if r.matches(local) {
        // Fixed time: not if the same local time already happened in the last few hours.
        return !(1..=300).any(|m| t - 60 * m + i64::from(zone.offset_at(t - 60 * m)) == local);
    }
    let before = i64::from(zone.offset_at(t - 1));
    offset > before && (t + before..t + offset).step_by(60).any(|l| r.matches(l))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn utc_matches_brute_force(r in reference(), after in -2_000_000_000i64..5_000_000_000) {
        let text = r.text();
        match Schedule::parse(&text) {
            Ok(schedule) => {
                let got = schedule.next_after(after, &Zone::utc(), 0);
                match r.next_utc(after, 9) {
                    Some(want) => prop_assert_eq!(got, Some(want), "{}", text),
                    // Rare dates (Feb 29 on a Sunday): checked where we found them.
                    None => {
                        let got = got.unwrap();
                        prop_assert!(got > after + 9 * 365 * 86_400 && r.matches(got), "{}", text);
                    }
                }
            }
            Err(e) => {
                prop_assert!(e.contains("would never run"), "{}: {}", text, e);
                prop_assert_eq!(r.next_utc(after, 9), None, "{}", text);
            }
        }
    }

    #[test]
    fn zones_match_brute_force(
        minutes in field(0, 59),
        // Often only hours around the change (01:00–03:59 local), where the rules differ.
        hours in prop_oneof![field(0, 23), prop::collection::vec((1u32..=3).prop_map(Item::One), 1..3)],
        year in 2020i64..2035,
        autumn: bool,
        new_york: bool,
        // Minutes from the change: mostly within three hours of it.
        shift in prop_oneof![3 => -180i64..180, 1 => -48i64 * 60..24 * 60],
    ) {
        let r = Reference([minutes, hours, vec![Item::Star(1)], vec![Item::Star(1)], vec![Item::Star(1)]]);
        let zone = Zone::load(if new_york { "America/New_York" } else { "Europe/Berlin" }, Path::new("/usr/share/zoneinfo")).unwrap();
        let change = zone.next_change(utc(&format!("{year}-{}-01T00:00:00", if autumn { "09" } else { "02" }))).unwrap();
        let after = change.at + shift * 60;
        let schedule = Schedule::parse(&r.text()).unwrap();
        let Schedule::Cron(cron) = &schedule else { unreachable!() };
        let want = (1..=3 * 1_440).map(|m| after + 60 * m).find(|&t| fires_in_zone(&r, cron.is_wild(), &zone, t));
        prop_assert_eq!(schedule.next_after(after, &zone, 0), want, "{} after {}", r.text(), rfc3339(after));
    }

    /// The engine's loop under a wall clock that jumps: no fire runs twice, none runs
    /// early, none runs more than LATE late; and without jumps, waking at each `next`,
    /// every fire runs.
    #[test]
    fn wake_never_repeats(r in reference(), jumps in prop::collection::vec(-7_200i64..7_200, 1..40)) {
        let Ok(schedule) = Schedule::parse(&r.text()) else { return Ok(()) };
        let z = Zone::utc();
        let start = 1_800_000_000;
        let mut last = start;
        let mut now = start;
        for jump in jumps {
            now += jump;
            let w = schedule.wake(now, last, &z, start);
            if let Some(run) = w.run {
                prop_assert!(run > last && run <= now && now - run <= next::LATE);
                last = run;
            }
            prop_assert!(w.next.is_none_or(|n| n > now && n > last));
        }
        let (mut now, mut last, mut runs) = (start, start, Vec::new());
        for _ in 0..5 {
            let w = schedule.wake(now, last, &z, start);
            runs.extend(w.run);
            last = w.run.unwrap_or(last);
            now = w.next.unwrap_or(now);
        }
        prop_assert_eq!(runs, schedule.upcoming(start, &z, start, 4));
    }
}
