//! The document's structure: headers, keys and values, arrays, inline tables, and the rules
//! of what may still add to a table once it exists (TOML 1.1 §Table, §Array of Tables).

use super::scalar::Cursor;
use super::{Array, Error, Item, Key, Made, Spanned, Table};

/// The whole text → its root table.
pub(super) fn document(text: &str) -> Result<Table<'_>, Error> {
    let mut c = Cursor::new(text);
    let mut root = Table::new(Made::Header);
    // The keys of the last header: where key/value lines go.
    let mut section: Vec<Key<'_>> = Vec::new();
    loop {
        c.skip_ws();
        match c.peek() {
            None => return Ok(root),
            Some(b'#' | b'\n' | b'\r') => {}
            Some(b'[') => section = header(&mut c, &mut root)?,
            Some(_) => {
                let Some(table) = open(&mut root, &section) else {
                    return c.fail(c.pos, "no table to put this key in");
                };
                key_value(&mut c, table, 0)?;
            }
        }
        c.line_end()?;
    }
}

/// `[a.b]` or `[[a.b]]`: defines that table (or adds one to that array of tables).
/// A header's table stands where its header does (its errors point at the `[`).
fn header<'i>(c: &mut Cursor<'i>, root: &mut Table<'i>) -> Result<Vec<Key<'i>>, Error> {
    let start = c.pos;
    let array = c.starts("[[");
    c.pos += if array { 2 } else { 1 };
    c.skip_ws();
    let keys = c.dotted_key()?;
    c.skip_ws();
    let close = if array { "]]" } else { "]" };
    if !c.starts(close) {
        return c.fail(c.pos, format!("expected `{close}` to end the header"));
    }
    c.pos += close.len();
    let Some((last, parents)) = keys.split_last() else {
        return c.fail(c.pos, "expected a key");
    };
    let mut t = root;
    for k in parents {
        let at = find_or(t, k, || Table::new(Made::Implicit));
        t = match &mut t.entries[at].1.value {
            Item::Table(sub) if sub.made != Made::Inline => sub,
            Item::Array(a) if a.of_tables => match last_table(a) {
                Some(sub) => sub,
                None => return Err(duplicate(c.text, k)),
            },
            _ => return Err(duplicate(c.text, k)),
        };
    }
    let place = start..c.pos;
    let fresh = || Spanned::new(Item::Table(Table::new(Made::Header)), place.clone());
    match t.entries.iter().position(|(e, _)| e.value == last.value) {
        None if array => {
            let items = vec![fresh()];
            let list = Item::Array(Array {
                items,
                of_tables: true,
            });
            t.entries
                .push((last.clone(), Spanned::new(list, place.clone())));
        }
        None => t.entries.push((last.clone(), fresh())),
        Some(at) => match &mut t.entries[at].1 {
            Spanned {
                value: Item::Array(a),
                ..
            } if array && a.of_tables => a.items.push(fresh()),
            Spanned {
                value: Item::Table(sub),
                span,
            } if !array && sub.made == Made::Implicit => {
                sub.made = Made::Header;
                *span = place.clone();
                // Its place among its siblings is its header's, as the toml crate had it:
                // in `[process.web.env]`, `[process.worker]`, `[process.web]`, web is
                // second (the order sets each type's PORT block).
                let entry = t.entries.remove(at);
                t.entries.push(entry);
            }
            _ => return Err(duplicate(c.text, last)),
        },
    }
    Ok(keys)
}

