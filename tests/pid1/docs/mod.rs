//! The documentation is tested like code (issue #22): README.md, docs/*.md and the
//! examples' walk-throughs (examples/*/README.md).
//!
//! - Every relative link points to a file that exists, and its `#anchor`, if any, to a
//!   heading of that file; every repository path the prose names in backticks
//!   (`src/cli/mod.rs`, `tests/docker/run.sh`) exists, so a moved file cannot leave its
//!   description behind.
//! - Every ```` ```toml ```` block passes `formation check -c formation.toml`, every
//!   ```` ```procfile ```` block `formation check -f Procfile` (exit 0); a block tagged
//!   ```` ```toml error ```` (or `procfile error`) shows a mistake and must exit 2. Each runs
//!   in a fresh directory holding the block, an empty `.env` (an example may name
//!   `env_file = [".env"]`) and, beside a toml block, the last procfile block above it in the
//!   same file as `Procfile` (an example may say `procfile = "Procfile"`).
//! - No ```` ```dockerfile ```` block has an exec-form instruction (`ENTRYPOINT [...]`) whose
//!   array is not valid JSON or is followed by anything, a `# comment` above all: Docker has
//!   no trailing comments, and turns such a line into a shell form without a word.
//! - The `formation` command lines of ```` ```sh ```` blocks that run offline and end on
//!   their own — `check`, `export`, `--help`, `--version`, and formation mode's options (run
//!   as `check` with the same config options) — exit 0. (`cargo run --release --` stands for
//!   `formation`.) They run in a fresh directory holding a copy of `examples/`, the last
//!   `toml` block above them in the same file as `formation.toml` (else the example's), the
//!   last `procfile` block as `Procfile` (else the example's) and an empty `.env`.
//! - The control command lines (`status`, `restart`, `stop`, `start`, `scale`, `signal`,
//!   `reload`, also after `docker exec app`) are run in a new pid namespace where no formation
//!   listens: every word is parsed, so a line that no longer parses exits 2 and fails; a
//!   well-formed one answers that there is no formation to ask. Lines that run a command
//!   (`run`, `probe`, a CMD) are not run.
//!
//! These need no root, but the control lines' (a pid namespace): `check` and `export` never
//! spawn.

use std::path::Path;
use std::process::{Command, Output};

use crate::harness::{BIN, TempDir};
use markdown::Block;

mod markdown;

/// formation run in `dir` with `args`, with none of its variables inherited from the test's
/// environment (a `FORMATION` or `PORT` there would change the answer).
fn formation_in(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(dir);
    for var in [
        "FORMATION",
        "FORMATION_CONFIG",
        "FORMATION_GRACE",
        "FORMATION_LISTEN",
        "PORT",
    ] {
        cmd.env_remove(var);
    }
    cmd.output().expect("run formation")
}

fn said(out: &Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every document with its blocks and its prose.
fn documents() -> Vec<(String, Vec<Block>, String)> {
    markdown::files()
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).expect("read a doc");
            let (blocks, prose) = markdown::split(&text);
            (markdown::name(path), blocks, prose)
        })
        .collect()
}

/// The problems of one relative link of `from` (a file's path in the repository), if any.
fn link_problem(from: &str, target: &str) -> Option<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (file, anchor) = target.split_once('#').unwrap_or((target, ""));
    let path = if file.is_empty() {
        root.join(from)
    } else {
        root.join(from)
            .parent()
            .expect("a doc is in a folder")
            .join(file)
    };
    if !path.exists() {
        return Some(format!("{target}: no file {}", path.display()));
    }
    if anchor.is_empty() {
        return None;
    }
    let text = std::fs::read_to_string(&path).ok()?;
    let (_, prose) = markdown::split(&text);
    let anchors = markdown::anchors(&prose);
    if anchors.iter().any(|a| a == anchor) {
        return None;
    }
    Some(format!(
        "{target}: no heading #{anchor} (there are: {})",
        anchors.join(", ")
    ))
}

#[test]
fn every_relative_link_of_the_docs_reaches_a_file_and_a_heading() {
    let mut checked = 0;
    let mut broken = Vec::new();
    for (name, _, prose) in documents() {
        for (line, target) in markdown::links(&prose) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            if let Some(problem) = link_problem(&name, &target) {
                broken.push(format!("{name}:{line}: {problem}"));
            }
        }
    }
    assert!(
        checked > 20,
        "only {checked} relative links found: is the reader broken?"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The repository paths named as inline code in prose: `src/…`, `tests/…` and the like,
/// without wildcards or spaces.
fn named_paths(prose: &str) -> Vec<(usize, String)> {
    const ROOTS: [&str; 7] = [
        "src/",
        "tests/",
        "bench/",
        "scripts/",
        "examples/",
        "docs/",
        ".ci/",
    ];
    let mut found = Vec::new();
    for (i, line) in prose.lines().enumerate() {
        for span in line.split('`').skip(1).step_by(2) {
            let plain = !span.contains(|c: char| c.is_whitespace() || "*?{}<>…$".contains(c));
            if plain && ROOTS.iter().any(|r| span.starts_with(r)) {
                found.push((i + 1, span.to_string()));
            }
        }
    }
    found
}

#[test]
fn every_repository_path_the_docs_name_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    let mut missing = Vec::new();
    for (name, _, prose) in documents() {
        for (line, path) in named_paths(&prose) {
            checked += 1;
            if !root.join(&path).exists() {
                missing.push(format!("{name}:{line}: `{path}` is not in the repository"));
            }
        }
    }
    assert!(
        checked > 5,
        "only {checked} paths found: is the reader broken?"
    );
    assert!(
        missing.is_empty(),
        "the docs name paths that do not exist:\n{}",
        missing.join("\n")
    );
}

