//! The values of options: attached option values, UTF-8, colours and log formats, each a
//! one-line reason when wrong. (The listener's address is `config::listen`: the config file
//! writes it too.)

use super::Color;
use crate::output::format::LogFormat;
use std::ffi::{OsStr, OsString};

/// An option and its attached value, if any: `--grace=5s` → (`--grace`, `5s`); `-t5s` and
/// `-t=5s` → (`-t`, `5s`) (getopt's attached short values; the `=` is dropped because no
/// value of ours starts with one); `-t` → (`-t`, None). Bytes of a value are kept as they
/// are (a file name need not be UTF-8).
pub(super) fn split_attached(arg: &OsStr) -> (String, Option<OsString>) {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let bytes = arg.as_bytes();
    let value = |v: &[u8]| Some(OsString::from_vec(v.to_vec()));
    if bytes.starts_with(b"--") {
        return match bytes.iter().position(|&b| b == b'=') {
            Some(eq) => (
                String::from_utf8_lossy(&bytes[..eq]).into_owned(),
                value(&bytes[eq + 1..]),
            ),
            None => (arg.to_string_lossy().into_owned(), None),
        };
    }
    match bytes {
        [b'-', letter, rest @ ..] if letter.is_ascii_alphabetic() && !rest.is_empty() => {
            let rest = rest.strip_prefix(b"=").unwrap_or(rest);
            (format!("-{}", *letter as char), value(rest))
        }
        _ => (arg.to_string_lossy().into_owned(), None),
    }
}

pub(super) fn utf8(name: &str, value: OsString) -> Result<String, String> {
    value
        .into_string()
        .map_err(|v| format!("{name}: {v:?} is not valid UTF-8"))
}

pub(super) fn parse_color(text: &str) -> Result<Color, String> {
    match text {
        "auto" => Ok(Color::Auto),
        "always" => Ok(Color::Always),
        "never" => Ok(Color::Never),
        _ => Err(format!("--color takes auto, always or never, not {text:?}")),
    }
}

pub(super) fn parse_log_format(text: &str) -> Result<LogFormat, String> {
    match text {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        _ => Err(format!("the log format is text or json, not {text:?}")),
    }
}

/// `on` or `off` (also `true`/`false`, `1`/`0`, as environment variables are often set).
pub(super) fn parse_switch(name: &str, text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Ok(true),
        "off" | "false" | "0" | "no" => Ok(false),
        _ => Err(format!("{name} takes on or off, not {text:?}")),
    }
}
