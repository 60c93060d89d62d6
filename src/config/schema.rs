//! formation.toml text → a validated [`Formation`].
//!
//! Owns: the TOML schema of SPEC §3.2 and its checks. Pure: the text comes in, the user
//! lookup is passed in, nothing is spawned or printed.
//!
//! Why not `#[derive(Deserialize)]` with `deny_unknown_fields`: serde stops at the first
//! error, and SPEC §3.2 wants *every* error at once, each with line and column. So the file is
//! parsed by the `toml` crate into a spanned document (`DeTable`, which keeps the file's order
//! — the order sets each type's PORT block) and every key is checked here, each error noted
//! and the walk continued.

use crate::config::model::Restart;
use crate::config::model::{
    Backoff, CommandLine, ConfigError, Diagnostics, Formation, MAX_SCALE, ProcessType, valid_name,
};
use crate::config::units;
use crate::config::users::Credentials;
use std::path::{Path, PathBuf};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

type Value<'i> = Spanned<DeValue<'i>>;

/// Parses and checks a formation.toml. `path` names the file in errors and anchors relative
/// paths; `user` resolves a `user` setting to credentials or says why it cannot.
pub fn parse(
    path: &Path,
    text: &str,
    user: &dyn Fn(&str) -> Result<Credentials, String>,
) -> Result<Formation, Vec<ConfigError>> {
    let mut diag = Diagnostics::new(path.to_path_buf(), text);
    let (doc, syntax) = DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        for err in syntax {
            let at = err.span().map_or(0, |s| s.start);
            diag.at(at, err.message().trim().to_string());
        }
        return Err(diag.errors);
    }
    let dir = crate::config::model::dir_of(path);
    let mut formation = Formation {
        path: path.to_path_buf(),
        grace: None,
        env_files: None,
        env: Vec::new(),
        types: Vec::new(),
    };
    let mut saw_process = false;
    for (key, value) in doc.get_ref() {
        match key.get_ref().as_ref() {
            "grace" => formation.grace = duration(&mut diag, "grace", value),
            "env_file" => formation.env_files = Some(env_files(&mut diag, dir, value)),
            "env" => formation.env = env_table(&mut diag, "env", value),
            "process" => {
                saw_process = true;
                let Some(table) = table(&mut diag, "process", value) else {
                    continue;
                };
                for (name, value) in table {
                    if let Some(t) = process(&mut diag, dir, name, value, user) {
                        formation.types.push(t);
                    }
                }
            }
            other => diag.at(key.span().start, unknown_key(other, TOP_KEYS)),
        }
    }
    if !saw_process {
        diag.at(
            0,
            "no process defined: add a [process.NAME] table with a command",
        );
    }
    diag.finish().map(|()| formation)
}

const TOP_KEYS: &[&str] = &["grace", "env_file", "env", "process"];
const PROCESS_KEYS: &[&str] = &[
    "command",
    "scale",
    "restart",
    "essential",
    "stop_signal",
    "grace",
    "cwd",
    "user",
    "env",
    "backoff",
];
const BACKOFF_KEYS: &[&str] = &["initial", "max", "healthy", "restarts"];

fn unknown_key(key: &str, known: &[&str]) -> String {
    format!(
        "unknown key `{key}` (expected one of: {})",
        known.join(", ")
    )
}

