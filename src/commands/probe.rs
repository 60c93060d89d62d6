//! `formation probe TYPE` (SPEC §2.1): TYPE's ready check, once, from inside the container.

use crate::cli::Options;
use crate::commands::prepare::{Prepared, prepare};
use crate::commands::{USAGE_ERROR, say_to, usage};
use crate::output::logmux::Stream;
use crate::{os, plan};

/// `formation probe TYPE`: the config prepared with TYPE's first instance, then its check.
pub fn probe(options: &Options, name: &str) -> i32 {
    match prepare(options, Some(name)) {
        Ok(p) => probe_first(&p, name),
        Err(errors) => usage(&errors, &options.task),
    }
}

/// TYPE's readiness check once, against its first instance: 0 ready,
/// 1 not ready (one line says why), 2 when it has no check that can be made from outside.
fn probe_first(prepared: &Prepared, name: &str) -> i32 {
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
