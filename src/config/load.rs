//! Finding and reading the config and env files (SPEC §1.2, §3.4).
//!
//! Owns: config discovery (`-c`/`-f`, `FORMATION_CONFIG`, `./formation.toml`, `./Procfile`),
//! reading files, and the `user` lookup in the container's /etc/passwd and /etc/group. The
//! parsing itself is pure and lives in `config.rs`, `procfile.rs` and `envfile.rs`.

use crate::cli::ConfigFile;
use crate::config::model::{ConfigError, Formation};
use crate::config::users::{self, Credentials};
use crate::config::{envfile, procfile, schema};
use std::path::{Path, PathBuf};

/// The config to run: the one named, else `./formation.toml`, else `./Procfile`.
pub fn discover(named: Option<ConfigFile>, dir: &Path) -> Result<ConfigFile, String> {
    if let Some(file) = named {
        return Ok(file);
    }
    let toml = dir.join("formation.toml");
    if toml.is_file() {
        return Ok(ConfigFile::Toml(PathBuf::from("formation.toml")));
    }
    if dir.join("Procfile").is_file() {
        return Ok(ConfigFile::Procfile(PathBuf::from("Procfile")));
    }
    Err(format!(
        "no formation.toml or Procfile in {}; name one with -c FILE (TOML), -f FILE (Procfile) \
         or FORMATION_CONFIG, or run one command with `formation -- CMD`",
        dir.display()
    ))
}

/// Reads and parses the config. Errors are printable lines.
pub fn formation(file: &ConfigFile) -> Result<Formation, Vec<String>> {
    let path = match file {
        ConfigFile::Toml(p) | ConfigFile::Procfile(p) => p,
    };
    let text = read(path).map_err(|e| vec![e])?;
    let parsed = match file {
        ConfigFile::Toml(_) => schema::parse(path, &text, &lookup_user),
        ConfigFile::Procfile(_) => procfile::parse(path, &text),
    };
    parsed.map_err(lines)
}

/// The env files' variables, in order: the config's `env_file` entries, then `-e` files; or
/// the default `.env` beside the config when neither is given (and it exists).
pub fn env_files(
    formation: &Formation,
    extra: &[PathBuf],
) -> Result<Vec<(String, String)>, Vec<String>> {
    let named: Vec<PathBuf> = formation
        .env_files
        .iter()
        .flatten()
        .chain(extra)
        .cloned()
        .collect();
    let files = if formation.env_files.is_none() && extra.is_empty() {
        let default = crate::config::model::dir_of(&formation.path).join(".env");
        if default.is_file() {
            vec![default]
        } else {
            Vec::new()
        }
    } else {
        named
    };
    let mut vars = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        match read(&file) {
            Ok(text) => match envfile::parse(&file, &text) {
                Ok(found) => vars.extend(found),
                Err(found) => errors.extend(lines(found)),
            },
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(vars)
    } else {
        Err(errors)
    }
}

fn read(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(&e.into_bytes()[..offset]).into_owned();
        let line = text.matches('\n').count() + 1;
        let col = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!("{}:{line}:{col}: not valid UTF-8", path.display())
    })
}

fn lines(errors: Vec<ConfigError>) -> Vec<String> {
    errors.iter().map(ToString::to_string).collect()
}

/// Resolves a `user` against the container's files; switching users needs root.
fn lookup_user(spec: &str) -> Result<Credentials, String> {
    if !nix::unistd::geteuid().is_root() {
        return Err(format!(
            "switching to user {spec:?} needs formation to run as root"
        ));
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
    users::resolve(spec, &passwd, &group)
}
