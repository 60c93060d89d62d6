//! TOML text → a spanned document: every key and value with its byte range in the text, the
//! tables' keys in the file's order (the order sets each type's PORT block).
//!
//! Owns: TOML 1.1 (toml.io/en/v1.1.0), the version the `toml` crate this replaces read, so
//! every file that was accepted still is. Pure: text in, a document or the first syntax error
//! with its place out. The schema (`schema/`) walks the document and checks the keys.
//!
//! Why our own: the `toml` crate (with `toml_parser`, `serde_spanned` and `indexmap`) was
//! ~38 KB of the static binary for what is ~15 KB here, and the binary has a budget. It
//! stays a dev-dependency: the tests compare this parser's documents with its own on
//! generated files, and `fuzz/` runs both.
//!
//! Must not: know formation's keys, or stop at anything but the first syntax error (after
//! one, the rest of a document cannot be trusted; the schema's errors are all reported).

#[cfg(any(test, fuzzing))]
pub mod compare;
mod numbers;
mod scalar;
mod strings;
mod tables;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::ops::Range;

/// A key or value and where it stands in the text (byte offsets).
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    value: T,
    span: Range<usize>,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Range<usize>) -> Self {
        Spanned { value, span }
    }
    pub fn get_ref(&self) -> &T {
        &self.value
    }
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }
}

/// A key as written, unquoted and unescaped.
pub type Key<'i> = Spanned<Cow<'i, str>>;

/// A TOML value.
#[derive(Debug, Clone, PartialEq)]
pub enum Item<'i> {
    String(Cow<'i, str>),
    Integer(i64),
    /// As written (`1e3`, `-inf`, `3.141_5`): formation reads floats only as text.
    Float(&'i str),
    Boolean(bool),
    /// As written: an offset or local date-time, a local date or a local time.
    Datetime(&'i str),
    Array(Array<'i>),
    Table(Table<'i>),
}

impl<'i> Item<'i> {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Item::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Item::Boolean(b) => Some(*b),
            _ => None,
        }
    }
    pub fn is_bool(&self) -> bool {
        matches!(self, Item::Boolean(_))
    }
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Item::Integer(i) => Some(*i),
            _ => None,
        }
    }
    pub fn as_table(&self) -> Option<&Table<'i>> {
        match self {
            Item::Table(t) => Some(t),
            _ => None,
        }
    }
}

/// An array: written (`[1, 2]`) or of tables (`[[name]]` headers, which may add to it).
#[derive(Debug, Clone, PartialEq)]
pub struct Array<'i> {
    items: Vec<Spanned<Item<'i>>>,
    of_tables: bool,
}

impl<'i> std::ops::Deref for Array<'i> {
    type Target = [Spanned<Item<'i>>];
    fn deref(&self) -> &Self::Target {
        &self.items
    }
}

/// How a table came to be, which says what may still add to it (TOML 1.1 §Table).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Made {
    /// A parent named by a header (`a` of `[a.b]`): a later `[a]` may still define it.
    Implicit,
    /// By its own `[header]` (or the document itself).
    Header,
    /// By a dotted key (`a.b = 1` makes `a`): more dotted keys may add to it.
    Dotted,
    /// Inline (`{ … }`): complete as written.
    Inline,
}

/// A table: its keys in the order they were first written.
#[derive(Debug, Clone, PartialEq)]
pub struct Table<'i> {
    entries: Vec<(Key<'i>, Spanned<Item<'i>>)>,
    made: Made,
}

impl<'i> Table<'i> {
    fn new(made: Made) -> Self {
        Table {
            entries: Vec::new(),
            made,
        }
    }
    pub fn get(&self, key: &str) -> Option<&Spanned<Item<'i>>> {
        self.get_key_value(key).map(|(_, v)| v)
    }
    pub fn get_key_value(&self, key: &str) -> Option<(&Key<'i>, &Spanned<Item<'i>>)> {
        self.iter().find(|(k, _)| k.value == key)
    }
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
    pub fn iter(&self) -> impl Iterator<Item = (&Key<'i>, &Spanned<Item<'i>>)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<'a, 'i> IntoIterator for &'a Table<'i> {
    type Item = (&'a Key<'i>, &'a Spanned<Item<'i>>);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Key<'i>, Spanned<Item<'i>>)>,
        fn(&'a (Key<'i>, Spanned<Item<'i>>)) -> (&'a Key<'i>, &'a Spanned<Item<'i>>),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

/// A syntax error: what is wrong, and the byte offset where.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub message: String,
    pub at: usize,
}

/// Parses a whole document.
pub fn parse(text: &str) -> Result<Table<'_>, Error> {
    tables::document(text)
}
