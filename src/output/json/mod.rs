//! Is a child's line one JSON object? A validating scanner for the merge of SPEC §5.
//!
//! Owns: the answer for one line — where the object sits, whether it is empty, and which of
//! formation's own field names its top-level keys already use — and nothing else. Pure.
//!
//! Why a scanner and no parser: the merge keeps the child's bytes as they are (its keys, their
//! order, its number formats), so nothing needs a tree; the line is only walked once, with
//! the nesting kept in the bits of one integer. It allocates nothing, and a line that does
//! not start with `{` costs one look at its first bytes, so `--log-format json` of plain text
//! runs as fast as before.
//!
//! Strict where consumers are strict: the grammar of RFC 8259, UTF-8 only, and no lone UTF-16
//! surrogate in a `\u` escape (serde_json and others refuse one). Anything this refuses stays
//! a `line` string, which every consumer reads. Nesting deeper than [`MAX_DEPTH`] is refused
//! too (serde_json's own limit is 128).

/// The deepest nesting of objects and arrays accepted (the line's own object is level 1).
pub const MAX_DEPTH: u32 = 128;

/// formation's fields, in the order they are written.
pub const FIELDS: [&str; 3] = ["time", "proc", "stream"];

/// A line that is one JSON object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Object {
    /// Where its `{` is (after any leading whitespace).
    pub start: usize,
    /// Just past its `}` (any trailing whitespace follows).
    pub end: usize,
    /// It has no key at all.
    pub empty: bool,
    /// Bit `i`: a top-level key is `FIELDS[i]`; bit `3 + i`: one is `formation_` + `FIELDS[i]`.
    pub keys: u8,
}

/// What the scanner expects next.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    /// After `{`: a key or `}`.
    KeyOrEnd,
    /// After a `,` in an object.
    Key,
    /// After a key.
    Colon,
    /// After `[`: a value or `]`.
    ValueOrEnd,
    /// After `:` or a `,` in an array.
    Value,
    /// After a value.
    CommaOrEnd,
}

/// The object `line` is, when it is exactly one JSON object with optional whitespace around.
pub fn object(line: &[u8]) -> Option<Object> {
    let start = skip_ws(line, 0);
    if line.get(start) != Some(&b'{') || std::str::from_utf8(line).is_err() {
        return None;
    }
    // Bit 0 is the innermost open level: 1 for an object, 0 for an array.
    let mut stack: u128 = 1;
    let mut depth: u32 = 1;
    let mut want = Want::KeyOrEnd;
    let mut keys = 0;
    let mut empty = true;
    let mut i = start + 1;
    loop {
        i = skip_ws(line, i);
        let c = *line.get(i)?;
        let mut close = false;
        match want {
            Want::KeyOrEnd | Want::Key => match c {
                b'}' if want == Want::KeyOrEnd => close = true,
                b'"' => {
                    let end = string(line, i + 1)?;
                    if depth == 1 {
                        keys |= key_bits(&line[i + 1..end]);
                        empty = false;
                    }
                    i = end + 1;
                    want = Want::Colon;
                    continue;
                }
                _ => return None,
            },
            Want::Colon if c == b':' => {
                i += 1;
                want = Want::Value;
                continue;
            }
            Want::Colon => return None,
            Want::ValueOrEnd | Want::Value => {
                let next = match c {
                    b'{' | b'[' => {
                        depth += 1;
                        if depth > MAX_DEPTH {
                            return None;
                        }
                        stack = stack << 1 | u128::from(c == b'{');
                        want = if c == b'{' {
                            Want::KeyOrEnd
                        } else {
                            Want::ValueOrEnd
                        };
                        i += 1;
                        continue;
                    }
                    b']' if want == Want::ValueOrEnd => {
                        close = true;
                        i
                    }
                    b'"' => string(line, i + 1)? + 1,
                    b't' => literal(line, i, b"true")?,
                    b'f' => literal(line, i, b"false")?,
                    b'n' => literal(line, i, b"null")?,
                    b'-' | b'0'..=b'9' => number(line, i)?,
                    _ => return None,
                };
                if !close {
                    i = next;
                    want = Want::CommaOrEnd;
                    continue;
                }
            }
            Want::CommaOrEnd => {
                let in_object = stack & 1 == 1;
                match c {
                    b',' => {
                        i += 1;
                        want = if in_object { Want::Key } else { Want::Value };
                        continue;
                    }
                    b'}' if in_object => close = true,
                    b']' if !in_object => close = true,
                    _ => return None,
                }
            }
        }
        debug_assert!(close);
        // `c` closes the innermost level.
        i += 1;
        depth -= 1;
        stack >>= 1;
        if depth == 0 {
            return (skip_ws(line, i) == line.len()).then_some(Object {
                start,
                end: i,
                empty,
                keys,
            });
        }
        want = Want::CommaOrEnd;
    }
}

