//! Finding and reading the config and env files (SPEC §1.2, §3.4).
//!
//! Owns: config discovery (`-c`/`-f`, `FORMATION_CONFIG`, `./formation.toml`, `./Procfile`),
//! reading files (UTF-8, a leading byte-order mark skipped), and the `user` lookup in the
//! container's /etc/passwd and /etc/group; which env files apply ([`which_env_files`]). The
//! parsing itself is pure and lives in `schema/`, `procfile.rs` and `envfile.rs`.
//!
//! Must not: stop at the first bad file. Each function returns what it could read together
//! with every error, so that `commands/prepare.rs` reports config, env-file and `-m` errors
//! in one run.

use crate::config::model::{ConfigError, Formation, Place, Var};
use crate::config::users::{self, Credentials};
use crate::config::{envfile, procfile, schema};
use std::path::{Path, PathBuf};

/// Where the config comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigFile {
    /// A formation.toml.
    Toml(PathBuf),
    /// A Procfile.
    Procfile(PathBuf),
}

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

/// Reads and parses the config: the formation when the file could be read as one, and
/// every error as a printable line (empty when it is valid).
pub fn formation(file: &ConfigFile) -> (Option<Formation>, Vec<String>) {
    formation_with(file, &lookup_user)
}

/// The config as `export` reads it (SPEC §8): a `user` is resolved in the container, never in
/// the /etc/passwd of the machine that exports, so only its form is checked here.
pub fn formation_elsewhere(file: &ConfigFile) -> (Option<Formation>, Vec<String>) {
    formation_with(file, &|_| Ok(Credentials::unresolved()))
}

fn formation_with(
    file: &ConfigFile,
    lookup_user: &dyn Fn(&str) -> Result<Credentials, String>,
) -> (Option<Formation>, Vec<String>) {
    let path = match file {
        ConfigFile::Toml(p) | ConfigFile::Procfile(p) => p,
    };
    let text = match read(path) {
        Ok(text) => text,
        Err(e) => return (None, vec![e]),
    };
    let parsed = match file {
        ConfigFile::Toml(_) => schema::parse_with(path, &text, lookup_user, &read),
        ConfigFile::Procfile(_) => procfile::parse(path, &text),
    };
    let mut errors = lines(parsed.errors);
    let mut formation = parsed.formation;
    for t in formation.iter_mut().flat_map(|f| f.types.iter_mut()) {
        if let Some(e) = load_zone(t) {
            errors.push(e);
        }
    }
    if let Some(hint) = wrong_format_hint(file, &text, formation.is_some(), &errors) {
        errors.push(hint);
    }
    (formation, errors)
}

/// When a Procfile was given as TOML (`-c Procfile`) or the other way round, the errors are
/// about syntax the user never meant to write: say which option reads the file.
fn wrong_format_hint(
    file: &ConfigFile,
    text: &str,
    read_as_document: bool,
    errors: &[String],
) -> Option<String> {
    if errors.is_empty() {
        return None;
    }
    let name_starts = |path: &Path, prefix: &str| {
        path.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
    };
    match file {
        ConfigFile::Toml(path) if !read_as_document => {
            let procfile_like =
                name_starts(path, "Procfile") || procfile::parse(path, text).errors.is_empty();
            procfile_like.then(|| {
                format!(
                    "formation: {} reads as a Procfile, not TOML: use -f {0} instead of -c",
                    path.display()
                )
            })
        }
        ConfigFile::Procfile(path) => {
            let toml_like = path.extension().is_some_and(|e| e == "toml")
                || schema::parse(path, text, &|_| Err(String::new()))
                    .formation
                    .is_some_and(|f| !f.types.is_empty());
            toml_like.then(|| {
                format!(
                    "formation: {} reads as TOML, not a Procfile: use -c {0} instead of -f",
                    path.display()
                )
            })
        }
        ConfigFile::Toml(_) => None,
    }
}

/// Which env files apply (SPEC §3.4), in order: the config's `env_file` entries (each with
/// its place), then `-e` files; or the default `.env` beside the config when neither is given
/// and `is_file` says it exists. The one decision: a run reads these files and `export`
/// names them.
/// `named` is the config's `env_file` (None when it has none, or could not be read).
pub fn which_env_files<'a>(
    config: &Path,
    named: Option<&'a [(PathBuf, Place)]>,
    extra: &[PathBuf],
    is_file: &dyn Fn(&Path) -> bool,
) -> Vec<(PathBuf, Option<&'a Place>)> {
    if named.is_none() && extra.is_empty() {
        let default = crate::config::model::dir_of(config).join(".env");
        return if is_file(&default) {
            vec![(default, None)]
        } else {
            Vec::new()
        };
    }
    named
        .into_iter()
        .flatten()
        // Joined to the config's directory as written: `./prod.env` beside `formation.toml`
        // is `././prod.env`, and `/app/./prod.env` for `-c /app/formation.toml`, in errors
        // and in an export; its components drop the inner `.`s.
        .map(|(path, place)| (path.components().collect(), Some(place)))
        .chain(extra.iter().map(|path| (path.clone(), None)))
        .collect()
}

