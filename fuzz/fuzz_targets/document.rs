//! TOML text: formation's parser (src/config/document/) and the `toml` crate, which it
//! replaced, accept the same texts and read them the same; never a panic, and an error
//! points inside the text.
#![no_main]
use formation_fuzz::config::document;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = document::parse(text) {
        assert!(e.at <= text.len(), "{e:?}");
    }
    if let Err(why) = document::compare::agree(text) {
        panic!("{text:?}\n{why}");
    }
});
