use super::compare::agree;
use super::*;
use proptest::prelude::*;

/// Valid TOML 1.1, feature by feature (most from toml.io's examples): the document is the
/// one the `toml` crate makes of it.
#[test]
fn valid_documents_read_as_the_toml_crate_reads_them() {
    let docs = [
        "",
        "# only a comment\n\n   \t\n",
        "a = 1\nb = \"two\"\nc = 'three'\nd = true\ne = false\n",
        "\u{feff}a = 1\n",
        "a = 1\r\nb = 2\r\n",
        "bare_key = 1\nbare-key = 2\n1234 = 3\n\"127.0.0.1\" = 4\n\"ʎǝʞ\" = 5\n'quoted \"value\"' = 6\n\"\" = 7\n",
        "physical.color = \"orange\"\nphysical.shape = \"round\"\nsite.\"google.com\" = true\n",
        "fruit . flavor = \"banana\"\n3.14159 = \"pi\"\n",
        "s = \"I'm a string. \\\"You can quote me\\\". Name\\tJos\\u00E9\\nLocation\\tSF.\"\n",
        "s = \"\\b\\t\\n\\f\\r\\\"\\\\\\e\\x41\\u00e9\\U0001F600\"\n",
        "s = \"\"\"\nRoses are red\nViolets are blue\"\"\"\n",
        "s = \"\"\"\nThe quick brown \\\n\n\n  fox jumps over \\\n    the lazy dog.\"\"\"\n",
        "s = \"\"\"Here are two quotation marks: \"\". Simple enough.\"\"\"\n",
        "s = \"\"\"Here are fifteen quotation marks: \"\"\\\"\"\"\\\"\"\"\\\"\"\"\\\"\"\"\\\".\"\"\"\n",
        "s = \"\"\"\"This,\" she said, \"is just a pointless statement.\"\"\"\"\n",
        "w = 'C:\\Users\\nodejs\\templates'\nr = '<\\i\\c*\\s*>'\n",
        "re = '''I [dw]on't need \\d{2} apples'''\nlines = '''\nThe first newline is\ntrimmed in raw strings.\n'''\n",
        "q = '''Here are fifteen quotation marks: \"\"\"\"\"\"\"\"\"\"\"\"\"\"\"'''\napos = ''''That,' she said, 'is still pointless.''''\n",
        "a = +99\nb = 42\nc = 0\nd = -17\ne = 1_000\nf = 5_349_221\ng = 1_2_3_4_5\n",
        "h = 0xDEADBEEF\ni = 0xdead_beef\nj = 0o01234567\nk = 0o755\nl = 0b11010110\nm = -0\n",
        "big = 9223372036854775807\nsmall = -9223372036854775808\n",
        "a = +1.0\nb = 3.1415\nc = -0.01\nd = 5e+22\ne = 1e06\nf = -2E-2\ng = 6.626e-34\nh = 224_617.445_991_228\n",
        "a = inf\nb = +inf\nc = -inf\nd = nan\ne = +nan\nf = -nan\ng = 0.0\nh = -0.0\n",
        "a = 1979-05-27T07:32:00Z\nb = 1979-05-27T00:32:00-07:00\nc = 1979-05-27T00:32:00.999999-07:00\nd = 1979-05-27 07:32:00Z\n",
        "a = 1979-05-27T07:32:00\nb = 1979-05-27T00:32:00.999999\nc = 1979-05-27\nd = 07:32:00\ne = 00:32:00.999999\nf = 07:32\ng = 1979-05-27T07:32\nh = 2000-02-29\n",
        "integers = [ 1, 2, 3 ]\ncolors = [ \"red\", \"yellow\", \"green\" ]\nnested_arrays_of_ints = [ [ 1, 2 ], [3, 4, 5] ]\nnested_mixed_array = [ [ 1, 2 ], [\"a\", \"b\", \"c\"] ]\nnumbers = [ 0.1, 0.2, 0.5, 1, 2, 5 ]\ncontributors = [\n  \"Foo Bar <foo@example.com>\",\n  { name = \"Baz Qux\", email = \"bazqux@example.com\", url = \"https://example.com/bazqux\" }\n]\n",
        "integers2 = [\n  1, 2, 3\n]\n\nintegers3 = [\n  1,\n  2, # this is ok\n]\n",
        "[table-1]\nkey1 = \"some string\"\nkey2 = 123\n\n[table-2]\nkey1 = \"another string\"\nkey2 = 456\n",
        "[dog.\"tater.man\"]\ntype.name = \"pug\"\n",
        "[a.b.c]            # this is best practice\n[ d.e.f ]          # same as [d.e.f]\n[ g .  h  . i ]    # same as [g.h.i]\n[ j . \"ʞ\" . 'l' ]  # same as [j.\"ʞ\".'l']\n",
        "# [x] you\n# [x.y] don't\n# [x.y.z] need these\n[x.y.z.w] # for this to work\n[x] # defining a super-table afterward is ok\n",
        "[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n[fruit.apple.texture]  # you can add sub-tables\nsmooth = true\n",
        "name = \"Fido\"\nbreed = \"pug\"\n[owner]\nname = \"Regina Dogman\"\nmember_since = 1999-08-04\n",
        "name = { first = \"Tom\", last = \"Preston-Werner\" }\npoint = { x = 1, y = 2 }\nanimal = { type.name = \"pug\" }\n",
        "tbl = {\n  a = 1,   # a comment\n  b = 2,\n}\nempty = {}\n",
        // As the toml crate reads TOML 1.1: blanks, newlines and comments around an inline
        // table's `=` (found by the `document` fuzz target).
        "a = { b\n= 1, c =\n 2, d # c\n = 3, 'e'\n\n= 4 }\n",
        "[[products]]\nname = \"Hammer\"\nsku = 738594937\n\n[[products]]  # empty table within the array\n\n[[products]]\nname = \"Nail\"\nsku = 284758393\n\ncolor = \"gray\"\n",
        "[[fruits]]\nname = \"apple\"\n\n[fruits.physical]  # subtable\ncolor = \"red\"\nshape = \"round\"\n\n[[fruits.varieties]]  # nested array of tables\nname = \"red delicious\"\n\n[[fruits.varieties]]\nname = \"granny smith\"\n\n\n[[fruits]]\nname = \"banana\"\n\n[[fruits.varieties]]\nname = \"plantain\"\n",
        "points = [ { x = 1, y = 2, z = 3 },\n           { x = 7, y = 8, z = 9 },\n           { x = 2, y = 4, z = 8 } ]\n",
        "[process.web]\ncommand = \"server\"\nscale = 2\nready = { http = \"http://127.0.0.1:$PORT/up\", interval = \"1s\" }\n[process.web.env]\nA = \"1\"\n",
        "a = 1 # trailing comment\nb = [1,2,] # trailing comma\n",
        "a=1\nb\t=\t2\n",
        "[a]\n[a.b]\n[a.c]\nx = 1\n",
        "a.b.c = 1\na.b.d = 2\n[a.b.e]\nf = 3\n",
    ];
    for doc in docs {
        match agree(doc) {
            Ok(Some(_)) => {}
            Ok(None) => panic!("both refused a valid document:\n{doc}\n{:?}", parse(doc)),
            Err(e) => panic!("{doc}\n{e}"),
        }
    }
}

