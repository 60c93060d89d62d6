//! Procfile text → a validated [`Formation`] (Heroku/foreman format, SPEC §3.1).
//!
//! `name: command` per line; `#` comments and blank lines are skipped. Every type gets scale 1
//! and the default policies. Pure: every error is collected with its line and column.
//!
//! Heroku's release phase (SPEC §4.3): a type named `release` is a oneshot, and every other
//! type starts after it — a migration runs before the new processes, and its completion does
//! not stop the container.

use crate::config::model::{
    CommandLine, ConfigError, Diagnostics, Formation, Parsed, ProcessType, valid_name,
};
use crate::config::validate;
use std::path::Path;

/// Parses a Procfile; `path` names it in errors. A bad line is left out of the formation,
/// which is always returned (with every error) so that later checks still run.
pub fn parse(path: &Path, text: &str) -> Parsed {
    let (types, mut errors) = types(path, text);
    let formation = Formation {
        path: path.to_path_buf(),
        grace: None,
        env_files: None,
        env: Vec::new(),
        types,
        listen: None,
    };
    errors.extend(validate::validate(&formation));
    errors.sort_by_key(|e| (e.line, e.col));
    Parsed {
        formation: Some(formation),
        errors,
    }
}

/// The types of a Procfile, in its order, with the release phase applied, and the errors of
/// its lines — but not the checks across types (`validate`), which a formation.toml with
/// `procfile` runs once on the whole (SPEC §3.1).
pub fn types(path: &Path, text: &str) -> (Vec<ProcessType>, Vec<ConfigError>) {
    let mut diag = Diagnostics::new(path.to_path_buf(), text);
    let mut types: Vec<ProcessType> = Vec::new();
    for (at, content) in crate::config::model::content_lines(text) {
        let Some((name, command)) = content.split_once(':') else {
            diag.at(at, "expected `name: command`");
            continue;
        };
        let name = name.trim_end();
        if !valid_name(name) {
            diag.at(
                at,
                format!("process name {name:?} may only hold letters, digits, `_` and `-`"),
            );
            continue;
        }
        if command.trim().is_empty() {
            diag.at(
                at + name.len(),
                format!("process {name:?} has an empty command"),
            );
            continue;
        }
        if let Some(message) = CommandLine::nul_error(&[command]) {
            diag.at(at + name.len(), format!("process {name:?}: {message}"));
            continue;
        }
        types.push(ProcessType::new(
            name.to_string(),
            diag.place(at),
            CommandLine::from_text(command.trim()),
        ));
    }
    release_phase(&mut types);
    if types.is_empty() && diag.errors.is_empty() {
        diag.at(0, "no process defined: add a line `name: command`");
    }
    (types, diag.finish().err().unwrap_or_default())
}

/// `release` is a oneshot that every other type starts after.
fn release_phase(types: &mut [ProcessType]) {
    let Some(release) = types.iter().find(|t| t.name == "release") else {
        return;
    };
    let (name, place) = (release.name.clone(), release.place.clone());
    for t in types.iter_mut() {
        if t.name == "release" {
            t.oneshot = true;
        } else {
            t.after.push((name.clone(), place.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_is_a_oneshot_everything_else_starts_after() {
        let text = "web: ./web\nrelease: bin/rails db:migrate\nworker: ./worker\n";
        let f = parse(Path::new("Procfile"), text)
            .formation
            .expect("parsed");
        let got: Vec<(&str, bool, Vec<&str>)> = f
            .types
            .iter()
            .map(|t| {
                (
                    t.name.as_str(),
                    t.oneshot,
                    t.after.iter().map(|(n, _)| n.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("web", false, vec!["release"]),
                ("release", true, vec![]),
                ("worker", false, vec!["release"]),
            ]
        );
        let plain = parse(Path::new("Procfile"), "web: ./web\n")
            .formation
            .expect("parsed");
        assert!(plain.types[0].after.is_empty() && !plain.types[0].oneshot);
    }

    #[test]
    fn parses_names_and_commands_in_order() {
        let text = "# comment\nweb: ./server -p $PORT\n\n  worker:   worker --verbose  \r\nclock:sleep 1\n";
        let parsed = parse(Path::new("Procfile"), text);
        assert_eq!(parsed.errors, []);
        let f = parsed.formation.expect("a formation");
        let got: Vec<(&str, &CommandLine)> = f
            .types
            .iter()
            .map(|t| (t.name.as_str(), &t.command))
            .collect();
        assert_eq!(
            got,
            [
                ("web", &CommandLine::Shell("./server -p $PORT".into())),
                (
                    "worker",
                    &CommandLine::Argv(vec!["worker".into(), "--verbose".into()])
                ),
                (
                    "clock",
                    &CommandLine::Argv(vec!["sleep".into(), "1".into()])
                ),
            ]
        );
        assert!(f.types.iter().all(|t| t.scale == 1 && t.essential));
    }

    #[test]
    fn every_error_with_its_line() {
        let text = "web: a\nno colon here\nbad name: x\nweb: b\n  empty:\nok: fine\n";
        let errors: Vec<String> = parse(Path::new("Procfile"), text)
            .errors
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            errors,
            [
                "Procfile:2:1: expected `name: command`",
                "Procfile:3:1: process name \"bad name\" may only hold letters, digits, `_` and `-`",
                "Procfile:4:1: process \"web\" is defined twice (first at line 1)",
                "Procfile:5:8: process \"empty\" has an empty command",
            ]
        );
        assert!(!parse(Path::new("P"), "# nothing\n").errors.is_empty());
    }

    proptest::proptest! {
        #[test]
        fn any_procfile_is_parsed_or_rejected_with_positions(text in "(\\PC|\n|:){0,300}") {
            let lines = text.split('\n').count();
            let parsed = parse(Path::new("P"), &text);
            let f = parsed.formation.expect("a Procfile always gives a formation");
            assert!(f.types.iter().all(|t| valid_name(&t.name)));
            for e in parsed.errors {
                assert!(e.line >= 1 && e.line <= lines && e.col >= 1, "{e}");
            }
        }
    }
}
