//! Time zones for schedules (SPEC §4.4): `timezone = "Europe/Berlin"` is read from the image's
//! zoneinfo, a directory of TZif files (RFC 8536), as libc would — but a static musl binary
//! in an image `FROM scratch` has no libc to ask, so formation reads the file itself.
//!
//! Owns: the TZif format (v1, and v2/v3/v4 whose 64-bit section and footer rule are used),
//! and answering "what is the UTC offset at instant t" and "when does it change next / when
//! did it last change" — all the scheduler needs to evaluate cron in local time.
//!
//! Must not: read TZ, TZDIR or a clock (the caller passes the directory: `TZDIR`, else
//! `/usr/share/zoneinfo`); know about cron. `Zone::load` is a thin I/O shell over the pure
//! `Zone::parse`.
//!
//! Facts relied on: a TZif file lists transition instants, each with the index of a local
//! time type (UTC offset, DST flag, abbreviation); before the first transition, type 0
//! holds; after the last, the footer's POSIX TZ rule (`tz/posix.rs`) holds, or, when it is
//! empty, the last type. Only offsets matter to a scheduler, so transitions that change only
//! the abbreviation or the DST flag are dropped. Leap-second files (`right/…`) count TAI-like
//! seconds, not Unix time, and are refused.

mod posix;

use std::path::Path;

/// A change of UTC offset: at instant `at` (Unix seconds), local time goes from
/// `at + before` to `at + after` (a gap when `after > before`, an overlap when smaller).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    pub at: i64,
    pub before: i32,
    pub after: i32,
}

/// A zone: the offset history of one TZif file, or UTC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    name: String,
    /// Offset (seconds east of UTC) before the first transition.
    initial: i32,
    /// Instants where the offset changes, ascending, with the offset from then on.
    transitions: Vec<(i64, i32)>,
    /// The footer rule, for instants from the file's last transition on (that transition
    /// may have kept the offset, and so be missing from `transitions`).
    rule: Option<posix::Rule>,
    rule_from: i64,
}

impl Zone {
    /// UTC: what schedules use when no `timezone` is given.
    pub fn utc() -> Zone {
        Zone {
            name: "UTC".to_string(),
            initial: 0,
            transitions: Vec::new(),
            rule: None,
            rule_from: i64::MIN,
        }
    }

    /// Reads zone `name` (e.g. `Europe/Berlin`) from the zoneinfo directory `tzdir`. `UTC`
    /// and `Etc/UTC` need no file, so that images without tzdata can still name them.
    pub fn load(name: &str, tzdir: &Path) -> Result<Zone, String> {
        let valid = !name.is_empty()
            && !name.starts_with('/')
            && name
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != "..")
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_-+.".contains(c));
        if !valid {
            return Err(format!(
                "{name:?} is not a time zone name (e.g. \"Europe/Berlin\")"
            ));
        }
        let path = tzdir.join(name);
        match std::fs::read(&path) {
            Ok(bytes) => Zone::parse(name, &bytes),
            Err(_) if name == "UTC" || name == "Etc/UTC" => Ok(Zone::utc()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
                "time zone {name:?} not found in {} (is tzdata installed in the image?)",
                tzdir.display()
            )),
            Err(e) => Err(format!("time zone {name:?}: {}: {e}", path.display())),
        }
    }

    /// Parses the bytes of a TZif file; `name` is only used in messages and by `name()`.
    pub fn parse(name: &str, bytes: &[u8]) -> Result<Zone, String> {
        parse_tzif(name, bytes).map_err(|why| format!("time zone {name:?}: {why}"))
    }

    /// The UTC offset, in seconds east, in force at instant `t`.
    pub fn offset_at(&self, t: i64) -> i32 {
        if let Some(rule) = self.rule_at(t) {
            return rule.around(t).0;
        }
        let i = self.transitions.partition_point(|&(at, _)| at <= t);
        i.checked_sub(1)
            .map_or(self.initial, |k| self.transitions[k].1)
    }

    /// The last change at or before `t`, if there was one.
    pub fn prev_change(&self, t: i64) -> Option<Change> {
        if let Some(rule) = self.rule_at(t) {
            let (_, changes) = rule.around(t);
            let from_rule = changes
                .into_iter()
                .rfind(|c| c.at <= t && c.at > self.rule_from);
            if from_rule.is_some() {
                return from_rule;
            }
        }
        let i = self.transitions.partition_point(|&(at, _)| at <= t);
        i.checked_sub(1).map(|k| self.table_change(k))
    }

    /// The first change strictly after `t`, if the zone has one.
    pub fn next_change(&self, t: i64) -> Option<Change> {
        let i = self.transitions.partition_point(|&(at, _)| at <= t);
        if i < self.transitions.len() {
            return Some(self.table_change(i));
        }
        let from = t.max(self.rule_from);
        let (_, changes) = self.rule.as_ref()?.around(from);
        changes.into_iter().find(|c| c.at > from)
    }

    /// The footer rule when it governs `t`: from the last transition on, or always when the
    /// file lists none.
    fn rule_at(&self, t: i64) -> Option<&posix::Rule> {
        self.rule.as_ref().filter(|_| t >= self.rule_from)
    }

    fn table_change(&self, k: usize) -> Change {
        let before = k
            .checked_sub(1)
            .map_or(self.initial, |j| self.transitions[j].1);
        let (at, after) = self.transitions[k];
        Change { at, before, after }
    }
}

