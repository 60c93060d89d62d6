//! Tests of the command line.

use super::*;

fn run(args: &[&str], env: &[(&str, &str)]) -> Result<Options, String> {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    parse(args.iter().map(OsString::from), move |name| {
        env.iter().find(|(k, _)| k == name).map(|(_, v)| v.into())
    })
}

#[test]
fn single_command_keeps_argv_verbatim() {
    let o = run(&["-t", "2s", "--", "sh", "-c", "--", "", "-x"], &[]).expect("parses");
    let argv: Vec<OsString> = ["sh", "-c", "--", "", "-x"]
        .iter()
        .map(OsString::from)
        .collect();
    assert_eq!(o.task, Task::Single(argv));
    assert_eq!(o.grace, Some(Duration::from_secs(2)));
}

#[test]
fn formation_mode_options() {
    let o = run(
        &[
            "-c",
            "f.toml",
            "--formation=web=2",
            "-e",
            "a",
            "-e",
            "b",
            "--timestamps",
        ],
        &[],
    )
    .expect("parses");
    assert_eq!(o.task, Task::Run);
    assert_eq!(o.config, Some(ConfigFile::Toml("f.toml".into())));
    assert_eq!(o.formation.as_deref(), Some("web=2"));
    assert_eq!(o.env_files, [PathBuf::from("a"), PathBuf::from("b")]);
    assert!(o.timestamps);
    assert_eq!(
        run(&["check", "-f", "Procfile"], &[]).expect("parses").task,
        Task::Check
    );
}

#[test]
fn flags_beat_their_variables() {
    let env = [
        ("FORMATION_GRACE", "9s"),
        ("FORMATION", "w=3"),
        ("FORMATION_CONFIG", "x/Procfile.dev"),
        ("FORMATION_LOG_FORMAT", "json"),
        ("FORMATION_LOG", "debug"),
    ];
    let o = run(&[], &env).expect("parses");
    assert_eq!(o.grace, Some(Duration::from_secs(9)));
    assert_eq!(o.formation.as_deref(), Some("w=3"));
    assert_eq!(
        o.config,
        Some(ConfigFile::Procfile("x/Procfile.dev".into()))
    );
    assert_eq!(o.log_format, LogFormat::Json);
    assert_eq!(o.log_level, Some(Level::Debug));
    let o = run(&["-t", "1s", "-m", "w=1", "--log-format", "text"], &env).expect("parses");
    assert_eq!(o.grace, Some(Duration::from_secs(1)));
    assert_eq!(o.formation.as_deref(), Some("w=1"));
    assert_eq!(o.log_format, LogFormat::Text);
    let o = run(&[], &[("FORMATION_CONFIG", "app.toml")]).expect("parses");
    assert_eq!(o.config, Some(ConfigFile::Toml("app.toml".into())));
}

#[test]
fn color_and_no_color() {
    assert_eq!(run(&[], &[]).expect("parses").color, Color::Auto);
    assert_eq!(
        run(&[], &[("NO_COLOR", "1")]).expect("parses").color,
        Color::Never
    );
    assert_eq!(
        run(&[], &[("NO_COLOR", "")]).expect("parses").color,
        Color::Auto
    );
    let o = run(&["--color", "always"], &[("NO_COLOR", "1")]).expect("parses");
    assert_eq!(o.color, Color::Always);
}

#[test]
fn usage_errors() {
    for args in [
        &["--"][..],
        &["-c", "a.toml", "-f", "Procfile"],
        &["-t"],
        &["-t", "soon"],
        &["--bogus"],
        &["check", "sleep"],
        &["check", "check"],
        &["-c", "a.toml", "sleep", "1"],
        &["-mweb=2", "true"],
        &["--timestamps=yes"],
        &["-hx"],
        &["-"],
        &["-m"],
        &["--color", "sometimes"],
        &["-c", "a.toml", "--", "true"],
        &["check", "--", "true"],
    ] {
        assert!(run(args, &[]).is_err(), "{args:?}");
    }
    assert!(run(&[], &[("FORMATION_GRACE", "later")]).is_err());
    assert!(run(&[], &[("FORMATION_LOG", "chatty")]).is_err());
}