fn process(
    diag: &mut Diagnostics,
    dir: &Path,
    name: &Spanned<std::borrow::Cow<str>>,
    value: &Value,
    user: &dyn Fn(&str) -> Result<Credentials, String>,
) -> Option<ProcessType> {
    let type_name = name.get_ref().to_string();
    if !valid_name(&type_name) {
        diag.at(
            name.span().start,
            format!("process name {type_name:?} may only hold letters, digits, `_` and `-`"),
        );
    }
    let what = format!("process.{type_name}");
    let table = table(diag, &what, value)?;
    let mut command = None;
    let mut t = ProcessType::new(type_name, CommandLine::Argv(Vec::new()));
    for (key, value) in table {
        let key_name = key.get_ref().as_ref();
        let at = value.span().start;
        match key_name {
            "command" => command = command_line(diag, value),
            "scale" => match value
                .get_ref()
                .as_integer()
                .and_then(|i| u32::from_str_radix(i.as_str(), i.radix()).ok())
            {
                Some(n) if n <= MAX_SCALE => t.scale = n,
                _ => diag.at(
                    at,
                    format!("`scale` must be a whole number from 0 to {MAX_SCALE}"),
                ),
            },
            "restart" => match value.get_ref().as_str() {
                Some("never") => t.restart = Restart::Never,
                Some("on-failure") => t.restart = Restart::OnFailure,
                Some("always") => t.restart = Restart::Always,
                _ => diag.at(
                    at,
                    "`restart` must be \"never\", \"on-failure\" or \"always\"",
                ),
            },
            "essential" => match value.get_ref().as_bool() {
                Some(b) => t.essential = b,
                None => diag.at(at, "`essential` must be true or false"),
            },
            "stop_signal" => match scalar_text(value).map(|s| units::signal(&s)) {
                Some(Ok(sig)) => t.stop_signal = sig,
                Some(Err(e)) => diag.at(at, format!("`stop_signal`: {e}")),
                None => diag.at(at, "`stop_signal` must be a signal name or number"),
            },
            "grace" => t.grace = duration(diag, "grace", value),
            "cwd" => match value.get_ref().as_str() {
                Some(cwd) if !cwd.is_empty() => t.cwd = Some(dir.join(cwd)),
                _ => diag.at(at, "`cwd` must be a non-empty path"),
            },
            "user" => match scalar_text(value) {
                Some(spec) => match user(&spec) {
                    Ok(creds) => t.user = Some(creds),
                    Err(e) => diag.at(at, format!("`user`: {e}")),
                },
                None => diag.at(at, "`user` must be a name, a uid or \"uid:gid\""),
            },
            "env" => t.env = env_table(diag, "env", value),
            "backoff" => t.backoff = backoff(diag, value),
            other => diag.at(key.span().start, unknown_key(other, PROCESS_KEYS)),
        }
    }
    match command {
        Some(c) => t.command = c,
        None if !table.contains_key("command") => {
            diag.at(value.span().start, format!("[{what}] needs a `command`"));
        }
        None => {}
    }
    Some(t)
}

fn command_line(diag: &mut Diagnostics, value: &Value) -> Option<CommandLine> {
    let at = value.span().start;
    let words: Vec<&str> = match value.get_ref() {
        DeValue::String(text) => vec![text],
        DeValue::Array(items) => items.iter().filter_map(|v| v.get_ref().as_str()).collect(),
        _ => Vec::new(),
    };
    if let Some(message) = CommandLine::nul_error(&words) {
        diag.at(at, message);
        return None;
    }
    match value.get_ref() {
        DeValue::String(text) if !text.trim().is_empty() => Some(CommandLine::from_text(text)),
        DeValue::Array(items) => {
            let words: Option<Vec<String>> = items
                .iter()
                .map(|v| v.get_ref().as_str().map(String::from))
                .collect();
            match words {
                Some(words) if words.first().is_some_and(|w| !w.is_empty()) => {
                    Some(CommandLine::Argv(words))
                }
                Some(_) => {
                    diag.at(at, "`command` is empty");
                    None
                }
                None => {
                    diag.at(at, "`command` array must hold only strings");
                    None
                }
            }
        }
        DeValue::String(_) => {
            diag.at(at, "`command` is empty");
            None
        }
        _ => {
            diag.at(at, "`command` must be a string or an array of strings");
            None
        }
    }
}

fn table<'a, 'i>(
    diag: &mut Diagnostics,
    what: &str,
    value: &'a Value<'i>,
) -> Option<&'a DeTable<'i>> {
    let found = value.get_ref().as_table();
    if found.is_none() {
        diag.at(value.span().start, format!("`{what}` must be a table"));
    }
    found
}

