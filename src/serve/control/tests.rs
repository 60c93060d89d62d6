use super::*;
use crate::engine::control::Order;
use nix::sys::signal::Signal;
use proptest::prelude::*;

fn ok(words: &str) -> Request {
    let words: Vec<&str> = words.split(' ').collect();
    parse(&words).unwrap_or_else(|e| panic!("{words:?}: {e}"))
}

fn err(words: &str) -> String {
    let words: Vec<&str> = words.split(' ').collect();
    parse(&words).expect_err(&format!("{words:?} parsed"))
}

fn req(command: Command, wait: bool, timeout: Option<u64>) -> Request {
    Request {
        command,
        wait,
        timeout: timeout.map(Duration::from_secs),
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn requests() {
    let table = [
        ("status", req(Command::Status { json: false }, false, None)),
        (
            "status --json",
            req(Command::Status { json: true }, false, None),
        ),
        (
            "restart web --wait",
            req(Command::Order(Order::Restart(names(&["web"]))), true, None),
        ),
        (
            "restart --wait --timeout 30s web web.2",
            req(
                Command::Order(Order::Restart(names(&["web", "web.2"]))),
                true,
                Some(30),
            ),
        ),
        (
            "stop worker --wait --timeout=1m",
            req(
                Command::Order(Order::Stop(names(&["worker"]))),
                true,
                Some(60),
            ),
        ),
        (
            "start db",
            req(Command::Order(Order::Start(names(&["db"]))), false, None),
        ),
        (
            "scale worker=3,web=0 clock=1",
            req(
                Command::Order(Order::Scale(vec![
                    ("worker".into(), 3),
                    ("web".into(), 0),
                    ("clock".into(), 1),
                ])),
                false,
                None,
            ),
        ),
        (
            "signal HUP web",
            req(
                Command::Order(Order::Signal(Signal::SIGHUP, names(&["web"]))),
                false,
                None,
            ),
        ),
        (
            "signal -9 web.1",
            req(
                Command::Order(Order::Signal(Signal::SIGKILL, names(&["web.1"]))),
                false,
                None,
            ),
        ),
        (
            "signal sigstop -- -odd",
            req(
                Command::Order(Order::Signal(Signal::SIGSTOP, names(&["-odd"]))),
                false,
                None,
            ),
        ),
        (
            "reload --dry-run",
            req(Command::Order(Order::Reload { dry_run: true }), false, None),
        ),
        (
            "reload --wait --timeout 2m",
            req(
                Command::Order(Order::Reload { dry_run: false }),
                true,
                Some(120),
            ),
        ),
    ];
    for (words, want) in table {
        assert_eq!(ok(words), want, "{words}");
    }
}

#[test]
fn usage_errors_name_what_is_wrong() {
    let table = [
        ("frobnicate web", "unknown command \"frobnicate\""),
        ("", "unknown command \"\""),
        ("restart", "restart needs a target"),
        ("restart web --bogus", "unknown option --bogus for restart"),
        ("status web", "status takes no argument (not \"web\")"),
        ("status --wait", "status takes no --wait"),
        ("signal HUP web --wait", "signal takes no --wait"),
        ("restart web --json", "restart takes no --json"),
        ("restart web --dry-run", "restart takes no --dry-run"),
        ("restart web --timeout 5s", "--timeout is for --wait"),
        ("restart web --wait --timeout", "--timeout needs a duration"),
        ("restart web --wait --timeout soon", "--timeout: "),
        ("restart web --wait=yes", "--wait takes no value"),
        ("scale", "scale needs TYPE=N"),
        ("scale worker", "is not of the form TYPE=N"),
        ("scale worker=99999", "from 0 to 10000"),
        ("signal", "signal needs a signal and a target"),
        ("signal HUP", "signal needs a target"),
        ("signal NOPE web", "\"NOPE\" is not a signal name"),
        ("reload now", "reload takes no argument"),
    ];
    for (words, want) in table {
        let got = err(words);
        assert!(got.contains(want), "{words}: {got}");
        assert!(!got.contains('\n'), "one line: {got:?}");
    }
}

#[test]
fn request_lines() {
    assert_eq!(
        words(b"restart\tweb\t--wait\n"),
        Ok(vec!["restart", "web", "--wait"])
    );
    assert_eq!(words(b"status\r\n"), Ok(vec!["status"]));
    assert!(words(b"status").is_err(), "no newline: not a whole line");
    assert!(words(b"\n").is_err());
    assert!(words(b"st\xffatus\n").is_err());
    assert_eq!(
        parse(&words(b"scale\tweb=2\n").expect("words")).map(|r| r.command),
        Ok(Command::Order(Order::Scale(vec![("web".into(), 2)])))
    );
}

#[test]
fn last_lines_both_ways() {
    let table = [
        (End::Ok, "ok\n", 0),
        (
            End::Failed("formation is stopping".into()),
            "error: formation is stopping\n",
            1,
        ),
        (
            End::Usage("unknown type \"wbe\"".into()),
            "error: usage: unknown type \"wbe\"\n",
            2,
        ),
        (End::Failed("a\nb".into()), "error: a b\n", 1),
    ];
    for (end, line, status) in table {
        assert_eq!(end.line(), line);
        assert_eq!(end.status(), status);
        let parsed = End::parse(line.trim_end()).expect("a last line");
        assert_eq!(parsed.line(), line);
    }
    assert_eq!(End::parse("web.1 restarted"), None);
    assert_eq!(End::parse("okay"), None);
}

fn target() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_-]{0,8}(\\.[1-9][0-9]{0,2})?"
}