/// Invalid TOML: both refuse it, and ours says where.
#[test]
fn invalid_documents_are_refused_with_a_place() {
    let docs: &[(&str, usize)] = &[
        ("a = \n", 4),
        ("a = 1 b = 2\n", 6),
        ("= 1\n", 0),
        ("a = \"unclosed\n", 13),
        ("a = \"\"\"unclosed\n", 4),
        ("a = 'x\n", 6),
        ("a = \"\\q\"\n", 5),
        ("a = \"\\uD800\"\n", 5),
        ("a = \"\\x4\"\n", 5),
        ("a = \"tab\u{7f}\"\n", 8),
        ("a = 01\n", 4),
        ("a = 1__0\n", 4),
        ("a = _1\n", 4),
        ("a = 1_\n", 4),
        ("a = +0x1\n", 4),
        ("a = 0x\n", 4),
        ("a = 1.\n", 4),
        ("a = .5\n", 4),
        ("a = 1e\n", 4),
        ("a = 9223372036854775808\n", 4),
        ("a = 2021-02-29\n", 4),
        ("a = 2021-13-01\n", 4),
        ("a = 24:00:00\n", 4),
        ("a = 07:32:00Z\n", 4),
        ("a = [1, 2\n", 10),
        ("a = [1 2]\n", 7),
        ("a = [,]\n", 5),
        ("a = { b = 1 c = 2 }\n", 12),
        ("a = { b = 1, , }\n", 13),
        ("a = { b = 1\n", 12),
        ("a = TRUE\n", 4),
        ("a = 1\na = 2\n", 6),
        ("a = 1\n\"a\" = 2\n", 6),
        ("[a]\n[a]\n", 5),
        ("[a]\nb = 1\n[a.b]\n", 13),
        ("a = {}\n[a]\n", 8),
        ("a = { b = 1 }\n[a.c]\n", 15),
        ("a.b = 1\n[a.b]\n", 11),
        ("[a.b]\n[a]\nb = 1\n", 10),
        ("a = [1]\n[[a]]\n", 10),
        ("[[a]]\n[a]\n", 7),
        ("a = 1\na.b = 2\n", 6),
        ("[a\n", 2),
        ("[[a]\n", 3),
        ("[]\n", 1),
        ("a = 1\r\n\rb = 2\n", 7),
        ("# \u{1} control\n", 2),
        ("a = \"line\nbreak\"\n", 9),
        ("a = '''x''''''\n", 4),
        ("a = 1979-05-27T\n", 4),
        ("a.\n", 2),
        ("b\n= 1\n", 1),
        ("a = { b\n.c = 1 }\n", 8),
    ];
    let mut wrong = Vec::new();
    for (doc, at) in docs {
        assert_eq!(agree(doc), Ok(None), "{doc:?}");
        let e = parse(doc).expect_err(doc);
        if e.at != *at {
            wrong.push(format!("{doc:?}: {e:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn keys_and_values_carry_their_places() {
    let text = "[process.web]\ncommand = \"x\"\nready = { tcp = 5432 }\n[[job]]\n";
    let doc = parse(text).expect("valid");
    let process = doc.get("process").expect("process");
    let (name, web) = process
        .get_ref()
        .as_table()
        .expect("table")
        .iter()
        .next()
        .expect("web");
    assert_eq!(&text[name.span()], "web");
    assert_eq!(
        &text[web.span()],
        "[process.web]",
        "a header's table is at its header"
    );
    let web = web.get_ref().as_table().expect("table");
    let (key, command) = web.iter().next().expect("command");
    assert_eq!(&text[key.span()], "command");
    assert_eq!(&text[command.span()], "\"x\"");
    let ready = web.get("ready").expect("ready");
    assert_eq!(&text[ready.span()], "{ tcp = 5432 }");
    let tcp = ready
        .get_ref()
        .as_table()
        .and_then(|t| t.get("tcp"))
        .expect("tcp");
    assert_eq!(tcp.get_ref().as_integer(), Some(5432));
    assert_eq!(&text[doc.get("job").expect("job").span()], "[[job]]");
}

#[test]
fn duplicate_keys_are_named_as_written() {
    let table = [
        ("a = 1\n\"a\" = 2\n", "duplicate key `\"a\"`"),
        ("[x]\n[x]\n", "duplicate key `x`"),
        ("a.b = 1\na.b = 2\n", "duplicate key `b`"),
    ];
    for (text, want) in table {
        assert_eq!(parse(text).expect_err(text).message, want, "{text:?}");
    }
}

/// Nesting is bounded (a hostile file cannot use up PID 1's stack), and the bound is far
/// above what a formation.toml needs.
#[test]
fn nesting_is_bounded() {
    let ok = format!("a = {}{}\n", "[".repeat(99), "]".repeat(99));
    assert!(parse(&ok).is_ok());
    let deep = format!("a = {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let e = parse(&deep).expect_err("too deep");
    assert!(e.message.contains("nest more than 100 deep"), "{e:?}");
    let tables = format!("a = {}{}\n", "{b = ".repeat(200), "}".repeat(200));
    assert!(parse(&tables).is_err());
}

/// Pieces of TOML that the generated documents are made of: mostly good, some bad.
const KEYS: &[&str] = &[
    "a", "b", "c", "\"a\"", "'b'", "a.b", "a . c", "b.a", "\"x.y\"", "1", "-", "_", "a.\"b\"",
    "\"\"", "\"é\"", "a.b.c",
];
const BAD_KEYS: &[&str] = &["a..b", "é", "a.", "[a]", "\"\"\"a\"\"\""];
const VALUES: &[&str] = &[
    "1",
    "-0",
    "+1_000",
    "0x1F",
    "0o7",
    "0b1",
    "1.5",
    "1e3",
    "1E+3",
    "-inf",
    "nan",
    "+nan",
    "1.0e-3",
    "true",
    "false",
    "\"s\\n\"",
    "'lit'",
    "\"\"\"\nml\"\"\"",
    "'''ml'''",
    "\"\\e\\x7f\"",
    "1979-05-27",
    "07:32",
    "07:32:60",
    "1979-05-27T07:32:00Z",
    "1979-05-27 07:32:00",
    "1979-05-27t07:32:00+01:00",
    "[]",
    "[1, 'a',]",
    "[\n1,\n# c\n2\n]",
    "{}",
    "{ x = 1, y.z = 2 }",
    "{ x = 1,\n }",
    "{ x.y = 1, x.z = 2 }",
    "\"a\"\"",
    "9_223_372_036_854_775_807",
    "[{ a = 1 }, { a = 2 }]",
];
const BAD_VALUES: &[&str] = &[
    "0xG",
    "01",
    "1__0",
    "0x",
    "2021-02-30",
    "\"\\q\"",
    "1.",
    ".5",
    "'''a''''''",
    "[[1]]",
    "{ x = 1, x = 2 }",
    "tru",
    "inf_",
    "1979-05-27T25:00:00",
    "00:00:00.",
    "0b102",
    "-9223372036854775809",
    "{ x = 1 y = 2 }",
    "[1 2]",
];

fn line() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        9 => proptest::sample::select(KEYS),
        1 => proptest::sample::select(BAD_KEYS),
    ];
    let value = prop_oneof![
        9 => proptest::sample::select(VALUES),
        1 => proptest::sample::select(BAD_VALUES),
    ];
    prop_oneof![
        6 => (key.clone(), value, proptest::sample::select(&[" = ", "=", "\t=  ", " "][..]))
            .prop_map(|(k, v, eq)| format!("{k}{eq}{v}")),
        2 => key.clone().prop_map(|k| format!("[{k}]")),
        2 => key.clone().prop_map(|k| format!("[[{k}]]")),
        1 => key.prop_map(|k| format!("[ {k} ] # header")),
        1 => Just("# a comment ✓".to_string()),
        1 => Just(String::new()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Documents made of good and bad pieces: both parsers accept the same ones and read them
    /// the same, or both refuse them.
    #[test]
    fn generated_documents_agree_with_the_toml_crate(
        lines in proptest::collection::vec(line(), 0..12),
        ending in proptest::sample::select(&["\n", "\r\n"][..]),
    ) {
        let text = lines.join(ending);
        prop_assert_eq!(agree(&text).err(), None, "{:?}", text);
    }

    /// The same with one byte taken out or put in: the edges of every rule.
    #[test]
    fn damaged_documents_agree_with_the_toml_crate(
        lines in proptest::collection::vec(line(), 1..8),
        at in any::<proptest::sample::Index>(),
        byte in proptest::sample::select(&b" \"'.=[]\n#,{}_0"[..]),
        cut in any::<bool>(),
    ) {
        let mut bytes = lines.join("\n").into_bytes();
        let i = at.index(bytes.len() + 1);
        if cut && i < bytes.len() {
            bytes.remove(i);
        } else {
            bytes.insert(i, byte);
        }
        if let Ok(text) = String::from_utf8(bytes) {
            prop_assert_eq!(agree(&text).err(), None, "{:?}", text);
        }
    }

    /// Any text at all: never a panic, and an error points inside the text.
    #[test]
    fn any_text_is_a_document_or_an_error_inside_it(text in "[ -~\t\n\r\"'\\[\\]{}=.#é\u{1}]{0,80}") {
        if let Err(e) = parse(&text) {
            prop_assert!(e.at <= text.len(), "{:?} {:?}", text, e);
        }
        prop_assert_eq!(agree(&text).err(), None, "{:?}", text);
    }
}
