//! Procfile: any text is a formation with every bad line reported; never a panic.
#![no_main]
use formation_fuzz::config::procfile;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = procfile::parse(Path::new("Procfile"), text);
    for error in &parsed.errors {
        assert!(!error.to_string().is_empty());
    }
});