/// The table a section's key/value lines go into (its header was checked when read, so
/// `None` cannot happen).
fn open<'a, 'i>(root: &'a mut Table<'i>, section: &[Key<'i>]) -> Option<&'a mut Table<'i>> {
    let mut t = root;
    for k in section {
        let at = t.entries.iter().position(|(e, _)| e.value == k.value)?;
        t = match &mut t.entries[at].1.value {
            Item::Table(sub) => sub,
            Item::Array(a) => last_table(a)?,
            _ => return None,
        };
    }
    Some(t)
}

/// `key = value` (the key maybe dotted) into `t`.
fn key_value<'i>(c: &mut Cursor<'i>, t: &mut Table<'i>, depth: usize) -> Result<(), Error> {
    let keys = c.dotted_key()?;
    // In an inline table, newlines and comments may stand around the `=` too (TOML 1.1 as
    // the toml crate reads it); on a line of its own, a key and value are one line.
    let blank = |c: &mut Cursor<'i>| {
        if depth > 0 {
            c.skip_blank()
        } else {
            c.skip_ws();
            Ok(())
        }
    };
    blank(c)?;
    c.expect(b'=', "expected `=` after a key")?;
    blank(c)?;
    let value = value(c, depth)?;
    let Some((last, parents)) = keys.split_last() else {
        return c.fail(c.pos, "expected a key");
    };
    let mut t = t;
    for k in parents {
        let at = find_or(t, k, || Table::new(Made::Dotted));
        t = match &mut t.entries[at].1.value {
            Item::Table(sub) if sub.made == Made::Dotted => sub,
            _ => return Err(duplicate(c.text, k)),
        };
    }
    if t.contains_key(&last.value) {
        return Err(duplicate(c.text, last));
    }
    t.entries.push((last.clone(), value));
    Ok(())
}

/// How deeply arrays and inline tables may nest: each level is a frame of the parser's
/// stack, and PID 1 must not run out of stack on a hostile file.
const MAX_DEPTH: usize = 100;

fn value<'i>(c: &mut Cursor<'i>, depth: usize) -> Result<Spanned<Item<'i>>, Error> {
    let start = c.pos;
    if depth >= MAX_DEPTH && matches!(c.peek(), Some(b'[' | b'{')) {
        return c.fail(
            start,
            format!("arrays and inline tables nest more than {MAX_DEPTH} deep"),
        );
    }
    match c.peek() {
        Some(b'[') => {
            c.pos += 1;
            let mut items = Vec::new();
            loop {
                c.skip_blank()?;
                if c.peek() == Some(b']') {
                    break;
                }
                items.push(value(c, depth + 1)?);
                c.skip_blank()?;
                if c.peek() != Some(b',') {
                    break;
                }
                c.pos += 1;
            }
            c.expect(b']', "expected `,` or `]` in an array")?;
            let array = Array {
                items,
                of_tables: false,
            };
            Ok(Spanned::new(Item::Array(array), start..c.pos))
        }
        Some(b'{') => {
            c.pos += 1;
            let mut t = Table::new(Made::Inline);
            loop {
                c.skip_blank()?;
                if c.peek() == Some(b'}') {
                    break;
                }
                key_value(c, &mut t, depth + 1)?;
                c.skip_blank()?;
                if c.peek() != Some(b',') {
                    break;
                }
                c.pos += 1;
            }
            c.expect(b'}', "expected `,` or `}` in an inline table")?;
            Ok(Spanned::new(Item::Table(t), start..c.pos))
        }
        _ => c.scalar(),
    }
}

/// The index of `k` in `t`, added as a table made by `make` if it is not there.
fn find_or<'i>(t: &mut Table<'i>, k: &Key<'i>, make: impl FnOnce() -> Table<'i>) -> usize {
    match t.entries.iter().position(|(e, _)| e.value == k.value) {
        Some(at) => at,
        None => {
            let table = Spanned::new(Item::Table(make()), k.span());
            t.entries.push((k.clone(), table));
            t.entries.len() - 1
        }
    }
}

/// The table that `[[a]]` added last, which `[a.b]` and key lines go into.
fn last_table<'a, 'i>(a: &'a mut Array<'i>) -> Option<&'a mut Table<'i>> {
    match a.items.last_mut().map(|s| &mut s.value) {
        Some(Item::Table(t)) => Some(t),
        _ => None,
    }
}

fn duplicate(text: &str, k: &Key<'_>) -> Error {
    Error {
        message: format!("duplicate key `{}`", text[k.span()].trim()),
        at: k.span().start,
    }
}
