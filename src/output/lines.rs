//! An instance's bytes → the lines and pieces that are emitted (SPEC §5).
//!
//! Owns: where a line ends and where a long one is cut, what a terminal's line end is, and
//! the removal of colour sequences from a terminal's lines. Pure.
//!
//! A terminal (`tty = true`) differs from a pipe in two ways. Its line discipline ends every
//! line with `\r\n` (ONLCR), so the `\r`s before a `\n` are the line's end, not its text;
//! a bare `\r` inside a line (a progress bar redrawing itself) stays, and the line ends only
//! at the next `\n`. And programs that see a terminal colour their output: those colour
//! sequences (SGR, `ESC [ … m`) are kept only where formation's own colours are on.

/// The longest payload of one emitted line: Docker's own split size (moby#34855).
pub const MAX_LINE: usize = 16 * 1024;

/// Cuts `data` into lines and pieces of at most [`MAX_LINE`] bytes and hands each to `emit`
/// with `partial = true` when the next piece continues the same line. An unfinished last line
/// is handed over only `at_eof`. With `tty`, the `\r`s that end a line are dropped. Stops
/// early when `emit` returns false. Returns how many bytes of `data` were consumed (line ends
/// included).
pub fn frame(
    data: &[u8],
    at_eof: bool,
    tty: bool,
    mut emit: impl FnMut(&[u8], bool) -> bool,
) -> usize {
    fn end_of(line: &[u8], tty: bool) -> &[u8] {
        if tty { trim_cr(line) } else { line }
    }
    let mut used = 0;
    while used < data.len() {
        let rest = &data[used..];
        let window = &rest[..rest.len().min(MAX_LINE + 1)];
        let (piece, partial, step) = match memchr::memchr(b'\n', window) {
            Some(end) => (end_of(&rest[..end], tty), false, end + 1),
            None if rest.len() > MAX_LINE => match tty.then(|| crs_after_max(rest)).flatten() {
                // Only `\r`s between MAX_LINE bytes and the `\n`: a terminal's line end
                // (`\r\n`, or `\r\r\n` from a program that writes `\r\n` itself, ONLCR),
                // so the line is whole (fuzz/: the framer target found the `\r\r\n` case).
                Some(Crs::Newline(end)) => (end_of(&rest[..end], tty), false, end + 1),
                Some(Crs::Open) if !at_eof => break,
                Some(Crs::Open) => (end_of(rest, tty), false, rest.len()),
                None => (&rest[..MAX_LINE], true, MAX_LINE),
            },
            None if at_eof => (end_of(rest, tty), false, rest.len()),
            None => break,
        };
        if !emit(piece, partial) {
            break;
        }
        used += step;
    }
    used
}

/// What follows the first MAX_LINE bytes of a terminal's line when it is `\r`s only.
enum Crs {
    /// Then a `\n` at this index: the line ends there.
    Newline(usize),
    /// The bytes end within the `\r`s: the line may still end with them.
    Open,
}

/// Whether the bytes past MAX_LINE of `rest` (which holds no `\n` before that) are `\r`s
/// up to a `\n` or to the end of the bytes, with at most MAX_LINE of them (a longer run is
/// payload: waiting for its end would hold unbounded bytes); None when anything else comes.
fn crs_after_max(rest: &[u8]) -> Option<Crs> {
    let tail = &rest[MAX_LINE..rest.len().min(2 * MAX_LINE + 1)];
    let crs = tail.iter().take_while(|b| **b == b'\r').count();
    match tail.get(crs) {
        Some(b'\n') => Some(Crs::Newline(MAX_LINE + crs)),
        None if crs <= MAX_LINE => Some(Crs::Open),
        _ => None,
    }
}

/// `line` without the `\r`s at its end.
fn trim_cr(mut line: &[u8]) -> &[u8] {
    while let [head @ .., b'\r'] = line {
        line = head;
    }
    line
}

/// Appends `text` to `out` without its colour sequences: `ESC [`, parameters (digits, `;`,
/// `:`), `m`. Any other escape sequence, and an unfinished one, is kept.
pub fn strip_colours(text: &[u8], out: &mut Vec<u8>) {
    let mut rest = text;
    while let Some(at) = memchr::memchr(0x1b, rest) {
        out.extend_from_slice(&rest[..at]);
        let after = &rest[at + 1..];
        let params = after.get(1..).map_or(0, |p| {
            p.iter()
                .take_while(|b| matches!(b, b'0'..=b'9' | b';' | b':'))
                .count()
        });
        if after.first() == Some(&b'[') && after.get(1 + params) == Some(&b'm') {
            rest = &after[params + 2..];
        } else {
            out.push(0x1b);
            rest = after;
        }
    }
    out.extend_from_slice(rest);
}

/// Whether `needle` occurs in `text` (a `log` readiness check): each place the needle's
/// first byte occurs is compared, a search that memchr makes fast on log lines without
/// memchr's substring searcher (~4 KB of the binary for a check that stops at its match).
pub fn contains(text: &[u8], needle: &[u8]) -> bool {
    let Some(&first) = needle.first() else {
        return true;
    };
    memchr::memchr_iter(first, text).any(|at| text[at..].starts_with(needle))
}