/// A string, integer, float or boolean as text (env values, users and signals by number).
fn scalar_text(value: &Value) -> Option<String> {
    match value.get_ref() {
        DeValue::String(s) => Some(s.to_string()),
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .ok()
            .map(|n| n.to_string()),
        DeValue::Float(f) => Some(f.as_str().to_string()),
        DeValue::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn duration(diag: &mut Diagnostics, what: &str, value: &Value) -> Option<std::time::Duration> {
    let at = value.span().start;
    match scalar_text(value).filter(|_| !value.get_ref().is_bool()) {
        Some(text) => match units::duration(&text) {
            Ok(d) => Some(d),
            Err(e) => {
                diag.at(at, format!("`{what}`: {e}"));
                None
            }
        },
        None => {
            diag.at(at, format!("`{what}` must be a duration such as \"10s\""));
            None
        }
    }
}

/// `backoff = { initial, max, healthy, restarts }`: every key optional, defaults of SPEC §4.
fn backoff(diag: &mut Diagnostics, value: &Value) -> Backoff {
    let mut b = Backoff::default();
    let Some(table) = table(diag, "backoff", value) else {
        return b;
    };
    for (key, value) in table {
        match key.get_ref().as_ref() {
            "initial" => b.initial = duration(diag, "backoff.initial", value).unwrap_or(b.initial),
            "max" => b.max = duration(diag, "backoff.max", value).unwrap_or(b.max),
            "healthy" => b.healthy = duration(diag, "backoff.healthy", value).unwrap_or(b.healthy),
            "restarts" => match value
                .get_ref()
                .as_integer()
                .and_then(|i| u32::from_str_radix(i.as_str(), i.radix()).ok())
            {
                Some(n) => b.restarts = n,
                None => diag.at(
                    value.span().start,
                    "`backoff.restarts` must be a whole number (0 or more)",
                ),
            },
            other => diag.at(key.span().start, unknown_key(other, BACKOFF_KEYS)),
        }
    }
    if b.max < b.initial {
        diag.at(
            value.span().start,
            "`backoff.max` must not be shorter than `backoff.initial`",
        );
    }
    b
}

fn env_table(diag: &mut Diagnostics, what: &str, value: &Value) -> Vec<(String, String)> {
    let Some(table) = table(diag, what, value) else {
        return Vec::new();
    };
    let mut env = Vec::new();
    for (key, value) in table {
        let name = key.get_ref().to_string();
        if name.is_empty() || name.contains(['=', '\0']) {
            diag.at(
                key.span().start,
                format!("{name:?} is not a valid variable name"),
            );
            continue;
        }
        match scalar_text(value) {
            Some(v) if !v.contains('\0') => env.push((name, v)),
            _ => diag.at(
                value.span().start,
                format!("`{what}.{name}` must be a string, number or boolean"),
            ),
        }
    }
    env
}

fn env_files(diag: &mut Diagnostics, dir: &Path, value: &Value) -> Vec<PathBuf> {
    let items: Vec<&Value> = match value.get_ref() {
        DeValue::Array(items) => items.iter().collect(),
        _ => vec![value],
    };
    let mut files = Vec::new();
    for item in items {
        match item.get_ref().as_str() {
            Some(p) if !p.is_empty() => files.push(dir.join(p)),
            _ => diag.at(
                item.span().start,
                "`env_file` must be a path or an array of paths",
            ),
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::signal::Signal;
    use std::time::Duration;

    fn no_users(spec: &str) -> Result<Credentials, String> {
        Err(format!("user {spec:?} is not in /etc/passwd"))
    }

    fn ok(text: &str) -> Formation {
        parse(Path::new("/app/formation.toml"), text, &no_users).expect("valid config")
    }

    fn errors(text: &str) -> Vec<String> {
        parse(Path::new("f.toml"), text, &no_users)
            .expect_err("invalid config")
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn full_example() {
        let f = ok(r#"
grace = "10s"
env_file = [".env", "/etc/app.env"]
[env]
RUST_LOG = "info"
N = 3
[process.web]
command = "bundle exec puma -p $PORT"
scale = 2
restart = "on-failure"
essential = true
stop_signal = "SIGQUIT"
grace = "25s"
cwd = "srv"
env = { WEB_CONCURRENCY = "4" }
[process.worker]
command = ["./worker", "--queue", "a b"]
restart = "always"
essential = false
stop_signal = 2
[process.clock]
command = "clock"
"#);
        assert_eq!(f.grace, Some(Duration::from_secs(10)));
        assert_eq!(
            f.env_files,
            Some(vec![
                PathBuf::from("/app/.env"),
                PathBuf::from("/etc/app.env")
            ])
        );
        assert_eq!(
            f.env,
            [("RUST_LOG".into(), "info".into()), ("N".into(), "3".into())]
        );
        let names: Vec<&str> = f.types.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["web", "worker", "clock"], "file order is kept");
        let web = &f.types[0];
        assert_eq!(
            web.command,
            CommandLine::Shell("bundle exec puma -p $PORT".into())
        );
        assert_eq!(
            (web.scale, web.restart, web.essential),
            (2, Restart::OnFailure, true)
        );
        assert_eq!(web.stop_signal, Signal::SIGQUIT);
        assert_eq!(web.grace, Some(Duration::from_secs(25)));
        assert_eq!(web.cwd, Some(PathBuf::from("/app/srv")));
        assert_eq!(web.env, [("WEB_CONCURRENCY".into(), "4".into())]);
        let worker = &f.types[1];
        assert_eq!(
            worker.command,
            CommandLine::Argv(vec!["./worker".into(), "--queue".into(), "a b".into()])
        );
        assert_eq!((worker.restart, worker.essential), (Restart::Always, false));
        assert_eq!(worker.stop_signal, Signal::SIGINT);
        let clock = &f.types[2];
        assert_eq!(clock.command, CommandLine::Argv(vec!["clock".into()]));
        assert_eq!(
            (clock.scale, clock.restart, clock.essential),
            (1, Restart::Never, true)
        );
        assert_eq!(clock.stop_signal, Signal::SIGTERM);
    }

    #[test]
    fn backoff_keys_are_optional_and_checked() {
        let f = ok(
            "[process.a]\ncommand = \"x\"\nbackoff = { initial = \"10ms\", restarts = 3 }\n\
                    [process.b]\ncommand = \"x\"\n",
        );
        let ms = Duration::from_millis;
        let want = Backoff {
            initial: ms(10),
            restarts: 3,
            ..Backoff::default()
        };
        assert_eq!(f.types[0].backoff, want);
        assert_eq!(f.types[1].backoff, Backoff::default());
        let got = errors(
            "[process.a]\ncommand = \"x\"\nbackoff = { initial = \"1m\", max = \"1s\", tries = 1, restarts = -1 }\n",
        );
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(
            got[0].starts_with("f.toml:3:11: `backoff.max` must not be shorter"),
            "{got:?}"
        );
        assert!(got[1].contains("unknown key `tries`"), "{got:?}");
        assert!(
            got[2].contains("`backoff.restarts` must be a whole number"),
            "{got:?}"
        );
    }

    #[test]
    fn every_error_at_once_with_line_and_column() {
        let got = errors(
            "grace = \"soon\"\nbogus = 1\n[process.web]\ncommand = \"\"\nscale = 10001\n\
             restart = \"sometimes\"\nstop_signal = \"SIGNOPE\"\nuser = \"ghost\"\ncolour = 1\n\
             [process.\"bad name\"]\ncommand = [\"x\", 1]\n[process.w2]\nscale = -1\n",
        );
        let want = [
            "f.toml:1:9: `grace`: \"soon\" is not a duration",
            "f.toml:2:1: unknown key `bogus`",
            "f.toml:4:11: `command` is empty",
            "f.toml:5:9: `scale` must be a whole number from 0 to 10000",
            "f.toml:6:11: `restart` must be",
            "f.toml:7:15: `stop_signal`: \"SIGNOPE\" is not a signal",
            "f.toml:8:8: `user`: user \"ghost\" is not in /etc/passwd",
            "f.toml:9:1: unknown key `colour`",
            "f.toml:10:10: process name \"bad name\"",
            "f.toml:11:11: `command` array must hold only strings",
            "f.toml:12:1: [process.w2] needs a `command`",
            "f.toml:13:9: `scale` must be",
        ];
        assert_eq!(got.len(), want.len(), "{got:#?}");
        for (got, want) in got.iter().zip(want) {
            assert!(got.starts_with(want), "got {got:?}, want {want:?}");
        }
    }

    #[test]
    fn syntax_errors_have_positions() {
        let got = errors("[process.web]\ncommand = \"x\"\nscale = \n");
        assert!(got[0].starts_with("f.toml:3:"), "{got:?}");
        let got = errors("[process.a]\ncommand = \"x\"\n[process.a]\ncommand = \"y\"\n");
        assert!(got[0].starts_with("f.toml:3:"), "duplicate: {got:?}");
    }

    #[test]
    fn no_process_is_an_error() {
        assert_eq!(
            errors("grace = 1\n")[0],
            "f.toml:1:1: no process defined: add a [process.NAME] table with a command"
        );
    }

    proptest::proptest! {
        /// Hostile text never panics the parser, and every error points inside the file.
        #[test]
        fn any_text_is_parsed_or_rejected_with_positions(text in "(\\PC|\n|\\[|\\]|=|\"|\\.){0,400}") {
            check_positions(&text);
        }

        /// Near-valid documents: real keys with arbitrary values.
        #[test]
        fn near_valid_documents(
            key in "(command|scale|restart|essential|stop_signal|grace|cwd|user|env|bogus)",
            value in "(\"[^\"\\\\]{0,20}\"|-?[0-9]{1,12}|true|\\[\\]|\\{\\}|[0-9.]{1,5})",
        ) {
            check_positions(&format!("grace = {value}\n[process.a]\n{key} = {value}\n"));
        }
    }

    fn check_positions(text: &str) {
        let lines = text.split('\n').count();
        if let Err(errors) = parse(Path::new("f.toml"), text, &no_users) {
            assert!(!errors.is_empty());
            for e in errors {
                assert!(
                    e.line >= 1 && e.line <= lines && e.col >= 1,
                    "{e} in {text:?}"
                );
            }
        }
    }
}
