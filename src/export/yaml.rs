//! A small YAML writer: block mappings, sequences, string and integer scalars, comments —
//! written as it goes, with no tree in between.
//!
//! Why not a YAML crate: serde emitters (serde_norway, serde_yaml) cannot write comments,
//! and §8 needs them for whatever a target cannot express; and the smallest of them costs
//! more bytes of the static binary than the whole budget has left (the figures are in
//! docs/decisions.md). What a document needs here is small: block maps and
//! sequences, strings and integers. It writes straight into a `String` rather than building
//! a tree first: a first version built a tree of nodes and cost twice the bytes.
//!
//! What it must get right is quoting. A string is written plain only when no YAML 1.1 or 1.2
//! reader can take it for anything but that string (PyYAML, behind docker-compose 1.29, is
//! YAML 1.1, where `on`, `yes`, `y` and `1:30` are not strings); everything else is
//! double-quoted, with every character outside YAML's printable set escaped (PyYAML refuses a
//! stream that holds one raw, even in a comment) and the 1.1 line breaks U+0085, U+2028 and
//! U+2029 escaped too. The property tests at the bottom read the output back with a YAML
//! parser and compare trees.
//!
//! Deterministic by construction: the text is written in the order of the calls.

use std::fmt::Write as _;

/// Writes block-style YAML as it goes: keys, scalars, nested mappings and sequences, comments.
/// The caller opens and closes nesting in order; an empty mapping or sequence is never
/// opened (the targets leave the key out instead).
#[derive(Default)]
pub struct Writer {
    out: String,
    /// The column of the keys and items being written.
    indent: usize,
    /// The next line opens a sequence item: it starts with `- ` two columns to the left.
    dash: bool,
    /// A document has content: the next [`Writer::document`] starts a new one. (Comments
    /// alone do not count, so a file may open with comments above its first document.)
    content: bool,
}

impl Writer {
    /// An empty stream.
    pub fn new() -> Writer {
        Writer::default()
    }

    fn line_start(&mut self) {
        self.content = true;
        if self.dash {
            self.dash = false;
            let at = self.indent - 2;
            let _ = write!(self.out, "{:at$}- ", "");
        } else {
            let at = self.indent;
            let _ = write!(self.out, "{:at$}", "");
        }
    }

    /// Comment lines at the current column (above the dash when an item is being opened).
    pub fn comment(&mut self, text: &str) {
        let at = if self.dash {
            self.indent - 2
        } else {
            self.indent
        };
        comment(&mut self.out, at, text);
    }

    /// `key: "value"`.
    pub fn str(&mut self, key: &str, value: &str) {
        self.line_start();
        let _ = writeln!(self.out, "{}: {}", scalar(key), scalar(value));
    }

    /// `key: 42`.
    pub fn int(&mut self, key: &str, value: i64) {
        self.line_start();
        let _ = writeln!(self.out, "{}: {value}", scalar(key));
    }

    /// `key: true`.
    pub fn bool(&mut self, key: &str, value: bool) {
        self.line_start();
        let _ = writeln!(self.out, "{}: {value}", scalar(key));
    }

    /// `key:` with a mapping or a sequence below it, until [`Writer::close`].
    pub fn open(&mut self, key: &str) {
        self.line_start();
        let _ = writeln!(self.out, "{}:", scalar(key));
        self.indent += 2;
    }

    /// Ends what the last [`Writer::open`] or [`Writer::item_map`] opened.
    pub fn close(&mut self) {
        self.indent -= 2;
    }

    /// `- "value"`: a string item of the open sequence.
    pub fn item(&mut self, value: &str) {
        self.dash = true;
        self.indent += 2;
        self.line_start();
        let _ = writeln!(self.out, "{}", scalar(value));
        self.indent -= 2;
    }

    /// A mapping item of the open sequence, until [`Writer::close`]: its first key goes on
    /// the dash's line.
    pub fn item_map(&mut self) {
        self.dash = true;
        self.indent += 2;
    }

    /// `---` before each document but the first.
    pub fn document(&mut self) {
        if self.content {
            self.out.push_str("---\n");
            self.content = false;
        }
    }

    /// The text.
    pub fn finish(self) -> String {
        self.out
    }
}