#[cfg(test)]
mod tests {
    #[test]
    fn contains_finds_a_needle_anywhere_in_the_text() {
        let table: [(&[u8], &[u8], bool); 7] = [
            (b"ready to accept connections", b"accept", true),
            (b"ready to accept connections", b"ready", true),
            (b"ready to accept connections", b"connections", true),
            (b"ready to accept connection", b"connections", false),
            (b"aaab", b"aab", true),
            (b"", b"x", false),
            (b"anything", b"", true),
        ];
        for (text, needle, want) in table {
            assert_eq!(super::contains(text, needle), want, "{text:?} {needle:?}");
        }
    }

    use super::*;

    fn pieces(data: &[u8], at_eof: bool, tty: bool) -> (Vec<(Vec<u8>, bool)>, usize) {
        let mut out = Vec::new();
        let used = frame(data, at_eof, tty, |p, partial| {
            out.push((p.to_vec(), partial));
            true
        });
        (out, used)
    }

    #[test]
    fn a_terminals_line_ends_at_its_newline_and_loses_the_cr_before_it() {
        let whole = |s: &str| (s.as_bytes().to_vec(), false);
        type Row<'a> = (&'a [u8], bool, &'a [(Vec<u8>, bool)], usize);
        let table: [Row; 6] = [
            (b"a\r\nb\r\n", false, &[whole("a"), whole("b")], 6),
            // A bare \r (a progress bar) stays inside the line until the \n.
            (b"10%\r50%\r100%\r\n", false, &[whole("10%\r50%\r100%")], 14),
            (b"x\r\r\n", false, &[whole("x")], 4),
            (b"wait\r", false, &[], 0),
            (b"last\r", true, &[whole("last")], 5),
            (b"\r\n", false, &[whole("")], 2),
        ];
        for (data, at_eof, want, used) in table {
            assert_eq!(
                pieces(data, at_eof, true),
                (want.to_vec(), used),
                "{data:?}"
            );
        }
        // A pipe keeps its \r.
        assert_eq!(pieces(b"a\r\n", false, false).0, [(b"a\r".to_vec(), false)]);
    }

    #[test]
    fn a_terminals_line_of_16_kib_is_whole_and_a_longer_one_is_cut() {
        let mut data = vec![b'x'; MAX_LINE];
        data.extend(b"\r\n");
        let (out, used) = pieces(&data, false, true);
        assert_eq!(
            (out.len(), out[0].0.len(), out[0].1, used),
            (1, MAX_LINE, false, data.len())
        );
        let mut data = vec![b'x'; MAX_LINE + 1];
        data.extend(b"\r\n");
        let (out, _) = pieces(&data, false, true);
        let shape: Vec<(usize, bool)> =
            out.iter().map(|(p, partial)| (p.len(), *partial)).collect();
        assert_eq!(shape, [(MAX_LINE, true), (1, false)]);
    }

    /// Found by fuzz/'s framer target: 16 KiB of payload ended by `\r\r\n` (a program that
    /// writes `\r\n` itself, through ONLCR) was cut into a 16 KiB `+` piece and an empty one.
    #[test]
    fn a_terminals_16_kib_line_ending_in_several_crs_is_whole() {
        let shape = |data: &[u8], at_eof: bool| -> (Vec<(usize, bool)>, usize) {
            let (out, used) = pieces(data, at_eof, true);
            (
                out.iter().map(|(p, partial)| (p.len(), *partial)).collect(),
                used,
            )
        };
        let line = |crs: usize, end: &[u8]| {
            let mut data = vec![b'x'; MAX_LINE];
            data.extend(std::iter::repeat_n(b'\r', crs));
            data.extend(end);
            data
        };
        let whole = vec![(MAX_LINE, false)];
        let data = line(2, b"\n");
        assert_eq!(shape(&data, false), (whole.clone(), data.len()));
        // The `\r`s so far may end the line: wait for what follows, or for EOF.
        assert_eq!(shape(&line(3, b""), false), (vec![], 0));
        assert_eq!(shape(&line(3, b""), true), (whole.clone(), MAX_LINE + 3));
        // Something else after them: they were payload, and the line is cut.
        let (cut, _) = shape(&line(2, b"y\n"), false);
        assert_eq!(cut, [(MAX_LINE, true), (3, false)]);
        // A run of more than 16 KiB of `\r`s is payload too (nothing waits unbounded).
        let (cut, _) = shape(&line(MAX_LINE + 1, b""), false);
        assert_eq!(cut, [(MAX_LINE, true)]);
    }

    #[test]
    fn colour_sequences_are_removed_and_nothing_else() {
        let table: [(&[u8], &[u8]); 8] = [
            (b"\x1b[31mred\x1b[0m", b"red"),
            (b"\x1b[1;38;5;208mo\x1b[m", b"o"),
            (b"\x1b[38:2:1:2:3mrgb", b"rgb"),
            (b"plain", b"plain"),
            // Not colours: a cursor move and an erase stay, as does an unfinished sequence.
            (b"\x1b[2K\x1b[1Gx", b"\x1b[2K\x1b[1Gx"),
            (b"a\x1b[31", b"a\x1b[31"),
            (b"a\x1b", b"a\x1b"),
            (b"\x1b\x1b[32mb", b"\x1bb"),
        ];
        for (text, want) in table {
            let mut out = Vec::new();
            strip_colours(text, &mut out);
            assert_eq!(out, want, "{text:?}");
        }
    }
}
