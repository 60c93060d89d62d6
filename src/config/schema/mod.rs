//! formation.toml text → a validated [`Formation`].
//!
//! Owns: the TOML schema of SPEC §3.2 and its checks. Pure: the text comes in, the user
//! lookup is passed in, nothing is spawned or printed.
//!
//! Why not `#[derive(Deserialize)]` with `deny_unknown_fields`: serde stops at the first
//! error, and SPEC §3.2 wants *every* error at once, each with line and column. So the file is
//! parsed by `document/` into a spanned document (a `Table` keeps the file's order — the
//! order sets each type's PORT block) and every key is checked here, each error noted
//! and the walk continued.

use crate::config::model::{
    Backoff, CommandLine, Diagnostics, Formation, MAX_SCALE, Parsed, ProcessType, Restart,
    valid_name,
};
use crate::config::names;
use crate::config::users::Credentials;
use crate::config::validate;

#[cfg(test)]
mod env_tests;
mod lifecycle;
mod overrides;
#[cfg(test)]
mod overrides_tests;
#[cfg(test)]
mod tests;
mod values;

use crate::config::document::{self, Spanned};
use crate::config::document::{Item, Table};
use std::path::Path;
use values::{
    command_line, duration, env_files, env_table, scalar_text, signals, table, whole_number,
};

type Value<'i> = Spanned<Item<'i>>;

/// Looks up a `user` setting: credentials, or why not.
pub type UserLookup<'a> = &'a dyn Fn(&str) -> Result<Credentials, String>;

/// What a key's handler may use besides its value.
struct Cx<'a, 't> {
    diag: &'a mut Diagnostics<'t>,
    /// The config file's directory: relative paths are resolved against it.
    dir: &'a Path,
    user: UserLookup<'a>,
    /// How many of the formation's first types come from the `procfile` (SPEC §3.1): a
    /// `[process.NAME]` table naming one of them overrides it.
    procfile_types: usize,
}

