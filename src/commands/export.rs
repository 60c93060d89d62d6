//! The `export` subcommand (SPEC §8): the config read as `check` reads it, the target's
//! file written to `-o` or stdout, and one stderr line per thing the target cannot express.
//! The rendering itself is pure and lives in `export/`.

use crate::cli::{self, ConfigFile, Options};
use crate::commands::{USAGE_ERROR, say_to};
use crate::config::{self, load};
use crate::export;
use crate::output::logmux::Stream;

/// `formation export`: reads the config, writes the target's file to `-o` or stdout, and
/// one stderr line per thing the target cannot express.
pub fn export(options: &Options, request: &cli::Export) -> i32 {
    let written = export_text(options, request).and_then(|out| {
        match &request.output {
            Some(path) => std::fs::write(path, &out.text)
                .map_err(|e| vec![format!("formation: {}: cannot write: {e}", path.display())])?,
            None => say_to(Stream::Stdout, format_args!("{}", out.text)),
        }
        Ok(out.notes)
    });
    match written {
        Ok(notes) => {
            for note in notes {
                let target = request.target.map_or("", |t| t.name());
                say_to(
                    Stream::Stderr,
                    format_args!("formation: export {target}: {note}\n"),
                );
            }
            0
        }
        Err(errors) => {
            for e in &errors {
                say_to(Stream::Stderr, format_args!("{e}\n"));
            }
            USAGE_ERROR
        }
    }
}

fn export_text(options: &Options, request: &cli::Export) -> Result<export::Output, Vec<String>> {
    let cwd =
        std::env::current_dir().map_err(|e| vec![format!("formation: current directory: {e}")])?;
    let file = load::discover(options.config.clone(), &cwd)
        .map_err(|e| vec![format!("formation: {e}")])?;
    let (formation, errors) = load::formation_elsewhere(&file);
    let formation = match formation {
        Some(f) if errors.is_empty() => f,
        _ => return Err(errors),
    };
    let (path, procfile) = match &file {
        ConfigFile::Toml(p) => (p, false),
        ConfigFile::Procfile(p) => (p, true),
    };
    let config_args = export::config_in_image(path, procfile, request.config_in_image.as_deref());
    let dir = config::model::dir_of(&formation.path);
    let app = export::app_name(
        &absolute(&cwd, dir)
            .file_name()
            .unwrap_or_default()
            .to_string_lossy(),
    );
    // SPEC §3.4's rule for which env files apply; paths as seen from the written file.
    let files = match &formation.env_files {
        None if options.env_files.is_empty() => {
            let default = dir.join(".env");
            if default.is_file() {
                vec![default]
            } else {
                Vec::new()
            }
        }
        named => named
            .iter()
            .flatten()
            .map(|(path, _)| path)
            .chain(&options.env_files)
            .cloned()
            .collect(),
    };
    let out_dir = request.output.as_deref().map(config::model::dir_of);
    let env_files = files
        .iter()
        .map(|f| match out_dir {
            Some(out) => relative(&absolute(&cwd, out), &absolute(&cwd, f)),
            None => f.display().to_string(),
        })
        .collect();
    let input = export::Input::new(
        &formation,
        options.formation.as_deref(),
        config_args,
        app,
        env_files,
        request.image.clone(),
        request.entrypoint.clone(),
    )
    .map_err(|e| vec![format!("formation: {e}")])?;
    let target = request
        .target
        .ok_or_else(|| vec!["formation: export needs a target".to_string()])?;
    export::render(target, &input).map_err(|e| vec![format!("formation: {e}")])
}

/// `path` made absolute against `cwd`, with `.` and `..` resolved by name (not through
/// symlinks: the path need not exist).
fn absolute(cwd: &std::path::Path, path: &std::path::Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for part in cwd.join(path).components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Absolute `file` as seen from absolute `dir`.
fn relative(dir: &std::path::Path, file: &std::path::Path) -> String {
    let common = dir
        .components()
        .zip(file.components())
        .take_while(|(a, b)| a == b)
        .count();
    let ups = dir.components().count() - common;
    let mut out: std::path::PathBuf = std::iter::repeat_n("..", ups).collect();
    out.extend(file.components().skip(common));
    out.display().to_string()
}
