//! The status listener's request heads (SPEC §9): bytes as they arrive, cut anywhere. Each
//! prefix of the input is a partial head, a GET/HEAD of a path, or a refusal (400, 405,
//! 431); a head over 8 KiB is never read on.
#![no_main]
use formation_fuzz::serve::{self, Head};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Prefixes at a few cut points, as a slow client sends them.
    let cuts = [1, 7, 64, 4096, 8192, 8193, data.len()];
    for cut in cuts.into_iter().filter(|c| *c <= data.len()) {
        match serve::parse(&data[..cut]) {
            Head::Partial => assert!(cut <= 8192, "a partial head past 8 KiB"),
            Head::Get { path, .. } => assert!(
                data[..cut]
                    .windows(path.len())
                    .any(|w| w == path.as_bytes())
            ),
            Head::Refuse(code) => assert!(matches!(code, 400 | 405 | 431), "{code}"),
        }
    }
});
