//! A small JSON reader for `formation status`, which reads the listener's `/status`.
//!
//! Owns: text → [`Value`], for documents of any shape (RFC 8259), with a nesting limit so
//! that no input can exhaust the stack.
//!
//! Why not serde_json: it would be the binary's largest dependency after toml, for reading
//! one document that formation itself writes. Numbers are kept as their (checked) text, so
//! that no float parser is linked in: what `formation status` reads of them are integers.

/// A JSON value. Objects keep their members in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// A number, as its text (formation reads integers only: see [`Value::as_i64`]).
    Number(String),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// An integral number (no fraction, no exponent) that fits an i64.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.parse().ok(),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

/// The deepest nesting of arrays and objects read.
const MAX_DEPTH: usize = 32;

/// Reads one JSON document (surrounding whitespace allowed).
pub fn parse(text: &str) -> Option<Value> {
    let mut reader = Reader {
        bytes: text.as_bytes(),
        at: 0,
    };
    let value = reader.value(0)?;
    reader.space();
    (reader.at == reader.bytes.len()).then_some(value)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.space();
        let found = self.bytes.get(self.at) == Some(&byte);
        self.at += usize::from(found);
        found
    }

    fn word(&mut self, word: &str, value: Value) -> Option<Value> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word.as_bytes()).then(|| {
            self.at = end;
            value
        })
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        self.space();
        match *self.bytes.get(self.at)? {
            b'n' => self.word("null", Value::Null),
            b't' => self.word("true", Value::Bool(true)),
            b'f' => self.word("false", Value::Bool(false)),
            b'"' => self.string().map(Value::String),
            b'[' if depth < MAX_DEPTH => {
                self.at += 1;
                let mut items = Vec::new();
                if !self.eat(b']') {
                    loop {
                        items.push(self.value(depth + 1)?);
                        if self.eat(b']') {
                            break;
                        }
                        self.eat(b',').then_some(())?;
                    }
                }
                Some(Value::Array(items))
            }
            b'{' if depth < MAX_DEPTH => {
                self.at += 1;
                let mut members = Vec::new();
                if !self.eat(b'}') {
                    loop {
                        self.space();
                        let key = self.string()?;
                        self.eat(b':').then_some(())?;
                        members.push((key, self.value(depth + 1)?));
                        if self.eat(b'}') {
                            break;
                        }
                        self.eat(b',').then_some(())?;
                    }
                }
                Some(Value::Object(members))
            }
            b'-' | b'0'..=b'9' => {
                let start = self.at;
                self.at += usize::from(self.bytes[start] == b'-');
                // `0` or a run of digits not starting with 0, then `.digits`, then `e±digits`.
                if self.bytes.get(self.at) == Some(&b'0') {
                    self.at += 1;
                } else {
                    self.digits()?;
                }
                if self.bytes.get(self.at) == Some(&b'.') {
                    self.at += 1;
                    self.digits()?;
                }
                if let Some(b'e' | b'E') = self.bytes.get(self.at) {
                    self.at += 1;
                    if let Some(b'+' | b'-') = self.bytes.get(self.at) {
                        self.at += 1;
                    }
                    self.digits()?;
                }
                let text = std::str::from_utf8(&self.bytes[start..self.at]).ok()?;
                Some(Value::Number(text.into()))
            }
            _ => None,
        }
    }

    /// One or more digits.
    fn digits(&mut self) -> Option<()> {
        let start = self.at;
        while self.bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        (self.at > start).then_some(())
    }

    /// A string, at its opening quote.
    fn string(&mut self) -> Option<String> {
        (self.bytes.get(self.at) == Some(&b'"')).then_some(())?;
        self.at += 1;
        let mut out = Vec::new();
        loop {
            let byte = *self.bytes.get(self.at)?;
            self.at += 1;
            match byte {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let escaped = *self.bytes.get(self.at)?;
                    self.at += 1;
                    let c = match escaped {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode()?,
                        _ => return None,
                    };
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
                0..=0x1f => return None,
                _ => out.push(byte),
            }
        }
    }

    /// The character of a `\uXXXX` escape (a surrogate pair takes two); a lone surrogate
    /// becomes U+FFFD.
    fn unicode(&mut self) -> Option<char> {
        let first = self.hex4()?;
        if (0xD800..0xDC00).contains(&first) && self.bytes.get(self.at..self.at + 2) == Some(b"\\u")
        {
            let at = self.at;
            self.at += 2;
            let second = self.hex4()?;
            if (0xDC00..0xE000).contains(&second) {
                let c = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                return char::from_u32(c);
            }
            self.at = at;
        }
        Some(char::from_u32(first).unwrap_or('\u{FFFD}'))
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.bytes.get(self.at..self.at + 4)?;
        let text = std::str::from_utf8(digits).ok()?;
        let n = u32::from_str_radix(text, 16).ok()?;
        // from_str_radix takes a sign: "+fff" is not four hex digits.
        digits.iter().all(u8::is_ascii_hexdigit).then_some(())?;
        self.at += 4;
        Some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents() {
        let v =
            parse(r#" {"a":[1,-2.5e1,true,false,null],"b":"x\"\\\/\n\u00e9\ud83d\ude00","c":{}} "#)
                .expect("parses");
        assert_eq!(
            v.get("a"),
            Some(&Value::Array(vec![
                Value::Number("1".into()),
                Value::Number("-2.5e1".into()),
                Value::Bool(true),
                Value::Bool(false),
                Value::Null
            ]))
        );
        assert_eq!(v.get("b").and_then(Value::as_str), Some("x\"\\/\né😀"));
        assert_eq!(v.get("c"), Some(&Value::Object(vec![])));
        assert_eq!(parse("\"\\udc00\""), Some(Value::String("\u{FFFD}".into())));
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\"}",
            "{\"a\":1,}",
            "tru",
            "\"\n\"",
            "\"\\x\"",
            "1 2",
            "\"\\u+fff\"",
            "-",
            "[",
            "{1:2}",
            "01",
            "1.",
            ".5",
            "1e",
            "--1",
            "1.2.3",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(parse(&deep), None, "too deep");
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_some());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        /// Any text: an answer or None, never a panic or a stack overflow.
        #[test]
        fn never_panics(text in "[\\[\\]{}\":,0-9a-z\\\\ .eE+-]{0,200}") {
            let _ = parse(&text);
        }

        /// Whatever formation's JSON escaper writes reads back as the same string.
        #[test]
        fn reads_back_the_escaper(text in proptest::prelude::any::<String>()) {
            let mut doc = vec![b'"'];
            crate::output::format::escape_json(text.as_bytes(), &mut doc);
            doc.push(b'"');
            let doc = String::from_utf8(doc).expect("the escaper writes UTF-8");
            proptest::prop_assert_eq!(parse(&doc), Some(Value::String(text)));
        }
    }
}
