//! Values of formation.toml: numbers, durations, commands, tables, env tables and paths,
//! each checked with an error at its place.

use super::{Cx, Value};
use crate::config::document::{Item, Table};
use crate::config::model::{CommandLine, Diagnostics, Place, Var, VarValue};
use crate::config::names;
use crate::config::rewrite::{self, Rewrites};
use crate::time::duration;
use std::path::PathBuf;

/// A TOML integer that fits a u32.
pub(super) fn whole_number(value: &Value) -> Option<u32> {
    value
        .get_ref()
        .as_integer()
        .and_then(|i| u32::try_from(i).ok())
}

pub(super) fn command_line(diag: &mut Diagnostics, value: &Value) -> Option<CommandLine> {
    let at = value.span().start;
    let words: Vec<&str> = match value.get_ref() {
        Item::String(text) => vec![text],
        Item::Array(items) => items.iter().filter_map(|v| v.get_ref().as_str()).collect(),
        _ => Vec::new(),
    };
    if let Some(message) = CommandLine::nul_error(&words) {
        diag.at(at, message);
        return None;
    }
    match value.get_ref() {
        Item::String(text) if !text.trim().is_empty() => Some(CommandLine::from_text(text)),
        Item::Array(items) => {
            let words: Option<Vec<String>> = items
                .iter()
                .map(|v| v.get_ref().as_str().map(String::from))
                .collect();
            match words {
                Some(words) if words.first().is_some_and(|w| !w.is_empty()) => {
                    Some(CommandLine::Argv(words))
                }
                Some(_) => {
                    diag.at(at, "`command` is empty");
                    None
                }
                None => {
                    diag.at(at, "`command` array must hold only strings");
                    None
                }
            }
        }
        Item::String(_) => {
            diag.at(at, "`command` is empty");
            None
        }
        _ => {
            diag.at(at, "`command` must be a string or an array of strings");
            None
        }
    }
}

pub(super) fn table<'a, 'i>(
    diag: &mut Diagnostics,
    what: &str,
    value: &'a Value<'i>,
) -> Option<&'a Table<'i>> {
    let found = value.get_ref().as_table();
    if found.is_none() {
        diag.at(value.span().start, format!("`{what}` must be a table"));
    }
    found
}