fn comment(out: &mut String, indent: usize, text: &str) {
    for line in text.split('\n') {
        let mut clean = String::new();
        for c in line.chars() {
            if printable(c) && c != '\r' && c != '\t' {
                clean.push(c);
            } else {
                escape(&mut clean, c);
            }
        }
        let line = clean.trim_end();
        if line.is_empty() {
            let _ = writeln!(out, "{:indent$}#", "");
        } else {
            let _ = writeln!(out, "{:indent$}# {line}", "");
        }
    }
}

/// A string as a YAML scalar: plain when that is unambiguous, else double-quoted.
fn scalar(text: &str) -> String {
    if plain_is_safe(text) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if printable(c) && !matches!(c, '\n' | '\r' | '\t') => out.push(c),
            c => escape(&mut out, c),
        }
    }
    out.push('"');
    out
}

fn escape(out: &mut String, c: char) {
    let _ = match c {
        '\n' => write!(out, "\\n"),
        '\t' => write!(out, "\\t"),
        '\r' => write!(out, "\\r"),
        '\0' => write!(out, "\\0"),
        c if (c as u32) < 0x100 => write!(out, "\\x{:02X}", c as u32),
        c if (c as u32) < 0x10000 => write!(out, "\\u{:04X}", c as u32),
        c => write!(out, "\\U{:08X}", c as u32),
    };
}

/// YAML's printable set, less the 1.1 line breaks (U+0085, U+2028, U+2029) and the BOM.
fn printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
        && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}')
}

