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

use crate::config::model::{
    Backoff, CommandLine, Diagnostics, Formation, MAX_SCALE, Parsed, Place, ProcessType, Restart,
    Var, valid_name,
};
use crate::config::units;
use crate::config::users::Credentials;
use crate::config::validate;
use std::path::{Path, PathBuf};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

type Value<'i> = Spanned<DeValue<'i>>;

/// Looks up a `user` setting: credentials, or why not.
pub type UserLookup<'a> = &'a dyn Fn(&str) -> Result<Credentials, String>;

/// What a key's handler may use besides its value.
struct Cx<'a, 't> {
    diag: &'a mut Diagnostics<'t>,
    /// The config file's directory: relative paths are resolved against it.
    dir: &'a Path,
    user: UserLookup<'a>,
}

/// One key of a table: its name, and what its value does to the thing being built. The
/// tables below are the whole schema: the walk dispatches on them and the "unknown key"
/// message lists them, so a new key is one row.
struct Key<T> {
    name: &'static str,
    set: fn(&mut Cx<'_, '_>, &mut T, &Value<'_>),
}

const TOP_KEYS: &[Key<Formation>] = &[
    Key {
        name: "grace",
        set: |cx, f, v| f.grace = duration(cx.diag, "grace", v),
    },
    Key {
        name: "env_file",
        set: |cx, f, v| f.env_files = Some(env_files(cx, v)),
    },
    Key {
        name: "env",
        set: |cx, f, v| f.env = env_table(cx.diag, "env", v),
    },
    Key {
        name: "process",
        set: |cx, f, v| {
            if let Some(table) = table(cx.diag, "process", v) {
                for (name, value) in table {
                    f.types.extend(process(cx, name, value));
                }
            }
        },
    },
];

const PROCESS_KEYS: &[Key<ProcessType>] = &[
    Key {
        name: "command",
        set: |cx, t, v| {
            if let Some(c) = command_line(cx.diag, v) {
                t.command = c;
            }
        },
    },
    Key {
        name: "scale",
        set: |cx, t, v| match whole_number(v) {
            Some(n) if n <= MAX_SCALE => t.scale = n,
            _ => cx.diag.at(
                v.span().start,
                format!("`scale` must be a whole number from 0 to {MAX_SCALE}"),
            ),
        },
    },
    Key {
        name: "restart",
        set: |cx, t, v| match v.get_ref().as_str() {
            Some("never") => t.restart = Restart::Never,
            Some("on-failure") => t.restart = Restart::OnFailure,
            Some("always") => t.restart = Restart::Always,
            _ => cx.diag.at(
                v.span().start,
                "`restart` must be \"never\", \"on-failure\" or \"always\"",
            ),
        },
    },
    Key {
        name: "essential",
        set: |cx, t, v| match v.get_ref().as_bool() {
            Some(b) => t.essential = b,
            None => cx
                .diag
                .at(v.span().start, "`essential` must be true or false"),
        },
    },
    Key {
        name: "stop_signal",
        set: |cx, t, v| match scalar_text(v).map(|s| units::signal(&s)) {
            Some(Ok(sig)) => t.stop_signal = sig,
            Some(Err(e)) => cx.diag.at(v.span().start, format!("`stop_signal`: {e}")),
            None => cx.diag.at(
                v.span().start,
                "`stop_signal` must be a signal name or number",
            ),
        },
    },
    Key {
        name: "grace",
        set: |cx, t, v| t.grace = duration(cx.diag, "grace", v),
    },
    Key {
        name: "cwd",
        set: |cx, t, v| match v.get_ref().as_str() {
            Some(cwd) if !cwd.is_empty() => t.cwd = Some(cx.dir.join(cwd)),
            _ => cx.diag.at(v.span().start, "`cwd` must be a non-empty path"),
        },
    },
    Key {
        name: "user",
        set: |cx, t, v| match scalar_text(v) {
            Some(spec) => match (cx.user)(&spec) {
                Ok(creds) => t.user = Some(creds),
                Err(e) => cx.diag.at(v.span().start, format!("`user`: {e}")),
            },
            None => cx.diag.at(
                v.span().start,
                "`user` must be a name, a uid or \"uid:gid\"",
            ),
        },
    },
    Key {
        name: "env",
        set: |cx, t, v| t.env = env_table(cx.diag, "env", v),
    },
    Key {
        name: "backoff",
        set: |cx, t, v| t.backoff = backoff(cx, v),
    },
];

const BACKOFF_KEYS: &[Key<Backoff>] = &[
    Key {
        name: "initial",
        set: |cx, b, v| b.initial = duration(cx.diag, "backoff.initial", v).unwrap_or(b.initial),
    },
    Key {
        name: "max",
        set: |cx, b, v| b.max = duration(cx.diag, "backoff.max", v).unwrap_or(b.max),
    },
    Key {
        name: "healthy",
        set: |cx, b, v| b.healthy = duration(cx.diag, "backoff.healthy", v).unwrap_or(b.healthy),
    },
    Key {
        name: "restarts",
        set: |cx, b, v| match whole_number(v) {
            Some(n) => b.restarts = n,
            None => cx.diag.at(
                v.span().start,
                "`backoff.restarts` must be a whole number (0 or more)",
            ),
        },
    },
];

/// Applies every key of `table` to `target` through `keys`; a key not in `keys` is an error
/// that lists them.
fn walk<T>(cx: &mut Cx<'_, '_>, table: &DeTable<'_>, keys: &[Key<T>], target: &mut T) {
    for (key, value) in table {
        let name = key.get_ref().as_ref();
        match keys.iter().find(|k| k.name == name) {
            Some(k) => (k.set)(cx, target, value),
            None => {
                let known: Vec<&str> = keys.iter().map(|k| k.name).collect();
                cx.diag.at(
                    key.span().start,
                    format!(
                        "unknown key `{name}` (expected one of: {})",
                        known.join(", ")
                    ),
                );
            }
        }
    }
}

/// Parses and checks a formation.toml. `path` names the file in errors and anchors relative
/// paths; `user` resolves a `user` setting to credentials or says why it cannot.
pub fn parse(path: &Path, text: &str, user: UserLookup<'_>) -> Parsed {
    let mut diag = Diagnostics::new(path.to_path_buf(), text);
    let (doc, syntax) = DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        for err in syntax {
            let span = err.span();
            let message = err.message().trim();
            // The toml crate says only "duplicate key"; its span covers the key.
            let message = match span.as_ref().and_then(|s| text.get(s.clone())) {
                Some(key) if message == "duplicate key" && !key.is_empty() => {
                    format!("duplicate key `{}`", key.trim())
                }
                _ => message.to_string(),
            };
            diag.at(span.map_or(0, |s| s.start), message);
        }
        return Parsed {
            formation: None,
            errors: diag.finish().err().unwrap_or_default(),
        };
    }
    let mut formation = Formation {
        path: path.to_path_buf(),
        grace: None,
        env_files: None,
        env: Vec::new(),
        types: Vec::new(),
    };
    let dir = crate::config::model::dir_of(path);
    let mut cx = Cx {
        diag: &mut diag,
        dir,
        user,
    };
    walk(&mut cx, doc.get_ref(), TOP_KEYS, &mut formation);
    if !doc.get_ref().contains_key("process") {
        diag.at(
            0,
            "no process defined: add a [process.NAME] table with a command",
        );
    }
    diag.errors.extend(validate::validate(&formation));
    Parsed {
        formation: Some(formation),
        errors: diag.finish().err().unwrap_or_default(),
    }
}

