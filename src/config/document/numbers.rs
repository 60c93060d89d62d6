//! Numbers and dates as TOML 1.1 writes them: which tokens are integers, floats or dates.
//! Pure functions of the token's text.

use super::Item;
use crate::time::civil::days_in_month;

/// `0x`, `0o`, `0b` or decimal integers, and floats; `None` for anything else.
pub(super) fn number(token: &str) -> Option<Item<'_>> {
    let (signed, body) = match token.as_bytes().first() {
        Some(b'+' | b'-') => (true, &token[1..]),
        _ => (false, token),
    };
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(digits) = body.strip_prefix(prefix) {
            let ok = !signed && grouped(digits, |b| (b as char).is_digit(radix));
            let clean: String = digits.chars().filter(|c| *c != '_').collect();
            return ok
                .then(|| i64::from_str_radix(&clean, radix).ok())
                .flatten()
                .map(Item::Integer);
        }
    }
    let int_end = body.find(['.', 'e', 'E']).unwrap_or(body.len());
    let (int, mut rest) = body.split_at(int_end);
    let digit = |b: u8| b.is_ascii_digit();
    if !grouped(int, digit) || (int.len() > 1 && int.starts_with('0')) {
        return None;
    }
    let mut float = false;
    if let Some(after) = rest.strip_prefix('.') {
        let end = after.find(['e', 'E']).unwrap_or(after.len());
        if !grouped(&after[..end], digit) {
            return None;
        }
        rest = &after[end..];
        float = true;
    }
    if let Some(exp) = rest.strip_prefix(['e', 'E']) {
        let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        if !grouped(exp, digit) {
            return None;
        }
        rest = "";
        float = true;
    }
    if !rest.is_empty() {
        return None;
    }
    if float {
        return Some(Item::Float(token));
    }
    let clean: String = token.chars().filter(|c| *c != '_').collect();
    clean.parse().ok().map(Item::Integer)
}

/// Digits of one kind with single underscores only between them.
fn grouped(text: &str, digit: impl Fn(u8) -> bool) -> bool {
    let b = text.as_bytes();
    !b.is_empty()
        && digit(b[0])
        && digit(b[b.len() - 1])
        && b.iter().all(|c| digit(*c) || *c == b'_')
        && !text.contains("__")
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

/// `YYYY-MM-DD` (shape only).
pub(super) fn is_date(b: &[u8]) -> bool {
    b.len() == 10 && b[4] == b'-' && b[7] == b'-'
}

pub(super) fn looks_like_datetime(b: &[u8]) -> bool {
    (b.len() >= 10 && b[4] == b'-' && b[..4].iter().all(u8::is_ascii_digit))
        || (b.len() >= 5 && b[2] == b':' && b[..2].iter().all(u8::is_ascii_digit))
}

/// An offset or local date-time, a local date or a local time, with valid fields.
pub(super) fn datetime(b: &[u8]) -> bool {
    if b.len() >= 10 && b[4] == b'-' {
        let date = is_date(&b[..10])
            && match (digits(&b[..4]), digits(&b[5..7]), digits(&b[8..10])) {
                (Some(y), Some(m), Some(d)) => {
                    (1..=12).contains(&m) && (1..=days_in_month(i64::from(y), m)).contains(&d)
                }
                _ => false,
            };
        if !date {
            return false;
        }
        match b.get(10) {
            None => true,
            Some(b'T' | b't' | b' ') => time(&b[11..], true),
            Some(_) => false,
        }
    } else {
        time(b, false)
    }
}

/// `HH:MM[:SS[.fraction]]`, then with `offset` allowed, `Z` or `±HH:MM`.
fn time(b: &[u8], offset: bool) -> bool {
    let two = |at: usize| b.get(at..at + 2).and_then(digits);
    let (Some(h), Some(m)) = (two(0), two(3)) else {
        return false;
    };
    if b.get(2) != Some(&b':') || h > 23 || m > 59 {
        return false;
    }
    let mut at = 5;
    if b.get(at) == Some(&b':') {
        match two(at + 1) {
            Some(s) if s <= 60 => at += 3,
            _ => return false,
        }
        if b.get(at) == Some(&b'.') {
            let n = b[at + 1..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if n == 0 {
                return false;
            }
            at += 1 + n;
        }
    }
    let rest = &b[at..];
    match rest {
        [] => true,
        [b'Z' | b'z'] => offset,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            offset
                && digits(&[*h1, *h2]).is_some_and(|h| h <= 23)
                && digits(&[*m1, *m2]).is_some_and(|m| m <= 59)
        }
        _ => false,
    }
}
