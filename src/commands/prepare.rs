//! Everything that can fail before a process starts (SPEC §1.2, §3, §3.4): the config found
//! and read, the env files, `-m`, the instances planned and linked into a graph, and
//! `check`'s description — every error of one run at once, as printable lines.

use crate::cli::{ConfigFile, Options};
use crate::config::load;
use crate::config::names::Level;
use crate::plan::blueprint::Blueprint;
use crate::plan::{self, Instance};
use std::path::Path;

/// A formation ready to run, and `check`'s description of it.
pub struct Prepared {
    /// The config, the env files' variables (for `run`) and all else the instances are
    /// planned from, for a `scale` or a `reload` later.
    pub blueprint: Blueprint,
    /// Lines for the start of a run (a dependency scaled to 0 that drops out), each with its
    /// level: `debug` for one scaled to 0 by `all=0` (SPEC §8: in an exported container it
    /// runs elsewhere), else `info` (SPEC §4.2).
    pub notes: Vec<(Level, String)>,
    pub instances: Vec<Instance>,
    pub grace: std::time::Duration,
    pub description: String,
    /// What `check` notices that would make a spawn fail here (missing cwd, no /bin/sh).
    pub warnings: Vec<String>,
}

/// Everything that can fail before a process starts: every error of the config, the env
/// files and `-m` in one pass (SPEC §3.4), as printable lines.
pub fn prepare(options: &Options, one: Option<&str>) -> Result<Prepared, Vec<String>> {
    let dir =
        std::env::current_dir().map_err(|e| vec![format!("formation: current directory: {e}")])?;
    let file = load::discover(options.config.clone(), &dir)
        .map_err(|e| vec![format!("formation: {e}")])?;
    let (formation, mut errors) = load::formation(&file);
    let (ConfigFile::Toml(path) | ConfigFile::Procfile(path)) = &file;
    let named = formation.as_ref().and_then(|f| f.env_files.as_deref());
    let (file_vars, env_errors) = load::env_files(path, named, &options.env_files);
    errors.extend(env_errors);
    // `run TYPE` and `probe TYPE` need TYPE's first instance, whatever its scale.
    let spec = match (options.formation.as_deref(), one) {
        (Some(spec), Some(t)) => Some(format!("{spec},{t}=1")),
        (None, Some(t)) => Some(format!("{t}=1")),
        (spec, None) => spec.map(String::from),
    };
    let spec = spec.as_deref();
    let scales = match &formation {
        Some(f) => plan::scales(f, spec).map(Some),
        // Without the types, `-m` can still be checked for its form.
        None => spec
            .map_or(Ok(()), |s| plan::parse_scale(s).map(drop))
            .map(|()| None),
    };
    let scales = scales
        .map_err(|e| errors.push(format!("formation: {e}")))
        .ok()
        .flatten();
    let (Some(mut formation), Some(scales)) = (formation, scales) else {
        return Err(errors);
    };
    plan::secrets::anchor(
        &mut formation,
        &dir.join(crate::config::model::dir_of(path)),
    );
    // A missing secret is an error at start; `check` may run where the secrets are not
    // mounted (a CI runner, a developer's machine): there it is a warning, as a missing cwd.
    // `run TYPE` and `probe TYPE` start TYPE alone: only its files must be there (an
    // exported Job or healthcheck has only its own type's secrets mounted).
    let running: Vec<u32> = match one {
        Some(name) => formation
            .types
            .iter()
            .map(|t| u32::from(t.name == name))
            .collect(),
        None => scales.clone(),
    };
    let mut secret_warnings = Vec::new();
    for (place, why) in plan::secrets::check(&formation, &running, &crate::os::secret::read) {
        if options.task == crate::cli::Task::Check {
            secret_warnings.push(format!("{place}: warning: {why}"));
        } else {
            errors.push(format!("{place}: {why}"));
        }
    }
    let grace = plan::default_grace(options.grace, Some(&formation));
    let inherited: Vec<_> = std::env::vars_os().collect();
    let me = (nix::unistd::geteuid(), nix::unistd::getegid());
    let blueprint = Blueprint::new(
        formation,
        scales,
        grace,
        inherited,
        file_vars,
        dir.clone(),
        me,
    );
    let instances = blueprint.all().unwrap_or_else(|e| {
        errors.extend(e);
        Vec::new()
    });
    if !errors.is_empty() {
        return Err(errors);
    }
    let (formation, scales, deps) = (&blueprint.formation, &blueprint.scales, &blueprint.deps);
    let inherited = &blueprint.inherited;
    let elsewhere = plan::set_by_all(formation, spec);
    let notes: Vec<(Level, String)> = blueprint
        .notes
        .iter()
        .map(|(dep, note)| {
            let level = if elsewhere.get(*dep).copied().unwrap_or(false) {
                Level::Debug
            } else {
                Level::Info
            };
            (level, note.clone())
        })
        .collect();
    let mut description = plan::describe(formation, scales, &instances, inherited);
    for (_, note) in &notes {
        description.push_str(&format!("\nnote: {note}\n"));
    }
    let graces: Vec<std::time::Duration> = formation
        .types
        .iter()
        .map(|t| t.grace.unwrap_or(grace))
        .collect();
    let now = crate::os::clock::wall_ms().div_euclid(1000);
    description.push_str(&plan::link::describe(
        formation, scales, deps, &graces, grace, now,
    ));
    let host = plan::Host {
        is_dir: &Path::is_dir,
        is_file: &Path::is_file,
        is_executable: &crate::os::host::is_executable,
        can_switch_user: crate::os::host::can_switch_user(),
        fd_limit: crate::os::host::fd_limit(),
    };
    let mut warnings = plan::warnings(formation, scales, &instances, &host);
    warnings.extend(secret_warnings);
    Ok(Prepared {
        instances,
        grace,
        description,
        warnings,
        notes,
        blueprint,
    })
}
