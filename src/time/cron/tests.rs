//! Tests of the grammar and of the fire times: tables for the grammar, DST in real zones
//! (tzdata must be installed), and the engine's wake-up decisions. Properties against
//! brute-force references are in `props.rs`.

use super::*;
use crate::time::civil::{rfc3339, utc};
use crate::time::tz::Zone;
use std::path::Path;

/// A set as compact ranges: `0-5,7,9-10`.
fn ranges(set: u64, low: u32, high: u32) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut v = low;
    while v <= high {
        if set & 1 << v == 0 {
            v += 1;
            continue;
        }
        let start = v;
        while v < high && set & 1 << (v + 1) != 0 {
            v += 1;
        }
        out.push(if start == v {
            format!("{v}")
        } else {
            format!("{start}-{v}")
        });
        v += 1;
    }
    out.join(",")
}

fn show(text: &str) -> String {
    match Schedule::parse(text) {
        Ok(Schedule::Every(d)) => format!("every {d}"),
        Ok(Schedule::Cron(c)) => format!(
            "{} | {} | {} | {} | {}{}{}",
            ranges(c.minutes, 0, 59),
            ranges(u64::from(c.hours), 0, 23),
            ranges(u64::from(c.days), 1, 31),
            ranges(u64::from(c.months), 1, 12),
            ranges(u64::from(c.weekdays), 0, 6),
            if c.either_day { " | either" } else { "" },
            if c.wild { " | wild" } else { "" },
        ),
        Err(e) => format!("error: {e}"),
    }
}

#[test]
fn grammar_accepts() {
    let all = "0-23 | 1-31 | 1-12 | 0-6";
    let table = [
        ("*/15 * * * *", format!("0,15,30,45 | {all} | wild")),
        ("0 * * * *", format!("0 | {all} | wild")),
        ("30 2 * * *", "30 | 2 | 1-31 | 1-12 | 0-6".into()),
        (
            "1-30/5 */6 * * *",
            "1,6,11,16,21,26 | 0,6,12,18 | 1-31 | 1-12 | 0-6 | wild".into(),
        ),
        (
            "0,30 9-17 * * MON-FRI",
            "0,30 | 9-17 | 1-31 | 1-12 | 1-5".into(),
        ),
        ("0 0 * jan,Jul sun", "0 | 0 | 1-31 | 1,7 | 0".into()),
        ("0 0 * * 7", "0 | 0 | 1-31 | 1-12 | 0".into()),
        ("0 0 * * 5-7", "0 | 0 | 1-31 | 1-12 | 0,5-6".into()),
        ("0 0 * * */2", "0 | 0 | 1-31 | 1-12 | 0,2,4,6".into()),
        ("0 0 1,15 * 1", "0 | 0 | 1,15 | 1-12 | 1 | either".into()),
        (
            "0 0 */2 * 1",
            "0 | 0 | 1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31 | 1-12 | 1".into(),
        ),
        (
            "  59  23  31  DEC  SAT  ",
            "59 | 23 | 31 | 12 | 6 | either".into(),
        ),
        ("0 0 29 2 *", "0 | 0 | 29 | 2 | 0-6".into()),
        ("0 0 30 2 1", "0 | 0 | 30 | 2 | 1 | either".into()),
        ("@hourly", format!("0 | {all} | wild")),
        ("@daily", "0 | 0 | 1-31 | 1-12 | 0-6".into()),
        ("@midnight", "0 | 0 | 1-31 | 1-12 | 0-6".into()),
        ("@weekly", "0 | 0 | 1-31 | 1-12 | 0".into()),
        ("@monthly", "0 | 0 | 1 | 1-12 | 0-6".into()),
        ("@yearly", "0 | 0 | 1 | 1 | 0-6".into()),
        ("@ANNUALLY", "0 | 0 | 1 | 1 | 0-6".into()),
        ("@every 10s", "every 10".into()),
        ("@every 2m", "every 120".into()),
        ("@every 1h", "every 3600".into()),
        ("@every 1", "every 1".into()),
        (
            "@every 1500ms",
            "error: @every 1500ms: the interval must be whole seconds".into(),
        ),
    ];
    for (text, want) in table {
        assert_eq!(show(text), want, "{text:?}");
    }
}