#[test]
fn rewrites_repeat_in_both_modes_and_the_last_rule_wins() {
    use nix::sys::signal::Signal::*;
    let o = run(
        &[
            "-r",
            "15:3",
            "--rewrite=WINCH:0",
            "-rHUP:USR1",
            "-r=HUP:USR2",
            "--",
            "sh",
        ],
        &[],
    )
    .expect("parses");
    assert_eq!(o.rewrites.apply(SIGTERM), Some(SIGQUIT));
    assert_eq!(o.rewrites.apply(SIGWINCH), None);
    assert_eq!(o.rewrites.apply(SIGHUP), Some(SIGUSR2));
    assert_eq!(o.rewrites.apply(SIGINT), Some(SIGINT));
    let o = run(&["-c", "f.toml", "-r", "TERM:QUIT"], &[]).expect("parses");
    assert_eq!(o.rewrites.to_string(), "TERM:QUIT");
    assert!(run(&[], &[]).expect("parses").rewrites.is_identity());
    let table = [
        (&["-r"][..], "-r needs a value"),
        (&["-r", "15"], "-r: \"15\" is not of the form SRC:DST"),
        (
            &["--rewrite", "TERM:NOPE"],
            "--rewrite: \"NOPE\" is not a signal",
        ),
        (&["-r", "9:1"], "-r: SIGKILL cannot be rewritten"),
        (&["-r", "CHLD:1"], "-r: SIGCHLD cannot be rewritten"),
    ];
    for (args, want) in table {
        let err = run(args, &[]).expect_err("a usage error");
        assert!(err.starts_with(want), "{args:?}: {err}");
    }
}

#[test]
fn values_may_be_attached() {
    let table: [&[&str]; 4] = [
        &["-mweb=2", "-t5s", "-cf.toml", "-e.env", "-e", "b.env"],
        &["-m=web=2", "-t=5s", "-c=f.toml", "-e=.env", "-eb.env"],
        &[
            "--formation=web=2",
            "--grace=5s",
            "--config=f.toml",
            "--env-file=.env",
            "--env-file",
            "b.env",
        ],
        &[
            "-m", "web=2", "-t", "5s", "-c", "f.toml", "-e", ".env", "-e", "b.env",
        ],
    ];
    for args in table {
        let o = run(args, &[]).expect("parses");
        assert_eq!(o.formation.as_deref(), Some("web=2"), "{args:?}");
        assert_eq!(o.grace, Some(Duration::from_secs(5)), "{args:?}");
        assert_eq!(
            o.config,
            Some(ConfigFile::Toml("f.toml".into())),
            "{args:?}"
        );
        assert_eq!(
            o.env_files,
            [PathBuf::from(".env"), PathBuf::from("b.env")],
            "{args:?}"
        );
    }
    let o = run(&["-fProcfile.dev"], &[]).expect("parses");
    assert_eq!(o.config, Some(ConfigFile::Procfile("Procfile.dev".into())));
}

#[test]
fn repeated_formation_specs_merge_and_the_last_wins() {
    let o = run(
        &["-m", "web=2,worker=1", "-mworker=3", "--formation=all=0"],
        &[("FORMATION", "web=9")],
    )
    .expect("parses");
    assert_eq!(
        o.formation.as_deref(),
        Some("web=2,worker=1,worker=3,all=0")
    );
    let scales =
        crate::plan::parse_scale(o.formation.as_deref().unwrap_or_default()).expect("valid spec");
    let last = |name: &str| {
        scales
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, c)| *c)
    };
    assert_eq!(
        (last("web"), last("worker"), last("all")),
        (Some(2), Some(3), Some(0))
    );
}

#[test]
fn a_command_without_dashes_runs_as_after_them() {
    let argv = |w: &[&str]| Task::Single(w.iter().map(OsString::from).collect());
    let table: [(&[&str], Task); 6] = [
        (
            &["bin/rails", "db:migrate"],
            argv(&["bin/rails", "db:migrate"]),
        ),
        (
            &["-t", "2s", "sleep", "-t", "1"],
            argv(&["sleep", "-t", "1"]),
        ),
        (&["--", "check"], argv(&["check"])),
        (&["check"], Task::Check),
        (&["--color", "never", "check", "-c", "f.toml"], Task::Check),
        (&["sh", "--", "-c"], argv(&["sh", "--", "-c"])),
    ];
    for (args, want) in table {
        assert_eq!(run(args, &[]).expect("parses").task, want, "{args:?}");
    }
    let names: Vec<&str> = SUBCOMMANDS.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        ["check", "run", "probe", "status", "export"],
        "only implemented subcommands are listed"
    );
    let o = run(&["-t", "2s", "sleep", "-t", "1"], &[]).expect("parses");
    assert_eq!(
        o.grace,
        Some(Duration::from_secs(2)),
        "options before CMD are ours"
    );
}

#[test]
fn attached_values_keep_their_bytes() {
    use std::os::unix::ffi::OsStrExt;
    let arg = OsStr::from_bytes(b"-c\xffx.toml");
    assert_eq!(
        split_attached(arg),
        (
            "-c".into(),
            Some(OsStr::from_bytes(b"\xffx.toml").to_os_string())
        )
    );
    assert_eq!(split_attached(OsStr::new("-t")), ("-t".into(), None));
    assert_eq!(
        split_attached(OsStr::new("--grace=")),
        ("--grace".into(), Some("".into()))
    );
}

