//! Durations (`grace`, `interval`, `-t`), signal names and numbers, and `--rewrite` rules:
//! errors or values, never a panic; a duration is never negative and a signal is one.
#![no_main]
use formation_fuzz::config::{names, rewrite};
use formation_fuzz::time::duration;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(d) = duration::duration(text) {
        let _ = duration::Human(d).to_string();
    }
    if let Ok(sig) = names::signal(text) {
        assert!(names::signal(sig.as_str()) == Ok(sig), "{text:?} → {sig}");
    }
    let _ = rewrite::rule(text);
    let _ = rewrite::target(text);
    let _ = names::level(text);
});
