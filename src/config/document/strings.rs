//! Strings: basic (with escapes) and literal, each on one line or several.

use super::Error;
use super::scalar::{Cursor, control};
use std::borrow::Cow;

impl<'i> Cursor<'i> {
    /// A basic string (escapes allowed), one line or `multi`-line; at its opening quote.
    pub(super) fn basic(&mut self, multi: bool) -> Result<Cow<'i, str>, Error> {
        let open = self.pos;
        self.pos += if multi { 3 } else { 1 };
        if multi {
            self.newline()?; // a newline right after the quotes is not part of the string
        }
        let mut out: Option<String> = None;
        let mut from = self.pos;
        loop {
            let Some(b) = self.peek() else {
                return self.fail(open, "a string that is not closed");
            };
            match b {
                b'"' => {
                    let run = self.quotes(b'"');
                    if !multi || run >= 3 {
                        return self.close(multi, run, from, out, open);
                    }
                    self.pos += run;
                }
                b'\\' => {
                    let piece = &self.text[from..self.pos];
                    let buf = out.get_or_insert_with(String::new);
                    buf.push_str(piece);
                    self.escape(multi, buf)?;
                    from = self.pos;
                }
                b'\n' | b'\r' if multi => {
                    if !self.newline()? {
                        return self.fail(self.pos, "a control character in a string");
                    }
                }
                b'\n' | b'\r' => return self.fail(self.pos, "a newline in a one-line string"),
                b if control(b) => return self.fail(self.pos, "a control character in a string"),
                _ => self.pos += 1,
            }
        }
    }

    /// A literal string (no escapes), one line or `multi`-line; at its opening quote.
    pub(super) fn literal(&mut self, multi: bool) -> Result<Cow<'i, str>, Error> {
        let open = self.pos;
        self.pos += if multi { 3 } else { 1 };
        if multi {
            self.newline()?;
        }
        let from = self.pos;
        loop {
            match self.peek() {
                None => return self.fail(open, "a string that is not closed"),
                Some(b'\'') => {
                    let run = self.quotes(b'\'');
                    if !multi || run >= 3 {
                        return self.close(multi, run, from, None, open);
                    }
                    self.pos += run;
                }
                Some(b'\n' | b'\r') if multi => {
                    if !self.newline()? {
                        return self.fail(self.pos, "a control character in a string");
                    }
                }
                Some(b'\n' | b'\r') => {
                    return self.fail(self.pos, "a newline in a one-line string");
                }
                Some(b) if control(b) => {
                    return self.fail(self.pos, "a control character in a string");
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    /// How many `quote`s stand in a row here.
    fn quotes(&self, quote: u8) -> usize {
        self.text.as_bytes()[self.pos..]
            .iter()
            .take_while(|b| **b == quote)
            .count()
    }

    /// Ends a string at a run of `run` quotes: a one-line string at the first; a multi-line
    /// one keeps up to two quotes before its closing three.
    fn close(
        &mut self,
        multi: bool,
        run: usize,
        from: usize,
        out: Option<String>,
        open: usize,
    ) -> Result<Cow<'i, str>, Error> {
        let (kept, used) = if multi { (run - 3, run) } else { (0, 1) };
        if kept > 2 {
            return self.fail(open, "too many quotes at the end of a multi-line string");
        }
        let piece = &self.text[from..self.pos + kept];
        self.pos += used;
        Ok(match out {
            None => Cow::Borrowed(piece),
            Some(mut buf) => {
                buf.push_str(piece);
                Cow::Owned(buf)
            }
        })
    }

    /// An escape, at its backslash, into `out`. In a multi-line string a backslash that ends
    /// its line removes that line end and the blanks and newlines after it.
    fn escape(&mut self, multi: bool, out: &mut String) -> Result<(), Error> {
        let at = self.pos;
        self.pos += 1;
        if multi {
            let rest = &self.text.as_bytes()[self.pos..];
            let blanks = rest
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t'))
                .count();
            if matches!(rest.get(blanks), Some(b'\n' | b'\r')) {
                self.pos += blanks;
                self.skip_blank_lines()?;
                return Ok(());
            }
        }
        let c = match self.peek() {
            Some(b'b') => '\u{8}',
            Some(b't') => '\t',
            Some(b'n') => '\n',
            Some(b'f') => '\u{c}',
            Some(b'r') => '\r',
            Some(b'e') => '\u{1b}',
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'x') => return self.hex(at, 2, out),
            Some(b'u') => return self.hex(at, 4, out),
            Some(b'U') => return self.hex(at, 8, out),
            _ => return self.fail(at, "an unknown escape in a string"),
        };
        self.pos += 1;
        out.push(c);
        Ok(())
    }

    fn skip_blank_lines(&mut self) -> Result<(), Error> {
        loop {
            self.skip_ws();
            if !self.newline()? {
                return Ok(());
            }
        }
    }

    /// `\xHH`, `\uHHHH` or `\UHHHHHHHH`: a Unicode scalar value.
    fn hex(&mut self, at: usize, digits: usize, out: &mut String) -> Result<(), Error> {
        let from = self.pos + 1;
        let code = self
            .text
            .get(from..from + digits)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32);
        match code {
            Some(c) => {
                out.push(c);
                self.pos = from + digits;
                Ok(())
            }
            None => self.fail(at, "an escape that is not a Unicode scalar value"),
        }
    }
}
