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
    // A terminal's `\r\n`: the window looks one byte further for the `\n`, so a line of
    // exactly MAX_LINE bytes is still whole.
    let reach = MAX_LINE + 1 + usize::from(tty);
    let mut used = 0;
    while used < data.len() {
        let rest = &data[used..];
        let window = &rest[..rest.len().min(reach)];
        let (piece, partial, step) = match memchr::memchr(b'\n', window) {
            Some(end) if end_of(&rest[..end], tty).len() <= MAX_LINE => {
                (end_of(&rest[..end], tty), false, end + 1)
            }
            Some(_) => (&rest[..MAX_LINE], true, MAX_LINE),
            None if rest.len() > MAX_LINE => (&rest[..MAX_LINE], true, MAX_LINE),
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

#[cfg(test)]
mod tests {
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
