//! `formation run` (SPEC §2.1): one instance of a type, or any command, with single-command
//! semantics and the formation's environment — `foreman run` / `heroku run`. The instance is
//! data like any other; single-command mode runs it.

use super::{Instance, StdioMode};
use crate::config::model::{CommandLine, Formation, Var};
use std::ffi::{OsStr, OsString};
use std::time::Duration;

/// `run TYPE ARGS…`: TYPE's first instance (its environment, cwd, user and `PORT`) as
/// `TYPE.run`, with ARGS appended to its command — to an array as they are, to a string each
/// quoted for the shell. Its dependencies are not started.
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
    let argv: Vec<OsString> = match &t.command {
        CommandLine::Argv(words) => words
            .iter()
            .map(OsString::from)
            .chain(args.iter().cloned())
            .collect(),
        CommandLine::Shell(text) => {
            let mut line = OsString::from(text);
            for arg in args {
                line.push(" ");
                line.push(quote(arg));
            }
            vec!["/bin/sh".into(), "-c".into(), line]
        }
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

/// One word for `/bin/sh`, single-quoted: nothing in it is expanded.
fn quote(word: &OsStr) -> OsString {
    let text = word.to_string_lossy();
    if !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@%+".contains(&b))
    {
        return word.to_owned();
    }
    OsString::from(format!("'{}'", text.replace('\'', "'\\''")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::{Place, ProcessType};

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

    #[test]
    fn args_are_appended_as_they_are_or_quoted_for_the_shell() {
        let stdio = StdioMode::Inherit {
            take_terminal: false,
        };
        let args: Vec<OsString> = vec!["db:migrate".into(), "it's here".into()];
        let argv = CommandLine::Argv(vec!["bin/rails".into()]);
        let i =
            run_type(&formation(argv), &[web_instance()], "web", &args, stdio).expect("known type");
        assert_eq!(*i.argv, ["bin/rails", "db:migrate", "it's here"]);
        assert_eq!(i.name, "web.run");
        let env = i.env.expect("env");
        assert_eq!(env.get("PS"), Some(OsStr::new("web.run")));
        assert!(
            env.get("PORT") == Some(OsStr::new("5000")),
            "its first instance's PORT"
        );
        let shell = CommandLine::Shell("bundle exec rails $1".into());
        let i = run_type(&formation(shell), &[web_instance()], "web", &args, stdio).expect("known");
        assert_eq!(i.argv[2], "bundle exec rails $1 db:migrate 'it'\\''s here'");
        assert!(
            run_type(
                &formation(CommandLine::Argv(vec!["x".into()])),
                &[],
                "db",
                &[],
                stdio
            )
            .is_err()
        );
    }
}
