//! Durations (`grace`, `interval`, `-t`), signal names and numbers, and `--rewrite` rules:
//! errors or values, never a panic; a duration is never negative and a signal is one.
#![no_main]
use formation_fuzz::config::{rewrite, units};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(d) = units::duration(text) {
        let _ = units::Human(d).to_string();
    }
    if let Ok(sig) = units::signal(text) {
        assert!(units::signal(sig.as_str()) == Ok(sig), "{text:?} → {sig}");
    }
    let _ = rewrite::rule(text);
    let _ = rewrite::target(text);
    let _ = units::level(text);
});