proptest::proptest! {
    /// Any argument list is options, a subcommand or a command; it never panics, and a
    /// first word that is not an option nor a subcommand is kept verbatim as the command.
    #[test]
    fn any_arguments_parse_or_fail_cleanly(args in proptest::collection::vec("\\PC{0,8}", 0..6)) {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let parsed = run(&refs, &[]);
        if let (Ok(o), Some(first)) = (parsed, args.first())
            && !first.starts_with('-')
            && first != "check"
        {
            proptest::prop_assert_eq!(o.task, Task::Single(args.iter().map(OsString::from).collect()), "{}", first);
        }
    }
}

#[test]
fn listen_addresses_and_status() {
    let table = [
        ("9090", "0.0.0.0:9090"),
        ("127.0.0.1:9090", "127.0.0.1:9090"),
        ("[::1]:9090", "[::1]:9090"),
        ("0", "0.0.0.0:0"),
    ];
    for (text, want) in table {
        assert_eq!(
            parse_listen(text).map(|a| a.to_string()),
            Ok(want.into()),
            "{text}"
        );
    }
    for bad in ["", "localhost:9090", "65536", "1.2.3.4", ":9090", "[::1]"] {
        assert!(parse_listen(bad).is_err(), "{bad}");
    }
    let o = run(&["--listen", "127.0.0.1:1"], &[("FORMATION_LISTEN", "2")]).expect("parses");
    assert_eq!(
        o.listen,
        parse_listen("127.0.0.1:1").ok(),
        "the flag beats the variable"
    );
    let o = run(&[], &[("FORMATION_LISTEN", "2")]).expect("parses");
    assert_eq!(o.listen, parse_listen("0.0.0.0:2").ok());
    assert!(run(&[], &[("FORMATION_LISTEN", "nope")]).is_err());
    let o = run(&["status", "--json"], &[]).expect("parses");
    assert_eq!((o.task, o.json), (Task::Status, true));
    assert!(run(&["--json"], &[]).is_err(), "--json only with status");
    assert!(run(&["status", "check"], &[]).is_err());
}

#[test]
fn export_and_its_options() {
    let o = run(
        &[
            "export",
            "compose",
            "-c",
            "f.toml",
            "--image",
            "app:1",
            "-o",
            "out.yaml",
            "--config-in-image",
            "/app/f.toml",
        ],
        &[],
    )
    .expect("parses");
    let want = Export {
        target: Some(crate::export::Target::Compose),
        image: Some("app:1".into()),
        entrypoint: "/formation".into(),
        output: Some("out.yaml".into()),
        config_in_image: Some("/app/f.toml".into()),
    };
    assert_eq!(o.task, Task::Export(want));
    assert_eq!(o.config, Some(ConfigFile::Toml("f.toml".into())));
    let o = run(
        &["-m", "web=2", "export", "fly", "--entrypoint=/bin/f"],
        &[],
    )
    .expect("fly");
    let Task::Export(e) = o.task else {
        panic!("not export: {:?}", o.task)
    };
    assert_eq!((e.image, e.entrypoint.as_str()), (None, "/bin/f"));
    assert_eq!(o.formation.as_deref(), Some("web=2"));
    for args in [
        &["export"][..],
        &["export", "nomad", "--image", "x"],
        &["export", "compose"],
        &["export", "kubernetes", "-c", "f.toml"],
        &["export", "fly", "--image", "x"],
        &["export", "fly", "-t", "3s"],
        &["export", "fly", "--", "true"],
        &["--image", "x"],
        &["check", "-o", "x"],
    ] {
        assert!(run(args, &[]).is_err(), "{args:?}");
    }
}

#[test]
fn help_and_version() {
    assert_eq!(
        run(&["--help", "--bogus"], &[]).expect("parses").task,
        Task::Help
    );
    assert_eq!(run(&["-V"], &[]).expect("parses").task, Task::Version);
}

#[test]
fn control_commands_keep_their_words_and_the_socket_is_a_switch() {
    let o = run(&["restart", "web", "--wait", "--timeout", "5s"], &[]).expect("parses");
    let words = ["restart", "web", "--wait", "--timeout", "5s"].map(String::from);
    assert_eq!(o.task, Task::Control(words.to_vec()));
    for name in ["stop", "start", "scale", "signal", "reload"] {
        let o = run(&[name, "-c", "x"], &[]).expect("parses");
        assert_eq!(
            o.task,
            Task::Control(vec![name.into(), "-c".into(), "x".into()])
        );
    }
    // `--` still runs a program of that name.
    let o = run(&["--", "restart"], &[]).expect("parses");
    assert_eq!(o.task, Task::Single(vec!["restart".into()]));
    assert!(run(&[], &[]).expect("parses").control, "on by default");
    assert!(!run(&["--control", "off"], &[]).expect("parses").control);
    assert!(
        !run(&[], &[("FORMATION_CONTROL", "off")])
            .expect("parses")
            .control
    );
    assert!(
        run(&["--control=on"], &[("FORMATION_CONTROL", "off")])
            .expect("parses")
            .control,
        "the flag beats its variable"
    );
    let e = run(&["--control", "maybe"], &[]).expect_err("refused");
    assert!(e.contains("on or off"), "{e}");
}
