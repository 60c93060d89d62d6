//! Tests of the TZif reader: hand-made files for each format detail, and the system's
//! zoneinfo (tzdata must be installed: `apt-get install -y tzdata`) against glibc's `date`.

use super::*;
use crate::time::civil::{rfc3339, utc};
use std::path::PathBuf;

const TZDIR: &str = "/usr/share/zoneinfo";

fn system(name: &str) -> Zone {
    assert!(
        Path::new(TZDIR).join("Europe/Berlin").exists(),
        "these tests need the system's zoneinfo: apt-get install -y tzdata"
    );
    Zone::load(name, Path::new(TZDIR)).expect("the zone loads")
}

/// A TZif file: `version` 0 (v1) or b'2'.., transitions with type indices, the types'
/// offsets, and the footer. The v1 block gets `v1_times` transitions so that a reader that
/// wrongly used it would see different data.
fn tzif(
    version: u8,
    v1_times: usize,
    times: &[(i64, u8)],
    offsets: &[i32],
    footer: &str,
) -> Vec<u8> {
    let block = |size: usize, times: &[(i64, u8)], out: &mut Vec<u8>| {
        out.extend_from_slice(b"TZif");
        out.push(version);
        out.extend_from_slice(&[0; 15]);
        for count in [0, 0, 0, times.len(), offsets.len(), 2] {
            out.extend_from_slice(&(count as u32).to_be_bytes());
        }
        for &(at, _) in times {
            if size == 4 {
                out.extend_from_slice(&(at as i32).to_be_bytes());
            } else {
                out.extend_from_slice(&at.to_be_bytes());
            }
        }
        out.extend(times.iter().map(|&(_, index)| index));
        for &offset in offsets {
            out.extend_from_slice(&offset.to_be_bytes());
            out.extend_from_slice(&[0, 0]);
        }
        out.extend_from_slice(b"X\0");
    };
    let mut out = Vec::new();
    if version == 0 {
        block(4, times, &mut out);
    } else {
        block(4, &times[..v1_times], &mut out);
        block(8, times, &mut out);
        out.extend_from_slice(format!("\n{footer}\n").as_bytes());
    }
    out
}

#[test]
fn version_1_file() {
    let zone = Zone::parse("v1", &tzif(0, 0, &[(100, 1), (200, 0)], &[0, 3_600], ""))
        .expect("valid in this test");
    let offsets: Vec<i32> = [99, 100, 199, 200, 1 << 40]
        .map(|t| zone.offset_at(t))
        .to_vec();
    assert_eq!(offsets, [0, 3_600, 3_600, 0, 0]);
    let change = |at, before, after| Some(Change { at, before, after });
    assert_eq!(zone.prev_change(99), None);
    assert_eq!(zone.prev_change(150), change(100, 0, 3_600));
    assert_eq!(zone.next_change(100), change(200, 3_600, 0));
    assert_eq!(zone.next_change(200), None);
}

#[test]
fn version_2_uses_64_bit_data_and_footer() {
    // Before 1900 (needs 64 bits), LMT +00:53:28; then CET; then the footer's rule.
    let times = [
        (-2_422_054_408, 1),
        (utc("1996-03-31T01:00:00"), 2),
        (utc("1996-10-27T01:00:00"), 1),
        (utc("1997-01-01T00:00:00"), 3),
    ];
    let offsets = [3_208, 3_600, 7_200, 3_600];
    let bytes = tzif(b'2', 0, &times, &offsets, "CET-1CEST,M3.5.0,M10.5.0/3");
    let zone = Zone::parse("Berlin", &bytes).expect("valid in this test");
    assert_eq!(zone.offset_at(-2_422_054_409), 3_208);
    assert_eq!(zone.offset_at(-2_422_054_408), 3_600);
    assert_eq!(zone.offset_at(utc("2030-03-31T00:59:59")), 3_600);
    assert_eq!(zone.offset_at(utc("2030-03-31T01:00:00")), 7_200);
    let next = zone
        .next_change(utc("2030-01-01T00:00:00"))
        .expect("valid in this test");
    assert_eq!(
        (rfc3339(next.at), next.before, next.after),
        ("2030-03-31T01:00:00Z".into(), 3_600, 7_200)
    );
    let prev = zone
        .prev_change(utc("2030-01-01T00:00:00"))
        .expect("valid in this test");
    assert_eq!(rfc3339(prev.at), "2029-10-28T01:00:00Z");
    // The rule holds from the last transition (which kept the offset) on: its changes before
    // that are ignored, and the table's last real change is the previous one.
    let prev = zone
        .prev_change(utc("1997-02-01T00:00:00"))
        .expect("valid in this test");
    assert_eq!(rfc3339(prev.at), "1996-10-27T01:00:00Z");
    let next = zone
        .next_change(utc("1996-12-01T00:00:00"))
        .expect("valid in this test");
    assert_eq!(rfc3339(next.at), "1997-03-30T01:00:00Z");
    assert_eq!(zone.next_change(-3_000_000_000).unwrap().at, -2_422_054_408);
}

