//! The environment of an instance, shared by the instances of a type (SPEC §3.3): what every
//! instance of a type gets (env files, our own environment, `HOME`, `[env]`, the process's
//! `env`) is one shared list; only `PS` and `PORT` are an instance's own. At 10,000
//! instances a full copy each was ~85% of formation's memory (5 KB an instance).
//!
//! A variable whose value is a file's content (`{ file = "…" }`, SPEC §3.4) stays a path
//! here: the plan is pure, and the file is read by `os/` at each spawn, so a rotated secret
//! reaches the next restart. Such a variable is in the shared `files`, never in `vars` too.

use crate::config::model::{Var, VarValue};
use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// What the instances of a type share: variables with their values, and variables read from
/// files at each spawn. Each key is in one of the two lists, once. (One allocation behind a
/// thin pointer: an instance pays 8 bytes for it, however many secrets it has.)
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Shared {
    vars: Box<[(OsString, OsString)]>,
    files: Box<[(OsString, PathBuf)]>,
}

impl Shared {
    /// `vars` and `files`, each key once across both.
    pub fn new(vars: Vec<(OsString, OsString)>, files: Vec<(OsString, PathBuf)>) -> Rc<Shared> {
        Rc::new(Shared {
            vars: vars.into(),
            files: files.into(),
        })
    }
}

/// A type's shared environment built layer by layer (SPEC §3.3): a later variable wins,
/// whether it is set to a value or to a file's content. (Values in a map that only ever
/// inserts, files in a short list: a map's removal code and a second map of paths cost the
/// static binary ~10 KB, for the few variables that come from files.)
#[derive(Clone, Debug, Default)]
pub struct Layers {
    vars: BTreeMap<OsString, OsString>,
    /// Each key once; a key here hides the same key of `vars`.
    files: Vec<(OsString, PathBuf)>,
}

impl Layers {
    /// Sets `key` to `value`.
    pub fn set(&mut self, key: OsString, value: OsString) {
        self.files.retain(|(k, _)| *k != key);
        self.vars.insert(key, value);
    }

    /// Sets a variable of a config or env file; a relative file is relative to `dir`, the
    /// config's directory.
    pub fn var(&mut self, v: &Var, dir: &Path) {
        match &v.value {
            VarValue::Text(text) => self.set((&v.name).into(), text.into()),
            VarValue::File(path) => {
                let key = OsString::from(&v.name);
                self.files.retain(|(k, _)| *k != key);
                self.files.push((key, dir.join(path)));
            }
        }
    }

    /// What the instances share.
    pub fn build(self) -> Rc<Shared> {
        let files = self.files;
        let vars = self
            .vars
            .into_iter()
            .filter(|(k, _)| !files.iter().any(|(f, _)| f == k))
            .collect();
        Shared::new(vars, files)
    }
}

/// One environment: a shared list and the instance's own variables, which win.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Env {
    shared: Rc<Shared>,
    own: Vec<(OsString, OsString)>,
}

impl Env {
    /// An environment of what a type's instances `shared`, with `own` variables laid over.
    pub fn of(shared: Rc<Shared>, own: Vec<(OsString, OsString)>) -> Env {
        Env { shared, own }
    }

    /// The value of `key`, if set to a value (not to a file's content).
    pub fn get(&self, key: &str) -> Option<&OsStr> {
        let own = self.own.iter().rev().find(|(k, _)| k == key);
        own.or_else(|| self.shared.vars.iter().find(|(k, _)| k == key))
            .map(|(_, v)| v.as_os_str())
    }

    /// Every variable set to a value once: the shared ones that no own one overrides, then
    /// the own ones.
    pub fn pairs(&self) -> impl Iterator<Item = (&OsStr, &OsStr)> {
        let own = &self.own;
        let shared = self
            .shared
            .vars
            .iter()
            .filter(move |(k, _)| !own.iter().any(|(o, _)| o == k));
        shared
            .chain(own.iter())
            .map(|(k, v)| (k.as_os_str(), v.as_os_str()))
    }

    /// Every variable whose value is read from a file at spawn, with the file, unless an own
    /// variable overrides it.
    pub fn files(&self) -> impl Iterator<Item = (&OsStr, &Path)> {
        let own = &self.own;
        self.shared
            .files
            .iter()
            .filter(move |(k, _)| !own.iter().any(|(o, _)| o == k))
            .map(|(k, p)| (k.as_os_str(), p.as_path()))
    }

    /// The same environment with `key` set to `value` (for this instance alone).
    pub fn with(&self, key: &str, value: impl Into<OsString>) -> Env {
        let mut own: Vec<(OsString, OsString)> =
            self.own.iter().filter(|(k, _)| k != key).cloned().collect();
        own.push((key.into(), value.into()));
        Env::of(self.shared.clone(), own)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_variables_win_and_every_key_comes_once() {
        let shared: Rc<[(OsString, OsString)]> = Rc::from(vec![
            ("A".into(), "shared".into()),
            ("PORT".into(), "1".into()),
        ]);
        let shared = Shared::new(shared.to_vec(), vec![("SECRET".into(), "/run/s".into())]);
        let env = Env::of(shared.clone(), vec![("PORT".into(), "5000".into())]);
        assert_eq!(env.get("PORT"), Some(OsStr::new("5000")));
        assert_eq!(env.get("A"), Some(OsStr::new("shared")));
        assert_eq!(env.get("B"), None);
        let run = env.with("PS", "web.run");
        let pairs: Vec<_> = run.pairs().collect();
        let want = [("A", "shared"), ("PORT", "5000"), ("PS", "web.run")];
        let want: Vec<(&OsStr, &OsStr)> = want
            .iter()
            .map(|(k, v)| (OsStr::new(k), OsStr::new(v)))
            .collect();
        assert_eq!(pairs, want);
        assert!(Rc::ptr_eq(&run.shared, &shared), "shared, not copied");
        let files: Vec<_> = run.files().collect();
        assert_eq!(files, [(OsStr::new("SECRET"), Path::new("/run/s"))]);
        assert_eq!(run.get("SECRET"), None, "a file's content is read at spawn");
        let overridden = run.with("SECRET", "x");
        assert_eq!(overridden.files().count(), 0, "an own variable wins");
    }
}