/// One key of a table: its name, and what its value does to the thing being built. The
/// tables below are the whole schema: the walk dispatches on them and the "unknown key"
/// message lists them, so a new key is one row.
struct Key<T> {
    name: &'static str,
    set: fn(&mut Cx<'_, '_>, &mut T, &Value<'_>),
}

const TOP_KEYS: &[Key<Formation>] = &[
    Key {
        name: "grace",
        set: |cx, f, v| f.grace = duration(cx.diag, "grace", v),
    },
    Key {
        name: "env_file",
        set: |cx, f, v| f.env_files = Some(env_files(cx, v)),
    },
    Key {
        name: "env",
        set: |cx, f, v| f.env = env_table(cx, "env", v),
    },
    Key {
        name: "listen",
        set: |cx, f, v| match scalar_text(v).map(|t| crate::config::listen::parse_listen(&t)) {
            Some(Ok(addr)) => f.listen = Some(addr),
            Some(Err(e)) => cx.diag.at(v.span().start, format!("`listen`: {e}")),
            None => cx.diag.at(
                v.span().start,
                "`listen` must be an address such as \"127.0.0.1:9090\"",
            ),
        },
    },
    Key {
        // Read before the walk (`overrides.rs`): the tables below need its types.
        name: "procfile",
        set: |_, _, _| {},
    },
    Key {
        name: "process",
        set: |cx, f, v| {
            if let Some(table) = table(cx.diag, "process", v) {
                for (name, value) in table {
                    let from_procfile = f.types[..cx.procfile_types]
                        .iter_mut()
                        .find(|t| t.name == *name.get_ref());
                    match from_procfile {
                        Some(t) => overrides::apply(cx, t, value),
                        None => f.types.extend(process(cx, name, value)),
                    }
                }
            }
        },
    },
];

const PROCESS_KEYS: &[Key<ProcessType>] = &[
    Key {
        name: "command",
        set: |cx, t, v| {
            if let Some(c) = command_line(cx.diag, v) {
                t.command = c;
            }
        },
    },
    Key {
        name: "scale",
        set: |cx, t, v| match whole_number(v) {
            Some(n) if n <= MAX_SCALE => t.scale = n,
            _ => cx.diag.at(
                v.span().start,
                format!("`scale` must be a whole number from 0 to {MAX_SCALE}"),
            ),
        },
    },
    Key {
        name: "restart",
        set: |cx, t, v| match v.get_ref().as_str() {
            Some("never") => t.restart = Restart::Never,
            Some("on-failure") => t.restart = Restart::OnFailure,
            Some("always") => t.restart = Restart::Always,
            _ => cx.diag.at(
                v.span().start,
                "`restart` must be \"never\", \"on-failure\" or \"always\"",
            ),
        },
    },
    Key {
        name: "essential",
        set: |cx, t, v| match v.get_ref().as_bool() {
            Some(b) => t.essential = b,
            None => cx
                .diag
                .at(v.span().start, "`essential` must be true or false"),
        },
    },
    Key {
        name: "stop_signal",
        set: |cx, t, v| match scalar_text(v).map(|s| names::signal(&s)) {
            Some(Ok(sig)) => t.stop_signal = sig,
            Some(Err(e)) => cx.diag.at(v.span().start, format!("`stop_signal`: {e}")),
            None => cx.diag.at(
                v.span().start,
                "`stop_signal` must be a signal name or number",
            ),
        },
    },
    Key {
        name: "grace",
        set: |cx, t, v| t.grace = duration(cx.diag, "grace", v),
    },
    Key {
        name: "signals",
        set: |cx, t, v| t.signals = signals(cx.diag, v),
    },
    Key {
        name: "cwd",
        set: |cx, t, v| match v.get_ref().as_str() {
            Some(cwd) if !cwd.is_empty() => t.cwd = Some(cx.dir.join(cwd)),
            _ => cx.diag.at(v.span().start, "`cwd` must be a non-empty path"),
        },
    },
    Key {
        name: "user",
        set: |cx, t, v| match scalar_text(v) {
            Some(spec) => match (cx.user)(&spec) {
                Ok(creds) => t.user = Some(creds),
                Err(e) => cx.diag.at(v.span().start, format!("`user`: {e}")),
            },
            None => cx.diag.at(
                v.span().start,
                "`user` must be a name, a uid or \"uid:gid\"",
            ),
        },
    },
    Key {
        name: "env",
        set: |cx, t, v| t.env = env_table(cx, "env", v),
    },
    Key {
        name: "backoff",
        set: |cx, t, v| t.backoff = backoff(cx, v),
    },
    Key {
        name: "tty",
        set: |cx, t, v| match v.get_ref().as_bool() {
            Some(b) => t.tty = b,
            None => cx.diag.at(v.span().start, "`tty` must be true or false"),
        },
    },
];

const BACKOFF_KEYS: &[Key<Backoff>] = &[
    Key {
        name: "initial",
        set: |cx, b, v| b.initial = duration(cx.diag, "backoff.initial", v).unwrap_or(b.initial),
    },
    Key {
        name: "max",
        set: |cx, b, v| b.max = duration(cx.diag, "backoff.max", v).unwrap_or(b.max),
    },
    Key {
        name: "healthy",
        set: |cx, b, v| b.healthy = duration(cx.diag, "backoff.healthy", v).unwrap_or(b.healthy),
    },
    Key {
        name: "restarts",
        set: |cx, b, v| match whole_number(v) {
            Some(n) => b.restarts = n,
            None => cx.diag.at(
                v.span().start,
                "`backoff.restarts` must be a whole number (0 or more)",
            ),
        },
    },
];

/// Applies every key of `table` to `target` through `keys`; a key not in `keys` is an error
/// that lists them.
fn walk<T>(cx: &mut Cx<'_, '_>, table: &Table<'_>, keys: &[Key<T>], target: &mut T) {
    walk_all(cx, table, &[keys], target);
}

/// [`walk`] over several key tables read as one.
fn walk_all<T>(cx: &mut Cx<'_, '_>, table: &Table<'_>, tables: &[&[Key<T>]], target: &mut T) {
    for (key, value) in table {
        let name = key.get_ref().as_ref();
        let keys = tables.iter().flat_map(|t| t.iter());
        match keys.clone().find(|k| k.name == name) {
            Some(k) => (k.set)(cx, target, value),
            None => {
                let known: Vec<&str> = keys.map(|k| k.name).collect();
                cx.diag.at(
                    key.span().start,
                    format!(
                        "unknown key `{name}` (expected one of: {})",
                        known.join(", ")
                    ),
                );
            }
        }
    }
}

/// Reads a file the config names (its `procfile`): the text, or a line saying why not.
pub type ReadFile<'a> = &'a dyn Fn(&Path) -> Result<String, String>;

/// Parses and checks a formation.toml that names no file to read ([`parse_with`]: one that
/// may have a `procfile`).
pub fn parse(path: &Path, text: &str, user: UserLookup<'_>) -> Parsed {
    parse_with(path, text, user, &|p| {
        Err(format!("{}: not read here", p.display()))
    })
}

/// Parses and checks a formation.toml. `path` names the file in errors and anchors relative
/// paths; `user` resolves a `user` setting to credentials or says why it cannot; `read`
/// reads the Procfile of a top-level `procfile` (SPEC §3.1).
pub fn parse_with(path: &Path, text: &str, user: UserLookup<'_>, read: ReadFile<'_>) -> Parsed {
    let mut diag = Diagnostics::new(path.to_path_buf(), text);
    let doc = match document::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            diag.at(e.at, e.message);
            return Parsed {
                formation: None,
                errors: diag.finish().err().unwrap_or_default(),
            };
        }
    };
    let mut formation = Formation {
        path: path.to_path_buf(),
        grace: None,
        env_files: None,
        env: Vec::new(),
        types: Vec::new(),
        listen: None,
    };
    let dir = crate::config::model::dir_of(path);
    let mut cx = Cx {
        diag: &mut diag,
        dir,
        user,
        procfile_types: 0,
    };
    let procfile = doc.get("procfile");
    let mut procfile_errors = Vec::new();
    if let Some(value) = procfile {
        (formation.types, procfile_errors) = overrides::procfile(&mut cx, value, read);
        cx.procfile_types = formation.types.len();
    }
    walk(&mut cx, &doc, TOP_KEYS, &mut formation);
    diag.errors.extend(procfile_errors);
    if procfile.is_none() && !doc.contains_key("process") {
        diag.at(
            0,
            "no process defined: add a [process.NAME] table with a command",
        );
    }
    diag.errors.extend(validate::validate(&formation));
    Parsed {
        formation: Some(formation),
        errors: diag.finish().err().unwrap_or_default(),
    }
}

