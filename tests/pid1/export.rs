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
        !yaml.contains("      - -c\n"),
        "a formation.toml is found by discovery in the image: {yaml}"
    );
}

/// SPEC §8: the exported files never hold a path of the machine that ran `export`. The config
/// is named as the image will find it: nothing for `formation.toml` or `Procfile` (discovery
/// finds it in the image's working directory), else its file name, or `--config-in-image`.
#[test]
fn the_config_is_named_as_the_image_finds_it() {
    let dir = TempDir::new("export-config-path");
    std::fs::create_dir_all(dir.path().join("deploy")).expect("mkdir");
    let toml = dir.write("formation.toml", CONFIG);
    dir.write("deploy/prod.toml", CONFIG);
    dir.write("Procfile.dev", "web: sleep 1\n");
    let command = |args: &[&str]| {
        let out = export(
            dir.path(),
            &[&["compose", "--image", "app:1"][..], args].concat(),
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let yaml = text(&out.stdout);
        let start = yaml.find("    command:\n").expect("a command") + 13;
        let end = yaml[start..].find("      - -m\n").expect("-m") + start;
        yaml[start..end].to_string()
    };
    assert_eq!(command(&["-c", s(&toml)]), "", "an absolute host path");
    assert_eq!(
        command(&["-c", "deploy/prod.toml"]),
        "      - -c\n      - prod.toml\n"
    );
    assert_eq!(
        command(&[
            "-c",
            "deploy/prod.toml",
            "--config-in-image",
            "/app/conf/prod.toml"
        ]),
        "      - -c\n      - /app/conf/prod.toml\n"
    );
    assert_eq!(
        command(&["-f", "Procfile.dev"]),
        "      - -f\n      - Procfile.dev\n"
    );
}

/// SPEC §8: `user` is resolved in the container, not in the /etc/passwd of the machine that
/// runs `export`.
#[test]
fn a_user_is_not_looked_up_where_export_runs() {
    let dir = TempDir::new("export-user");
    dir.write(
        "formation.toml",
        "[process.web]\ncommand = \"sleep 1\"\nuser = \"app-only-in-the-image\"\n",
    );
    let out = export(dir.path(), &["compose", "--image", "app:1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// SPEC §8: a compose healthcheck probes fast only while the container starts
/// (`start_interval`), and every 30 s once it is healthy (it probed every second forever).
#[test]
fn compose_health_checks_are_fast_only_while_starting() {
    let dir = TempDir::new("export-health");
    dir.write(
        "formation.toml",
        "[process.web]\ncommand = \"sleep 1\"\nready = { tcp = \"$PORT\" }\n",
    );
    let out = export(dir.path(), &["compose", "--image", "app:1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let yaml = text(&out.stdout);
    assert!(yaml.contains("      interval: \"30s\"\n"), "{yaml}");
    assert!(yaml.contains("      start_interval: \"1s\"\n"), "{yaml}");
}

/// SPEC §8 and §4.2: in an exported container (`-m web=1,all=0`) a dependency scaled to 0 by
/// `all=0` runs elsewhere: no line about it at `info` (every container said `not waiting for
/// release: it is scaled to 0`); one the user scaled to 0 by name still gets its line.
#[test]
fn a_dependency_scaled_to_0_by_all_is_met_elsewhere_and_says_nothing_at_info() {
    needs_pid1!();
    let (_dir, path) = toml(
        "[process.release]\ncommand = \"true\"\noneshot = true\n\
         [process.web]\ncommand = \"echo up\"\nafter = [\"release\"]\n",
    );
    let (status, _, err) = formation(&["-c", &path, "-m", "web=1,all=0"]).output();
    assert_eq!(status, 0);
    assert!(
        !err.iter().any(|l| l.contains("not waiting for")),
        "{err:#?}"
    );
    let (_, _, err) = formation(&["-c", &path, "-m", "web=1,all=0"])
        .env("FORMATION_LOG", "debug")
        .output();
    assert!(
        err.iter()
            .any(|l| l.contains("web: not waiting for release")),
        "{err:#?}"
    );
    let (_, _, err) = formation(&["-c", &path, "-m", "release=0"]).output();
    assert!(
        err.iter()
            .any(|l| l.contains("web: not waiting for release")),
        "{err:#?}"
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
