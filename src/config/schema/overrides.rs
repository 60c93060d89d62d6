//! A Procfile with overrides (SPEC §3.1): a formation.toml whose top-level
//! `procfile = "Procfile"` takes its types and commands from that Procfile, and whose
//! `[process.NAME]` tables without a `command` set any other key of the Procfile's type `NAME`.
//! So a repository keeps the Procfile that Heroku, Railway and foreman read, and adds only what
//! formation should do differently (`essential = false` for a worker allowed to exit, a
//! `ready` check, `restart`).
//!
//! The rules, and where each error points:
//! - the Procfile's types come first, in its order (their PORT blocks and colours), then the
//!   toml's extra types in its order;
//! - a table naming a Procfile type overrides it: every key but `command` (one source per
//!   command: giving one is an error at the toml's `command`, naming the Procfile's line);
//! - a table naming a type the Procfile lacks is an extra type and needs its own `command`;
//! - errors in the Procfile's lines point at the Procfile, errors in a table at the toml,
//!   and the checks across types (names, `after`, cycles) at whichever holds the entry.
//!
//! The Procfile's release phase (SPEC §4.3) stays what the Procfile says unless a table says
//! otherwise, key by key: `release` is a oneshot unless its table sets `oneshot`; every other
//! Procfile type starts after `release`, and a table's `after` *adds* to that rather than
//! replacing it — a type waiting for an extra `db` must not start before the migration that
//! Heroku's release phase promises runs first. A `release` defined in the toml only (an extra
//! type) is an ordinary type, as in any formation.toml.

use super::values::table;
use super::{Cx, Value, settle};
use crate::config::model::{ConfigError, ProcessType};
use crate::config::procfile;

/// The Procfile that `procfile` names (relative to the toml): its types, release phase
/// applied, and the errors of its lines. Unreadable: no types and one error at the value.
pub(super) fn procfile(
    cx: &mut Cx<'_, '_>,
    value: &Value,
    read: super::ReadFile<'_>,
) -> (Vec<ProcessType>, Vec<ConfigError>) {
    let at = value.span().start;
    let Some(name) = value.get_ref().as_str().filter(|p| !p.is_empty()) else {
        cx.diag.at(
            at,
            "`procfile` must be the path of a Procfile, relative to this file",
        );
        return (Vec::new(), Vec::new());
    };
    // `Procfile`, not `./Procfile`, in errors and `check` when the toml is in the cwd.
    let path = if cx.dir == std::path::Path::new(".") {
        name.into()
    } else {
        cx.dir.join(name)
    };
    match read(&path) {
        Ok(text) => procfile::types(&path, &text),
        Err(e) => {
            cx.diag.at(at, format!("`procfile`: {e}"));
            (Vec::new(), Vec::new())
        }
    }
}

/// A `[process.NAME]` table laid over the Procfile's type `t`.
pub(super) fn apply(cx: &mut Cx<'_, '_>, t: &mut ProcessType, value: &Value) {
    let what = format!("process.{}", t.name);
    let Some(table) = table(cx.diag, &what, value) else {
        return;
    };
    let (command, release_after) = (t.command.clone(), t.after.clone());
    settle(cx, t, table);
    if let Some((key, _)) = table.get_key_value("command") {
        let place = &t.place;
        cx.diag.at(
            key.span().start,
            format!(
                "`command` of {:?}, which its Procfile gives at {}:{}: one source per \
                 command (remove this one, or the Procfile's line)",
                t.name,
                place.file.display(),
                place.line
            ),
        );
        t.command = command;
    }
    // The release phase stays: a table's `after` adds to it (see the module essay).
    for (i, dep) in release_after.into_iter().enumerate() {
        if !t.after.iter().any(|(name, _)| *name == dep.0) {
            t.after.insert(i, dep);
        }
    }
}
