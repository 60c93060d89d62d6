//! `formation export` as a user runs it (SPEC §8): usage errors, `-o`, which env files the
//! files name and how their paths read from the written file, the app name, and the stderr
//! notes. What each target writes is pinned by the golden files (src/export/golden.rs); the
//! targets' own tools run them in tests/export/run.sh.

use crate::harness::*;
use std::process::{Command, Output};

fn export(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("export")
        .args(args)
        .current_dir(dir)
        .env_remove("FORMATION")
        .env_remove("FORMATION_CONFIG")
        .output()
        .expect("run formation export")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const CONFIG: &str = "[process.web]\ncommand = \"sleep 1\"\nscale = 2\n";

#[test]
fn compose_and_kubernetes_need_an_image_and_fly_takes_none() {
    let dir = TempDir::new("export-usage");
    dir.write("formation.toml", CONFIG);
    for args in [
        &["compose"][..],
        &["kubernetes"],
        &["fly", "--image", "x"],
        &["nomad", "--image", "x"],
    ] {
        let out = export(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(text(&out.stderr).contains("formation --help"), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    let out = export(dir.path(), &["fly"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("web = \"-m web=1,all=0\""));
}

#[test]
fn a_config_error_or_an_unknown_type_in_m_is_exit_2_and_writes_nothing() {
    let dir = TempDir::new("export-errors");
    dir.write("formation.toml", CONFIG);
    let out = export(dir.path(), &["compose", "--image", "x", "-m", "db=1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("\"db\""));
    dir.write("bad.toml", "[process.web]\nscale = 2\n");
    let out = export(
        dir.path(),
        &[
            "compose", "--image", "x", "-c", "bad.toml", "-o", "out.yaml",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.path().join("out.yaml").exists());
}

#[test]
fn discovered_config_default_env_and_replicas_from_m() {
    let dir = TempDir::new("export-discovery");
    dir.write("formation.toml", CONFIG);
    dir.write(".env", "SECRET=1\n");
    let out = export(dir.path(), &["compose", "--image", "app:1", "-m", "web=5"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let yaml = text(&out.stdout);
    // Found by discovery: the containers find it the same way, so no -c is passed on.
    assert!(
        yaml.contains("    command:\n      - -m\n      - \"web=1,all=0\"\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("    env_file:\n      - \"./.env\"\n"),
        "{yaml}"
    );
    assert!(yaml.contains("replicas: 5"), "{yaml}");
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn output_file_sees_env_files_from_its_own_directory() {
    let dir = TempDir::new("export-paths");
    std::fs::create_dir_all(dir.path().join("app/deploy")).expect("mkdir");
    dir.write(
        "app/formation.toml",
        &format!("env_file = [\"prod.env\"]\n{CONFIG}"),
    );
    dir.write("app/prod.env", "SECRET=1\n");
    let out = export(
        dir.path(),
        &[
            "compose",
            "--image",
            "app:1",
            "-c",
            "app/formation.toml",
            "-o",
            "app/deploy/compose.yaml",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let yaml =
        std::fs::read_to_string(dir.path().join("app/deploy/compose.yaml")).expect("written");
    assert!(
        yaml.contains("    env_file:\n      - \"../prod.env\"\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("      - -c\n      - app/formation.toml\n"),
        "{yaml}"
    );
}

#[test]
fn what_kubernetes_cannot_express_is_on_stderr_too() {
    let dir = TempDir::new("export-notes");
    std::fs::create_dir_all(dir.path().join("My_Shop")).expect("mkdir");
    dir.write("My_Shop/formation.toml", CONFIG);
    dir.write("My_Shop/.env", "SECRET=1\n");
    let out = export(
        &dir.path().join("My_Shop"),
        &["kubernetes", "--image", "shop:1"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let yaml = text(&out.stdout);
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(lines[0].starts_with("formation: export kubernetes: my-shop: env files"));
    assert!(lines[0].ends_with("kubectl create secret generic my-shop-env --from-env-file=./.env"));
    assert!(lines[1].starts_with("formation: export kubernetes: web: restart = \"never\""));
    for line in lines {
        let (_, note) = line.split_once(": export kubernetes: ").expect("prefix");
        let (_, note) = note.split_once(": ").expect("scope");
        assert!(yaml.contains(&format!("# {note}")), "{note}");
    }
    assert!(yaml.contains("  name: my-shop-web\n"), "{yaml}");
}
