//! Tests of the config model.

use super::*;

#[test]
fn shell_or_not() {
    let argv = |w: &[&str]| CommandLine::Argv(w.iter().map(|s| s.to_string()).collect());
    let table = [
        (
            "./server --port 8080",
            argv(&["./server", "--port", "8080"]),
        ),
        ("  sleep   10 ", argv(&["sleep", "10"])),
        ("env A=1 x", argv(&["env", "A=1", "x"])),
        ("executor run", argv(&["executor", "run"])),
        ("sleep exec", argv(&["sleep", "exec"])),
        ("./exit", argv(&["./exit"])),
    ];
    for (text, want) in table {
        assert_eq!(CommandLine::from_text(text), want, "{text}");
    }
    for text in [
        "echo $PORT",
        "a=b",
        "a | b",
        "a && b",
        "echo 'x'",
        "echo \"x\"",
        "ls *",
        "cd ~",
        "a\nb",
        "X=1 server",
        "echo {a,b}",
        "a # c",
        "echo `x`",
        "a > f",
        "a\\ b",
        "exec sleep 1",
        "  exec sleep 1",
        "exit 3",
        "cd /srv",
        "export A=1",
        "set -e",
        ". ./env.sh",
        "source env.sh",
        "eval x",
        "ulimit -n 1024",
        "umask 077",
        "trap x TERM",
        "if true",
        "for x in a b",
        "while true",
        "until false",
        "case x in",
        "! false",
    ] {
        assert_eq!(
            CommandLine::from_text(text),
            CommandLine::Shell(text.into()),
            "{text:?}"
        );
    }
}

#[test]
fn positions_are_line_and_column() {
    let text = "ab\ncdé\nf";
    let mut d = Diagnostics::new("x".into(), text);
    d.at(0, "a");
    d.at(text.find('f').expect("f"), "f");
    d.at(text.find('é').expect("é") + 2, "after é");
    let errors = d.finish().expect_err("errors");
    let places: Vec<(usize, usize)> = errors.iter().map(|e| (e.line, e.col)).collect();
    assert_eq!(places, [(1, 1), (2, 4), (3, 1)]);
    assert_eq!(errors[0].to_string(), "x:1:1: a");
}

proptest::proptest! {
    /// The indexed lookup gives what counting the text before the offset gives.
    #[test]
    fn places_match_a_scan_of_the_text(text in "(\\PC|\n){0,80}", at in 0usize..100) {
        let offset = (0..=at.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        let place = Diagnostics::new("x".into(), &text).place(offset);
        proptest::prop_assert_eq!((place.line, place.col), (line, col));
    }
}
