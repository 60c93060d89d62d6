use super::*;
use proptest::prelude::*;

/// (line, Some((empty, keys)) when it is one object).
const TABLE: &[(&str, Option<(bool, u8)>)] = &[
    ("{}", Some((true, 0))),
    ("  { }\t\r", Some((true, 0))),
    (r#"{"a":1}"#, Some((false, 0))),
    (
        r#"{"level":"info","msg":"hi","n":[1,2.5,-3e+2,{"x":null}],"ok":true}"#,
        Some((false, 0)),
    ),
    (r#"{"time":"x","proc":1,"stream":2}"#, Some((false, 0b111))),
    (r#"{"proc":1,"formation_proc":2}"#, Some((false, 0b10010))),
    (r#"{"pro\u0063":1}"#, Some((false, 0b10))),
    (r#"{"nested":{"proc":1}}"#, Some((false, 0))),
    (r#"{"é":"ünïcödé \ud83d\ude00"}"#, Some((false, 0))),
    (r#"{"a":"\"\\\/\b\f\n\r\t"}"#, Some((false, 0))),
    ("{\"a\":0}\n", Some((false, 0))),
    // Not one object.
    ("", None),
    ("hello", None),
    ("[1,2]", None),
    ("\"s\"", None),
    ("{", None),
    ("{}}", None),
    ("{} {}", None),
    ("{} x", None),
    (r#"{"a"}"#, None),
    (r#"{"a":}"#, None),
    (r#"{"a":1,}"#, None),
    (r#"{,"a":1}"#, None),
    (r#"{"a":[1,]}"#, None),
    (r#"{"a":01}"#, None),
    (r#"{"a":1.}"#, None),
    (r#"{"a":.5}"#, None),
    (r#"{"a":1e}"#, None),
    (r#"{"a":-}"#, None),
    (r#"{"a":+1}"#, None),
    (r#"{"a":tru}"#, None),
    (r#"{"a":True}"#, None),
    (r#"{"a":'x'}"#, None),
    (r#"{a:1}"#, None),
    (r#"{"a":"\x"}"#, None),
    (r#"{"a":"\u12"}"#, None),
    (r#"{"a":"\ud800"}"#, None),
    (r#"{"a":"\udc00"}"#, None),
    (r#"{"a":"\ud800\u0041"}"#, None),
    ("{\"a\":\"tab\there\"}", None),
    ("{\"a\":\"\u{1}\"}", None),
    (r#"{"a":[}"#, None),
    (r#"{"a":]}"#, None),
    (r#"{"a":{]}"#, None),
];

#[test]
fn which_lines_are_one_object() {
    for (line, want) in TABLE {
        let got = object(line.as_bytes()).map(|o| (o.empty, o.keys));
        assert_eq!(got, *want, "{line:?}");
    }
}

#[test]
fn invalid_utf8_is_not_an_object() {
    assert_eq!(object(b"{\"a\":\"\xff\"}"), None);
}

#[test]
fn the_object_is_located_without_the_whitespace_around_it() {
    let o = object(b"  {\"a\":1} \r").expect("an object");
    assert_eq!((o.start, o.end), (2, 9));
}

#[test]
fn nesting_is_bounded() {
    let deep = |n: usize| {
        format!(
            "{}{}",
            "{\"a\":".repeat(n),
            "1".to_string() + &"}".repeat(n)
        )
    };
    assert!(object(deep(MAX_DEPTH as usize).as_bytes()).is_some());
    assert_eq!(object(deep(MAX_DEPTH as usize + 1).as_bytes()), None);
    let arrays = format!("{{\"a\":{}{}}}", "[".repeat(200), "]".repeat(200));
    assert_eq!(object(arrays.as_bytes()), None);
}

/// JSON-ish tokens: joined at random they make valid objects, near misses and garbage.
fn tokens() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        "\"a\"",
        "\"proc\"",
        "\"",
        ":",
        ",",
        " ",
        "1",
        "-",
        "0",
        "0.5",
        "e5",
        "true",
        "null",
        "\\",
        "\\u00e9",
        "\\ud83d\\ude00",
        "\\ud800",
        "x",
        "é",
        "\n",
    ]);
    prop::collection::vec(token, 0..24).prop_map(|t| t.concat())
}

proptest! {
    /// The scanner agrees with serde_json on which lines are one object.
    #[test]
    fn agrees_with_serde_json(text in tokens()) {
        let theirs = serde_json::from_str::<serde_json::Value>(&text)
            .is_ok_and(|v| v.is_object());
        prop_assert_eq!(object(text.as_bytes()).is_some(), theirs, "{:?}", text);
    }

    /// Every object serde_json writes is one, compact or pretty (on one line).
    #[test]
    fn accepts_what_serde_json_writes(
        map in prop::collection::btree_map("[a-z_é\"\\\\\u{1}]{0,6}", any::<(i32, f32, bool, String)>(), 0..5)
    ) {
        let value = serde_json::json!(map
            .into_iter()
            .map(|(k, (i, f, b, s))| (k, serde_json::json!([i, f, b, s, {"n": null}])))
            .collect::<serde_json::Map<_, _>>());
        let text = serde_json::to_string(&value).expect("serialise");
        prop_assert!(object(text.as_bytes()).is_some(), "{}", text);
    }
}
