//! The fly target: a fly.toml with one process group per process type.
//!
//! Facts it relies on: a `[processes]` entry is the command Fly appends to the image's
//! ENTRYPOINT (which must be formation), split into words as a shell would; fly.toml holds no
//! instance count (`fly scale count` sets it); `kill_timeout` is app-wide, in seconds, at
//! most 300; `[env]` is app-wide, so a type's own `env` reaches its container only through
//! formation, which reads it from the config; `[[restart]]` takes a policy per process group.

use super::toml_text::{comment, key, string, strings};
use super::{Input, Notes, Unit, restart_word, shell_word, source, units};
use std::fmt::Write as _;

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
    let _ = writeln!(out, "app = {}", string(&input.app));
    grace(&units, notes, &mut out);
    scale(&units, &mut out);
    processes(input, &units, &mut out);
    environment(input, &mut out);
    port(input, &mut out);
    restart(&units, &mut out);
    out
}

/// A type: `TYPE = "-m TYPE=1,all=0"`.
fn processes(input: &Input, units: &[Unit], out: &mut String) {
    out.push_str("\n[processes]\n");
    for unit in units {
        let words: Vec<String> = unit.args(input).iter().map(|a| shell_word(a)).collect();
        let _ = writeln!(out, "{} = {}", key(&unit.t.name), string(&words.join(" ")));
    }
}

/// Scale: fly.toml has no count, so the command that sets it.
fn scale(units: &[Unit], out: &mut String) {
    let counts: Vec<String> = units
        .iter()
        .map(|u| format!("{}={}", u.t.name, u.scale))
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
            let _ = writeln!(out, "{} = {}", key(&v.name), string(&v.value));
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

/// `[[restart]]` per process group.
fn restart(units: &[Unit], out: &mut String) {
    for unit in units {
        out.push_str("\n[[restart]]\n");
        let _ = writeln!(out, "policy = {}", string(restart_word(unit.t.restart)));
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
