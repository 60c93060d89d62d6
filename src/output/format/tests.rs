use super::*;

const TEXT: Style = Style {
    format: LogFormat::Text,
    color: [false, false],
    timestamps: false,
};

fn render(style: &Style, name: &str, payload: &[u8], partial: bool) -> Vec<u8> {
    render_on(Stream::Stdout, style, name, payload, partial)
}

fn render_on(stream: Stream, style: &Style, name: &str, payload: &[u8], partial: bool) -> Vec<u8> {
    let label = Label::new(name, 9, Some(0), style);
    let mut out = Vec::new();
    let time = *b"2026-01-01T00:00:00.000Z";
    line(&mut out, style, &label, stream, payload, partial, &time);
    out
}

#[test]
fn each_stream_is_coloured_on_its_own() {
    let plain = b"web.1     | x\n".to_vec();
    let colored = b"\x1b[36mweb.1     |\x1b[0m x\n".to_vec();
    let table = [
        ([true, false], Stream::Stdout, &colored),
        ([true, false], Stream::Stderr, &plain),
        ([false, true], Stream::Stdout, &plain),
        ([false, true], Stream::Stderr, &colored),
        ([true, true], Stream::Stderr, &colored),
        ([false, false], Stream::Stderr, &plain),
    ];
    for (color, stream, want) in table {
        let style = Style { color, ..TEXT };
        assert_eq!(
            &render_on(stream, &style, "web.1", b"x", false),
            want,
            "{color:?} {stream:?}"
        );
    }
}

#[test]
fn each_of_the_four_prefixes_of_a_label_is_its_own() {
    // stdout coloured, stderr not: the four prefixes differ pairwise.
    let style = Style {
        color: [true, false],
        ..TEXT
    };
    let table: [(Stream, bool, &[u8]); 4] = [
        (Stream::Stdout, false, b"\x1b[36mweb.1     |\x1b[0m x\n"),
        (Stream::Stderr, false, b"web.1     | x\n"),
        (Stream::Stdout, true, b"\x1b[36mweb.1     +\x1b[0m x\n"),
        (Stream::Stderr, true, b"web.1     + x\n"),
    ];
    for (stream, partial, want) in table {
        let got = render_on(stream, &style, "web.1", b"x", partial);
        assert_eq!(got, want, "{stream:?} partial={partial}");
    }
}

#[test]
fn text_prefixes() {
    assert_eq!(render(&TEXT, "web.1", b"hi", false), b"web.1     | hi\n");
    assert_eq!(render(&TEXT, "web.1", b"hi", true), b"web.1     + hi\n");
    let ts = Style {
        timestamps: true,
        ..TEXT
    };
    assert_eq!(
        render(&ts, "web.1", b"", false),
        b"2026-01-01T00:00:00.000Z web.1     | \n"
    );
    let color = Style {
        color: [true, true],
        ..TEXT
    };
    assert_eq!(
        render(&color, "web.1", b"x", false),
        b"\x1b[36mweb.1     |\x1b[0m x\n"
    );
}

#[test]
fn json_lines() {
    let json = Style {
        format: LogFormat::Json,
        ..TEXT
    };
    assert_eq!(
        render(&json, "web.1", b"a\"b\\c\n\x01\xff", true),
        "{\"time\":\"2026-01-01T00:00:00.000Z\",\"proc\":\"web.1\",\"stream\":\"stdout\",\
         \"line\":\"a\\\"b\\\\c\\n\\u0001\u{FFFD}\",\"partial\":true}\n"
            .as_bytes()
    );
}