/// The env files' variables, in order (the files [`which_env_files`] decides). Every error
/// of every file, as printable lines; a missing file named by `env_file` is reported at
/// that entry.
pub fn env_files(
    config: &Path,
    named: Option<&[(PathBuf, Place)]>,
    extra: &[PathBuf],
) -> (Vec<Var>, Vec<String>) {
    let files = which_env_files(config, named, extra, &Path::is_file);
    let mut vars = Vec::new();
    let mut errors = Vec::new();
    for (file, named_at) in files {
        match read(&file) {
            Ok(text) => match envfile::parse(&file, &text) {
                Ok(found) => vars.extend(found),
                Err(found) => errors.extend(lines(found)),
            },
            Err(e) => errors.push(match named_at {
                Some(place) => format!("{place}: `env_file`: {e}"),
                None => e,
            }),
        }
    }
    (vars, errors)
}

fn read(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    decode(path, bytes)
}

/// A file's bytes as text: UTF-8, without the byte-order mark some Windows editors put
/// first (it would otherwise be part of the first key, or the first process name).
fn decode(path: &Path, mut bytes: Vec<u8>) -> Result<String, String> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    if bytes.starts_with(BOM) {
        bytes.drain(..BOM.len());
    }
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

/// Resolves a `user` against the container's files. It only checks that the user exists:
/// `check` and every config error need no privilege (SPEC §2.1); switching is the child's
/// business, and fails there (126) when formation may not switch.
fn lookup_user(spec: &str) -> Result<Credentials, String> {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
    users::resolve(spec, &passwd, &group)
}

/// Loads a scheduled type's `timezone` from the image's zoneinfo (`TZDIR`, else
/// /usr/share/zoneinfo, SPEC §4.4); the error names the `timezone` key's place.
fn load_zone(t: &mut crate::config::model::ProcessType) -> Option<String> {
    let spec = t.schedule.as_mut()?;
    let (name, place) = spec.timezone.as_ref()?;
    let dir = std::env::var_os("TZDIR").unwrap_or_else(|| "/usr/share/zoneinfo".into());
    match crate::time::tz::Zone::load(name, Path::new(&dir)) {
        Ok(zone) => {
            spec.zone = zone;
            None
        }
        Err(e) => Some(format!("{place}: `timezone`: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_env_files_apply() {
        let at = Place {
            file: "app/formation.toml".into(),
            line: 1,
            col: 1,
        };
        let named = [(PathBuf::from("app/a.env"), at.clone())];
        let config = Path::new("app/formation.toml");
        let paths = |files: Vec<(PathBuf, Option<&Place>)>| -> Vec<(String, bool)> {
            files
                .into_iter()
                .map(|(p, place)| (p.display().to_string(), place.is_some()))
                .collect()
        };
        let yes = |_: &Path| true;
        let no = |_: &Path| false;
        // Neither `env_file` nor `-e`: `.env` beside the config, when it exists.
        let got = which_env_files(config, None, &[], &yes);
        assert_eq!(paths(got), [("app/.env".to_string(), false)]);
        assert!(which_env_files(config, None, &[], &no).is_empty());
        // Either one given: exactly those, the config's first, and no default.
        let extra = [PathBuf::from("b.env")];
        let got = which_env_files(config, Some(&named), &extra, &yes);
        assert_eq!(
            paths(got),
            [("app/a.env".into(), true), ("b.env".into(), false)]
        );
        let got = which_env_files(config, None, &extra, &yes);
        assert_eq!(paths(got), [("b.env".to_string(), false)]);
        // `env_file = []` names none: no default either.
        assert!(which_env_files(config, Some(&[]), &[], &yes).is_empty());
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let p = Path::new("f");
        let table: [(&[u8], Result<&str, &str>); 5] = [
            (b"\xEF\xBB\xBFweb: x\n", Ok("web: x\n")),
            (b"web: x\n", Ok("web: x\n")),
            (b"\xEF\xBB\xBF", Ok("")),
            (b"a\xEF\xBB\xBF", Ok("a\u{FEFF}")),
            (b"\xEF\xBB\xBFok\nb\xFF", Err("f:2:2: not valid UTF-8")),
        ];
        for (bytes, want) in table {
            let got = decode(p, bytes.to_vec());
            assert_eq!(got.as_deref().map_err(String::as_str), want, "{bytes:?}");
        }
    }

    #[test]
    fn a_file_in_the_other_format_gets_a_hint() {
        let toml = |p: &str| ConfigFile::Toml(PathBuf::from(p));
        let procfile = |p: &str| ConfigFile::Procfile(PathBuf::from(p));
        let err = ["x".to_string()];
        let table = [
            (toml("Procfile"), "web: ./server\n", false, true),
            (toml("app.conf"), "web: ./server\nworker: w\n", false, true),
            (toml("app.toml"), "[process.web\n", false, false),
            (toml("Procfile"), "[process.web]\n", true, false),
            (procfile("formation.toml"), "x", true, true),
            (
                procfile("app"),
                "[process.web]\ncommand = \"x\"\n",
                true,
                true,
            ),
            (procfile("Procfile"), "web ./server\n", true, false),
        ];
        for (file, text, read_as_document, want) in table {
            let hint = wrong_format_hint(&file, text, read_as_document, &err);
            assert_eq!(hint.is_some(), want, "{file:?} {text:?}: {hint:?}");
        }
        let hint = wrong_format_hint(&toml("Procfile"), "web: x\n", false, &err);
        assert_eq!(
            hint.as_deref(),
            Some(
                "formation: Procfile reads as a Procfile, not TOML: use -f Procfile instead of -c"
            )
        );
        assert_eq!(
            wrong_format_hint(&toml("Procfile"), "", false, &[]),
            None,
            "no errors, no hint"
        );
    }
}
