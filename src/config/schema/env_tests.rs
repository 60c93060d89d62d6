//! Table tests of `[env]` and a process's `env`: values, and values from files (SPEC §3.4).

use super::*;
use crate::config::model::VarValue;

fn parse_text(text: &str) -> Parsed {
    parse(Path::new("app/f.toml"), text, &|spec| {
        Err(format!("no user {spec}"))
    })
}

#[test]
fn a_value_from_a_file_keeps_its_path_as_written() {
    let parsed = parse_text(
        "[env]\nDB = { file = \"/run/secrets/db\" }\nTOKEN = {file=\"token\"}\nA = \"x\"\n\
         [process.web]\ncommand = \"x\"\nenv = { KEY = { file = \"/run/secrets/key\" } }\n",
    );
    assert_eq!(parsed.errors, []);
    let f = parsed.formation.expect("a formation");
    let got: Vec<(&str, &VarValue, usize, usize)> = f
        .env
        .iter()
        .chain(&f.types[0].env)
        .map(|v| (v.name.as_str(), &v.value, v.place.line, v.place.col))
        .collect();
    let file = |p: &str| VarValue::File(p.into());
    assert_eq!(
        got,
        [
            ("DB", &file("/run/secrets/db"), 2, 1),
            ("TOKEN", &file("token"), 3, 1),
            ("A", &VarValue::Text("x".into()), 4, 1),
            ("KEY", &file("/run/secrets/key"), 7, 9),
        ]
    );
}

#[test]
fn a_bad_file_value_is_an_error_at_its_place() {
    let text = "[env]\nA = { file = \"\" }\nB = { path = \"/x\" }\nC = {}\nD = { file = 3 }\n\
                PORT = { file = \"/run/secrets/port\" }\nE = [\"x\"]\n\
                [process.web]\ncommand = \"x\"\nenv = { F = { file = \"/f\", mode = 1 } }\n";
    let got: Vec<String> = parse_text(text)
        .errors
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        got,
        [
            "app/f.toml:2:14: `env.A.file` must be a non-empty path",
            "app/f.toml:3:7: unknown key `path` in `env.B` (expected: file)",
            "app/f.toml:4:5: `env.C` needs a `file`: { file = \"PATH\" }",
            "app/f.toml:5:14: `env.D.file` must be a non-empty path",
            "app/f.toml:6:8: `PORT` cannot come from a file: each instance's port is computed from it at start",
            "app/f.toml:7:5: `env.E` must be a string, number, boolean or { file = \"PATH\" }",
            "app/f.toml:10:28: unknown key `mode` in `env.F` (expected: file)",
        ]
    );
}
