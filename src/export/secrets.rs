//! Env values from files (`NAME = { file = "/run/secrets/x" }`, SPEC §3.4) in the exported
//! files. formation in the container still reads each file itself at each spawn; what the
//! orchestrator must do is put the file there: a compose `secrets:` entry mounted at the path,
//! a Kubernetes secret volume on the path's directory, and for Fly (which mounts no secret
//! files) a note.
//!
//! Facts it relies on: a compose secret's long syntax takes an absolute `target` (docker
//! compose bind-mounts the file; swarm since Docker 17.06), and a top-level secret with `file:`
//! is read on the machine that runs compose, relative to the compose file; a Kubernetes secret
//! volume is a directory with one file per listed key (`items`), updated by the kubelet when
//! the Secret changes — a `subPath` mount would never be, so the whole directory is mounted,
//! which hides what the image holds there; a Secret key matches `[-._a-zA-Z0-9]+`.
//!
//! A relative path is relative to the config's directory in the image, which the exported
//! files do not know: it is left to the image, with a note.

use super::yaml::Writer;
use super::{Input, Notes, Unit, units};
use crate::config::model::VarValue;
use std::path::Path;

/// One file the containers read, with the name of the secret (compose) or key (Kubernetes)
/// that holds it.
pub struct File<'a> {
    /// Where formation reads it in the container: absolute.
    pub path: &'a Path,
    /// Its secret's name or key: the file name in `[-._a-zA-Z0-9]`, made unique.
    pub name: String,
}

impl<'a> Unit<'a> {
    /// The variables this type's instances read from files: `[env]`'s that its `env` does not
    /// override, then its `env`'s, as formation resolves them (SPEC §3.3).
    pub fn files(&self, input: &Input<'a>) -> Vec<(&'a str, &'a Path)> {
        let own: &'a [crate::config::model::Var] = &self.t.env;
        let formation: &'a crate::config::model::Formation = input.formation;
        let common = formation
            .env
            .iter()
            .filter(|v| !own.iter().any(|o| o.name == v.name));
        common
            .chain(own)
            .filter_map(|v| match &v.value {
                VarValue::File(path) => Some((v.name.as_str(), path.as_path())),
                VarValue::Text(_) => None,
            })
            .collect()
    }
}

/// Every absolute file a type with replicas reads, once, in config order, each with a unique
/// name.
pub fn files<'a>(input: &'a Input<'a>) -> Vec<File<'a>> {
    let mut out: Vec<File> = Vec::new();
    for unit in units(input).iter().filter(|u| u.scale > 0) {
        for (_, path) in unit.files(input) {
            if path.is_relative() || out.iter().any(|f| f.path == path) {
                continue;
            }
            let base = key(path);
            let mut name = base.clone();
            let mut n = 1;
            while out.iter().any(|f| f.name == name) {
                n += 1;
                name = format!("{base}-{n}");
            }
            out.push(File { path, name });
        }
    }
    out
}

/// A note for each relative file a type with replicas reads: the exported files do not know
/// where the config is in the image.
pub fn relative_notes(input: &Input, notes: &mut Notes) -> Vec<String> {
    let mut seen: Vec<&Path> = Vec::new();
    let mut out = Vec::new();
    for unit in units(input).iter().filter(|u| u.scale > 0) {
        for (name, path) in unit.files(input) {
            if path.is_relative() && !seen.contains(&path) {
                seen.push(path);
                out.push(notes.add(
                    &input.app,
                    format!(
                        "{name} is read from {}, relative to the config in the image: not \
                         mounted (the image must hold it)",
                        path.display()
                    ),
                ));
            }
        }
    }
    out
}

/// A file's name as a compose secret name and Kubernetes Secret key.
fn key(path: &Path) -> String {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let key: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if key.is_empty() || key.chars().all(|c| c == '.') {
        "secret".into()
    } else {
        key
    }
}

/// The name `files` gives `path`.
fn name_of<'a>(files: &'a [File], path: &Path) -> Option<&'a str> {
    files
        .iter()
        .find(|f| f.path == path)
        .map(|f| f.name.as_str())
}

/// compose: a service's `secrets:`, each mounted where formation reads it.
pub fn compose_service(input: &Input, unit: &Unit, files: &[File], w: &mut Writer) {
    let mine: Vec<(&str, &Path)> = unit
        .files(input)
        .into_iter()
        .filter_map(|(_, path)| Some((name_of(files, path)?, path)))
        .collect();
    if mine.is_empty() {
        return;
    }
    w.open("secrets");
    for (name, path) in mine {
        w.item_map();
        w.str("source", name);
        w.str("target", &path.display().to_string());
        w.close();
    }
    w.close();
}

