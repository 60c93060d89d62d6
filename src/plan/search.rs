//! Where execvp looks for a program without `/` (SPEC §3.4): what the spawn tries, and what
//! `check` looks for on the machine it runs on. Pure: paths in, paths out.

/// PATH when the child's environment has none: musl's execvp default (the release binary is
/// static musl).
pub const DEFAULT_PATH: &[u8] = b"/usr/local/bin:/bin:/usr/bin";

/// The paths execvp tries for a `program` without `/`, in order, given the child's PATH.
pub fn candidates(program: &[u8], path: Option<&[u8]>) -> Vec<Vec<u8>> {
    if program.is_empty() {
        return Vec::new();
    }
    path.unwrap_or(DEFAULT_PATH)
        .split(|b| *b == b':')
        .map(|dir| {
            let mut full = dir.to_vec();
            if !dir.is_empty() {
                full.push(b'/');
            }
            full.extend_from_slice(program);
            full
        })
        .collect()
}
