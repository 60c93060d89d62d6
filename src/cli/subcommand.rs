//! formation's own subcommands (SPEC §2.1): which words name one rather than a command to run,
//! the task each starts from, and what `export` refuses.

use super::{Export, Task};

/// A subcommand of formation (SPEC §2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Subcommand {
    /// `formation check`.
    Check,
    /// `formation run`.
    Run,
    /// `formation probe`.
    Probe,
    /// `formation status`.
    Status,
    /// `formation export`.
    Export,
}

impl Subcommand {
    pub(super) fn task(self) -> Task {
        match self {
            Subcommand::Check => Task::Check,
            Subcommand::Run => Task::RunType(String::new(), Vec::new()),
            Subcommand::Probe => Task::Probe(String::new()),
            Subcommand::Status => Task::Status,
            Subcommand::Export => Task::Export(Export {
                target: None,
                image: None,
                entrypoint: "/formation".into(),
                output: None,
                config_in_image: None,
            }),
        }
    }
}

/// The words that are formation's own subcommands rather than a command to run. Only the
/// implemented ones are listed (SPEC §2.1); `formation -- NAME` runs a program of that name.
pub(super) const SUBCOMMANDS: &[(&str, Subcommand)] = &[
    ("check", Subcommand::Check),
    ("run", Subcommand::Run),
    ("probe", Subcommand::Probe),
    ("status", Subcommand::Status),
    ("export", Subcommand::Export),
];

/// What `export` refuses: no target, `-t` (the containers use the config's grace), an image
/// where the target needs none or none where it needs one.
pub(super) fn export_rules(export: &Export, grace: bool) -> Result<(), String> {
    let Some(target) = export.target else {
        return Err("export takes a target: compose, kubernetes or fly".into());
    };
    if grace {
        return Err("export takes no -t: the containers use the config's grace".into());
    }
    match (target.needs_image(), &export.image) {
        (true, None) => Err(format!(
            "export {} needs --image IMAGE: the image that holds formation and the app",
            target.name()
        )),
        (false, Some(_)) => Err(format!(
            "export {} takes no --image: Fly builds the image from the app's Dockerfile",
            target.name()
        )),
        _ => Ok(()),
    }
}
