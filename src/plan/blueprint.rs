//! A formation and the options it was started with, kept so that instances can be planned
//! again later: a `scale` up needs the instances of new indexes (their `PORT`, SPEC §3.3), and a
//! `reload` compares two blueprints (SPEC §10).
//!
//! Pure: our own environment, the env files' variables, our working directory at the start
//! and our credentials are data passed in; nothing here reads the host.

use super::{Instance, link};
use crate::config::model::{Formation, Var};
use nix::unistd::{Gid, Uid};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

/// Everything the instances of a formation are planned from.
#[derive(Debug)]
pub struct Blueprint {
    /// The config as read.
    pub formation: Formation,
    /// Each type's scale after `-m`/`FORMATION`.
    pub scales: Vec<u32>,
    /// The default grace.
    pub grace: Duration,
    /// Our own environment at the start.
    pub inherited: Vec<(OsString, OsString)>,
    /// The env files' variables.
    pub file_vars: Vec<Var>,
    /// Our working directory at the start: relative `cwd`s are resolved against it.
    pub dir: PathBuf,
    /// Who formation runs as: a `user` naming it needs no switch.
    pub me: (Uid, Gid),
    /// Per type: the types it starts after (types scaled to 0 dropped), and their notes (with
    /// the dropped type's index).
    pub deps: Vec<Vec<usize>>,
    pub notes: Vec<(usize, String)>,
}

impl Blueprint {
    /// A blueprint of `formation` at `scales`.
    pub fn new(
        formation: Formation,
        scales: Vec<u32>,
        grace: Duration,
        inherited: Vec<(OsString, OsString)>,
        file_vars: Vec<Var>,
        dir: PathBuf,
        me: (Uid, Gid),
    ) -> Blueprint {
        let (deps, notes) = link::deps(&formation, &scales);
        Blueprint {
            formation,
            scales,
            grace,
            inherited,
            file_vars,
            dir,
            me,
            deps,
            notes,
        }
    }

    /// The names of the types, in config order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.formation.types.iter().map(|t| t.name.as_str())
    }

    /// Every instance at the blueprint's scales.
    pub fn all(&self) -> Result<Vec<Instance>, Vec<String>> {
        self.plan(&self.scales, |_| true)
    }

    /// The instances `from..=to` (1-based) of type `t`.
    pub fn instances(&self, t: usize, from: u32, to: u32) -> Result<Vec<Instance>, Vec<String>> {
        let mut scales = vec![0; self.scales.len()];
        scales[t] = to;
        let first = from.max(1) as usize - 1;
        let mut n = 0;
        self.plan(&scales, |_| {
            n += 1;
            n > first
        })
    }

    fn plan(
        &self,
        scales: &[u32],
        keep: impl FnMut(&Instance) -> bool,
    ) -> Result<Vec<Instance>, Vec<String>> {
        let f = &self.formation;
        let mut instances =
            super::instances(f, scales, self.grace, &self.inherited, &self.file_vars)?;
        instances.retain(keep);
        keep_own_credentials(&mut instances, self.me);
        absolute_cwds(&mut instances, &self.dir);
        link::link(f, &self.deps, &mut instances);
        Ok(instances)
    }
}

/// Makes every instance's cwd absolute against `dir` (ours): formation leaves its own cwd once
/// the children are spawned (SPEC §1.1), and a restart must still find `-c app/formation.toml`'s
/// directory. `.` components go (`./` → `dir` itself).
pub fn absolute_cwds(instances: &mut [Instance], dir: &Path) {
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
pub fn keep_own_credentials(instances: &mut [Instance], (euid, egid): (Uid, Gid)) {
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

/// A blueprint of a formation.toml text at `/srv/formation.toml`, for tests: users cannot
/// be looked up, `PATH` is the only inherited variable, and we run as root.
#[cfg(test)]
pub fn from_toml(toml: &str) -> Blueprint {
    let path = Path::new("/srv/formation.toml");
    let parsed = crate::config::schema::parse(path, toml, &|_| Err("no users".into()));
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let formation = parsed.formation.expect("a formation");
    let scales = formation.types.iter().map(|t| t.scale).collect();
    let me = (Uid::from_raw(0), Gid::from_raw(0));
    let inherited = vec![("PATH".into(), "/bin".into())];
    let grace = Duration::from_secs(1);
    Blueprint::new(
        formation,
        scales,
        grace,
        inherited,
        Vec::new(),
        "/srv".into(),
        me,
    )
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

    use crate::config::users::Credentials;
    use crate::plan;

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
