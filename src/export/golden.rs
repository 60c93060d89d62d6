//! Golden files: every case config × every target, compared byte for byte with
//! `tests/export/golden/CASE.TARGET.EXT` (EXT: `yaml`, or `toml` for fly), stderr notes
//! included (`CASE.TARGET.notes`, absent when there are none). `UPDATE_GOLDEN=1 cargo test
//! --bin formation export::golden` rewrites them; review the diff before committing.
//!
//! The cases are the examples (what the README shows) and the configs under
//! `tests/export/cases/`, which reach every row and every note; `tests/export/run.sh` feeds
//! the same golden files to the targets' own tools.

use super::{Input, Target, app_name, render};
use crate::cli::ConfigFile;
use crate::config::load;
use std::path::{Path, PathBuf};

/// The cases: (name, config as given to `-c`/`-f`, `-m`).
const CASES: &[(&str, &str, Option<&str>)] = &[
    ("example", "examples/formation.toml", None),
    ("procfile", "examples/Procfile", Some("web=3")),
    ("full", "tests/export/cases/full.toml", None),
    ("long-grace", "tests/export/cases/long-grace.toml", None),
    ("run", "tests/export/cases/run.toml", None),
    ("graph", "tests/export/cases/graph.toml", None),
    ("release", "tests/export/cases/Procfile", None),
    ("secrets", "tests/export/cases/secrets.toml", None),
    ("overrides", "tests/export/cases/overrides.toml", None),
];

fn config(path: &str) -> ConfigFile {
    if path.ends_with(".toml") {
        ConfigFile::Toml(path.into())
    } else {
        ConfigFile::Procfile(path.into())
    }
}

fn export(path: &str, spec: Option<&str>, target: Target) -> super::Output {
    let file = config(path);
    let formation = load::formation(&file).0.expect("the case parses");
    let procfile = !path.ends_with(".toml");
    let dir = Path::new(path).parent().and_then(Path::file_name);
    let app = app_name(&dir.map(|d| d.to_string_lossy()).unwrap_or_default());
    let env_files = formation
        .env_files
        .iter()
        .flatten()
        .map(|(p, _)| p.display().to_string())
        .collect();
    let image = target
        .needs_image()
        .then(|| "formation-export:test".to_string());
    let input = Input::new(
        &formation,
        spec,
        super::config_in_image(Path::new(path), procfile, None),
        app,
        env_files,
        image,
        "/formation".into(),
    )
    .expect("the case settles");
    render(target, &input).expect("the case renders")
}

fn golden(name: &str, target: Target, ext: &str) -> PathBuf {
    Path::new("tests/export/golden").join(format!("{name}.{}.{ext}", target.name()))
}

fn check(path: &Path, got: Option<String>, stale: &mut Vec<String>) {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let want = std::fs::read_to_string(path).ok();
    if got == want {
        return;
    }
    if update {
        match &got {
            Some(text) => std::fs::write(path, text).expect("write golden file"),
            None => std::fs::remove_file(path).expect("remove golden file"),
        }
    } else {
        stale.push(format!(
            "{}: differs (UPDATE_GOLDEN=1 rewrites it)\n--- got:\n{}",
            path.display(),
            got.unwrap_or_else(|| "(nothing)".into())
        ));
    }
}

#[test]
fn every_case_matches_its_golden_files() {
    let mut stale = Vec::new();
    for (name, path, spec) in CASES {
        for target in [Target::Compose, Target::Kubernetes, Target::Fly] {
            let ext = if target == Target::Fly {
                "toml"
            } else {
                "yaml"
            };
            let out = export(path, *spec, target);
            check(&golden(name, target, ext), Some(out.text), &mut stale);
            let notes = (!out.notes.is_empty()).then(|| out.notes.join("\n") + "\n");
            check(&golden(name, target, "notes"), notes, &mut stale);
        }
    }
    assert!(stale.is_empty(), "{}", stale.join("\n"));
}

#[test]
fn the_same_input_gives_the_same_bytes() {
    for target in [Target::Compose, Target::Kubernetes, Target::Fly] {
        let a = export("tests/export/cases/full.toml", None, target);
        let b = export("tests/export/cases/full.toml", None, target);
        assert_eq!(a, b);
    }
}

#[test]
fn every_note_is_also_a_comment_in_the_file() {
    for (_, path, spec) in CASES {
        for target in [Target::Compose, Target::Kubernetes, Target::Fly] {
            let out = export(path, *spec, target);
            for note in &out.notes {
                let (_, text) = note.split_once(": ").expect("scope: text");
                assert!(out.text.contains(text), "{target:?} {path}: {note}");
            }
        }
    }
}

#[test]
fn the_full_case_has_notes_for_kubernetes_and_fly() {
    let k = export("tests/export/cases/full.toml", None, Target::Kubernetes);
    assert!(k.notes.iter().any(|n| n.contains("kubectl create secret")));
    assert!(k.notes.iter().any(|n| n.contains("restart = \"never\"")));
    let f = export("tests/export/cases/long-grace.toml", None, Target::Fly);
    assert!(f.notes.iter().any(|n| n.contains("Fly kills at 300s")));
}

#[test]
fn the_graph_case_maps_every_graph_key() {
    let c = export("tests/export/cases/graph.toml", None, Target::Compose).text;
    for text in [
        "condition: service_completed_successfully",
        "condition: service_healthy",
        "- probe\n",
        "after \"mailer\": scaled to 0",
    ] {
        assert!(c.contains(text), "compose: {text:?}");
    }
    let k = export("tests/export/cases/graph.toml", None, Target::Kubernetes).text;
    for text in [
        "kind: Job",
        "kind: CronJob",
        "schedule: \"*/15 * * * *\"",
        "concurrencyPolicy: Forbid",
        "readinessProbe:",
        "startupProbe:",
        "restartPolicy: OnFailure",
    ] {
        assert!(k.contains(text), "kubernetes: {text:?}");
    }
    let f = export("tests/export/cases/graph.toml", None, Target::Fly);
    assert!(
        f.text
            .contains("release_command = \"-c graph.toml run release\"")
    );
    assert!(f.text.contains("[checks.web_ready]\n"));
    assert!(
        f.notes
            .iter()
            .any(|n| n.starts_with("worker: after = [\"web\"]"))
    );
    assert!(!f.notes.iter().any(|n| n.contains("\"release\"")));
}

#[test]
fn a_cron_job_has_the_schedules_time_zone() {
    let mut formation = load::formation(&config("tests/export/cases/graph.toml"))
        .0
        .expect("the case parses");
    let place = formation.types[0].place.clone();
    for t in &mut formation.types {
        if let Some(s) = t.schedule.as_mut() {
            s.timezone = Some(("Europe/Berlin".into(), place.clone()));
        }
    }
    let input = Input::new(
        &formation,
        None,
        Vec::new(),
        "app".into(),
        Vec::new(),
        Some("i".into()),
        "/formation".into(),
    )
    .expect("settles");
    let text = render(Target::Kubernetes, &input).expect("renders").text;
    assert!(text.contains("  timeZone: Europe/Berlin\n"), "{text}");
}
