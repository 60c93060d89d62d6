//! How one line looks on our output: text with a padded, optionally coloured prefix and
//! timestamp, or one JSON object.
//!
//! Owns: the bytes of a formatted line — prefixes, RFC 3339 timestamps, JSON escaping. Pure:
//! it appends to a buffer and never writes to an fd.
//!
//! SPEC §5: `web.1     | text`, names padded to the longest name; `+` instead of `|` on a piece
//! that the next one continues; `--timestamps` puts `2026-01-01T00:00:00.000Z ` first; JSON is
//! `{"time","proc","stream","line"}` plus `"partial":true`, with invalid UTF-8 replaced by
//! U+FFFD — or, for a child's whole line that is one JSON object ([`merged`]), that object
//! with formation's three fields added.

use crate::output::json;
use std::time::{SystemTime, UNIX_EPOCH};

/// Which of our outputs a line goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Our stdout (an instance's stdout).
    Stdout = 0,
    /// Our stderr (an instance's stderr, and formation's own lines).
    Stderr = 1,
}

impl Stream {
    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// `--log-format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Prefixed text lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The output settings that shape every line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    /// Text or JSON.
    pub format: LogFormat,
    /// ANSI colours on the text prefix, per output (indexed by [`Stream`]): each stream is
    /// coloured only when it is itself a terminal, so `2>log.txt` gets no escape codes
    /// even when stdout is a terminal.
    pub color: [bool; 2],
    /// An RFC 3339 timestamp before the text prefix.
    pub timestamps: bool,
}

/// Foreman's palette: one stable colour per process type, by its index.
const COLORS: [&str; 6] = ["36", "33", "32", "35", "34", "31"];

/// The precomputed prefixes of one process (or of formation itself), one per output
/// stream (they differ when only one of them is coloured).
#[derive(Debug)]
pub struct Label {
    /// Four prefixes one after another, in [`Label::index`] order: `web.1     | ` (text) or
    /// `"proc":"web.1"` (JSON) for a whole line on stdout, then on stderr; the same with `+`
    /// for a piece that the next one continues (text only). One allocation, not four: a label
    /// is paid per instance.
    text: Box<[u8]>,
    /// Where each prefix ends in `text`.
    ends: [u32; 4],
}

impl Label {
    /// `name` padded to `width`, coloured with the colour of process type `type_index` (none
    /// for `None`).
    pub fn new(name: &str, width: usize, type_index: Option<usize>, style: &Style) -> Label {
        match style.format {
            LogFormat::Json => {
                let mut proc = Vec::new();
                proc.extend_from_slice(b"\"proc\":\"");
                escape_json(name.as_bytes(), &mut proc);
                proc.push(b'"');
                Label::of([&proc, &proc, &proc, &proc])
            }
            LogFormat::Text => {
                let text = |mark: char, stream: Stream| {
                    let padded = format!("{name:<width$} {mark}");
                    let colored = match type_index {
                        Some(i) if style.color[stream as usize] => {
                            format!("\x1b[{}m{padded}\x1b[0m ", COLORS[i % COLORS.len()])
                        }
                        _ => format!("{padded} "),
                    };
                    colored.into_bytes()
                };
                Label::of([
                    &text('|', Stream::Stdout),
                    &text('|', Stream::Stderr),
                    &text('+', Stream::Stdout),
                    &text('+', Stream::Stderr),
                ])
            }
        }
    }

    /// The four prefixes in [`Label::index`] order, kept in one allocation.
    fn of(prefixes: [&[u8]; 4]) -> Label {
        let mut text = Vec::with_capacity(prefixes.iter().map(|p| p.len()).sum());
        let mut ends = [0; 4];
        for (end, prefix) in ends.iter_mut().zip(prefixes) {
            text.extend_from_slice(prefix);
            *end = u32::try_from(text.len()).unwrap_or(u32::MAX);
        }
        Label {
            text: text.into_boxed_slice(),
            ends,
        }
    }

    /// Where the prefix for a whole line or a `partial` piece on `stream` sits in `ends`.
    fn index(partial: bool, stream: Stream) -> usize {
        2 * usize::from(partial) + stream as usize
    }

    /// The prefix for a whole line or a `partial` piece on `stream`.
    fn prefix(&self, partial: bool, stream: Stream) -> &[u8] {
        let i = Label::index(partial, stream);
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.text
            .get(start..self.ends[i] as usize)
            .unwrap_or_default()
    }
}

