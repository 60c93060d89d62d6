//! Everything that can fail before a process starts (SPEC §1.2, §3, §3.4): the config found
//! and read, the env files, `-m`, the instances planned and linked into a graph, and
//! `check`'s description — every error of one run at once, as printable lines.

use crate::cli::{ConfigFile, Options};
use crate::config::{self, load};
use crate::plan::{self, Instance};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// A formation ready to run, and `check`'s description of it.
pub struct Prepared {
    /// The config, for `run`.
    pub formation: config::model::Formation,
    /// The env files' variables, for `run -- CMD`.
    pub file_vars: Vec<config::model::Var>,
    /// Lines for the start of a run (a dependency scaled to 0 that drops out).
    pub notes: Vec<String>,
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
    let (Some(formation), Some(scales)) = (formation, scales) else {
        return Err(errors);
    };
    let grace = plan::default_grace(options.grace, Some(&formation));
    let inherited: Vec<_> = std::env::vars_os().collect();
    let mut instances = plan::instances(&formation, &scales, grace, &inherited, &file_vars)
        .unwrap_or_else(|e| {
            errors.extend(e);
            Vec::new()
        });
    if !errors.is_empty() {
        return Err(errors);
    }
    let me = (nix::unistd::geteuid(), nix::unistd::getegid());
    keep_own_credentials(&mut instances, me);
    absolute_cwds(&mut instances, &dir);
    let (deps, notes) = plan::link::deps(&formation, &scales);
    plan::link::link(&formation, &deps, &mut instances);
    let mut description = plan::describe(&formation, &scales, &instances, &inherited);
    for note in &notes {
        description.push_str(&format!("\nnote: {note}\n"));
    }
    let graces: Vec<std::time::Duration> = formation
        .types
        .iter()
        .map(|t| t.grace.unwrap_or(grace))
        .collect();
    let now = crate::os::clock::wall_ms().div_euclid(1000);
    description.push_str(&plan::link::describe(
        &formation, &scales, &deps, &graces, grace, now,
    ));
    let warnings = plan::warnings(
        &formation,
        &scales,
        &instances,
        &Path::is_dir,
        &Path::is_file,
    );
    Ok(Prepared {
        instances,
        grace,
        description,
        warnings,
        notes,
        formation,
        file_vars,
    })
}

/// Makes every instance's cwd absolute against `dir` (ours): formation leaves its own cwd once
/// the children are spawned (SPEC §1.1), and a restart must still find `-c app/formation.toml`'s
/// directory. `.` components go (`./` → `dir` itself).
fn absolute_cwds(instances: &mut [Instance], dir: &Path) {
    // The instances of a type share their cwd and come one after another: each shared one is
    // resolved once, and stays shared.
    let mut last: Option<(Rc<Path>, Rc<Path>)> = None;
    for cwd in instances.iter_mut().filter_map(|i| i.cwd.as_mut()) {
        if cwd.is_relative() {
            let resolved = match &last {
                Some((from, to)) if Rc::ptr_eq(from, cwd) => to.clone(),
                _ => {
                    let to: Rc<Path> = dir.join(&**cwd).components().collect::<PathBuf>().into();
                    last = Some((cwd.clone(), to.clone()));
                    to
                }
            };
            *cwd = resolved;
        }
    }
}

/// An instance whose `user` is the one formation already runs as keeps our credentials:
/// not being root, we could not call setgroups even to set what we have, and Kubernetes'
/// `runAsUser` (or `docker run --user` with a config that names the same user) would fail
/// every spawn. As root, the switch is made as written (it sets the groups exactly).
fn keep_own_credentials(
    instances: &mut [Instance],
    (euid, egid): (nix::unistd::Uid, nix::unistd::Gid),
) {
    if euid.is_root() {
        return;
    }
    for i in instances {
        if i.user
            .as_ref()
            .is_some_and(|u| u.uid == euid && u.gid == egid)
        {
            i.user = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cwd_is_made_absolute() {
        let table = [
            (Some("."), Some("/srv/app")),
            (Some("./web"), Some("/srv/app/web")),
            (Some("conf/.."), Some("/srv/app/conf/..")),
            (Some("/data"), Some("/data")),
            (None, None),
        ];
        for (cwd, want) in table {
            let mut all = [instance(None)];
            all[0].cwd = cwd.map(|c| Path::new(c).into());
            absolute_cwds(&mut all, Path::new("/srv/app"));
            assert_eq!(all[0].cwd.as_deref(), want.map(Path::new), "{cwd:?}");
        }
    }

    #[test]
    fn instances_sharing_a_cwd_keep_sharing_it_and_each_type_gets_its_own() {
        let web: Rc<Path> = Path::new("web").into();
        let worker: Rc<Path> = Path::new("worker").into();
        let mut all = [
            instance(None),
            instance(None),
            instance(None),
            instance(None),
        ];
        for (i, cwd) in all.iter_mut().zip([&web, &web, &worker, &web]) {
            i.cwd = Some(cwd.clone());
        }
        absolute_cwds(&mut all, Path::new("/srv"));
        let got: Vec<_> = all.iter().map(|i| i.cwd.as_deref()).collect();
        let want = ["/srv/web", "/srv/web", "/srv/worker", "/srv/web"].map(|p| Some(Path::new(p)));
        assert_eq!(got, want);
        let [a, b, ..] = &all;
        assert!(
            Rc::ptr_eq(a.cwd.as_ref().unwrap(), b.cwd.as_ref().unwrap()),
            "still one copy"
        );
    }

    use config::users::Credentials;
    use nix::unistd::{Gid, Uid};

    fn instance(user: Option<(u32, u32)>) -> Instance {
        Instance {
            user: user.map(|(uid, gid)| {
                Box::new(Credentials {
                    uid: Uid::from_raw(uid),
                    gid: Gid::from_raw(gid),
                    groups: vec![Gid::from_raw(10)],
                    home: "/home/app".into(),
                })
            }),
            ..Instance::new(
                "web.1".into(),
                vec!["x".into()],
                plan::DEFAULT_GRACE,
                plan::StdioMode::Piped,
            )
        }
    }

    #[test]
    fn naming_the_user_we_run_as_needs_no_switch() {
        // (our uid, gid), the instance's user, whether a switch is still made.
        let table = [
            ((1000, 1000), Some((1000, 1000)), false),
            ((1000, 1000), Some((1000, 0)), true),
            ((1000, 1000), Some((1001, 1000)), true),
            ((0, 0), Some((0, 0)), true),
            ((0, 0), Some((1000, 1000)), true),
            ((1000, 1000), None, false),
        ];
        for ((uid, gid), user, switch) in table {
            let mut all = [instance(user)];
            keep_own_credentials(&mut all, (Uid::from_raw(uid), Gid::from_raw(gid)));
            assert_eq!(all[0].user.is_some(), switch, "{uid}:{gid} {user:?}");
        }
    }
}
