//! formation.toml: any text is a formation or a list of errors, each pointing inside the
//! text; never a panic.
#![no_main]
use formation_fuzz::config::schema;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lookup = |name: &str| -> Result<_, String> { Err(format!("no user {name}")) };
    let parsed = schema::parse(Path::new("formation.toml"), text, &lookup);
    for error in &parsed.errors {
        assert!(!error.to_string().is_empty());
    }
});
