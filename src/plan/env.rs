//! The environment of an instance, shared by the instances of a type (SPEC §3.3): what every
//! instance of a type gets (env files, our own environment, `HOME`, `[env]`, the process's
//! `env`) is one shared list; only `PS` and `PORT` are an instance's own. At 10,000
//! instances a full copy each was ~85% of formation's memory (5 KB an instance).

use std::ffi::{OsStr, OsString};
use std::rc::Rc;

/// One environment: a shared list and the instance's own variables, which win.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Env {
    shared: Rc<[(OsString, OsString)]>,
    own: Vec<(OsString, OsString)>,
}

impl Env {
    /// An environment of `shared` variables (each key once) and `own` ones laid over them.
    pub fn new(shared: Rc<[(OsString, OsString)]>, own: Vec<(OsString, OsString)>) -> Env {
        Env { shared, own }
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&OsStr> {
        let own = self.own.iter().rev().find(|(k, _)| k == key);
        own.or_else(|| self.shared.iter().find(|(k, _)| k == key))
            .map(|(_, v)| v.as_os_str())
    }

    /// Every variable once: the shared ones that no own one overrides, then the own ones.
    pub fn pairs(&self) -> impl Iterator<Item = (&OsStr, &OsStr)> {
        let own = &self.own;
        let shared = self
            .shared
            .iter()
            .filter(move |(k, _)| !own.iter().any(|(o, _)| o == k));
        shared
            .chain(own.iter())
            .map(|(k, v)| (k.as_os_str(), v.as_os_str()))
    }

    /// The same environment with `key` set to `value` (for this instance alone).
    pub fn with(&self, key: &str, value: impl Into<OsString>) -> Env {
        let mut own: Vec<(OsString, OsString)> =
            self.own.iter().filter(|(k, _)| k != key).cloned().collect();
        own.push((key.into(), value.into()));
        Env::new(self.shared.clone(), own)
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
        let env = Env::new(shared.clone(), vec![("PORT".into(), "5000".into())]);
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
        assert!(Rc::ptr_eq(&env.shared, &shared), "shared, not copied");
    }
}