#[test]
fn grammar_rejects() {
    let table = [
        ("", "has 0 fields; cron needs 5"),
        ("* * * *", "has 4 fields"),
        ("* * * * * *", "has 6 fields"),
        ("60 * * * *", "minute field \"60\": 60 is out of range 0-59"),
        ("* 24 * * *", "hour field \"24\": 24 is out of range 0-23"),
        (
            "* * 0 * *",
            "day-of-month field \"0\": 0 is out of range 1-31",
        ),
        ("* * * 13 *", "month field \"13\": 13 is out of range 1-12"),
        (
            "* * * * 8",
            "day-of-week field \"8\": 8 is out of range 0-7",
        ),
        (
            "*/0 * * * *",
            "minute field \"*/0\": a step must be at least 1",
        ),
        (
            "*/x * * * *",
            "minute field \"*/x\": step \"x\" is not a number",
        ),
        (
            "5/10 * * * *",
            "minute field \"5/10\": a step needs a range: 5-59/… or */…",
        ),
        // A step longer than the field: `*/61` would be minute 0 only.
        (
            "*/61 * * * *",
            "minute field \"*/61\": step 61 is longer than the minute field's 60 values",
        ),
        (
            "0 10-20/25 * * *",
            "hour field \"10-20/25\": step 25 is longer than the hour field's 24 values",
        ),
        (
            "30-10 * * * *",
            "minute field \"30-10\": range \"30-10\" runs backwards",
        ),
        ("1,,2 * * * *", "minute field \"1,,2\": empty value"),
        (
            "* * * FOO *",
            "month field \"FOO\": \"FOO\" is not a number, or a name like JAN",
        ),
        ("* * * * MON-", "day-of-week field \"MON-\": empty value"),
        ("* * * * FRI-MON", "runs backwards"),
        ("-1 * * * *", "minute field \"-1\": empty value"),
        (
            "0 0 30 2 *",
            "\"0 0 30 2 *\" would never run: no date has day-of-month 30, month 2 and day-of-week *",
        ),
        ("0 0 31 4,6 */2", "would never run"),
        ("0 0 31 2,4 */7", "would never run"),
        (
            "@reboot",
            "@reboot is not a schedule: use a oneshot process",
        ),
        ("@fortnightly", "unknown \"@fortnightly\""),
        ("@daily 5", "@daily takes no arguments"),
        ("@every", "@every needs a duration"),
        (
            "@every 500ms",
            "@every 500ms: the interval must be at least 1s",
        ),
        ("@every 0", "at least 1s"),
        ("@every soon", "@every: \"soon\" is not a duration"),
    ];
    for (text, want) in table {
        let got = show(text);
        assert!(
            got.starts_with("error: ") && got.contains(want),
            "{text:?}: {got}"
        );
    }
}

#[test]
fn every_counts_from_the_start() {
    let every = Schedule::parse("@every 10s").unwrap();
    let utc = Zone::utc();
    let next = |after| every.next_after(after, &utc, 1_000);
    assert_eq!(
        [0, 999, 1_000, 1_009, 1_010, 1_011].map(next),
        [1_010, 1_010, 1_010, 1_010, 1_020, 1_020].map(Some)
    );
    assert_eq!(every.upcoming(1_000, &utc, 1_000, 3), [1_010, 1_020, 1_030]);
    // Absurd instants give no fire rather than an overflow.
    let cron = Schedule::parse("* * * * *").unwrap();
    for s in [&every, &cron] {
        assert_eq!(s.next_after(i64::MAX, &utc, 0), None);
        assert_eq!(s.next_after(i64::MIN, &utc, 0), None);
        assert_eq!(s.wake(i64::MAX, 0, &utc, 0).run, None);
    }
}

#[test]
fn utc_examples() {
    let utc_zone = Zone::utc();
    let fires = |text: &str, after: &str| -> Vec<String> {
        let schedule = Schedule::parse(text).unwrap();
        schedule
            .upcoming(utc(after), &utc_zone, 0, 3)
            .into_iter()
            .map(rfc3339)
            .collect()
    };
    assert_eq!(
        fires("*/15 * * * *", "2026-12-02T10:00:00"),
        [
            "2026-12-02T10:15:00Z",
            "2026-12-02T10:30:00Z",
            "2026-12-02T10:45:00Z"
        ]
    );
    assert_eq!(
        fires("0 0 29 2 *", "2097-01-01T00:00:00"),
        [
            "2104-02-29T00:00:00Z",
            "2108-02-29T00:00:00Z",
            "2112-02-29T00:00:00Z"
        ]
    );
    // Day-of-month OR day-of-week: the 13th, and every Friday.
    assert_eq!(
        fires("0 12 13 * FRI", "2026-02-01T00:00:00"),
        [
            "2026-02-06T12:00:00Z",
            "2026-02-13T12:00:00Z",
            "2026-02-20T12:00:00Z"
        ]
    );
    // A star day-of-week with a step: AND, so only 31sts that are also Sun/Tue/Thu/Sat.
    assert_eq!(
        fires("0 0 31 * */2", "2026-01-01T00:00:00"),
        [
            "2026-01-31T00:00:00Z",
            "2026-03-31T00:00:00Z",
            "2026-05-31T00:00:00Z"
        ]
    );
    assert_eq!(
        fires("@yearly", "2026-12-31T23:59:59"),
        [
            "2027-01-01T00:00:00Z",
            "2028-01-01T00:00:00Z",
            "2029-01-01T00:00:00Z"
        ]
    );
}

fn berlin() -> Zone {
    Zone::load("Europe/Berlin", Path::new("/usr/share/zoneinfo"))
        .expect("these tests need the system's zoneinfo: apt-get install -y tzdata")
}