/// The index of the first byte at or after `i` that is not JSON whitespace.
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(i) {
        i += 1;
    }
    i
}

/// The index of the `"` that ends the string whose contents start at `i`.
fn string(b: &[u8], mut i: usize) -> Option<usize> {
    loop {
        match *b.get(i)? {
            b'"' => return Some(i),
            b'\\' => {
                i += match *b.get(i + 1)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => 2,
                    b'u' => match hex4(b, i + 2)? {
                        // A high surrogate must be followed by a low one.
                        0xD800..=0xDBFF => match (b.get(i + 6..i + 8), hex4(b, i + 8)) {
                            (Some(b"\\u"), Some(0xDC00..=0xDFFF)) => 12,
                            _ => return None,
                        },
                        0xDC00..=0xDFFF => return None,
                        _ => 6,
                    },
                    _ => return None,
                }
            }
            0..=0x1f => return None,
            _ => i += 1,
        }
    }
}

/// The value of the four hex digits at `i`.
fn hex4(b: &[u8], i: usize) -> Option<u16> {
    let digits = b.get(i..i + 4)?;
    digits.iter().try_fold(0u16, |n, d| {
        let v = (*d as char).to_digit(16)?;
        Some(n << 4 | v as u16)
    })
}

/// Just past `word` at `i`.
fn literal(b: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    b.get(i..)?.starts_with(word).then_some(i + word.len())
}

/// Just past the number at `i`: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn number(b: &[u8], mut i: usize) -> Option<usize> {
    let digits = |i: usize| {
        i + b
            .get(i..)
            .map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count())
    };
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    i = match b.get(i)? {
        b'0' => i + 1,
        b'1'..=b'9' => digits(i + 1),
        _ => return None,
    };
    if b.get(i) == Some(&b'.') {
        let end = digits(i + 1);
        if end == i + 1 {
            return None;
        }
        i = end;
    }
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = b.get(i) {
            i += 1;
        }
        let end = digits(i);
        if end == i {
            return None;
        }
        i = end;
    }
    Some(i)
}

/// The bits of [`Object::keys`] that the top-level key `raw` (between its quotes, escapes
/// as written) sets. Escapes are decoded, so `"pro\u0063"` is `proc` as any reader sees it.
fn key_bits(raw: &[u8]) -> u8 {
    let mut buf = [0u8; 16];
    let key = if raw.contains(&b'\\') {
        match decode_short(raw, &mut buf) {
            Some(len) => &buf[..len],
            None => return 0,
        }
    } else {
        raw
    };
    let Some(rest) = key.strip_prefix(b"formation_") else {
        return bit(key);
    };
    bit(rest) << 3
}

fn bit(name: &[u8]) -> u8 {
    FIELDS
        .iter()
        .position(|f| f.as_bytes() == name)
        .map_or(0, |i| 1 << i)
}

/// Decodes the escapes of a short ASCII key into `buf`; None when it is longer than `buf` or
/// not ASCII (then it is none of formation's names). `raw` is a valid string's inside.
fn decode_short(raw: &[u8], buf: &mut [u8; 16]) -> Option<usize> {
    let (mut i, mut len) = (0, 0);
    while i < raw.len() {
        let (byte, step) = match raw[i] {
            b'\\' => match *raw.get(i + 1)? {
                b'u' => (u8::try_from(hex4(raw, i + 2)?).ok()?, 6),
                b'b' => (8, 2),
                b'f' => (12, 2),
                b'n' => (b'\n', 2),
                b'r' => (b'\r', 2),
                b't' => (b'\t', 2),
                other => (other, 2),
            },
            c => (c, 1),
        };
        if !byte.is_ascii() {
            return None;
        }
        *buf.get_mut(len)? = byte;
        len += 1;
        i += step;
    }
    Some(len)
}

#[cfg(test)]
mod tests;