/// The counts of a TZif header, in file order.
struct Counts {
    isutc: usize,
    isstd: usize,
    leap: usize,
    time: usize,
    types: usize,
    chars: usize,
}

const HEADER: usize = 44;

fn header(bytes: &[u8]) -> Result<(u8, Counts), String> {
    if bytes.len() < HEADER || &bytes[..4] != b"TZif" {
        return Err("not a TZif file".to_string());
    }
    let n = |i: usize| {
        let at = 20 + 4 * i;
        u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize
    };
    let counts = Counts {
        isutc: n(0),
        isstd: n(1),
        leap: n(2),
        time: n(3),
        types: n(4),
        chars: n(5),
    };
    Ok((bytes[4], counts))
}

impl Counts {
    /// Length of the data block that follows a header, with `size`-byte times.
    fn block_len(&self, size: usize) -> usize {
        self.time * (size + 1)
            + self.types * 6
            + self.chars
            + self.leap * (size + 4)
            + self.isstd
            + self.isutc
    }
}

fn parse_tzif(name: &str, bytes: &[u8]) -> Result<Zone, String> {
    let (version, v1) = header(bytes)?;
    let (counts, data, size) = if version >= b'2' {
        let second = bytes
            .get(HEADER + v1.block_len(4)..)
            .ok_or("truncated TZif file")?;
        let (_, counts) = header(second)?;
        (counts, &second[HEADER..], 8)
    } else {
        (v1, &bytes[HEADER..], 4)
    };
    if counts.leap > 0 {
        return Err("leap-second zone files (right/...) are not supported".to_string());
    }
    if counts.types == 0 {
        return Err("no local time types".to_string());
    }
    let len = counts.block_len(size);
    if data.len() < len {
        return Err("truncated TZif file".to_string());
    }
    let times = &data[..counts.time * size];
    let indices = &data[counts.time * size..counts.time * (size + 1)];
    let types = &data[counts.time * (size + 1)..][..counts.types * 6];
    let offset_of = |index: u8| -> Result<i32, String> {
        let at = 6 * usize::from(index);
        let t = types.get(at..at + 4).ok_or("bad local time type index")?;
        Ok(i32::from_be_bytes([t[0], t[1], t[2], t[3]]))
    };
    let initial = offset_of(0)?;
    let mut transitions: Vec<(i64, i32)> = Vec::with_capacity(counts.time);
    let mut current = initial;
    let mut previous_at = i64::MIN;
    for (k, &index) in indices.iter().enumerate() {
        let raw = &times[k * size..(k + 1) * size];
        let at = if size == 8 {
            i64::from_be_bytes([
                raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7],
            ])
        } else {
            i64::from(i32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]))
        };
        if at <= previous_at {
            return Err("transition times are not ascending".to_string());
        }
        previous_at = at;
        let offset = offset_of(index)?;
        if offset != current {
            transitions.push((at, offset));
            current = offset;
        }
    }
    let rule = if version >= b'2' {
        let footer = &data[len..];
        let text = footer
            .strip_prefix(b"\n")
            .and_then(|f| {
                f.split(|&b| b == b'\n')
                    .next()
                    .filter(|_| f.contains(&b'\n'))
            })
            .ok_or("missing footer")?;
        let text = std::str::from_utf8(text).map_err(|_| "footer is not text")?;
        posix::Rule::parse(text)?
    } else {
        None
    };
    Ok(Zone {
        name: name.to_string(),
        initial,
        transitions,
        rule,
        rule_from: previous_at,
    })
}

#[cfg(test)]
mod tests;
