//! Env files (`.env`, `-e FILE`, `env_file`) → variables, with errors by line and column.
//!
//! Format (foreman's and docker compose's common ground): `KEY=VALUE` per line, an optional
//! `export ` before the key, `#` comments and blank lines skipped. A value in single quotes is
//! literal; in double quotes `\n`, `\t`, `\"` and `\\` are escapes; an unquoted value is
//! trimmed and ends at ` #`. No `${VAR}` expansion (foreman does none either).
//!
//! Why not dotenvy: its errors carry the offending line's text and an offset but not the line
//! number, and SPEC §3.2 wants every error with file, line and column, all at once.

use crate::config::model::{ConfigError, Diagnostics};
use std::path::Path;

/// Parses an env file's text; `path` names it in errors.
pub fn parse(path: &Path, text: &str) -> Result<Vec<(String, String)>, Vec<ConfigError>> {
    let mut diag = Diagnostics::new(path.to_path_buf(), text);
    let mut vars = Vec::new();
    for (at, content) in crate::config::model::content_lines(text) {
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
        let value_at = key_at + body.len() - value.len();
        match unquote(value.trim_start()) {
            Ok(v) if v.contains('\0') => diag.at(value_at, "a value may not contain NUL"),
            Ok(v) => vars.push((key.to_string(), v)),
            Err(message) => diag.at(value_at, message),
        }
    }
    diag.finish().map(|()| vars)
}

fn unquote(value: &str) -> Result<String, &'static str> {
    if let Some(rest) = value.strip_prefix('\'') {
        let end = rest.find('\'').ok_or("unterminated single quote")?;
        return trailing(&rest[end + 1..]).map(|()| rest[..end].to_string());
    }
    if let Some(rest) = value.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return trailing(&rest[i + 1..]).map(|()| out),
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
                c => out.push(c),
            }
        }
        return Err("unterminated double quote");
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
        let want = [
            ("A", "1"),
            ("B", "two words"),
            ("C", "lit $X \\n"),
            ("D", "a\nb \"q\""),
            ("E", "x"),
            ("F", ""),
            ("G", "a=b"),
        ];
        let got: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, want);
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
                Ok(vars) => assert!(vars.iter().all(|(k, v)| !k.is_empty() && !v.contains('\0'))),
                Err(errors) => {
                    for e in errors {
                        assert!(e.line >= 1 && e.line <= lines && e.col >= 1, "{e}");
                    }
                }
            }
        }
    }
}
