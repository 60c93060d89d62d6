//! Table and property tests of the formation.toml schema.

use super::*;
use crate::config::model::Var;
use nix::sys::signal::Signal;
use std::path::PathBuf;
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
        .map(|v| {
            let value = v.as_text().expect("a value, not a file");
            (v.name.as_str(), value, v.place.line, v.place.col)
        })
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
fn signals_rewrite_what_a_type_is_forwarded() {
    let f = ok(
        "[process.web]\ncommand = \"x\"\nsignals = { HUP = \"USR1\", SIGWINCH = \"\", 12 = 0, USR1 = 10 }\n",
    );
    let r = f.types[0].signals;
    assert_eq!(r.apply(Signal::SIGHUP), Some(Signal::SIGUSR1));
    assert_eq!(r.apply(Signal::SIGWINCH), None);
    assert_eq!(r.apply(Signal::SIGUSR2), None, "12 = 0");
    assert_eq!(r.apply(Signal::SIGUSR1), Some(Signal::SIGUSR1));
    assert_eq!(r.apply(Signal::SIGPIPE), Some(Signal::SIGPIPE));
    assert!(
        ok("[process.web]\ncommand = \"x\"\n").types[0]
            .signals
            .is_identity()
    );

    let got = errors(
        "[process.web]\ncommand = \"x\"\nsignals = { TERM = \"QUIT\", NOPE = \"HUP\", \
         HUP = \"BAD\", USR1 = true, CONT = \"\", TSTP = \"\", SIGUSR2 = \"HUP\", 12 = \"\" }\n\
         [process.w]\ncommand = \"y\"\nsignals = \"HUP:USR1\"\n",
    );
    let want = [
        "f.toml:3:13: `signals`: SIGTERM is not rewritten per type: it stops the formation",
        "f.toml:3:28: `signals`: \"NOPE\" is not a signal name or number",
        "f.toml:3:48: `signals.HUP`: \"BAD\" is not a signal name or number",
        "f.toml:3:62: `signals.USR1`: must be a signal name or number",
        "f.toml:3:68: `signals`: SIGCONT is not rewritten per type: it resumes every group",
        "f.toml:3:79: `signals`: SIGTSTP is not rewritten per type: job-control signals",
        "f.toml:3:107: `signals`: SIGUSR2 is named twice",
        "f.toml:6:11: `signals` must be a table",
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
            [names(PROCESS_KEYS), names(lifecycle::KEYS)].concat(),
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
            "signals",
            "cwd",
            "user",
            "env",
            "backoff",
            "tty"
        ]
    );
    assert_eq!(
        names(lifecycle::KEYS),
        [
            "after", "ready", "health", "oneshot", "schedule", "timezone"
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
        key in "(command|scale|restart|essential|stop_signal|grace|signals|cwd|user|env|bogus)",
        value in "(\"[^\"\\\\]{0,20}\"|-?[0-9]{1,12}|true|\\[\\]|\\{\\}|[0-9.]{1,5})",
    ) {
        check_positions(&format!("grace = {value}\n[process.a]\n{key} = {value}\n"));
    }

    /// The graph keys (SPEC §4.2–§4.5) with arbitrary values and sub-keys: parsed, or errors
    /// with places inside the file; an accepted `ready`/`health` has exactly one kind, and an
    /// accepted `after` names only what was written.
    #[test]
    fn graph_keys_with_arbitrary_values(
        key in "(after|ready|health|oneshot|schedule|timezone)",
        sub in "(tcp|http|exec|log|notify|interval|timeout|failures|bogus)",
        sub2 in "(tcp|http|exec|log|notify|interval|timeout|failures)",
        value in "(\"[^\"\\\\]{0,20}\"|-?[0-9]{1,6}|true|false|\\[\\]|\\[\"b\"\\]|[0-9.]{1,5})",
        as_table in proptest::bool::ANY,
    ) {
        let rhs = if as_table { format!("{{ {sub} = {value}, {sub2} = {value} }}") } else { value.clone() };
        let text = format!("[process.a]\ncommand = \"x\"\n{key} = {rhs}\n[process.b]\ncommand = \"y\"\n");
        check_positions(&text);
        let parsed = parse(Path::new("f.toml"), &text, &no_users);
        if let Some(f) = parsed.formation.filter(|_| parsed.errors.is_empty()) {
            let a = &f.types[0];
            for (name, _) in &a.after {
                proptest::prop_assert!(text.contains(name.as_str()));
            }
        }
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

#[test]
fn listen_is_a_top_level_address() {
    let f = ok("listen = 9090\n[process.a]\ncommand = \"x\"\n");
    assert_eq!(
        f.listen.map(|a| a.to_string()).as_deref(),
        Some("0.0.0.0:9090")
    );
    let f = ok("listen = \"127.0.0.1:9091\"\n[process.a]\ncommand = \"x\"\n");
    assert_eq!(
        f.listen.map(|a| a.to_string()).as_deref(),
        Some("127.0.0.1:9091")
    );
    let got = errors("listen = \"localhost:1\"\n[process.a]\ncommand = \"x\"\n");
    assert!(got[0].starts_with("f.toml:1:10: `listen`: "), "{got:?}");
}

#[test]
fn tty_is_a_boolean_off_by_default() {
    let parsed = parse(
        Path::new("f.toml"),
        "[process.a]\ncommand = \"x\"\ntty = true\n[process.b]\ncommand = \"y\"\n",
        &no_users,
    );
    let f = parsed.formation.expect("valid");
    assert_eq!((f.types[0].tty, f.types[1].tty), (true, false));
    assert_eq!(
        errors("[process.a]\ncommand = \"x\"\ntty = \"yes\"\n"),
        ["f.toml:3:7: `tty` must be true or false"]
    );
}

mod lifecycle_keys;
