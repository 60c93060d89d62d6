//! `-m` / `FORMATION`: a parsed spec, written back as `name=n,...`, parses to itself.
#![no_main]
use formation_fuzz::plan::parse_scale;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(spec) = parse_scale(text) {
        let again: Vec<String> = spec.iter().map(|(n, c)| format!("{n}={c}")).collect();
        assert_eq!(
            parse_scale(&again.join(",")).as_ref(),
            Ok(&spec),
            "{text:?}"
        );
    }
});
