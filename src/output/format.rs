//! How one line looks on our output: text with a padded, optionally coloured prefix and
//! timestamp, or one JSON object.
//!
//! Owns: the bytes of a formatted line — prefixes, RFC 3339 timestamps, JSON escaping. Pure:
//! it appends to a buffer and never writes to an fd.
//!
//! SPEC §5: `web.1     | text`, names padded to the longest name; `+` instead of `|` on a piece
//! that the next one continues; `--timestamps` puts `2026-01-01T00:00:00.000Z ` first; JSON is
//! `{"time","proc","stream","line"}` plus `"partial":true`, with invalid UTF-8 replaced by
//! U+FFFD.

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
mod tests {
    use super::*;

    const TEXT: Style = Style {
        format: LogFormat::Text,
        color: [false, false],
        timestamps: false,
    };

    fn render(style: &Style, name: &str, payload: &[u8], partial: bool) -> Vec<u8> {
        render_on(Stream::Stdout, style, name, payload, partial)
    }

    fn render_on(
        stream: Stream,
        style: &Style,
        name: &str,
        payload: &[u8],
        partial: bool,
    ) -> Vec<u8> {
        let label = Label::new(name, 9, Some(0), style);
        let mut out = Vec::new();
        let time = *b"2026-01-01T00:00:00.000Z";
        line(&mut out, style, &label, stream, payload, partial, &time);
        out
    }

    #[test]
    fn each_stream_is_coloured_on_its_own() {
        let plain = b"web.1     | x\n".to_vec();
        let colored = b"\x1b[36mweb.1     |\x1b[0m x\n".to_vec();
        let table = [
            ([true, false], Stream::Stdout, &colored),
            ([true, false], Stream::Stderr, &plain),
            ([false, true], Stream::Stdout, &plain),
            ([false, true], Stream::Stderr, &colored),
            ([true, true], Stream::Stderr, &colored),
            ([false, false], Stream::Stderr, &plain),
        ];
        for (color, stream, want) in table {
            let style = Style { color, ..TEXT };
            assert_eq!(
                &render_on(stream, &style, "web.1", b"x", false),
                want,
                "{color:?} {stream:?}"
            );
        }
    }

    #[test]
    fn each_of_the_four_prefixes_of_a_label_is_its_own() {
        // stdout coloured, stderr not: the four prefixes differ pairwise.
        let style = Style {
            color: [true, false],
            ..TEXT
        };
        let table: [(Stream, bool, &[u8]); 4] = [
            (Stream::Stdout, false, b"\x1b[36mweb.1     |\x1b[0m x\n"),
            (Stream::Stderr, false, b"web.1     | x\n"),
            (Stream::Stdout, true, b"\x1b[36mweb.1     +\x1b[0m x\n"),
            (Stream::Stderr, true, b"web.1     + x\n"),
        ];
        for (stream, partial, want) in table {
            let got = render_on(stream, &style, "web.1", b"x", partial);
            assert_eq!(got, want, "{stream:?} partial={partial}");
        }
    }

    #[test]
    fn text_prefixes() {
        assert_eq!(render(&TEXT, "web.1", b"hi", false), b"web.1     | hi\n");
        assert_eq!(render(&TEXT, "web.1", b"hi", true), b"web.1     + hi\n");
        let ts = Style {
            timestamps: true,
            ..TEXT
        };
        assert_eq!(
            render(&ts, "web.1", b"", false),
            b"2026-01-01T00:00:00.000Z web.1     | \n"
        );
        let color = Style {
            color: [true, true],
            ..TEXT
        };
        assert_eq!(
            render(&color, "web.1", b"x", false),
            b"\x1b[36mweb.1     |\x1b[0m x\n"
        );
    }

    #[test]
    fn json_lines() {
        let json = Style {
            format: LogFormat::Json,
            ..TEXT
        };
        assert_eq!(
            render(&json, "web.1", b"a\"b\\c\n\x01\xff", true),
            "{\"time\":\"2026-01-01T00:00:00.000Z\",\"proc\":\"web.1\",\"stream\":\"stdout\",\
             \"line\":\"a\\\"b\\\\c\\n\\u0001\u{FFFD}\",\"partial\":true}\n"
                .as_bytes()
        );
    }

    #[test]
    fn timestamps() {
        assert_eq!(&rfc3339_millis(0, 0), b"1970-01-01T00:00:00.000Z");
        assert_eq!(&rfc3339_millis(951_782_400, 5), b"2000-02-29T00:00:00.005Z");
        assert_eq!(
            &rfc3339_millis(1_798_761_599, 999),
            b"2026-12-31T23:59:59.999Z"
        );
    }
}
