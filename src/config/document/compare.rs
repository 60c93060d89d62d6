//! The reference for `document/`: the `toml` crate's reading of the same text, both brought
//! to one plain form. Used by the tests and by the `document` fuzz target.

use super::Item;
use std::fmt::Write;

/// What both parsers made of `text`, as comparable text (`Err` with the reason when only
/// one of them accepted it). `Ok(None)`: both refused it.
pub fn agree(text: &str) -> Result<Option<String>, String> {
    let ours = super::parse(text);
    let theirs = toml::de::DeTable::parse(text);
    match (ours, theirs) {
        (Ok(ours), Ok(theirs)) => {
            let mut a = String::new();
            table_ours(
                &mut a,
                ours.iter()
                    .map(|(k, v)| (k.get_ref().as_ref(), v.get_ref())),
            );
            let mut b = String::new();
            let fits = table_theirs(&mut b, theirs.get_ref());
            if !fits {
                return Err(format!(
                    "toml accepted a number that is out of range, we did: {a}"
                ));
            }
            if a == b {
                Ok(Some(a))
            } else {
                Err(format!("ours {a}\ntoml {b}"))
            }
        }
        (Err(_), Err(_)) => Ok(None),
        (Ok(ours), Err(e)) => Err(format!("only we accepted it: {ours:?}; toml: {e}")),
        (Err(e), Ok(theirs)) => {
            let mut b = String::new();
            if table_theirs(&mut b, theirs.get_ref()) {
                Err(format!("only toml accepted it: {b}; we: {e:?}"))
            } else {
                Ok(None) // a number out of range: toml refuses it when it is read
            }
        }
    }
}

fn table_ours<'a, 'i: 'a>(
    out: &mut String,
    entries: impl Iterator<Item = (&'a str, &'a Item<'i>)>,
) {
    out.push('{');
    for (k, v) in entries {
        let _ = write!(out, "{k:?}=");
        item_ours(out, v);
        out.push(',');
    }
    out.push('}');
}

fn item_ours(out: &mut String, v: &Item<'_>) {
    match v {
        Item::String(s) => {
            let _ = write!(out, "s{s:?}");
        }
        Item::Integer(i) => {
            let _ = write!(out, "i{i}");
        }
        Item::Float(f) => float(out, f),
        Item::Boolean(b) => {
            let _ = write!(out, "b{b}");
        }
        Item::Datetime(_) => out.push_str("date"),
        Item::Array(a) => {
            out.push('[');
            for item in a.iter() {
                item_ours(out, item.get_ref());
                out.push(',');
            }
            out.push(']');
        }
        Item::Table(t) => table_ours(
            out,
            t.iter().map(|(k, v)| (k.get_ref().as_ref(), v.get_ref())),
        ),
    }
}

fn float(out: &mut String, text: &str) {
    let clean: String = text.chars().filter(|c| *c != '_').collect();
    let value: f64 = match clean.trim_start_matches(['+', '-']) {
        "inf" => f64::INFINITY,
        "nan" => f64::NAN,
        _ => clean.parse().unwrap_or(f64::NAN),
    };
    let _ = write!(out, "f{value:?}");
}

/// False when a number does not fit (the toml crate checks that later, when it is read).
fn table_theirs(out: &mut String, t: &toml::de::DeTable<'_>) -> bool {
    out.push('{');
    let mut fits = true;
    for (k, v) in t {
        let _ = write!(out, "{:?}=", k.get_ref().as_ref() as &str);
        fits &= item_theirs(out, v.get_ref());
        out.push(',');
    }
    out.push('}');
    fits
}

fn item_theirs(out: &mut String, v: &toml::de::DeValue<'_>) -> bool {
    use toml::de::DeValue;
    match v {
        DeValue::String(s) => {
            let _ = write!(out, "s{:?}", s.as_ref() as &str);
        }
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => {
                let _ = write!(out, "i{n}");
            }
            Err(_) => return false,
        },
        DeValue::Float(f) => float(out, f.as_str()),
        DeValue::Boolean(b) => {
            let _ = write!(out, "b{b}");
        }
        DeValue::Datetime(_) => out.push_str("date"),
        DeValue::Array(a) => {
            out.push('[');
            let mut fits = true;
            for item in a.iter() {
                fits &= item_theirs(out, item.get_ref());
                out.push(',');
            }
            out.push(']');
            return fits;
        }
        DeValue::Table(t) => return table_theirs(out, t),
    }
    true
}