#[test]
fn drops_transitions_that_keep_the_offset() {
    // Types 0 and 1 have the same offset (only the DST flag would differ).
    let bytes = tzif(b'2', 1, &[(10, 1), (20, 2), (30, 0)], &[0, 0, 60], "");
    let zone = Zone::parse("same", &bytes).expect("valid in this test");
    assert_eq!(zone.transitions, [(20, 60), (30, 0)]);
    assert_eq!(zone.offset_at(1 << 40), 0);
    assert_eq!(zone.next_change(0).map(|c| c.at), Some(20));
}

#[test]
fn rejects_bad_files() {
    let good = tzif(b'2', 0, &[(10, 1)], &[0, 60], "UTC0");
    assert!(Zone::parse("ok", &good).is_ok());
    let cases: [(Vec<u8>, &str); 7] = [
        (
            b"not a zone file at all, clearly not one, no, not at all".to_vec(),
            "not a TZif",
        ),
        (good[..good.len() - 10].to_vec(), "truncated"),
        (tzif(b'2', 0, &[(10, 5)], &[0, 60], "UTC0"), "type index"),
        (
            tzif(b'2', 0, &[(10, 1), (10, 0)], &[0, 60], "UTC0"),
            "ascending",
        ),
        (
            tzif(b'2', 0, &[(10, 1)], &[], "UTC0"),
            "no local time types",
        ),
        (
            tzif(b'2', 0, &[(10, 1)], &[0, 60], "CET-1CEST"),
            "start and end",
        ),
        (good[..good.len() - 1].to_vec(), "missing footer"),
    ];
    for (bytes, want) in cases {
        let err = Zone::parse("Bad/Zone", &bytes).unwrap_err();
        assert!(
            err.contains(want) && err.starts_with("time zone \"Bad/Zone\""),
            "{err}"
        );
    }
    let mut leap = good.clone();
    leap[HEADER + 14 + 28..HEADER + 14 + 32].copy_from_slice(&1u32.to_be_bytes());
    assert!(
        Zone::parse("right/UTC", &leap)
            .unwrap_err()
            .contains("leap-second")
    );
}

#[test]
fn load_checks_names_and_reports_missing_zones() {
    let dir = Path::new(TZDIR);
    for bad in [
        "",
        "/etc/passwd",
        "../etc/passwd",
        "Europe/../../x",
        "Europe//Berlin",
        "a b",
    ] {
        assert!(
            Zone::load(bad, dir)
                .unwrap_err()
                .contains("not a time zone name"),
            "{bad:?}"
        );
    }
    let err = Zone::load("Europe/Berlim", dir).unwrap_err();
    assert_eq!(
        err,
        "time zone \"Europe/Berlim\" not found in /usr/share/zoneinfo (is tzdata installed in the image?)"
    );
    let empty = Path::new("/nonexistent-zoneinfo");
    assert_eq!(Zone::load("UTC", empty), Ok(Zone::utc()));
    assert!(Zone::load("Europe/Berlin", empty).is_err());
    assert!(
        Zone::load("Europe", dir).is_err(),
        "a directory is not a zone"
    );
}