/// A string, integer, float or boolean as text (env values, users and signals by number).
pub(super) fn scalar_text(value: &Value) -> Option<String> {
    match value.get_ref() {
        Item::String(s) => Some(s.to_string()),
        Item::Integer(i) => Some(i.to_string()),
        Item::Float(f) => Some(f.to_string()),
        Item::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(super) fn duration(
    diag: &mut Diagnostics,
    what: &str,
    value: &Value,
) -> Option<std::time::Duration> {
    let at = value.span().start;
    match scalar_text(value).filter(|_| !value.get_ref().is_bool()) {
        Some(text) => match duration::duration(&text) {
            Ok(d) => Some(d),
            Err(e) => {
                diag.at(at, format!("`{what}`: {e}"));
                None
            }
        },
        None => {
            diag.at(at, format!("`{what}` must be a duration such as \"10s\""));
            None
        }
    }
}

/// `[env]` or a process's `env`: each value a string, number or boolean, or
/// `{ file = "PATH" }` (SPEC §3.4; a relative path is relative to the config's directory). `PORT` cannot come from a file: each instance's port is computed from it
/// before anything runs.
pub(super) fn env_table(cx: &mut Cx<'_, '_>, what: &str, value: &Value) -> Vec<Var> {
    let Some(table) = table(cx.diag, what, value) else {
        return Vec::new();
    };
    let mut env = Vec::new();
    for (key, value) in table {
        let name = key.get_ref().to_string();
        if name.is_empty() || name.contains(['=', '\0']) {
            cx.diag.at(
                key.span().start,
                format!("{name:?} is not a valid variable name"),
            );
            continue;
        }
        let place = cx.diag.place(key.span().start);
        if let Item::Table(_) = value.get_ref() {
            if let Some(path) = env_file_value(cx, what, &name, value) {
                env.push(Var {
                    name,
                    value: VarValue::File(path),
                    place,
                });
            }
            continue;
        }
        match scalar_text(value) {
            Some(v) if !v.contains('\0') => env.push(Var::text(name, v, place)),
            _ => cx.diag.at(
                value.span().start,
                format!(
                    "`{what}.{name}` must be a string, number, boolean or {{ file = \"PATH\" }}"
                ),
            ),
        }
    }
    env
}

/// `NAME = { file = "PATH" }`: the path as written.
fn env_file_value(cx: &mut Cx<'_, '_>, what: &str, name: &str, value: &Value) -> Option<PathBuf> {
    let table = value.get_ref().as_table()?;
    let mut path = None;
    for (key, v) in table {
        match (key.get_ref().as_ref(), v.get_ref().as_str()) {
            // As written: the plan resolves a relative path against the config's directory,
            // and `export` must not write one of the exporting machine's paths.
            ("file", Some(p)) if !p.is_empty() && !p.contains('\0') => {
                path = Some(PathBuf::from(p));
            }
            ("file", _) => cx.diag.at(
                v.span().start,
                format!("`{what}.{name}.file` must be a non-empty path"),
            ),
            (other, _) => cx.diag.at(
                key.span().start,
                format!("unknown key `{other}` in `{what}.{name}` (expected: file)"),
            ),
        }
    }
    if table.is_empty() {
        cx.diag.at(
            value.span().start,
            format!("`{what}.{name}` needs a `file`: {{ file = \"PATH\" }}"),
        );
    }
    if name == "PORT" && path.is_some() {
        cx.diag.at(
            value.span().start,
            "`PORT` cannot come from a file: each instance's port is computed from it at start",
        );
        return None;
    }
    path
}

/// `signals = { HUP = "USR1", WINCH = "" }`: per forwarded signal, what the type gets
/// instead (`""` or `0`: nothing). Each key and value is checked at its place; one signal
/// named twice (`HUP` and `1`) is an error at the second.
pub(super) fn signals(diag: &mut Diagnostics, value: &Value) -> Rewrites {
    let mut rewrites = Rewrites::default();
    let Some(table) = table(diag, "signals", value) else {
        return rewrites;
    };
    let mut seen = Vec::new();
    for (key, value) in table {
        let at = key.span().start;
        let src = match names::signal(key.get_ref()) {
            Ok(sig) => sig,
            Err(e) => {
                diag.at(at, format!("`signals`: {e}"));
                continue;
            }
        };
        if let Some(e) = rewrite::per_type_error(src) {
            diag.at(at, format!("`signals`: {e}"));
            continue;
        }
        if seen.contains(&src) {
            diag.at(at, format!("`signals`: {} is named twice", src.as_str()));
            continue;
        }
        seen.push(src);
        let target = match value.get_ref() {
            Item::String(s) => rewrite::target(s),
            Item::Integer(_) => rewrite::target(&scalar_text(value).unwrap_or_default()),
            _ => Err("must be a signal name or number, or \"\" for none".into()),
        };
        match target {
            Ok(dst) => rewrites.set(src, dst),
            Err(e) => diag.at(
                value.span().start,
                format!("`signals.{}`: {e}", key.get_ref()),
            ),
        }
    }
    rewrites
}

pub(super) fn env_files(cx: &mut Cx<'_, '_>, value: &Value) -> Vec<(PathBuf, Place)> {
    let items: Vec<&Value> = match value.get_ref() {
        Item::Array(items) => items.iter().collect(),
        _ => vec![value],
    };
    let mut files = Vec::new();
    for item in items {
        match item.get_ref().as_str() {
            Some(p) if !p.is_empty() => {
                files.push((cx.dir.join(p), cx.diag.place(item.span().start)));
            }
            _ => cx.diag.at(
                item.span().start,
                "`env_file` must be a path or an array of paths",
            ),
        }
    }
    files
}