fn process(
    cx: &mut Cx<'_, '_>,
    name: &Spanned<std::borrow::Cow<str>>,
    value: &Value,
) -> Option<ProcessType> {
    let type_name = name.get_ref().to_string();
    if !valid_name(&type_name) {
        cx.diag.at(
            name.span().start,
            format!("process name {type_name:?} may only hold letters, digits, `_` and `-`"),
        );
    }
    let what = format!("process.{type_name}");
    let table = table(cx.diag, &what, value)?;
    let place = cx.diag.place(name.span().start);
    let mut t = ProcessType::new(type_name, place, CommandLine::Argv(Vec::new()));
    walk(cx, table, PROCESS_KEYS, &mut t);
    if !table.contains_key("command") {
        cx.diag
            .at(value.span().start, format!("[{what}] needs a `command`"));
    }
    Some(t)
}

/// A TOML integer that fits a u32.
fn whole_number(value: &Value) -> Option<u32> {
    value
        .get_ref()
        .as_integer()
        .and_then(|i| u32::from_str_radix(i.as_str(), i.radix()).ok())
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
fn backoff(cx: &mut Cx<'_, '_>, value: &Value) -> Backoff {
    let mut b = Backoff::default();
    let Some(table) = table(cx.diag, "backoff", value) else {
        return b;
    };
    walk(cx, table, BACKOFF_KEYS, &mut b);
    if b.max < b.initial {
        cx.diag.at(
            value.span().start,
            "`backoff.max` must not be shorter than `backoff.initial`",
        );
    }
    b
}

fn env_table(diag: &mut Diagnostics, what: &str, value: &Value) -> Vec<Var> {
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
            Some(v) if !v.contains('\0') => env.push(Var {
                name,
                value: v,
                place: diag.place(key.span().start),
            }),
            _ => diag.at(
                value.span().start,
                format!("`{what}.{name}` must be a string, number or boolean"),
            ),
        }
    }
    env
}

