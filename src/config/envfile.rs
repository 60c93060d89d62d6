//! Env files (`.env`, `-e FILE`, `env_file`) → variables, with errors by line and column.
//!
//! Format (foreman's and docker compose's common ground): `KEY=VALUE` per line, an optional
//! `export ` before the key, `#` comments and blank lines skipped. A value in single quotes is
//! literal; in double quotes `\n`, `\t`, `\"` and `\\` are escapes, and the value may run over
//! several lines until its closing quote (the dotenv convention, for PEM keys and the like);
//! an unquoted value is trimmed and ends at ` #`. No `${VAR}` expansion (foreman does none
//! either).
//!
//! Why not dotenvy: its errors carry the offending line's text and an offset but not the line
//! number, and SPEC §3.2 wants every error with file, line and column, all at once. Errors
//! are placed by byte offset in the whole text, so a multi-line value never shifts the line
//! numbers of what follows.

use crate::config::model::{ConfigError, Diagnostics, Var};
use std::path::Path;

/// Parses an env file's text; `path` names it in errors. Each variable keeps its place
/// (a bad `PORT` is reported where it was set).
pub fn parse(path: &Path, text: &str) -> Result<Vec<Var>, Vec<ConfigError>> {
    let mut diag = Diagnostics::new(path.to_path_buf(), text);
    let mut vars = Vec::new();
    let mut pos = 0;
    while pos < text.len() {
        let line_end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
        // Where the next entry starts; a multi-line value moves it on.
        let mut next = (line_end + 1).min(text.len());
        let line = text[pos..line_end].trim_end_matches('\r');
        let content = line.trim_start();
        let at = pos + (line.len() - content.len());
        pos = next;
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let body = content
            .strip_prefix("export ")
            .map_or(content, str::trim_start);
        let key_at = at + (content.len() - body.len());
        let Some((key, value)) = body.split_once('=') else {
            diag.at(key_at, "expected `KEY=VALUE`");
            continue;
        };
        let key = key.trim_end();
        let valid_key = !key.is_empty()
            && !key.starts_with(|c: char| c.is_ascii_digit())
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
        if !valid_key {
            diag.at(key_at, format!("{key:?} is not a valid variable name"));
            continue;
        }
        let value = value.trim_start();
        let value_at = key_at + body.len() - value.len();
        let parsed = if value.starts_with('"') {
            let (parsed, end) = double_quoted(text, value_at);
            next = end.unwrap_or(next);
            parsed
        } else {
            unquote(value)
        };
        pos = next;
        match parsed {
            Ok(v) if v.contains('\0') => diag.at(value_at, "a value may not contain NUL"),
            Ok(v) => vars.push(Var::text(key, v, diag.place(key_at))),
            Err(message) => diag.at(value_at, message),
        }
    }
    diag.finish().map(|()| vars)
}

/// The double-quoted value whose opening quote is at byte `open` of `text`, which may span
/// lines; and where the next entry starts: after the line of the closing quote, or None when
/// there is none (then the next line is read as an entry of its own).
fn double_quoted(text: &str, open: usize) -> (Result<String, &'static str>, Option<usize>) {
    let rest = &text[open + 1..];
    let mut out = String::new();
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                let close = open + 1 + i;
                let line_end = text[close..].find('\n').map_or(text.len(), |j| close + j);
                let next = Some((line_end + 1).min(text.len()));
                let after = trailing(text[close + 1..line_end].trim_end_matches('\r'));
                return (after.map(|()| out), next);
            }
            '\\' => match chars.next().map(|(_, c)| c) {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some(c) => {
                    if !matches!(c, '"' | '\\' | '$') {
                        out.push('\\');
                    }
                    out.push(c);
                }
                None => break,
            },
            // A file saved with CRLF line ends still gives `\n` inside a value.
            '\r' if chars.peek().is_some_and(|(_, c)| *c == '\n') => {}
            c => out.push(c),
        }
    }
    (Err("unterminated double quote"), None)
}