fn merge(line: &str) -> String {
    let json = Style {
        format: LogFormat::Json,
        ..TEXT
    };
    let label = Label::new("web.1", 9, Some(0), &json);
    let obj = json::object(line.as_bytes()).expect("an object");
    let mut out = Vec::new();
    let time = *b"2026-01-01T00:00:00.000Z";
    merged(
        &mut out,
        &label,
        Stream::Stderr,
        line.as_bytes(),
        &obj,
        &time,
    );
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn a_json_object_gets_formations_fields_and_keeps_its_bytes() {
    const OURS: &str = r#""time":"2026-01-01T00:00:00.000Z","proc":"web.1","stream":"stderr""#;
    let table = [
        (r#"{"level":"info", "n": 1.50}"#, format!(r#"{{{OURS},"level":"info", "n": 1.50}}"#)),
        (" {}  ", format!("{{{OURS}}}")),
        ("{ \"a\":[1 , 2] }\r", format!("{{{OURS}, \"a\":[1 , 2] }}")),
        // A clash: the child keeps its key, formation's goes under `formation_NAME`.
        (
            r#"{"proc":"mine","msg":"x"}"#,
            r#"{"time":"2026-01-01T00:00:00.000Z","formation_proc":"web.1","stream":"stderr","proc":"mine","msg":"x"}"#.into(),
        ),
        (
            r#"{"time":1,"stream":2}"#,
            r#"{"formation_time":"2026-01-01T00:00:00.000Z","proc":"web.1","formation_stream":"stderr","time":1,"stream":2}"#.into(),
        ),
        // Both names taken: formation's field is left out rather than duplicated.
        (
            r#"{"proc":1,"formation_proc":2}"#,
            r#"{"time":"2026-01-01T00:00:00.000Z","stream":"stderr","proc":1,"formation_proc":2}"#.into(),
        ),
    ];
    for (line, want) in table {
        assert_eq!(merge(line), want + "\n", "{line:?}");
    }
}

proptest::proptest! {
    /// Whatever a child writes, each JSON output line is one valid object: a merged one
    /// holds the child's keys with their values plus formation's three fields; anything
    /// else is escaped into `line` as before.
    #[test]
    fn every_json_line_is_valid_json(
        child in proptest::prop_oneof![
            proptest::collection::vec(proptest::num::u8::ANY, 0..40),
            proptest::strategy::Strategy::prop_map(
                "\\{(\"[a-z]{1,3}\":(1|\"x\"|\\[\\]|null),?){0,4}\\}",
                String::into_bytes,
            ),
        ]
    ) {
        use proptest::prelude::*;
        let line = child;
        let json = Style { format: LogFormat::Json, ..TEXT };
        let label = Label::new("web.1", 9, Some(0), &json);
        let time = *b"2026-01-01T00:00:00.000Z";
        let mut out = Vec::new();
        match json::object(&line) {
            Some(obj) => merged(&mut out, &label, Stream::Stdout, &line, &obj, &time),
            None => super::line(&mut out, &json, &label, Stream::Stdout, &line, false, &time),
        }
        prop_assert_eq!(out.pop(), Some(b'\n'));
        let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        prop_assert_eq!(&v["stream"], "stdout");
        prop_assert_eq!(&v["time"], "2026-01-01T00:00:00.000Z");
        match serde_json::from_slice::<serde_json::Value>(&line) {
            Ok(serde_json::Value::Object(child)) => {
                prop_assert!(v.get("line").is_none());
                for (k, value) in child {
                    prop_assert_eq!(&v[&k], &value);
                }
                prop_assert_eq!(&v["proc"], "web.1");
            }
            _ => {
                prop_assert_eq!(&v["proc"], "web.1");
                prop_assert_eq!(&v["line"], &*String::from_utf8_lossy(&line));
            }
        }
    }
}

#[test]
fn timestamps() {
    assert_eq!(&rfc3339_millis(0, 0), b"1970-01-01T00:00:00.000Z");
    assert_eq!(&rfc3339_millis(951_782_400, 5), b"2000-02-29T00:00:00.005Z");
    assert_eq!(
        &rfc3339_millis(1_798_761_599, 999),
        b"2026-12-31T23:59:59.999Z"
    );
}
