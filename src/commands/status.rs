//! `formation status` (SPEC §2.1): what runs in this container, from /proc and the status
//! listener.

use crate::cli::{self, Options};
use crate::commands::say_to;
use crate::output::logmux::Stream;
use crate::{os, serve};

/// `formation status`: the instances of this container from /proc, and what the status
/// listener says of them when there is one (`--listen`, `FORMATION_LISTEN`, or PID 1's).
pub fn status(options: &Options) -> i32 {
    let procs = os::procfs::instances();
    let addr = match options.listen {
        Some(addr) => Some(addr),
        None => match os::procfs::pid1_listen().map(|text| cli::parse_listen(&text)) {
            Some(Ok(addr)) => Some(addr),
            Some(Err(e)) => {
                say_to(
                    Stream::Stderr,
                    format_args!("formation status: PID 1's FORMATION_LISTEN: {e}\n"),
                );
                None
            }
            None => None,
        },
    };
    let timeout = std::time::Duration::from_secs(2);
    let known = addr.map(|addr| {
        os::listener::get(addr, "/status", timeout)
            .map_err(|e| e.to_string())
            .and_then(|response| serve::status::parse_known(&response))
            .map_err(|e| format!("the status listener on {addr}: {e}"))
    });
    let (known, failed) = match known {
        Some(Ok(known)) => (Some(known), false),
        Some(Err(e)) => {
            say_to(Stream::Stderr, format_args!("formation status: {e}\n"));
            (None, true)
        }
        None => (None, false),
    };
    let text = if options.json {
        let addr = addr.map(|a| a.to_string());
        serve::status::render_json(&procs, known.as_deref(), addr.as_deref(), false)
    } else {
        serve::status::render_text(&procs, known.as_deref())
    };
    say_to(Stream::Stdout, format_args!("{text}"));
    i32::from(failed)
}
