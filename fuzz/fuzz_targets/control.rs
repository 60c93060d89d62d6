//! The control socket's line protocol (SPEC §10): a request line as the server reads it
//! (at most 4 KiB, tab-separated words) and the last line of an answer. Any bytes are words
//! or an error; words are a request or a usage error; `ok`, `error: …` and `error: usage: …`
//! read back as what was written.
#![no_main]
use formation_fuzz::serve::control::{self, End};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(words) = control::words(data) {
        assert!(!words.is_empty());
        if let Err(e) = control::parse(&words) {
            assert!(!e.is_empty());
        }
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let reason = control::one_line(text);
    assert!(!reason.contains(['\n', '\r']));
    for end in [End::Ok, End::Usage(reason.clone())] {
        let line = end.line();
        let back = End::parse(line.trim_end_matches('\n'));
        assert_eq!(back.as_ref(), Some(&end), "{line:?}");
    }
    // A failure's reason reads back unless it begins like a usage error's.
    if !reason.starts_with("usage: ") {
        let end = End::Failed(reason);
        assert_eq!(End::parse(end.line().trim_end_matches('\n')), Some(end));
    }
});
