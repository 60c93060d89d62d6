//! Env files (dotenv, multi-line quoted values): variables or errors; never a panic.
#![no_main]
use formation_fuzz::config::envfile;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(errors) = envfile::parse(Path::new(".env"), text) {
        assert!(!errors.is_empty());
    }
});