/// A value that is single-quoted (literal) or unquoted, on one line.
fn unquote(value: &str) -> Result<String, &'static str> {
    if let Some(rest) = value.strip_prefix('\'') {
        let end = rest.find('\'').ok_or("unterminated single quote")?;
        return trailing(&rest[end + 1..]).map(|()| rest[..end].to_string());
    }
    let value = match value.find(" #") {
        Some(comment) => &value[..comment],
        None => value,
    };
    Ok(value.trim_end().to_string())
}

/// After a closing quote only spaces and a comment may follow.
fn trailing(rest: &str) -> Result<(), &'static str> {
    let rest = rest.trim_start();
    if rest.is_empty() || rest.starts_with('#') {
        Ok(())
    } else {
        Err("unexpected text after the closing quote")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        let text = "# c\nA=1\nexport B = two words \nC='lit $X \\n'\nD=\"a\\nb \\\"q\\\"\" # c\n\
                    E=x # comment\nF=\nG=a=b\n";
        let vars = parse(Path::new(".env"), text).expect("valid");
        let got: Vec<(&str, &str)> = vars
            .iter()
            .map(|v| (v.name.as_str(), v.as_text().unwrap_or_default()))
            .collect();
        let want = [
            ("A", "1"),
            ("B", "two words"),
            ("C", "lit $X \\n"),
            ("D", "a\nb \"q\""),
            ("E", "x"),
            ("F", ""),
            ("G", "a=b"),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn multi_line_double_quotes_keep_line_numbers() {
        let text = "A=\"line 1\nline 2\r\n  line 3\" # c\nB=after\nKEY=\"-----BEGIN\nx\n-----END\"\nC='one\nbad line\n";
        let errors: Vec<String> = parse(Path::new(".env"), text)
            .expect_err("invalid")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            errors,
            [
                ".env:8:3: unterminated single quote",
                ".env:9:1: expected `KEY=VALUE`",
            ]
        );
        let vars = parse(Path::new(".env"), &text[..text.find("C=").expect("C")]).expect("valid");
        let got: Vec<(&str, &str, usize)> = vars
            .iter()
            .map(|v| {
                (
                    v.name.as_str(),
                    v.as_text().unwrap_or_default(),
                    v.place.line,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("A", "line 1\nline 2\n  line 3", 1),
                ("B", "after", 4),
                ("KEY", "-----BEGIN\nx\n-----END", 5),
            ]
        );
        let errors: Vec<String> = parse(Path::new(".env"), "A=\"x\ny\" z\nB=1\n\"\n")
            .expect_err("invalid")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            errors,
            [
                ".env:1:3: unexpected text after the closing quote",
                ".env:4:1: expected `KEY=VALUE`",
            ]
        );
    }

    #[test]
    fn errors_with_positions() {
        let text = "OK=1\nnot a pair\n1X=2\nQ=\"open\nR='a' b\n";
        let errors: Vec<String> = parse(Path::new(".env"), text)
            .expect_err("invalid")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            errors,
            [
                ".env:2:1: expected `KEY=VALUE`",
                ".env:3:1: \"1X\" is not a valid variable name",
                ".env:4:3: unterminated double quote",
                ".env:5:3: unexpected text after the closing quote",
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn any_env_file_is_parsed_or_rejected_with_positions(text in "(\\PC|\n|=|'|\"|\\\\|#){0,300}") {
            let lines = text.split('\n').count();
            match parse(Path::new(".env"), &text) {
                Ok(vars) => assert!(vars.iter().all(|v| {
                    !v.name.is_empty() && !v.as_text().unwrap_or_default().contains('\0') && v.place.line <= lines
                })),
                Err(errors) => {
                    for e in errors {
                        assert!(e.line >= 1 && e.line <= lines && e.col >= 1, "{e}");
                    }
                }
            }
        }
    }
}
