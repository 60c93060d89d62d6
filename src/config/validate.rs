//! The checks across process types, run once every type of a file has been read (SPEC §3.2,
//! §3.4).
//!
//! Owns: every rule that needs more than one key or more than one type to decide — today
//! that no two types share a name; the dependency graph's rules (`after` naming an unknown
//! type, itself or a scheduled one; a cycle, named whole) and the conflicting-key rules
//! (`oneshot` with `restart = "always"`, …) belong here too, one function each, called
//! from [`validate`].
//!
//! Must not: read files or stop at the first error. It runs even when some keys of some
//! types were bad (a type is still listed with its defaults), so that one run reports every
//! error; each error points at the place of the type or key concerned.

use crate::config::model::{ConfigError, Formation, ProcessType};
use std::collections::HashMap;

/// Every cross-type error of `formation`, in no particular order (the caller sorts).
pub fn validate(formation: &Formation) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    unique_names(formation, &mut errors);
    crate::config::lifecycle::validate(formation, &mut errors);
    errors
}

/// A name defined twice is an error at its second definition, naming the first. A map, not
/// a scan per type: a formation may have 10,000 types.
fn unique_names(formation: &Formation, errors: &mut Vec<ConfigError>) {
    let mut seen: HashMap<&str, &ProcessType> = HashMap::new();
    for t in &formation.types {
        if let Some(first) = seen.get(t.name.as_str()) {
            errors.push(ConfigError::new(
                &t.place,
                format!(
                    "process {:?} is defined twice (first at line {})",
                    t.name, first.place.line
                ),
            ));
        } else {
            seen.insert(&t.name, t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::{CommandLine, Place};

    fn formation(names: &[&str]) -> Formation {
        Formation {
            path: "P".into(),
            grace: None,
            env_files: None,
            listen: None,
            env: Vec::new(),
            types: names
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let place = Place {
                        file: "P".into(),
                        line: i + 1,
                        col: 1,
                    };
                    ProcessType::new(name.to_string(), place, CommandLine::from_text("x"))
                })
                .collect(),
        }
    }

    #[test]
    fn duplicate_names() {
        let table: [(&[&str], &[&str]); 3] = [
            (&["web", "worker"], &[]),
            (
                &["web", "worker", "web"],
                &["P:3:1: process \"web\" is defined twice (first at line 1)"],
            ),
            (
                &["a", "a", "a"],
                &[
                    "P:2:1: process \"a\" is defined twice (first at line 1)",
                    "P:3:1: process \"a\" is defined twice (first at line 1)",
                ],
            ),
        ];
        for (names, want) in table {
            let got: Vec<String> = validate(&formation(names))
                .iter()
                .map(ToString::to_string)
                .collect();
            assert_eq!(got, want, "{names:?}");
        }
    }
}