/// `check` on one config block; `Some(problem)` when its exit is not the one its tag asks for.
/// A toml block is checked beside the last Procfile block shown before it (the doc's
/// `procfile = "Procfile"` example names it).
fn check_block(name: &str, block: &Block, procfile: Option<&Block>) -> Option<String> {
    let (file, flag) = match block.lang.as_str() {
        "toml" => ("formation.toml", "-c"),
        "procfile" => ("Procfile", "-f"),
        _ => return None,
    };
    let dir = TempDir::new("docs-block");
    dir.write(file, &block.body);
    dir.write(".env", "");
    if let (Some(procfile), "toml") = (procfile, block.lang.as_str()) {
        dir.write("Procfile", &procfile.body);
    }
    let out = formation_in(dir.path(), &["check", flag, file]);
    let want = if block.info == "error" { 2 } else { 0 };
    (out.status.code() != Some(want)).then(|| {
        format!(
            "{name}:{}: ```{} {}: wanted exit {want}, got {}",
            block.line,
            block.lang,
            block.info,
            said(&out)
        )
    })
}

#[test]
fn every_config_example_of_the_docs_passes_check_or_fails_as_tagged() {
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (name, blocks, _) in documents() {
        let mut procfile = None;
        for block in &blocks {
            if block.lang == "toml" || block.lang == "procfile" {
                checked += 1;
                wrong.extend(check_block(&name, block, procfile));
            }
            if block.lang == "procfile" {
                procfile = Some(block);
            }
        }
    }
    assert!(
        checked >= 5,
        "only {checked} config blocks found: is the reader broken?"
    );
    assert!(
        wrong.is_empty(),
        "doc examples that do not check:\n{}",
        wrong.join("\n\n")
    );
}

/// What is wrong with one line of a Dockerfile, if anything: an exec form (`["…", …]`) must be
/// a JSON array of strings and the end of its line.
fn dockerfile_problem(line: &str) -> Option<String> {
    let line = line.trim();
    if line.starts_with('#') || line.is_empty() {
        return None;
    }
    let (instruction, rest) = line.split_once(char::is_whitespace)?;
    let mut rest = rest.trim_start();
    if instruction.eq_ignore_ascii_case("HEALTHCHECK") {
        // HEALTHCHECK [--interval=…]… CMD [exec form]
        while rest.starts_with("--") {
            rest = rest
                .split_once(char::is_whitespace)
                .map_or("", |(_, r)| r.trim_start());
        }
        rest = rest.strip_prefix("CMD").unwrap_or(rest).trim_start();
    }
    if !rest.starts_with('[') {
        return None;
    }
    let end = rest.rfind(']')?;
    let trailing = rest[end + 1..].trim();
    if !trailing.is_empty() {
        return Some(format!(
            "`{trailing}` after the exec form: Docker reads the line as a shell form"
        ));
    }
    match serde_json::from_str::<Vec<String>>(&rest[..=end]) {
        Ok(_) => None,
        Err(e) => Some(format!(
            "the exec form is not a JSON array of strings ({e}): Docker reads it as a shell form"
        )),
    }
}

#[test]
fn no_dockerfile_example_has_an_exec_form_that_docker_would_run_as_a_shell_form() {
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (name, blocks, _) in documents() {
        for block in blocks.iter().filter(|b| b.lang == "dockerfile") {
            for (i, line) in block.body.lines().enumerate() {
                checked += 1;
                if let Some(problem) = dockerfile_problem(line) {
                    wrong.push(format!(
                        "{name}:{}: {line}\n  {problem}",
                        block.line + 1 + i
                    ));
                }
            }
        }
    }
    assert!(
        checked > 0,
        "no dockerfile block found: is the reader broken?"
    );
    assert!(
        wrong.is_empty(),
        "Dockerfile lines that break when copied:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_dockerfile_rule_sees_a_trailing_comment_and_a_bad_array() {
    assert_eq!(dockerfile_problem(r#"ENTRYPOINT ["/formation"]"#), None);
    assert_eq!(
        dockerfile_problem(r#"HEALTHCHECK --interval=5s CMD ["/formation", "probe", "web"]"#),
        None
    );
    assert_eq!(
        dockerfile_problem("CMD my-server --port 8080 # shell form: sh drops it"),
        None
    );
    assert!(dockerfile_problem(r#"ENTRYPOINT ["/formation"]   # runs ./Procfile"#).is_some());
    assert!(dockerfile_problem(r#"CMD ['my-server']"#).is_some());
    assert!(dockerfile_problem(r#"HEALTHCHECK CMD ["/formation" "probe"]"#).is_some());
}

/// A config shown in a block without the tag would escape the check above.
#[test]
fn every_block_that_holds_a_formation_toml_is_tagged_toml() {
    let mut untagged = Vec::new();
    for (name, blocks, _) in documents() {
        for block in blocks.iter().filter(|b| b.lang != "toml") {
            let config = block.body.lines().any(|l| {
                let l = l.trim_start();
                l.starts_with("[process.") || l.starts_with("command = ")
            });
            if config {
                untagged.push(format!("{name}:{}: ```{}", block.line, block.lang));
            }
        }
    }
    assert!(
        untagged.is_empty(),
        "formation.toml examples not tagged ```toml (so not checked):\n{}",
        untagged.join("\n")
    );
}

mod commands;
