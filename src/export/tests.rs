use super::*;

#[test]
fn app_names() {
    for (dir, want) in [
        ("examples", "examples"),
        ("My_App", "my-app"),
        ("2048-game", "game"),
        ("", "app"),
        ("---", "app"),
        ("ünïcode", "n-code"),
    ] {
        assert_eq!(app_name(dir), want, "{dir:?}");
    }
    assert_eq!(app_name(&"x".repeat(99)).len(), 40);
}

#[test]
fn shell_words() {
    assert_eq!(shell_word("web=1,all=0"), "web=1,all=0");
    assert_eq!(shell_word("a b"), "'a b'");
    assert_eq!(shell_word("it's"), "'it'\\''s'");
    assert_eq!(shell_word(""), "''");
}

#[test]
fn cron_text_is_the_schedule_as_written() {
    for (text, want) in [
        ("*/15 * * * *", "*/15 * * * *"),
        ("0 0 * * mon-fri", "0 0 * * mon-fri"),
        ("@daily", "@daily"),
        ("@every 10m", "@every 600s"),
    ] {
        let spec = ScheduleSpec {
            schedule: Schedule::parse(text).expect("parses"),
            text: text.into(),
            timezone: None,
            zone: crate::time::tz::Zone::utc(),
        };
        assert_eq!(cron_text(&spec).as_deref(), Some(want), "{text:?}");
    }
}

#[test]
fn the_config_is_named_as_the_image_finds_it() {
    let table: [(&str, bool, Option<&str>, &[&str]); 6] = [
        ("/home/me/app/formation.toml", false, None, &[]),
        ("Procfile", true, None, &[]),
        ("deploy/prod.toml", false, None, &["-c", "prod.toml"]),
        (
            "/home/me/app/Procfile.dev",
            true,
            None,
            &["-f", "Procfile.dev"],
        ),
        (
            "formation.toml",
            false,
            Some("/app/formation.toml"),
            &["-c", "/app/formation.toml"],
        ),
        (
            "x/Procfile",
            true,
            Some("conf/Procfile"),
            &["-f", "conf/Procfile"],
        ),
    ];
    for (path, procfile, given, want) in table {
        assert_eq!(
            config_in_image(Path::new(path), procfile, given),
            want,
            "{path}"
        );
    }
}

#[test]
fn targets() {
    for t in [Target::Compose, Target::Kubernetes, Target::Fly] {
        assert_eq!(Target::parse(t.name()), Some(t));
    }
    assert_eq!(Target::parse("nomad"), None);
    assert!(!Target::Fly.needs_image() && Target::Compose.needs_image());
}
