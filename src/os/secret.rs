//! Reading an environment value from a file (`NAME = { file = "/run/secrets/x" }`, SPEC §3.4):
//! Docker and Swarm secrets in /run/secrets, Kubernetes secret volumes.
//!
//! Owns: the read — at start (every file must be readable before anything runs) and at each
//! spawn (so a rotated secret reaches the next restart) — and the rules for the value: one
//! trailing line end removed, at most 1 MiB, no NUL byte (the environment cannot carry one).
//!
//! Must not: put the value into any message. Errors name the file and what is wrong with it.
//!
//! The read happens in the loop, before the clone of one instance: it must never block. A
//! FIFO or a device at the path would (an `open` for reading waits for a writer), so the file
//! is opened with `O_NONBLOCK` and must be a regular file; a Kubernetes secret volume's
//! symlinks (`x -> ..data/x`) are followed.

use std::ffi::OsString;
use std::io::Read;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The largest value (SPEC §3.4).
pub const MAX_VALUE: usize = 1 << 20;

/// The value `path` holds, or why it cannot be used (naming the file, never the content).
pub fn read(path: &Path) -> Result<OsString, String> {
    let fail = |why: String| format!("{}: {why}", path.display());
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| fail(format!("cannot read: {}", lower(&e))))?;
    let meta = file
        .metadata()
        .map_err(|e| fail(format!("cannot read: {}", lower(&e))))?;
    if !meta.is_file() {
        return Err(fail("is not a regular file".into()));
    }
    // A line end after a full 1 MiB value is still allowed: read two bytes more.
    let mut bytes = Vec::new();
    file.take(MAX_VALUE as u64 + 3)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("cannot read: {}", lower(&e))))?;
    value(bytes).map_err(fail)
}

/// The value of a file's `bytes`: one trailing `\n` (or `\r\n`) removed, as `$(cat file)`
/// would, since `echo secret > file` and editors end the last line.
fn value(mut bytes: Vec<u8>) -> Result<OsString, String> {
    if bytes.ends_with(b"\n") {
        bytes.pop();
        if bytes.ends_with(b"\r") {
            bytes.pop();
        }
    }
    if bytes.len() > MAX_VALUE {
        return Err("holds more than 1 MiB".into());
    }
    if bytes.contains(&0) {
        return Err("holds a NUL byte, which an environment variable cannot".into());
    }
    Ok(OsString::from_vec(bytes))
}

/// `No such file or directory (os error 2)` → `no such file or directory`.
fn lower(e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = text.split(" (os error").next().unwrap_or(&text);
    text.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_end_is_removed() {
        let big = vec![b'x'; MAX_VALUE];
        let mut big_nl = big.clone();
        big_nl.push(b'\n');
        let mut too_big = big.clone();
        too_big.push(b'x');
        type Want<'a> = Result<&'a [u8], &'a str>;
        let table: Vec<(Vec<u8>, Want)> = vec![
            (b"s3cret\n".to_vec(), Ok(b"s3cret")),
            (b"s3cret".to_vec(), Ok(b"s3cret")),
            (b"s3cret\n\n".to_vec(), Ok(b"s3cret\n")),
            (b"s3cret\r\n".to_vec(), Ok(b"s3cret")),
            (b"a\nb\n".to_vec(), Ok(b"a\nb")),
            (b"\n".to_vec(), Ok(b"")),
            (b"".to_vec(), Ok(b"")),
            (b"\xff\xfe\n".to_vec(), Ok(b"\xff\xfe")),
            (big.clone(), Ok(&big)),
            (big_nl, Ok(&big)),
            (too_big, Err("holds more than 1 MiB")),
            (
                b"a\0b".to_vec(),
                Err("holds a NUL byte, which an environment variable cannot"),
            ),
        ];
        for (bytes, want) in table {
            let got = value(bytes.clone()).map(OsString::into_vec);
            let want = want.map(<[u8]>::to_vec).map_err(String::from);
            assert!(
                got == want,
                "{:?}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(20)])
            );
        }
    }

    #[test]
    fn errors_name_the_file_not_the_value() {
        let dir = std::env::temp_dir().join(format!("formation-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("db_password");
        std::fs::write(&file, "hunter2\n").expect("write");
        assert_eq!(read(&file).as_deref(), Ok(std::ffi::OsStr::new("hunter2")));
        let missing = dir.join("missing");
        assert_eq!(
            read(&missing),
            Err(format!(
                "{}: cannot read: no such file or directory",
                missing.display()
            ))
        );
        assert_eq!(
            read(&dir),
            Err(format!("{}: is not a regular file", dir.display()))
        );
        let fifo = dir.join("fifo");
        let _ = std::fs::remove_file(&fifo);
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).expect("mkfifo");
        assert_eq!(
            read(&fifo),
            Err(format!("{}: is not a regular file", fifo.display())),
            "a FIFO never blocks the loop"
        );
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