fn command() -> impl Strategy<Value = Command> {
    let targets = || prop::collection::vec(target(), 1..4);
    prop_oneof![
        any::<bool>().prop_map(|json| Command::Status { json }),
        targets().prop_map(|x| Command::Order(Order::Restart(x))),
        targets().prop_map(|x| Command::Order(Order::Stop(x))),
        targets().prop_map(|x| Command::Order(Order::Start(x))),
        prop::collection::vec(("[a-z][a-z0-9_-]{0,8}", 0u32..=10_000), 1..4)
            .prop_map(|x| Command::Order(Order::Scale(x))),
        (
            prop::sample::select(vec![Signal::SIGHUP, Signal::SIGUSR1, Signal::SIGKILL]),
            targets()
        )
            .prop_map(|(s, t)| Command::Order(Order::Signal(s, t))),
        any::<bool>().prop_map(|dry_run| Command::Order(Order::Reload { dry_run })),
    ]
}

/// The words the client sends for a request: what a user would type.
fn render(r: &Request) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let with_targets = |name: &str, targets: &[String], out: &mut Vec<String>| {
        out.push(name.into());
        out.extend(targets.iter().cloned());
    };
    match &r.command {
        Command::Status { json } => {
            out.push("status".into());
            if *json {
                out.push("--json".into());
            }
        }
        Command::Order(Order::Restart(t)) => with_targets("restart", t, &mut out),
        Command::Order(Order::Stop(t)) => with_targets("stop", t, &mut out),
        Command::Order(Order::Start(t)) => with_targets("start", t, &mut out),
        Command::Order(Order::Scale(s)) => {
            out.push("scale".into());
            out.extend(s.iter().map(|(t, n)| format!("{t}={n}")));
        }
        Command::Order(Order::Signal(sig, t)) => {
            out.push("signal".into());
            out.push(sig.as_str().into());
            out.extend(t.iter().cloned());
        }
        Command::Order(Order::Reload { dry_run }) => {
            out.push("reload".into());
            if *dry_run {
                out.push("--dry-run".into());
            }
        }
    }
    if r.wait {
        out.push("--wait".into());
    }
    if let Some(t) = r.timeout {
        out.push("--timeout".into());
        out.push(format!("{}ms", t.as_millis()));
    }
    out
}

proptest! {
    #[test]
    fn what_the_client_sends_the_server_reads(
        command in command(),
        wait in any::<bool>(),
        timeout in proptest::option::of(1u64..100_000),
    ) {
        let waits = !matches!(command, Command::Status { .. } | Command::Order(Order::Signal(..)));
        let wait = wait && waits;
        let request = Request {
            command,
            wait,
            timeout: timeout.filter(|_| wait).map(Duration::from_millis),
        };
        let line = format!("{}\n", render(&request).join("\t"));
        prop_assert!(line.len() <= 4096);
        let words = words(line.as_bytes()).expect("one line");
        prop_assert_eq!(parse(&words), Ok(request));
    }

    #[test]
    fn any_line_parses_or_is_refused_in_one_line(line in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut line = line;
        line.push(b'\n');
        if let Ok(words) = words(&line)
            && let Err(e) = parse(&words)
        {
            prop_assert!(!e.contains('\n'));
        }
    }

    #[test]
    fn any_words_parse_or_are_refused(words in proptest::collection::vec("[-a-z0-9=.,]{0,6}|--wait|--timeout|--dry-run|--json", 0..6)) {
        let _ = parse(&words);
    }
}
