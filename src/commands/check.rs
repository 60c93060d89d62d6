//! `formation check` (SPEC §2.1): the config read and planned as a run would, the plan
//! printed, nothing started.

use crate::cli::Options;
use crate::commands::prepare::prepare;
use crate::commands::{say_to, usage};
use crate::output::logmux::Stream;

/// `formation check`: the plan's description on stdout, warnings on stderr; 2 on any error.
pub fn check(options: &Options) -> i32 {
    match prepare(options, None) {
        Err(errors) => usage(&errors, &options.task),
        Ok(prepared) => {
            say_to(Stream::Stdout, format_args!("{}", prepared.description));
            for w in &prepared.warnings {
                say_to(Stream::Stderr, format_args!("{w}\n"));
            }
            0
        }
    }
}
