//! The `formation` command lines of the docs' ```` ```sh ```` blocks, run (see the folder's
//! essay in `mod.rs` for which ones).

use std::path::Path;
use std::process::Command;

use super::{documents, formation_in, said};
use crate::harness::TempDir;

/// The words of a shell command line, as far as a doc example needs: quotes, and the end of
/// the command at a comment or an operator (`&&`, `|`, `;`, `>`, `&`).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                let w = word.get_or_insert_with(String::new);
                for q in chars.by_ref() {
                    if q == c {
                        break;
                    }
                    w.push(q);
                }
            }
            '#' if word.is_none() => break,
            '&' | '|' | ';' | '>' | '<' => break,
            c if c.is_whitespace() => words.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// formation mode's options that take a value (attached, `-mweb=2` or `--grace=5s`, or as the
/// next word): those that choose and scale the config, which `check` takes too, then the rest.
/// Its one other option is `--timestamps`.
const CONFIG_OPTIONS: &[&str] = &[
    "-c",
    "--config",
    "-f",
    "--procfile",
    "-m",
    "--formation",
    "-e",
    "--env-file",
];
const OTHER_VALUE_OPTIONS: &[&str] = &[
    "-t",
    "--grace",
    "-r",
    "--rewrite",
    "--color",
    "--log-format",
    "--listen",
    "--control",
];

/// What to run for a doc's `formation` command line (its arguments after `formation`), or
/// `None` for a line that starts or asks a live formation.
fn runnable(args: &[String]) -> Option<Vec<String>> {
    match args.first().map(String::as_str) {
        Some("check" | "export" | "--help" | "-h" | "--version" | "-V") => {
            return Some(args.to_vec());
        }
        None => return Some(vec!["check".to_string()]),
        _ => {}
    }
    // Formation mode: options only. Run `check` with the ones that choose and scale the config.
    let mut keep = vec!["check".to_string()];
    let mut words = args.iter();
    while let Some(arg) = words.next() {
        let takes_value = |o: &str| CONFIG_OPTIONS.contains(&o) || OTHER_VALUE_OPTIONS.contains(&o);
        let (option, attached) = match arg.split_once('=') {
            Some((option, _)) if option.starts_with("--") => (option, true),
            _ if !arg.starts_with("--") && arg.len() > 2 && takes_value(&arg[..2]) => {
                (&arg[..2], true)
            }
            _ => (arg.as_str(), false),
        };
        if option == "--timestamps" {
            continue;
        }
        if !takes_value(option) {
            return None; // a subcommand that runs something, or a command to run
        }
        let value = if attached { None } else { Some(words.next()?) };
        if CONFIG_OPTIONS.contains(&option) {
            keep.push(arg.clone());
            keep.extend(value.cloned());
        }
    }
    Some(keep)
}

/// The arguments of a line that runs formation: `formation …`, `/formation …`, or the
/// README's `cargo run --release -- …`.
fn formation_args(line: &str) -> Option<Vec<String>> {
    let line = line.trim();
    let words = shell_words(line.strip_prefix("$ ").unwrap_or(line));
    let start = match words
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["formation" | "/formation", ..] => 1,
        ["cargo", "run", "--release", "--", ..] => 4,
        _ => return None,
    };
    Some(words[start..].to_vec())
}

