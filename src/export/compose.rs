//! The compose target: one service per process type, in the compose specification's format,
//! readable by docker-compose 1.29, `docker compose` and `docker stack deploy`.
//!
//! Facts it relies on: docker-compose since 1.27 reads every file with the compose
//! specification's schema, whatever its `version` (so `depends_on` conditions stay valid),
//! while `docker stack deploy` before Docker 23 (Debian 12's 20.10) refuses a file without
//! `version`; compose interpolates `$VAR` in every string value, and `$$` is a
//! literal `$`; `deploy.replicas` is honoured by `docker compose up` (compose spec) and by
//! swarm; the top-level `restart` is compose's and `deploy.restart_policy` swarm's (swarm
//! ignores the former with a warning, so both are written); `stop_grace_period` is the wait
//! between the stop signal to formation (PID 1) and the engine's SIGKILL.

use super::yaml::Writer;
use super::{Input, Unit, source, units};
use crate::config::model::Restart;

/// The compose file. Everything the config model has today maps onto compose, so it takes
/// no [`super::Notes`] yet; `after` between services will need them (SPEC §8).
pub fn render(input: &Input) -> String {
    let mut w = Writer::new();
    w.comment(&format!(
        "Written by `formation export compose` from {}.",
        source(input)
    ));
    w.comment("Each service runs one process type of it: formation -m TYPE=1,all=0.");
    w.comment(
        "version: only for `docker stack deploy` before Docker 23, which refuses a file \
         without one; docker compose ignores it (v2 with a warning).",
    );
    w.str("version", "3.8");
    w.open("services");
    for unit in units(input) {
        w.open(&unit.t.name);
        deployment(input, &unit, &mut w);
        w.close();
    }
    w.close();
    w.finish()
}

/// One service: the rows of SPEC §8's table, in its order.
fn deployment(input: &Input, unit: &Unit, w: &mut Writer) {
    image(input, unit, w);
    environment(input, unit, w);
    env_files(input, w);
    port(input, unit, w);
    restart(unit, w);
    grace(unit, w);
    deploy(unit, w);
}

/// A type: the image, formation as its entrypoint, `-m TYPE=1,all=0` as its command.
fn image(input: &Input, unit: &Unit, w: &mut Writer) {
    w.str(
        "image",
        &literal(input.image.as_deref().unwrap_or_default()),
    );
    w.open("entrypoint");
    w.item(&literal(&input.entrypoint));
    w.close();
    w.open("command");
    for arg in unit.args(input) {
        w.item(&literal(&arg));
    }
    w.close();
}

/// `[env]` and the type's `env`.
fn environment(input: &Input, unit: &Unit, w: &mut Writer) {
    let env = unit.env(input);
    if !env.is_empty() {
        w.open("environment");
        for (k, v) in env {
            w.str(k, &literal(v));
        }
        w.close();
    }
}

/// Env files, as files: compose reads them itself.
fn env_files(input: &Input, w: &mut Writer) {
    if !input.env_files.is_empty() {
        w.open("env_file");
        for file in &input.env_files {
            w.item(&literal(file));
        }
        w.close();
    }
}

/// `web`'s `PORT`, exposed to the other services.
fn port(input: &Input, unit: &Unit, w: &mut Writer) {
    if let Some(port) = input.web_port.filter(|_| unit.is_web()) {
        w.open("expose");
        w.item(&port.to_string());
        w.close();
    }
}

/// compose's own restart policy (swarm's is in [`deploy`]).
fn restart(unit: &Unit, w: &mut Writer) {
    let word = match unit.t.restart {
        Restart::Never => "no",
        Restart::OnFailure => "on-failure",
        Restart::Always => "always",
    };
    w.str("restart", word);
}

/// The engine's SIGKILL comes 1 s after formation's own.
fn grace(unit: &Unit, w: &mut Writer) {
    w.str("stop_grace_period", &format!("{}s", unit.kill_after_secs()));
}

/// Replicas and swarm's restart policy.
fn deploy(unit: &Unit, w: &mut Writer) {
    let condition = match unit.t.restart {
        Restart::Never => "none",
        Restart::OnFailure => "on-failure",
        Restart::Always => "any",
    };
    w.open("deploy");
    w.int("replicas", i64::from(unit.scale));
    w.open("restart_policy");
    w.str("condition", condition);
    w.close();
    w.close();
}

/// A value compose will not interpolate.
fn literal(text: &str) -> String {
    text.replace('$', "$$")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_are_not_interpolated() {
        assert_eq!(literal("$HOME/${X}"), "$$HOME/$${X}");
    }
}
