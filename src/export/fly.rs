//! The fly target: a fly.toml with one process group per process type.
//!
//! Facts it relies on: a `[processes]` entry is the command Fly appends to the image's
//! ENTRYPOINT (which must be formation), split into words as a shell would; fly.toml holds no
//! instance count (`fly scale count` sets it); `kill_timeout` is app-wide, in seconds, at
//! most 300; `[env]` is app-wide, so a type's own `env` reaches its container only through
//! formation, which reads it from the config; `[[restart]]` takes a policy per process group;
//! `[deploy] release_command` runs in a temporary machine of the new image (its command
//! appended to the ENTRYPOINT, like a process group's) before any process group is
//! updated, and a non-zero exit stops the deploy; top-level `[checks]` are tcp or http
//! checks that Fly makes against the machine's address (not 127.0.0.1), per process group.

use super::toml_text::{comment, key, string, strings};
use super::{Input, Notes, Unit, restart_word, shell_word, source, units};
use crate::config::lifecycle::CheckSpec;
use crate::config::model::Restart;
use std::fmt::Write as _;
use std::time::Duration;

/// Fly's largest `kill_timeout`, in seconds.
const MAX_KILL_TIMEOUT: u64 = 300;

/// The fly.toml.
pub fn render(input: &Input, notes: &mut Notes) -> String {
    let units = units(input);
    let mut out = String::new();
    comment(
        &mut out,
        &format!("Written by `formation export fly` from {}.", source(input)),
    );
    comment(
        &mut out,
        "Each process group runs one process type of it: formation -m TYPE=1,all=0.",
    );
    if !input.env_files.is_empty() {
        let imports: Vec<String> = input
            .env_files
            .iter()
            .map(|f| format!("fly secrets import < {}", shell_word(f)))
            .collect();
        let text = format!(
            "env files are not inlined (they hold secrets): import them with {}",
            imports.join(" && ")
        );
        comment(&mut out, &notes.add(&input.app, text));
    }
    super::secrets::relative_notes(input, notes)
        .iter()
        .chain(&super::secrets::fly_notes(
            input,
            &super::secrets::files(input),
            notes,
        ))
        .for_each(|text| comment(&mut out, text));
    let _ = writeln!(out, "app = {}", string(&input.app));
    grace(&units, notes, &mut out);
    let release = release(input, &units, notes, &mut out);
    for unit in &units {
        if let Some(note) = unit.after_note(&units, release) {
            comment(
                &mut out,
                &format!("{}: {}", unit.t.name, notes.add(&unit.t.name, note)),
            );
        }
    }
    scale(&units, &mut out);
    processes(input, &units, &mut out);
    environment(input, &mut out);
    port(input, &mut out);
    restart(&units, &mut out);
    checks(&units, notes, &mut out);
    out
}

/// The process groups: every type but the oneshots, which run to completion.
fn groups<'a>(units: &'a [Unit<'a>]) -> impl Iterator<Item = &'a Unit<'a>> {
    units.iter().filter(|u| !u.t.oneshot)
}

/// Oneshots: the Procfile's `release` is Fly's release command (Heroku's release phase,
/// which it is); any other cannot be expressed. Returns the type run as the release command.
fn release<'a>(
    input: &Input,
    units: &'a [Unit<'a>],
    notes: &mut Notes,
    out: &mut String,
) -> Option<&'a str> {
    let mut release = None;
    for unit in units.iter().filter(|u| u.t.oneshot && u.scale > 0) {
        if unit.t.name == "release" {
            release = Some(unit);
        } else {
            let text = format!(
                "a oneshot cannot be expressed (Fly has one release command, for `release`): \
                 run it with fly ssh console -C '{} {}'",
                input.entrypoint,
                words(&unit.run_args(input))
            );
            comment(
                out,
                &format!("{}: {}", unit.t.name, notes.add(&unit.t.name, text)),
            );
        }
    }
    let unit = release?;
    out.push_str("\n[deploy]\n");
    let _ = writeln!(
        out,
        "release_command = {}",
        string(&words(&unit.run_args(input)))
    );
    Some(&unit.t.name)
}

/// Arguments as one command line Fly splits back into them.
fn words(args: &[String]) -> String {
    let words: Vec<String> = args.iter().map(|a| shell_word(a)).collect();
    words.join(" ")
}

/// A type: `TYPE = "-m TYPE=1,all=0"`.
fn processes(input: &Input, units: &[Unit], out: &mut String) {
    out.push_str("\n[processes]\n");
    for unit in groups(units) {
        if unit.t.schedule.is_some() {
            comment(
                out,
                &format!(
                    "{}: scheduled; one machine runs formation's scheduler, which starts {} \
                     run(s) at each fire time",
                    unit.t.name, unit.scale
                ),
            );
        }
        let _ = writeln!(
            out,
            "{} = {}",
            key(&unit.t.name),
            string(&words(&unit.args(input)))
        );
    }
}

/// Scale: fly.toml has no count, so the command that sets it (a scheduler runs in one).
fn scale(units: &[Unit], out: &mut String) {
    let counts: Vec<String> = groups(units)
        .map(|u| {
            let n = if u.t.schedule.is_some() {
                u.scale.min(1)
            } else {
                u.scale
            };
            format!("{}={n}", u.t.name)
        })
        .collect();
    out.push('\n');
    comment(
        out,
        &format!(
            "fly.toml has no instance count: after `fly deploy`, run\n  fly scale count {}",
            counts.join(" ")
        ),
    );
}

