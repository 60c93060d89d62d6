//! `formation check`'s account of a plan (SPEC §2.1): types, scale, commands, policies, each
//! instance's `PORT` and the environment *keys* it adds (never the values). Its warnings are
//! `warnings.rs`.

use super::Instance;
use crate::config::model::{Formation, ProcessType, Restart};
use std::ffi::OsString;
use std::fmt::Write as _;

/// The instances of each type, by type index: [`instances`] makes them type by type, so
/// each type's are one run (none for a type scaled to 0). Linear, for 10,000 types.
pub(super) fn by_type(types: usize, instances: &[Instance]) -> Vec<&[Instance]> {
    let mut groups: Vec<&[Instance]> = vec![&[]; types];
    for run in instances.chunk_by(|a, b| a.type_index == b.type_index) {
        if let Some(slot) = groups.get_mut(run[0].type_index) {
            *slot = run;
        }
    }
    groups
}

/// `formation check`'s description of the plan: types, scale, commands, ports and the keys
/// (never the values) of the environment each instance gets beyond our own.
pub fn describe(
    formation: &Formation,
    scales: &[u32],
    instances: &[Instance],
    inherited: &[(OsString, OsString)],
) -> String {
    let mut out = String::new();
    let total: u32 = scales.iter().sum();
    let _ = writeln!(
        out,
        "{}: {} process types, {total} instances",
        formation.path.display(),
        formation.types.len()
    );
    let groups = by_type(formation.types.len(), instances);
    // Once for the formation, not per type: 10,000 types made it quadratic.
    let overridden = formation
        .types
        .iter()
        .any(|t| t.place.file != formation.path);
    for ((t, scale), mine) in formation.types.iter().zip(scales).zip(groups) {
        let _ = writeln!(out, "\n{} (scale {scale}): {}", t.name, t.command);
        let _ = writeln!(out, "  {}", policies(t, mine.first()));
        if let Some(origins) = origins(formation, t, overridden) {
            let _ = writeln!(out, "  set at: {origins}");
        }
        for i in mine {
            let port = i
                .env
                .as_ref()
                .and_then(|e| e.get("PORT"))
                .map(|v| v.to_string_lossy());
            let _ = writeln!(out, "  {:<12} PORT={}", i.name, port.unwrap_or_default());
        }
        if let Some(first) = mine.first() {
            let keys: Vec<String> = first
                .env
                .iter()
                .flat_map(|e| e.pairs())
                .filter(|(k, v)| !inherited.iter().any(|(ik, iv)| ik == k && iv == v))
                .map(|(k, _)| k.to_string_lossy().into_owned())
                .collect();
            let _ = writeln!(out, "  env keys: {}", keys.join(" "));
            // The file, never its content (SPEC §3.4): it is read at each spawn.
            let files: Vec<String> = first
                .env
                .iter()
                .flat_map(|e| e.files())
                .map(|(k, path)| format!("{}={}", k.to_string_lossy(), path.display()))
                .collect();
            if !files.is_empty() {
                let _ = writeln!(out, "  env from files: {}", files.join(" "));
            }
        }
    }
    out
}

/// Where each setting of `t` comes from, when the formation reads a Procfile with overrides
/// (SPEC §3.1): the Procfile's line or the toml's key. None for a single file (`overridden`:
/// whether any type's command comes from another file).
fn origins(formation: &Formation, t: &ProcessType, overridden: bool) -> Option<String> {
    let elsewhere = |p: &crate::config::model::Place| p.file != formation.path;
    if !overridden {
        return None;
    }
    let mut out = Vec::new();
    if elsewhere(&t.place) {
        out.push(format!("command {}", t.place));
        let keyed = |key: &str| t.keys.iter().any(|(k, _)| k == key);
        if t.oneshot && t.name == "release" && !keyed("oneshot") {
            out.push(format!("oneshot {} (release phase)", t.place));
        }
        for (_, place) in t.after.iter().filter(|(_, p)| elsewhere(p)) {
            out.push(format!("after {place} (release phase)"));
        }
    }
    out.extend(t.keys.iter().map(|(key, place)| format!("{key} {place}")));
    Some(out.join(", "))
}

pub(super) fn policies(t: &ProcessType, instance: Option<&Instance>) -> String {
    let restart = match t.restart {
        Restart::Never => "never",
        Restart::OnFailure => "on-failure",
        Restart::Always => "always",
    };
    let mut text = format!(
        "restart={restart} essential={} stop_signal={}",
        t.essential,
        t.stop_signal.as_str()
    );
    if let Some(i) = instance {
        let _ = write!(text, " grace={}", crate::time::duration::Human(i.grace));
        if let Some(cwd) = &i.cwd {
            let _ = write!(text, " cwd={}", cwd.display());
        }
    }
    if let Some(u) = &t.user {
        let _ = write!(text, " user={}:{}", u.uid, u.gid);
    }
    if !t.signals.is_identity() {
        let _ = write!(text, " signals={}", t.signals);
    }
    if t.tty {
        text.push_str(" tty=true");
    }
    text
}
