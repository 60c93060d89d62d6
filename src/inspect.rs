//! The subcommands that look at a formation from inside its container (SPEC §2.1):
//! `formation probe TYPE` (its ready check, once) and `formation status` (what runs, from
//! /proc and the status listener).

use crate::cli::{self, Options};
use crate::output::logmux::Stream;
use crate::prepare::Prepared;
use crate::{USAGE_ERROR, os, plan, say_to, serve};

/// `formation probe TYPE`: its readiness check once, against its first instance: 0 ready,
/// 1 not ready (one line says why), 2 when it has no check that can be made from outside.
pub fn probe(prepared: &Prepared, name: &str) -> i32 {
    let first = prepared
        .instances
        .iter()
        .find(|i| i.name == format!("{name}.1"));
    let Some((instance, ready)) = first.and_then(|i| Some((i, i.ready.as_ref()?))) else {
        say_to(
            Stream::Stderr,
            format_args!("formation: {name} has no ready check\n"),
        );
        return USAGE_ERROR;
    };
    if !ready.kind.active() {
        let kind = ready.kind.describe();
        say_to(
            Stream::Stderr,
            format_args!("formation: {name}'s check ({kind}) cannot be made from outside\n"),
        );
        return USAGE_ERROR;
    }
    let bound = plan::checks::attempt_bound(ready.interval);
    match os::probe::once(&ready.kind, instance, bound) {
        Ok(()) => 0,
        Err(e) => {
            let kind = ready.kind.describe();
            say_to(
                Stream::Stderr,
                format_args!("{name} is not ready ({kind}): {e}\n"),
            );
            1
        }
    }
}

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