/// Plain only when the text is made of `[A-Za-z0-9_./-]`, starts with a letter, `_` or `/`
/// (or `-` before a letter, as in `-m`), and is none of the words YAML 1.1 reads as booleans
/// or null. A leading digit, `.` or `-digit` could be a number, a date or a sexagesimal.
fn plain_is_safe(text: &str) -> bool {
    const WORDS: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
    let bytes = text.as_bytes();
    let starts_well = match bytes {
        [b'-', second, ..] => second.is_ascii_alphabetic(),
        [first, ..] => first.is_ascii_alphabetic() || matches!(first, b'_' | b'/'),
        [] => false,
    };
    starts_well
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-'))
        && !WORDS.iter().any(|w| w.eq_ignore_ascii_case(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A YAML value, as the property tests generate and read back.
    #[derive(Clone, Debug, PartialEq)]
    enum Node {
        Str(String),
        Int(i64),
        /// Non-empty, keys unique; comments above each key.
        Map(Vec<(String, Node, Vec<String>)>),
        /// Non-empty, of strings and mappings (the writer has no other kind of item).
        Seq(Vec<Node>),
    }

    fn write_value(w: &mut Writer, key: &str, node: &Node) {
        match node {
            Node::Str(v) => w.str(key, v),
            Node::Int(n) => w.int(key, *n),
            Node::Map(entries) => {
                w.open(key);
                write_entries(w, entries);
                w.close();
            }
            Node::Seq(items) => {
                w.open(key);
                for item in items {
                    match item {
                        Node::Str(v) => w.item(v),
                        Node::Int(_) => unreachable!("not generated"),
                        Node::Map(entries) => {
                            w.item_map();
                            write_entries(w, entries);
                            w.close();
                        }
                        Node::Seq(_) => unreachable!("not generated"),
                    }
                }
                w.close();
            }
        }
    }

    fn write_entries(w: &mut Writer, entries: &[(String, Node, Vec<String>)]) {
        for (key, value, comments) in entries {
            for c in comments {
                w.comment(c);
            }
            write_value(w, key, value);
        }
    }

    /// Reads YAML back with a real YAML parser.
    fn read_back(text: &str) -> Vec<Node> {
        let docs = yaml_rust2::YamlLoader::load_from_str(text).expect("valid YAML");
        docs.iter().map(from_yaml).collect()
    }

    fn from_yaml(y: &yaml_rust2::Yaml) -> Node {
        use yaml_rust2::Yaml;
        match y {
            Yaml::String(s) => Node::Str(s.clone()),
            Yaml::Integer(n) => Node::Int(*n),
            Yaml::Array(items) => Node::Seq(items.iter().map(from_yaml).collect()),
            Yaml::Hash(h) => Node::Map(
                h.iter()
                    .map(|(k, v)| {
                        let key = k.as_str().expect("string key").to_string();
                        (key, from_yaml(v), Vec::new())
                    })
                    .collect(),
            ),
            other => panic!("unexpected {other:?}"),
        }
    }

    fn without_comments(node: &Node) -> Node {
        match node {
            Node::Map(entries) => Node::Map(
                entries
                    .iter()
                    .map(|(k, v, _)| (k.clone(), without_comments(v), Vec::new()))
                    .collect(),
            ),
            Node::Seq(items) => Node::Seq(items.iter().map(without_comments).collect()),
            other => other.clone(),
        }
    }

    #[test]
    fn block_layout() {
        let mut w = Writer::new();
        w.comment("head");
        w.document();
        w.open("a");
        w.comment("why");
        w.int("b", 2);
        w.close();
        w.open("list");
        w.item("-m");
        w.item_map();
        w.comment("first");
        w.str("name", "x");
        w.str("value", "1");
        w.close();
        w.close();
        w.str("on", "true");
        w.document();
        w.comment("second");
        w.str("k", "v");
        let want = "\
# head
a:
  # why
  b: 2
list:
  - -m
  # first
  - name: x
    value: \"1\"
\"on\": \"true\"
---
# second
k: v
";
        assert_eq!(w.finish(), want);
    }

    #[test]
    fn quoting() {
        let table = [
            ("web", "web"),
            ("-m", "-m"),
            ("/formation", "/formation"),
            ("app.kubernetes.io/name", "app.kubernetes.io/name"),
            ("web=1,all=0", "\"web=1,all=0\""),
            ("", "\"\""),
            ("yes", "\"yes\""),
            ("Off", "\"Off\""),
            ("12", "\"12\""),
            ("1:30", "\"1:30\""),
            ("-1", "\"-1\""),
            (".inf", "\".inf\""),
            ("a b", "\"a b\""),
            ("say \"hi\"\n", "\"say \\\"hi\\\"\\n\""),
            ("\u{7}\u{85}\u{2028}", "\"\\x07\\x85\\u2028\""),
        ];
        for (text, want) in table {
            assert_eq!(scalar(text), want, "{text:?}");
        }
    }

    #[test]
    fn comments_never_break_the_stream() {
        let mut w = Writer::new();
        w.comment("two\nlines\u{1}");
        w.comment("");
        w.str("k", "v");
        assert_eq!(w.finish(), "# two\n# lines\\x01\n#\nk: v\n");
    }

    fn leaf() -> impl Strategy<Value = Node> {
        prop_oneof![
            any::<String>().prop_map(Node::Str),
            "[a-z0-9 .:#'\"-]{0,8}".prop_map(Node::Str),
            any::<i64>().prop_map(Node::Int),
        ]
    }

    fn map_of(inner: impl Strategy<Value = Node>) -> impl Strategy<Value = Node> {
        let entry = (
            any::<String>(),
            inner,
            prop::collection::vec(any::<String>(), 0..2),
        );
        prop::collection::vec(entry, 1..5).prop_map(|entries| {
            let mut seen = std::collections::HashSet::new();
            Node::Map(
                entries
                    .into_iter()
                    .filter(|(k, _, _)| seen.insert(k.clone()))
                    .collect(),
            )
        })
    }

    fn tree() -> impl Strategy<Value = Node> {
        leaf().prop_recursive(4, 40, 5, |inner| {
            let text = prop_oneof![any::<String>(), "[a-z0-9 .:#'\"-]{0,8}"];
            let item = prop_oneof![text.prop_map(Node::Str), map_of(inner.clone())];
            prop_oneof![
                prop::collection::vec(item, 1..5).prop_map(Node::Seq),
                map_of(inner),
            ]
        })
    }

    proptest! {
        #[test]
        fn every_string_reads_back_as_itself(key in any::<String>(), text in any::<String>()) {
            let mut w = Writer::new();
            w.comment(&text);
            w.str(&key, &text);
            let want = Node::Map(vec![(key, Node::Str(text), Vec::new())]);
            prop_assert_eq!(read_back(&w.finish()), vec![want]);
        }

        #[test]
        fn every_tree_reads_back_as_itself(roots in prop::collection::vec(map_of(tree()), 1..3)) {
            let mut w = Writer::new();
            for root in &roots {
                w.document();
                w.comment("c");
                if let Node::Map(entries) = root {
                    write_entries(&mut w, entries);
                }
            }
            let want: Vec<Node> = roots.iter().map(without_comments).collect();
            prop_assert_eq!(read_back(&w.finish()), want);
        }
    }
}