/// `[env]` (app-wide; a type's own `env` is set by formation in its container).
fn environment(input: &Input, out: &mut String) {
    if !input.formation.env.is_empty() {
        out.push_str("\n[env]\n");
        for v in &input.formation.env {
            if let Some(text) = v.as_text() {
                let _ = writeln!(out, "{} = {}", key(&v.name), string(text));
            }
        }
    }
}

/// `web`'s `PORT` behind Fly's proxy.
fn port(input: &Input, out: &mut String) {
    if let Some(port) = input.web_port {
        out.push_str("\n[http_service]\n");
        let _ = writeln!(out, "internal_port = {port}");
        let _ = writeln!(out, "processes = {}", strings(&["web".into()]));
    }
}

/// `[[restart]]` per process group (a scheduler runs for ever, whatever its runs do).
fn restart(units: &[Unit], out: &mut String) {
    for unit in groups(units) {
        let policy = if unit.t.schedule.is_some() {
            Restart::Always
        } else {
            unit.t.restart
        };
        out.push_str("\n[[restart]]\n");
        let _ = writeln!(out, "policy = {}", string(restart_word(policy)));
        let _ = writeln!(
            out,
            "processes = {}",
            strings(std::slice::from_ref(&unit.t.name))
        );
    }
}

/// One app-wide `kill_timeout`: the largest grace plus 1 s, at most Fly's 300.
fn grace(units: &[Unit], notes: &mut Notes, out: &mut String) {
    let mut wanted = 1;
    for unit in units {
        let secs = unit.kill_after_secs();
        wanted = wanted.max(secs);
        if secs > MAX_KILL_TIMEOUT {
            let text = format!(
                "a grace over {}s cannot be expressed: Fly kills at {MAX_KILL_TIMEOUT}s",
                MAX_KILL_TIMEOUT - 1
            );
            comment(
                out,
                &format!("{}: {}", unit.t.name, notes.add(&unit.t.name, text)),
            );
        }
    }
    out.push_str("kill_signal = \"SIGTERM\"\n");
    let _ = writeln!(out, "kill_timeout = {}", wanted.min(MAX_KILL_TIMEOUT));
}

/// `ready` tcp/http: a check of that process group, on the port `$PORT` is in its
/// container; exec, log and notify cannot be checked by Fly.
fn checks(units: &[Unit], notes: &mut Notes, out: &mut String) {
    for unit in groups(units) {
        let Some(ready) = unit.t.ready.as_ref() else {
            continue;
        };
        let port = |text: &str| {
            let text = match unit.port {
                Some(p) => text.replace("$PORT", &p.to_string()),
                None => text.to_string(),
            };
            check_target(&text)
        };
        let check = match &ready.check {
            CheckSpec::Tcp(to) => port(to).map(|(p, _)| ("tcp", p, None)),
            CheckSpec::Http(url) => url
                .strip_prefix("http://")
                .and_then(port)
                .map(|(p, path)| ("http", p, Some(path))),
            _ => None,
        };
        let Some((kind, port, path)) = check else {
            let text = match unit.unprobeable_note() {
                Some(note) => note,
                None => "this ready check cannot be expressed: Fly checks are tcp or http, \
                         on a port number"
                    .into(),
            };
            comment(
                out,
                &format!("{}: {}", unit.t.name, notes.add(&unit.t.name, text)),
            );
            continue;
        };
        let _ = writeln!(out, "\n[checks.{}]", key(&format!("{}_ready", unit.t.name)));
        comment(
            out,
            "Fly connects to the machine's address: the process must listen on it, not only \
             on 127.0.0.1",
        );
        let _ = writeln!(out, "type = {}", string(kind));
        let _ = writeln!(out, "port = {port}");
        if let Some(path) = path {
            let _ = writeln!(out, "method = \"get\"");
            let _ = writeln!(out, "path = {}", string(&path));
        }
        let interval = ready.interval.max(Duration::from_secs(1));
        let _ = writeln!(out, "interval = {}", string(&seconds(interval)));
        let _ = writeln!(out, "timeout = {}", string(&seconds(interval)));
        if let Some(timeout) = ready.timeout {
            let _ = writeln!(out, "grace_period = {}", string(&seconds(timeout)));
        }
        let _ = writeln!(
            out,
            "processes = {}",
            strings(std::slice::from_ref(&unit.t.name))
        );
    }
}

/// `[host:]port[/path]` → the port and the path (`/` when none).
fn check_target(text: &str) -> Option<(u16, String)> {
    let (authority, path) = match text.find('/') {
        Some(i) => (&text[..i], text[i..].to_string()),
        None => (text, "/".to_string()),
    };
    let port = authority.rsplit(':').next()?;
    let port: u16 = if port == authority && authority.parse::<u16>().is_err() {
        80
    } else {
        port.parse().ok()?
    };
    (port > 0).then_some((port, path))
}

/// Whole seconds, rounded up: `"3s"`.
fn seconds(d: Duration) -> String {
    format!("{}s", d.as_millis().div_ceil(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_targets() {
        for (text, want) in [
            ("5432", Some((5432, "/"))),
            ("127.0.0.1:5000", Some((5000, "/"))),
            ("127.0.0.1:5000/up?x=1", Some((5000, "/up?x=1"))),
            ("localhost/up", Some((80, "/up"))),
            ("127.0.0.1:$PORT/up", None),
            ("127.0.0.1:0", None),
            ("127.0.0.1:70000", None),
        ] {
            let got = check_target(text);
            let want = want.map(|(p, path)| (p, path.to_string()));
            assert_eq!(got, want, "{text:?}");
        }
    }
}
