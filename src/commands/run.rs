//! `formation run` (SPEC §2.1): one command with a formation's environment, supervised as
//! single-command mode supervises its command (`commands::supervise::single`).

use crate::cli::Options;
use crate::commands::prepare::prepare;
use crate::commands::supervise::{inherit, single};
use crate::commands::usage;
use crate::plan;
use std::ffi::OsString;

/// `formation run TYPE [ARGS]`: TYPE's first instance, with `ARGS` appended.
pub fn run_type(options: &Options, name: &str, args: &[OsString]) -> i32 {
    match prepare(options, Some(name)) {
        Ok(p) => {
            match plan::run::run_type(&p.blueprint.formation, &p.instances, name, args, inherit()) {
                Ok(instance) => single(options, instance),
                Err(e) => usage(&[format!("formation: {e}")], &options.task),
            }
        }
        Err(errors) => usage(&errors, &options.task),
    }
}

/// `formation run -- CMD`: CMD with the formation's environment.
pub fn run_command(options: &Options, argv: &[OsString]) -> i32 {
    match prepare(options, None) {
        Ok(p) => {
            let inherited: Vec<_> = std::env::vars_os().collect();
            let instance = plan::run::run_command(
                &p.blueprint.formation,
                argv.to_vec(),
                &inherited,
                &p.blueprint.file_vars,
                p.grace,
                inherit(),
            );
            single(options, instance)
        }
        Err(errors) => usage(&errors, &options.task),
    }
}
