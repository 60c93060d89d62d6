//! The cursor over the text, and the pieces of a line: blanks, comments, keys, and which
//! kind of value comes next.

use super::numbers::{datetime, is_date, looks_like_datetime, number};
use super::{Error, Item, Key, Spanned};
use std::borrow::Cow;

/// The text and how far it has been read.
pub(super) struct Cursor<'i> {
    pub text: &'i str,
    pub pos: usize,
}

/// A byte that is not allowed raw in a comment or a string (TOML: control characters
/// other than tab).
pub(super) fn control(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

fn bare_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// The bytes a number, boolean or date may hold (a date-time's space is taken apart).
fn token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-' | b'.' | b':')
}

impl<'i> Cursor<'i> {
    pub fn new(text: &'i str) -> Self {
        // A byte order mark is not part of the document.
        let pos = if text.starts_with('\u{feff}') { 3 } else { 0 };
        Cursor { text, pos }
    }

    pub fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    pub(super) fn byte_at(&self, at: usize) -> Option<u8> {
        self.text.as_bytes().get(at).copied()
    }

    pub fn starts(&self, s: &str) -> bool {
        self.text[self.pos..].starts_with(s)
    }

    pub fn fail<T>(&self, at: usize, message: impl Into<String>) -> Result<T, Error> {
        Err(Error {
            message: message.into(),
            at,
        })
    }

    /// Expects `byte` and steps over it.
    pub fn expect(&mut self, byte: u8, message: &str) -> Result<(), Error> {
        if self.peek() != Some(byte) {
            return self.fail(self.pos, message);
        }
        self.pos += 1;
        Ok(())
    }

    /// Spaces and tabs.
    pub fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// A newline (`\n` or `\r\n`), if one is next.
    pub fn newline(&mut self) -> Result<bool, Error> {
        match self.peek() {
            Some(b'\n') => self.pos += 1,
            Some(b'\r') if self.byte_at(self.pos + 1) == Some(b'\n') => self.pos += 2,
            Some(b'\r') => {
                return self.fail(self.pos, "a carriage return must end a line (\\r\\n)");
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// A comment, if one is next, up to (not including) its line's end.
    pub fn comment(&mut self) -> Result<(), Error> {
        if self.peek() != Some(b'#') {
            return Ok(());
        }
        while let Some(b) = self.peek() {
            if b == b'\n' || (b == b'\r' && self.byte_at(self.pos + 1) == Some(b'\n')) {
                break;
            }
            if control(b) {
                return self.fail(self.pos, "a control character in a comment");
            }
            self.pos += 1;
        }
        Ok(())
    }

    /// Blanks, comments and newlines, as between the values of an array.
    pub fn skip_blank(&mut self) -> Result<(), Error> {
        loop {
            self.skip_ws();
            self.comment()?;
            if !self.newline()? {
                return Ok(());
            }
        }
    }

    /// The end of a line that held a key and value or a header: blanks, a comment, then a
    /// newline or the end of the text.
    pub fn line_end(&mut self) -> Result<(), Error> {
        self.skip_ws();
        self.comment()?;
        if self.peek().is_none() || self.newline()? {
            return Ok(());
        }
        self.fail(self.pos, "expected the end of the line")
    }

    /// A key: bare, "basic" or 'literal', possibly dotted (`a."b".c`).
    pub fn dotted_key(&mut self) -> Result<Vec<Key<'i>>, Error> {
        let mut keys = vec![self.key()?];
        loop {
            let before = self.pos;
            self.skip_ws();
            if self.peek() != Some(b'.') {
                self.pos = before;
                return Ok(keys);
            }
            self.pos += 1;
            self.skip_ws();
            keys.push(self.key()?);
        }
    }

    fn key(&mut self) -> Result<Key<'i>, Error> {
        let start = self.pos;
        let name = match self.peek() {
            Some(b'"') => self.basic(false)?,
            Some(b'\'') => self.literal(false)?,
            Some(b) if bare_key_byte(b) => {
                while self.peek().is_some_and(bare_key_byte) {
                    self.pos += 1;
                }
                Cow::Borrowed(&self.text[start..self.pos])
            }
            _ => return self.fail(start, "expected a key"),
        };
        Ok(Spanned::new(name, start..self.pos))
    }

    /// A string, number, boolean or date.
    pub fn scalar(&mut self) -> Result<Spanned<Item<'i>>, Error> {
        let start = self.pos;
        let item = match self.peek() {
            Some(b'"') => Item::String(self.basic(self.starts("\"\"\""))?),
            Some(b'\'') => Item::String(self.literal(self.starts("'''"))?),
            Some(b) if token_byte(b) => self.token()?,
            _ => return self.fail(start, "expected a value"),
        };
        Ok(Spanned::new(item, start..self.pos))
    }

    /// A number, boolean or date: the token's bytes, a date-time's space included.
    fn token(&mut self) -> Result<Item<'i>, Error> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let mut end = start
            + bytes[start..]
                .iter()
                .take_while(|b| token_byte(**b))
                .count();
        // `1979-05-27 07:32:00`: a date, a space, then a time.
        if end - start == 10
            && is_date(&bytes[start..end])
            && bytes.get(end) == Some(&b' ')
            && bytes
                .get(end + 1..end + 4)
                .is_some_and(|t| t[0].is_ascii_digit() && t[1].is_ascii_digit() && t[2] == b':')
        {
            end += 1 + bytes[end + 1..]
                .iter()
                .take_while(|b| token_byte(**b))
                .count();
        }
        let token = &self.text[start..end];
        self.pos = end;
        let item = match token {
            "true" => Some(Item::Boolean(true)),
            "false" => Some(Item::Boolean(false)),
            "inf" | "+inf" | "-inf" | "nan" | "+nan" | "-nan" => Some(Item::Float(token)),
            _ if looks_like_datetime(token.as_bytes()) => {
                datetime(token.as_bytes()).then_some(Item::Datetime(token))
            }
            _ => number(token),
        };
        match item {
            Some(item) => Ok(item),
            None => self.fail(start, format!("`{token}` is not a TOML value")),
        }
    }
}