fn process(
    cx: &mut Cx<'_, '_>,
    name: &Spanned<std::borrow::Cow<str>>,
    value: &Value,
) -> Option<ProcessType> {
    let type_name = name.get_ref().to_string();
    if !valid_name(&type_name) {
        cx.diag.at(
            name.span().start,
            format!("process name {type_name:?} may only hold letters, digits, `_` and `-`"),
        );
    }
    let what = format!("process.{type_name}");
    let table = table(cx.diag, &what, value)?;
    let place = cx.diag.place(name.span().start);
    let mut t = ProcessType::new(type_name, place, CommandLine::Argv(Vec::new()));
    settle(cx, &mut t, table);
    if !table.contains_key("command") {
        let why = if cx.procfile_types > 0 {
            " (the procfile has no such type)"
        } else {
            ""
        };
        cx.diag.at(
            value.span().start,
            format!("[{what}] needs a `command`{why}"),
        );
    }
    Some(t)
}

/// Applies the keys of a `[process.NAME]` table to `t`, and the rules between its keys
/// that the schema settles itself (`timezone` goes with `schedule`, which is not essential).
fn settle(cx: &mut Cx<'_, '_>, t: &mut ProcessType, table: &Table<'_>) {
    t.keys = table
        .iter()
        .map(|(k, _)| (k.get_ref().to_string(), cx.diag.place(k.span().start)))
        .collect();
    walk_all(cx, table, &[PROCESS_KEYS, lifecycle::KEYS], t);
    if let Some(s) = t.schedule.as_mut() {
        let zone = t.keys.iter().find(|(k, _)| k == "timezone");
        let name = table.get("timezone").and_then(|v| v.get_ref().as_str());
        s.timezone = zone
            .zip(name)
            .map(|((_, place), name)| (name.to_string(), place.clone()));
    } else if let Some((_, place)) = t.keys.iter().find(|(k, _)| k == "timezone") {
        let place = place.clone();
        cx.diag.errors.push(crate::config::model::ConfigError::new(
            &place,
            "`timezone` goes with `schedule`".to_string(),
        ));
    }
    if t.schedule.is_some() && !t.keys.iter().any(|(k, _)| k == "essential") {
        // SPEC §4.4: a scheduled type is never essential.
        t.essential = false;
    }
}

/// `backoff = { initial, max, healthy, restarts }`: every key optional, defaults of SPEC §4.
fn backoff(cx: &mut Cx<'_, '_>, value: &Value) -> Backoff {
    let mut b = Backoff::default();
    let Some(table) = table(cx.diag, "backoff", value) else {
        return b;
    };
    walk(cx, table, BACKOFF_KEYS, &mut b);
    if b.max < b.initial {
        cx.diag.at(
            value.span().start,
            "`backoff.max` must not be shorter than `backoff.initial`",
        );
    }
    b
}
