//! The few pieces of TOML that fly.toml needs: keys, basic strings and arrays of strings.
//!
//! Why not the `toml` crate's writer: its `display` feature adds a serializer to the static
//! binary for four lines of logic, and it cannot write comments, which fly.toml needs (the
//! instance counts live nowhere else). The `toml` parser, already a dependency, reads the
//! output back in the property tests below.
//!
//! TOML facts: a bare key is `[A-Za-z0-9_-]+`; a basic string escapes `"`, `\` and every
//! control character (U+0000–U+001F and U+007F), here as `\uXXXX` except the short forms.

use std::fmt::Write as _;

/// A key: bare when TOML allows it, else a quoted key.
pub fn key(text: &str) -> String {
    let bare = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare { text.to_string() } else { string(text) }
}

/// A basic string.
pub fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c < ' ' || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An inline array of strings.
pub fn strings(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|i| string(i)).collect();
    format!("[{}]", items.join(", "))
}

/// Comment lines: one `# ` line per line of `text`, with control characters escaped (TOML
/// allows none in a comment but tab).
pub fn comment(out: &mut String, text: &str) {
    for line in text.split('\n') {
        let escaped = string(line);
        let inner = &escaped[1..escaped.len() - 1];
        let inner = inner.replace("\\\"", "\"").replace("\\\\", "\\");
        if inner.is_empty() {
            out.push_str("#\n");
        } else {
            let _ = writeln!(out, "# {inner}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(text: &str) -> toml::Table {
        text.parse::<toml::Table>().expect("valid TOML")
    }

    #[test]
    fn table() {
        assert_eq!(key("web"), "web");
        assert_eq!(key("a.b"), "\"a.b\"");
        assert_eq!(key(""), "\"\"");
        assert_eq!(string("a\"b\\\u{1}"), "\"a\\\"b\\\\\\u0001\"");
        assert_eq!(strings(&["web".into()]), "[\"web\"]");
    }

    proptest! {
        #[test]
        fn keys_strings_and_comments_read_back(k in any::<String>(), v in any::<String>(), c in any::<String>()) {
            let mut text = String::new();
            comment(&mut text, &c);
            text.push_str(&format!("{} = {}\nlist = {}\n", key(&k), string(&v), strings(&[v.clone(), k.clone()])));
            let t = parse(&text);
            prop_assert_eq!(t.get(&k).and_then(|x| x.as_str()), Some(v.as_str()));
            if k != "list" {
                let list = t.get("list").and_then(|x| x.as_array()).expect("list");
                prop_assert_eq!(list.len(), 2);
            }
        }
    }
}