fn env_files(cx: &mut Cx<'_, '_>, value: &Value) -> Vec<(PathBuf, Place)> {
    let items: Vec<&Value> = match value.get_ref() {
        DeValue::Array(items) => items.iter().collect(),
        _ => vec![value],
    };
    let mut files = Vec::new();
    for item in items {
        match item.get_ref().as_str() {
            Some(p) if !p.is_empty() => {
                files.push((cx.dir.join(p), cx.diag.place(item.span().start)));
            }
            _ => cx.diag.at(
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
        let parsed = parse(Path::new("/app/formation.toml"), text, &no_users);
        assert_eq!(parsed.errors, [], "valid config");
        parsed.formation.expect("a formation")
    }

    fn errors(text: &str) -> Vec<String> {
        let errors: Vec<String> = parse(Path::new("f.toml"), text, &no_users)
            .errors
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(!errors.is_empty(), "invalid config");
        errors
    }

    fn pairs(vars: &[Var]) -> Vec<(&str, &str, usize, usize)> {
        vars.iter()
            .map(|v| (v.name.as_str(), v.value.as_str(), v.place.line, v.place.col))
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
        let files: Vec<(&Path, usize, usize)> = f
            .env_files
            .iter()
            .flatten()
            .map(|(p, at)| (p.as_path(), at.line, at.col))
            .collect();
        assert_eq!(
            files,
            [
                (Path::new("/app/.env"), 3, 13),
                (Path::new("/etc/app.env"), 3, 21)
            ],
            "each entry keeps its place"
        );
        assert_eq!(
            pairs(&f.env),
            [("RUST_LOG", "info", 5, 1), ("N", "3", 6, 1)]
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
        assert_eq!(pairs(&web.env), [("WEB_CONCURRENCY", "4", 15, 9)]);
        assert_eq!((web.place.line, web.place.col), (7, 10));
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
        let parsed = parse(Path::new("f.toml"), "[process.a\n", &no_users);
        assert!(
            parsed.formation.is_none(),
            "a syntax error gives no formation"
        );
    }

    #[test]
    fn duplicate_keys_are_named() {
        let table = [
            (
                "[process.web]\ncommand = \"x\"\ncommand = \"y\"\n",
                "f.toml:3:1: duplicate key `command`",
            ),
            (
                "[process.a]\ncommand = \"x\"\n[process.a]\ncommand = \"y\"\n",
                "f.toml:3:10: duplicate key `a`",
            ),
            (
                "[env]\nA = 1\n\"A\" = 2\n[process.a]\ncommand = \"x\"\n",
                "f.toml:3:1: duplicate key `\"A\"`",
            ),
        ];
        for (text, want) in table {
            let got = errors(text);
            assert_eq!(got[0], want, "{text:?}");
        }
    }

    /// The key tables are the schema: each key is accepted, and the unknown-key message of
    /// each table lists exactly its keys.
    #[test]
    fn one_table_drives_the_keys_and_the_message() {
        fn names<T>(keys: &[Key<T>]) -> Vec<&'static str> {
            keys.iter().map(|k| k.name).collect()
        }
        let table = [
            ("zz = 1\n[process.a]\ncommand = \"x\"\n", names(TOP_KEYS)),
            (
                "[process.a]\ncommand = \"x\"\nzz = 1\n",
                names(PROCESS_KEYS),
            ),
            (
                "[process.a]\ncommand = \"x\"\nbackoff = { zz = 1 }\n",
                names(BACKOFF_KEYS),
            ),
        ];
        for (text, keys) in table {
            let got = errors(text);
            let want = format!("unknown key `zz` (expected one of: {})", keys.join(", "));
            assert_eq!(got.len(), 1, "{got:?}");
            assert!(got[0].ends_with(&want), "{got:?} vs {want}");
        }
        assert_eq!(
            names(PROCESS_KEYS),
            [
                "command",
                "scale",
                "restart",
                "essential",
                "stop_signal",
                "grace",
                "cwd",
                "user",
                "env",
                "backoff"
            ]
        );
    }

    #[test]
    fn the_formation_is_kept_with_its_errors() {
        let parsed = parse(
            Path::new("f.toml"),
            "env_file = \"x.env\"\n[process.web]\ncommand = \"x\"\nscale = -1\n[process.w]\ncommand = \"y\"\n",
            &no_users,
        );
        assert_eq!(parsed.errors.len(), 1);
        let f = parsed.formation.expect("kept for the checks that need it");
        let names: Vec<&str> = f.types.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["web", "w"]);
        assert_eq!(f.types[0].scale, 1, "a bad key keeps its default");
        assert!(f.env_files.is_some());
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
        let parsed = parse(Path::new("f.toml"), text, &no_users);
        {
            let errors = parsed.errors;
            for e in errors {
                assert!(
                    e.line >= 1 && e.line <= lines && e.col >= 1,
                    "{e} in {text:?}"
                );
            }
        }
    }
}