fn zone_fires(zone: &Zone, text: &str, after: &str, n: usize) -> Vec<String> {
    let schedule = Schedule::parse(text).unwrap();
    schedule
        .upcoming(utc(after), zone, 0, n)
        .into_iter()
        .map(rfc3339)
        .collect()
}

/// Berlin springs forward on 2026-03-29 at 01:00Z (02:00 CET becomes 03:00 CEST).
#[test]
fn dst_spring_gap() {
    let z = berlin();
    // Fixed time in the gap: runs at the change, once, and at 02:30 again the next day.
    assert_eq!(
        zone_fires(&z, "30 2 * * *", "2026-03-27T12:00:00", 3),
        [
            "2026-03-28T01:30:00Z",
            "2026-03-29T01:00:00Z",
            "2026-03-30T00:30:00Z"
        ]
    );
    assert_eq!(
        zone_fires(&z, "0,30 2 * * *", "2026-03-29T00:00:00", 2),
        ["2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z"]
    );
    assert_eq!(
        zone_fires(&z, "0 3 * * *", "2026-03-29T00:00:00", 1),
        ["2026-03-29T01:00:00Z"]
    );
    // Wild: the skipped quarter hours are just not there.
    assert_eq!(
        zone_fires(&z, "*/15 * * * *", "2026-03-29T00:40:00", 3),
        [
            "2026-03-29T00:45:00Z",
            "2026-03-29T01:00:00Z",
            "2026-03-29T01:15:00Z"
        ]
    );
    assert_eq!(
        zone_fires(&z, "30 * * * *", "2026-03-29T00:00:00", 2),
        ["2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z"]
    );
    let ny = Zone::load("America/New_York", Path::new("/usr/share/zoneinfo")).unwrap();
    assert_eq!(
        zone_fires(&ny, "30 2 * * *", "2026-03-08T00:00:00", 2),
        ["2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"]
    );
}

/// Berlin falls back on 2026-10-25 at 01:00Z (03:00 CEST becomes 02:00 CET).
#[test]
fn dst_autumn_overlap() {
    let z = berlin();
    // Fixed time in the repeated hour: the first 02:30 only.
    assert_eq!(
        zone_fires(&z, "30 2 * * *", "2026-10-24T12:00:00", 2),
        ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"]
    );
    assert_eq!(
        zone_fires(&z, "30 2 * * *", "2026-10-25T00:30:00", 1),
        ["2026-10-26T01:30:00Z"]
    );
    // Wild: both passes, every 15 real minutes.
    let want = [
        "2026-10-25T00:45:00Z",
        "2026-10-25T01:00:00Z",
        "2026-10-25T01:15:00Z",
        "2026-10-25T01:30:00Z",
    ];
    assert_eq!(
        zone_fires(&z, "*/15 * * * *", "2026-10-25T00:40:00", 4),
        want
    );
    assert_eq!(
        zone_fires(&z, "30 * * * *", "2026-10-25T00:00:00", 2),
        ["2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z"]
    );
}

#[test]
fn wake_decisions() {
    let z = Zone::utc();
    let s = Schedule::parse("*/15 * * * *").unwrap();
    let start = utc("2026-12-02T10:00:05");
    let wake = |now: &str, last: i64| {
        let w = s.wake(utc(now), last, &z, start);
        (w.run.map(rfc3339), w.next.map(rfc3339))
    };
    let at = |t: &str| Some(format!("{}Z", &t[..19]));
    let t1015 = utc("2026-12-02T10:15:00");
    // Nothing at the start, even at a fire time; on time; a little late; early.
    assert_eq!(
        s.wake(
            utc("2026-12-02T10:00:00"),
            utc("2026-12-02T10:00:00"),
            &z,
            start
        )
        .run,
        None
    );
    assert_eq!(
        wake("2026-12-02T10:15:00", start),
        (at("2026-12-02T10:15:00"), at("2026-12-02T10:30:00"))
    );
    assert_eq!(
        wake("2026-12-02T10:15:02", start),
        (at("2026-12-02T10:15:00"), at("2026-12-02T10:30:00"))
    );
    assert_eq!(
        wake("2026-12-02T10:14:59", start),
        (None, at("2026-12-02T10:15:00"))
    );
    // The clock jumped forward: fires older than LATE are missed; only the latest runs.
    assert_eq!(
        wake("2026-12-02T13:07:00", t1015),
        (None, at("2026-12-02T13:15:00"))
    );
    assert_eq!(
        wake("2026-12-02T13:00:30", t1015),
        (at("2026-12-02T13:00:00"), at("2026-12-02T13:15:00"))
    );
    // The clock jumped back: nothing at or before the last fire runs again.
    assert_eq!(
        wake("2026-12-02T09:20:00", t1015),
        (None, at("2026-12-02T10:30:00"))
    );
    assert_eq!(
        wake("2026-12-02T10:15:00", t1015),
        (None, at("2026-12-02T10:30:00"))
    );
}