/// Appends one formatted line: `payload` (no newline), from `label`, on `stream`. `partial`
/// marks a piece that the next one continues; `time` is the formatted timestamp to use.
pub fn line(
    out: &mut Vec<u8>,
    style: &Style,
    label: &Label,
    stream: Stream,
    payload: &[u8],
    partial: bool,
    time: &[u8; 24],
) {
    match style.format {
        LogFormat::Text => {
            if style.timestamps {
                out.extend_from_slice(time);
                out.push(b' ');
            }
            out.extend_from_slice(label.prefix(partial, stream));
            out.extend_from_slice(payload);
            out.push(b'\n');
        }
        LogFormat::Json => {
            out.extend_from_slice(b"{\"time\":\"");
            out.extend_from_slice(time);
            out.extend_from_slice(b"\",");
            out.extend_from_slice(label.prefix(false, stream));
            out.extend_from_slice(b",\"stream\":\"");
            out.extend_from_slice(stream.name().as_bytes());
            out.extend_from_slice(b"\",\"line\":\"");
            escape_json(payload, out);
            out.extend_from_slice(if partial {
                b"\",\"partial\":true}\n"
            } else {
                b"\"}\n"
            });
        }
    }
}

/// Appends a child's whole `line` that is the JSON object `obj` (SPEC §5's merge): `{`,
/// formation's `time`, `proc` and `stream` — each under `formation_NAME` when the child has
/// a key `NAME`, and left out when it has both —, then the child's keys and values byte for
/// byte, in its order.
pub fn merged(
    out: &mut Vec<u8>,
    label: &Label,
    stream: Stream,
    line: &[u8],
    obj: &json::Object,
    time: &[u8; 24],
) {
    let proc = label.prefix(false, stream);
    let proc = proc.strip_prefix(b"\"proc\":").unwrap_or(proc);
    let values: [(&[u8], &[u8], &[u8]); 3] = [
        (b"\"", time, b"\""),
        (b"", proc, b""),
        (b"\"", stream.name().as_bytes(), b"\""),
    ];
    out.push(b'{');
    let mut first = true;
    for (i, (name, (open, value, close))) in json::FIELDS.iter().zip(values).enumerate() {
        let (theirs, their_formation_one) = (obj.keys >> i & 1 == 1, obj.keys >> (i + 3) & 1 == 1);
        if theirs && their_formation_one {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        out.push(b'"');
        if theirs {
            out.extend_from_slice(b"formation_");
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
        out.extend_from_slice(open);
        out.extend_from_slice(value);
        out.extend_from_slice(close);
    }
    if obj.empty {
        out.push(b'}');
    } else {
        if !first {
            out.push(b',');
        }
        // From after the child's `{` to its `}` included.
        out.extend_from_slice(&line[obj.start + 1..obj.end]);
    }
    out.push(b'\n');
}

/// Appends `bytes` as the inside of a JSON string: `"` and `\` escaped, control characters
/// as `\n`-style or `\u00XX` escapes, invalid UTF-8 as U+FFFD.
pub fn escape_json(bytes: &[u8], out: &mut Vec<u8>) {
    for chunk in bytes.utf8_chunks() {
        for &b in chunk.valid().as_bytes() {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0..=0x1f => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX[(b >> 4) as usize]);
                    out.push(HEX[(b & 0xf) as usize]);
                }
                _ => out.push(b),
            }
        }
        if !chunk.invalid().is_empty() {
            out.extend_from_slice("\u{FFFD}".as_bytes());
        }
    }
}

/// The current UTC time as `2026-01-01T00:00:00.000Z`.
pub fn now() -> [u8; 24] {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339_millis(since.as_secs(), since.subsec_millis())
}

/// [`now`] when `needed`, else a placeholder that costs no clock read.
pub fn now_if(needed: bool) -> [u8; 24] {
    if needed { now() } else { [b'0'; 24] }
}

/// Formats seconds since the epoch (UTC) and milliseconds as RFC 3339.
fn rfc3339_millis(secs: u64, millis: u32) -> [u8; 24] {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (year, month, day) = crate::time::civil::civil_from_days(days);
    let text = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
    let mut out = [b'0'; 24];
    out.copy_from_slice(&text.as_bytes()[..24]);
    out
}

#[cfg(test)]
mod tests;