/// compose: the top-level `secrets:`, each read from a file beside the compose file.
pub fn compose_top(files: &[File], w: &mut Writer) {
    if files.is_empty() {
        return;
    }
    w.comment(
        "Each secret is read from a file on the machine that runs compose, relative to this \
         file: put the value there (or point `file:` at it).",
    );
    w.open("secrets");
    for f in files {
        w.open(&f.name);
        w.str("file", &format!("./{}", f.name));
        w.close();
    }
    w.close();
}

/// The Kubernetes Secret that holds every file: `APP-secrets`.
pub fn kube_secret(input: &Input) -> String {
    format!("{}-secrets", input.app)
}

/// The comment that says how to create the Secret.
pub fn kube_comment(input: &Input, files: &[File]) -> Option<String> {
    if files.is_empty() {
        return None;
    }
    let mut from = String::new();
    for f in files {
        from.push_str(&format!(" --from-file={0}=./{0}", f.name));
    }
    Some(format!(
        "the files formation reads env values from are mounted from the Secret {secret} \
         (a volume per directory, which hides what the image holds there); create it with: \
         kubectl create secret generic {secret}{from}",
        secret = kube_secret(input)
    ))
}

/// The directories of `unit`'s files, each with its files' (key, file name), in order.
fn kube_dirs<'a>(
    input: &'a Input,
    unit: &'a Unit,
    files: &'a [File],
) -> Vec<(&'a Path, Vec<(&'a str, String)>)> {
    let mut dirs: Vec<(&Path, Vec<(&str, String)>)> = Vec::new();
    for (_, path) in unit.files(input) {
        let (Some(name), Some(dir)) = (name_of(files, path), path.parent()) else {
            continue;
        };
        let file = path.file_name().unwrap_or_default().to_string_lossy();
        let item = (name, file.into_owned());
        match dirs.iter_mut().find(|(d, _)| *d == dir) {
            Some((_, items)) if !items.contains(&item) => items.push(item),
            Some(_) => {}
            None => dirs.push((dir, vec![item])),
        }
    }
    dirs
}

/// Kubernetes: the container's `volumeMounts`, one read-only secret volume per directory.
pub fn kube_mounts(input: &Input, unit: &Unit, files: &[File], w: &mut Writer) {
    let dirs = kube_dirs(input, unit, files);
    if dirs.is_empty() {
        return;
    }
    w.open("volumeMounts");
    for (i, (dir, _)) in dirs.iter().enumerate() {
        w.item_map();
        w.str("name", &format!("secrets-{i}"));
        w.str("mountPath", &dir.display().to_string());
        w.bool("readOnly", true);
        w.close();
    }
    w.close();
}

/// Kubernetes: the pod's `volumes`, each the listed keys of the Secret.
pub fn kube_volumes(input: &Input, unit: &Unit, files: &[File], w: &mut Writer) {
    let dirs = kube_dirs(input, unit, files);
    if dirs.is_empty() {
        return;
    }
    w.open("volumes");
    for (i, (_, items)) in dirs.iter().enumerate() {
        w.item_map();
        w.str("name", &format!("secrets-{i}"));
        w.open("secret");
        w.str("secretName", &kube_secret(input));
        w.open("items");
        for (key, path) in items {
            w.item_map();
            w.str("key", key);
            w.str("path", path);
            w.close();
        }
        w.close();
        w.close();
        w.close();
    }
    w.close();
}

/// Fly: no secret files; a note per file.
pub fn fly_notes(input: &Input, files: &[File], notes: &mut Notes) -> Vec<String> {
    files
        .iter()
        .map(|f| {
            notes.add(
                &input.app,
                format!(
                    "fly.toml cannot mount a secret file: {} must exist in the machine \
                     (formation reads an env value from it at each start)",
                    f.path.display()
                ),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_file_names_a_secret_may_have() {
        for (path, want) in [
            ("/run/secrets/db_password", "db_password"),
            ("/etc/app/tls key.pem", "tls_key.pem"),
            ("/", "secret"),
            ("/run/..", "secret"),
        ] {
            assert_eq!(key(Path::new(path)), want, "{path}");
        }
    }
}
