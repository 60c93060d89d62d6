//! `formation run` (SPEC §2.1): one instance of a type, or any command, with single-command
//! semantics and the formation's environment — `foreman run` / `heroku run`. The instance is
//! data like any other; single-command mode runs it.

use super::{Instance, StdioMode};
use crate::config::model::{Formation, Var};
use std::ffi::OsString;
use std::time::Duration;

/// `run TYPE [CMD…]`: TYPE's first instance (its environment, cwd, user and `PORT`) as
/// `TYPE.run`, running CMD instead of TYPE's command when one is given — exec'd as given, no
/// shell (SPEC §2.1: `formation run web bin/rails console`, as `foreman run` and `heroku run`
/// do; `run web -- CMD` for a CMD that starts with `-`) —, else TYPE's own command. Its
/// dependencies are not started.
pub fn run_type(
    formation: &Formation,
    instances: &[Instance],
    name: &str,
    args: &[OsString],
    stdio: StdioMode,
) -> Result<Instance, String> {
    let Some((index, t)) = formation
        .types
        .iter()
        .enumerate()
        .find(|(_, t)| t.name == name)
    else {
        let known: Vec<&str> = formation.types.iter().map(|t| t.name.as_str()).collect();
        return Err(format!(
            "{} has no process type {name:?} (it has: {})",
            formation.path.display(),
            known.join(", ")
        ));
    };
    let first = instances
        .iter()
        .find(|i| i.type_index == index)
        .ok_or_else(|| format!("{name} has no instance to take its environment from"))?;
    let run_name = format!("{name}.run");
    let cmd = match args.split_first() {
        Some((dashes, rest)) if dashes == "--" => rest,
        _ => args,
    };
    let argv: Vec<OsString> = if cmd.is_empty() {
        t.command.argv().into_iter().map(OsString::from).collect()
    } else {
        cmd.to_vec()
    };
    let env = first.env.as_ref().map(|env| env.with("PS", &run_name));
    Ok(Instance {
        env,
        cwd: first.cwd.clone(),
        user: first.user.clone(),
        stop_signal: first.stop_signal,
        ..Instance::new(run_name, argv, first.grace, stdio)
    })
}

/// `run -- CMD`: any command with the formation's common environment (env files, then our
/// own, then `[env]`), in the config's directory.
pub fn run_command(
    formation: &Formation,
    argv: Vec<OsString>,
    inherited: &[(OsString, OsString)],
    file_vars: &[Var],
    grace: Duration,
    stdio: StdioMode,
) -> Instance {
    let dir = crate::config::model::dir_of(&formation.path).to_path_buf();
    let mut env = super::env::Layers::default();
    file_vars.iter().for_each(|v| env.var(v, &dir));
    inherited
        .iter()
        .for_each(|(k, v)| env.set(k.clone(), v.clone()));
    formation.env.iter().for_each(|v| env.var(v, &dir));
    let name = argv[0].to_string_lossy().into_owned();
    Instance {
        env: Some(super::env::Env::of(env.build(), Vec::new())),
        cwd: Some(dir.into()),
        ..Instance::new(name, argv, grace, stdio)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::{CommandLine, Place, ProcessType};
    use std::ffi::OsStr;

    fn formation(command: CommandLine) -> Formation {
        let place = Place {
            file: "f".into(),
            line: 1,
            col: 1,
        };
        Formation {
            path: "/app/formation.toml".into(),
            grace: None,
            env_files: None,
            env: Vec::new(),
            types: vec![ProcessType::new("web".into(), place, command)],
            listen: None,
        }
    }

    fn web_instance() -> Instance {
        Instance {
            env: Some(crate::plan::env::Env::of(
                crate::plan::env::Shared::new(vec![("PORT".into(), "5000".into())], Vec::new()),
                vec![("PS".into(), "web.1".into())],
            )),
            cwd: Some(std::path::Path::new("/app").into()),
            ..Instance::new(
                "web.1".into(),
                vec![],
                Duration::from_secs(5),
                StdioMode::Piped,
            )
        }
    }

    /// SPEC §2.1: a CMD after TYPE runs instead of TYPE's command, exec'd as given, in TYPE's
    /// environment (`formation run web bin/rails console`, as `foreman run` and `heroku run`);
    /// `run web -- CMD` is the same; with no CMD, TYPE's own command runs.
    #[test]
    fn a_command_after_the_type_runs_instead_of_its_command() {
        let stdio = StdioMode::Inherit {
            take_terminal: false,
        };
        let args: Vec<OsString> = vec!["bin/rails".into(), "console".into()];
        let shell = formation(CommandLine::Shell("bundle exec puma -p $PORT".into()));
        let i = run_type(&shell, &[web_instance()], "web", &args, stdio).expect("known type");
        assert_eq!(*i.argv, ["bin/rails", "console"]);
        assert_eq!(i.name, "web.run");
        let env = i.env.expect("env");
        assert_eq!(env.get("PS"), Some(OsStr::new("web.run")));
        assert!(
            env.get("PORT") == Some(OsStr::new("5000")),
            "its first instance's PORT"
        );
        let dashed: Vec<OsString> = vec!["--".into(), "-x".into()];
        let argv = formation(CommandLine::Argv(vec!["bin/web".into()]));
        let i = run_type(&argv, &[web_instance()], "web", &dashed, stdio).expect("known");
        assert_eq!(*i.argv, ["-x"]);
        let i = run_type(&argv, &[web_instance()], "web", &[], stdio).expect("known");
        assert_eq!(*i.argv, ["bin/web"], "no CMD: the type's own command");
        let i = run_type(&shell, &[web_instance()], "web", &[], stdio).expect("known");
        assert_eq!(i.argv[0], "/bin/sh");
        assert!(run_type(&argv, &[], "db", &[], stdio).is_err());
    }
}
