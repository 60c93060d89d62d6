//! Env values from files (SPEC §3.4) before anything starts: which files the instances to run
//! will read, each with the place that names it, and the check that each can be read — so a
//! missing secret is a config error with file:line:col at start, not only a failed spawn
//! later. Pure: the read is passed in (`os::secret::read`).

use crate::config::model::{Formation, Place, Var, VarValue, dir_of};
use std::ffi::OsString;
use std::path::Path;

/// Every variable from a file that some instance will get: for each type with a scale above
/// 0, its own `env`'s and the `[env]` ones its `env` does not override. Each once, `[env]`'s
/// first, then in config order. A type scaled to 0 reads nothing: a container exported as
/// `-m worker=1,all=0` need not hold `web`'s secrets.
pub fn needed<'a>(formation: &'a Formation, scales: &[u32]) -> Vec<&'a Var> {
    let is_file = |v: &&Var| matches!(v.value, VarValue::File(_));
    let running = || {
        formation
            .types
            .iter()
            .zip(scales)
            .filter(|(_, s)| **s > 0)
            .map(|(t, _)| t)
    };
    let common = formation
        .env
        .iter()
        .filter(is_file)
        .filter(|v| running().any(|t| !t.env.iter().any(|o| o.name == v.name)));
    let own = running().flat_map(|t| t.env.iter().filter(is_file));
    common.chain(own).collect()
}

/// Makes every relative file of `formation` absolute against `dir` (the config's directory,
/// absolute): formation leaves its cwd once the children are spawned (SPEC §1.1), and a
/// restart reads the file again.
pub fn anchor(formation: &mut Formation, dir: &Path) {
    let vars = formation
        .env
        .iter_mut()
        .chain(formation.types.iter_mut().flat_map(|t| t.env.iter_mut()));
    for v in vars {
        if let VarValue::File(path) = &mut v.value
            && path.is_relative()
        {
            // `components` drops the `.` of a config found in the working directory.
            *path = dir.join(&*path).components().collect();
        }
    }
}

/// Each file of [`needed`] that `read` cannot read: the place that names it, and why (the
/// variable's name and the reader's error, which names the file).
pub fn check<'a>(
    formation: &'a Formation,
    scales: &[u32],
    read: &dyn Fn(&Path) -> Result<OsString, String>,
) -> Vec<(&'a Place, String)> {
    let dir = dir_of(&formation.path);
    needed(formation, scales)
        .into_iter()
        .filter_map(|v| match &v.value {
            VarValue::File(path) => read(&dir.join(path))
                .err()
                .map(|e| (&v.place, format!("{}: {e}", v.name))),
            VarValue::Text(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::{CommandLine, Place, ProcessType};
    use std::path::PathBuf;

    fn place(line: usize) -> Place {
        Place {
            file: "app/formation.toml".into(),
            line,
            col: 1,
        }
    }

    fn file(name: &str, path: &str, line: usize) -> Var {
        Var {
            name: name.into(),
            value: VarValue::File(path.into()),
            place: place(line),
        }
    }

    fn formation() -> Formation {
        let t = |name: &str, line| {
            ProcessType::new(name.into(), place(line), CommandLine::from_text("x"))
        };
        let mut web = t("web", 10);
        web.env = vec![file("API_KEY", "/run/secrets/api", 12)];
        let mut worker = t("worker", 20);
        // worker's own DB_PASSWORD overrides [env]'s.
        worker.env = vec![Var::text("DB_PASSWORD", "dev", place(22))];
        Formation {
            path: "app/formation.toml".into(),
            grace: None,
            env_files: None,
            env: vec![
                file("DB_PASSWORD", "/run/secrets/db", 3),
                file("TOKEN", "token.txt", 4),
                Var::text("PLAIN", "1", place(5)),
            ],
            types: vec![web, worker],
            listen: None,
        }
    }

    fn names(vars: Vec<&Var>) -> Vec<&str> {
        vars.into_iter().map(|v| v.name.as_str()).collect()
    }

    #[test]
    fn only_what_a_running_type_reads() {
        let f = formation();
        let table: [(&[u32], &[&str]); 4] = [
            (&[1, 1], &["DB_PASSWORD", "TOKEN", "API_KEY"]),
            (&[0, 1], &["TOKEN"]),
            (&[1, 0], &["DB_PASSWORD", "TOKEN", "API_KEY"]),
            (&[0, 0], &[]),
        ];
        for (scales, want) in table {
            assert_eq!(names(needed(&f, scales)), want, "{scales:?}");
        }
    }

    #[test]
    fn each_unreadable_file_at_its_place_and_never_its_value() {
        let mut f = formation();
        anchor(&mut f, Path::new("/srv/app/."));
        let read = |p: &Path| -> Result<OsString, String> {
            if p == Path::new("/run/secrets/db") {
                Ok("s3cret".into())
            } else {
                Err(format!(
                    "{}: cannot read: no such file or directory",
                    p.display()
                ))
            }
        };
        let got: Vec<String> = check(&f, &[1, 1], &read)
            .into_iter()
            .map(|(place, why)| format!("{place}: {why}"))
            .collect();
        assert_eq!(
            got,
            [
                "app/formation.toml:4:1: TOKEN: /srv/app/token.txt: cannot read: no such file or directory",
                "app/formation.toml:12:1: API_KEY: /run/secrets/api: cannot read: no such file or directory",
            ]
        );
        let paths: Vec<PathBuf> = f
            .env
            .iter()
            .filter_map(|v| match &v.value {
                VarValue::File(p) => Some(p.clone()),
                VarValue::Text(_) => None,
            })
            .collect();
        assert_eq!(
            paths,
            [
                PathBuf::from("/run/secrets/db"),
                "/srv/app/token.txt".into()
            ],
            "a relative file is anchored at the config's directory"
        );
    }
}