#[test]
fn system_berlin() {
    let berlin = system("Europe/Berlin");
    let table = [
        ("1890-01-01T00:00:00", 3_208),
        ("1944-07-01T00:00:00", 7_200),
        ("1945-06-01T00:00:00", 10_800),
        ("1979-07-01T00:00:00", 3_600),
        ("1980-07-01T00:00:00", 7_200),
        ("2026-03-29T00:59:59", 3_600),
        ("2026-03-29T01:00:00", 7_200),
        ("2026-10-25T00:59:59", 7_200),
        ("2026-10-25T01:00:00", 3_600),
        ("2100-07-01T00:00:00", 7_200),
        ("2100-12-01T00:00:00", 3_600),
    ];
    for (at, want) in table {
        assert_eq!(berlin.offset_at(utc(at)), want, "{at}");
    }
    let spring = berlin
        .next_change(utc("2026-01-01T00:00:00"))
        .expect("valid in this test");
    assert_eq!(
        spring,
        Change {
            at: utc("2026-03-29T01:00:00"),
            before: 3_600,
            after: 7_200
        }
    );
    assert_eq!(berlin.prev_change(spring.at), Some(spring));
    assert_eq!(berlin.prev_change(spring.at + 1), Some(spring));
    let autumn = berlin.next_change(spring.at).expect("valid in this test");
    assert_eq!(
        autumn,
        Change {
            at: utc("2026-10-25T01:00:00"),
            before: 7_200,
            after: 3_600
        }
    );
}

/// glibc's `date` reads the same files with its own code: offsets must agree everywhere,
/// including before the first transition and far beyond the last (the footer rule).
#[test]
fn system_zones_agree_with_glibc() {
    let zones = [
        "Europe/Berlin",
        "America/New_York",
        "Australia/Sydney",
        "Australia/Lord_Howe",
        "Asia/Kolkata",
        "Europe/Dublin",
        "America/Nuuk",
        "Pacific/Apia",
        "UTC",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for name in zones {
        let zone = system(name);
        let mut instants = vec![-2_500_000_000, 0, utc("2011-12-30T10:00:00"), 4_200_000_000];
        for _ in 0..12 {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            instants.push((seed >> 33) as i64 % 5_000_000_000 - 1_000_000_000);
        }
        for &t in &instants {
            let out = std::process::Command::new("date")
                .env("TZ", format!(":{TZDIR}/{name}"))
                .args(["+%z", &format!("-d@{t}")])
                .output()
                .expect("valid in this test");
            let text = String::from_utf8(out.stdout).expect("valid in this test");
            let text = text.trim();
            let sign = if text.starts_with('-') { -1 } else { 1 };
            let hhmm: i32 = text[1..].parse().expect("valid in this test");
            let want = sign * (hhmm / 100 * 3_600 + hhmm % 100 * 60);
            // `%z` drops seconds: compare to the minute, rounded the way glibc does.
            let got = zone.offset_at(t);
            assert!(
                (got - want).abs() < 60,
                "{name} at {}: ours {got}, glibc {text}",
                rfc3339(t)
            );
        }
    }
}

/// Every TZif file of the system parses, and at each change the offsets agree with
/// `offset_at` on both sides.
#[test]
fn every_system_zone_parses() {
    system("UTC");
    let mut stack = vec![PathBuf::from(TZDIR)];
    let mut parsed = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("right") {
                    stack.push(path);
                }
                continue;
            }
            let bytes = std::fs::read(&path).expect("valid in this test");
            if !bytes.starts_with(b"TZif") {
                continue;
            }
            let zone =
                Zone::parse(&path.display().to_string(), &bytes).expect("valid in this test");
            let mut t = utc("2020-01-01T00:00:00");
            for _ in 0..4 {
                let Some(change) = zone.next_change(t) else {
                    break;
                };
                assert_eq!(
                    zone.offset_at(change.at - 1),
                    change.before,
                    "{}",
                    path.display()
                );
                assert_eq!(
                    zone.offset_at(change.at),
                    change.after,
                    "{}",
                    path.display()
                );
                assert_eq!(
                    zone.prev_change(change.at),
                    Some(change),
                    "{}",
                    path.display()
                );
                t = change.at;
            }
            parsed += 1;
        }
    }
    assert!(parsed > 300, "only {parsed} zone files found");
}