#[test]
fn the_command_line_reader_keeps_what_can_run_offline() {
    let args = |l: &str| formation_args(l).and_then(|a| runnable(&a));
    let v = |s: &[&str]| Some(s.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(
        args("formation export fly -o fly.toml  # fly deploy"),
        v(&["export", "fly", "-o", "fly.toml"])
    );
    assert_eq!(
        args("cargo run --release -- -c examples/formation.toml"),
        v(&["check", "-c", "examples/formation.toml"])
    );
    assert_eq!(
        args("$ formation -t 2s -mweb=2 --color=never -f Procfile &"),
        v(&["check", "-mweb=2", "-f", "Procfile"])
    );
    assert_eq!(args("formation --image 'a b' check"), None);
    assert_eq!(args("formation run web bin/rails console"), None);
    assert_eq!(args("docker exec app /formation status"), None);
    assert_eq!(args("scripts/build-static.sh"), None);
}

#[test]
fn the_offline_formation_commands_of_the_docs_run() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut ran = 0;
    let mut wrong = Vec::new();
    for (name, blocks, _) in documents() {
        let mut toml = std::fs::read_to_string(examples.join("formation.toml")).expect("example");
        let mut procfile = std::fs::read_to_string(examples.join("Procfile")).expect("example");
        for block in &blocks {
            match (block.lang.as_str(), block.info.as_str()) {
                ("toml", "") => toml = block.body.clone(),
                ("procfile", "") => procfile = block.body.clone(),
                ("sh" | "shell" | "bash", _) => {}
                _ => continue,
            }
            for (i, line) in block.body.lines().enumerate() {
                let Some(args) = formation_args(line).and_then(|a| runnable(&a)) else {
                    continue;
                };
                let dir = TempDir::new("docs-sh");
                let copy = Command::new("cp")
                    .arg("-r")
                    .arg(&examples)
                    .arg(dir.path())
                    .status();
                assert!(copy.is_ok_and(|s| s.success()), "copy examples/");
                dir.write("formation.toml", &toml);
                dir.write("Procfile", &procfile);
                dir.write(".env", "");
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let out = formation_in(dir.path(), &args);
                ran += 1;
                if !out.status.success() {
                    wrong.push(format!(
                        "{name}:{}: {line}\n  ran formation {}: {}",
                        block.line + 1 + i,
                        args.join(" "),
                        said(&out)
                    ));
                }
            }
        }
    }
    assert!(
        ran >= 3,
        "only {ran} formation command lines found: is the reader broken?"
    );
    assert!(
        wrong.is_empty(),
        "doc commands that fail:\n{}",
        wrong.join("\n")
    );
}

/// The control commands of SPEC §10 and `status`: they ask a live formation, so they are
/// run where none listens (a new pid namespace), which still parses every word: a doc line
/// whose options or syntax no longer parse exits 2 before any socket is tried, while a
/// well-formed one says there is no formation to ask (1, or 0 for `status`).
const CONTROL: &[&str] = &[
    "status", "restart", "stop", "start", "scale", "signal", "reload",
];

#[test]
fn the_control_command_lines_of_the_docs_parse() {
    crate::harness::needs_pid1!();
    let mut ran = 0;
    let mut wrong = Vec::new();
    for (name, blocks, _) in documents() {
        for block in blocks
            .iter()
            .filter(|b| matches!(b.lang.as_str(), "sh" | "shell" | "bash" | ""))
        {
            for (i, line) in block.body.lines().enumerate() {
                // `docker exec app formation restart web` runs the same command inside.
                let line = match line.find("formation ") {
                    Some(at) if line.contains("exec ") => &line[at..],
                    _ => line,
                };
                let Some(args) = formation_args(line) else {
                    continue;
                };
                if !args.first().is_some_and(|a| CONTROL.contains(&a.as_str())) {
                    continue;
                }
                let out = Command::new("unshare")
                    .args(["--pid", "--fork", "--mount-proc", "--kill-child"])
                    .arg(crate::harness::BIN)
                    .args(&args)
                    .env_remove("FORMATION_CONTROL")
                    .output()
                    .expect("run unshare");
                ran += 1;
                if out.status.code() == Some(2) {
                    wrong.push(format!(
                        "{name}:{}: {line}\n  {}",
                        block.line + 1 + i,
                        said(&out)
                    ));
                }
            }
        }
    }
    assert!(
        ran >= 3,
        "only {ran} control command lines found: is the reader broken?"
    );
    assert!(
        wrong.is_empty(),
        "doc control commands that do not parse:\n{}",
        wrong.join("\n")
    );
}
