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
//! between the stop signal to formation (PID 1) and the engine's SIGKILL; a `healthcheck`
//! `test` of `[CMD, ...]` is exec'd in the container (no shell), its exit 0 is healthy, and
//! failures within `start_period` do not count while a success ends it; `depends_on`'s
//! long form with `condition` (`service_started`, `service_healthy`,
//! `service_completed_successfully`, the last since docker-compose 1.29) makes `up` wait, and
//! fail the dependent when the condition can no longer be met; swarm's schema (file format 3)
//! has only the short list form of `depends_on` and no start order at all.

use super::yaml::Writer;
use super::{Condition, Input, Notes, Unit, source, units};
use crate::config::model::Restart;
use std::time::Duration;

/// The compose file.
pub fn render(input: &Input, notes: &mut Notes) -> String {
    let units = units(input);
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
    let ordered = units
        .iter()
        .any(|u| u.dependencies(&units).iter().any(|d| !d.dropped));
    if ordered {
        w.comment(
            &notes.add(
                &input.app,
                "depends_on with conditions is docker compose's: docker stack deploy (swarm) \
             refuses it, and swarm starts services in no order"
                    .into(),
            ),
        );
    }
    for text in super::secrets::relative_notes(input, notes) {
        w.comment(&text);
    }
    w.str("version", "3.8");
    w.open("services");
    for unit in &units {
        w.open(&unit.t.name);
        deployment(input, unit, &units, notes, &mut w);
        w.close();
    }
    w.close();
    super::secrets::compose_top(&super::secrets::files(input), &mut w);
    w.finish()
}

/// One service: the rows of SPEC §8's table, in its order.
fn deployment(input: &Input, unit: &Unit, units: &[Unit], notes: &mut Notes, w: &mut Writer) {
    schedule(unit, w);
    image(input, unit, w);
    environment(input, unit, w);
    env_files(input, w);
    super::secrets::compose_service(input, unit, &super::secrets::files(input), w);
    port(input, unit, w);
    restart(unit, w);
    grace(unit, w);
    deploy(unit, w);
    ready(input, unit, notes, w);
    after(unit, units, w);
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
    let word = match policy(unit) {
        Restart::Never => "no",
        Restart::OnFailure => "on-failure",
        Restart::Always => "always",
    };
    w.str("restart", word);
}

/// The container's restart policy. A oneshot's container is never restarted by the engine:
/// formation inside already retries it per its `restart`, and its exit status is what
/// `service_completed_successfully` reads. A scheduler runs for ever, whatever its runs do.
fn policy(unit: &Unit) -> Restart {
    if unit.t.oneshot {
        Restart::Never
    } else if unit.t.schedule.is_some() {
        Restart::Always
    } else {
        unit.t.restart
    }
}

/// The containers: a scheduled type runs in one, which starts its `scale` runs each fire.
fn replicas(unit: &Unit) -> u32 {
    if unit.t.schedule.is_some() {
        unit.scale.min(1)
    } else {
        unit.scale
    }
}

/// The engine's SIGKILL comes 1 s after formation's own.
fn grace(unit: &Unit, w: &mut Writer) {
    w.str("stop_grace_period", &format!("{}s", unit.kill_after_secs()));
}

/// Replicas and swarm's restart policy.
fn deploy(unit: &Unit, w: &mut Writer) {
    let condition = match policy(unit) {
        Restart::Never => "none",
        Restart::OnFailure => "on-failure",
        Restart::Always => "any",
    };
    w.open("deploy");
    w.int("replicas", i64::from(replicas(unit)));
    w.open("restart_policy");
    w.str("condition", condition);
    w.close();
    w.close();
}

/// `ready` tcp/http/exec: a healthcheck running `formation probe TYPE` in the container.
/// Docker keeps probing for the container's life, so it probes fast (the check's `interval`,
/// at least 1 s) only while the container starts — `start_interval`, which Docker Engine 25+
/// and docker compose 2.20.2+ read (older engines ignore it and probe at `interval` from the
/// start) — and every 30 s (or the check's own slower `interval`) once healthy (SPEC §8). Without a
/// `timeout` formation waits for ever, which a long `start_period` stands for (failures
/// within it do not count; the first success ends it).
fn ready(input: &Input, unit: &Unit, notes: &mut Notes, w: &mut Writer) {
    if let Some(note) = unit.unprobeable_note() {
        w.comment(&notes.add(&unit.t.name, note));
    }
    let Some(ready) = unit.probe() else {
        return;
    };
    let interval = ready.interval.max(Duration::from_secs(1));
    w.open("healthcheck");
    w.open("test");
    w.item("CMD");
    w.item(&literal(&input.entrypoint));
    for arg in unit.probe_args(input) {
        w.item(&literal(&arg));
    }
    w.close();
    w.str("interval", &duration(interval.max(HEALTHY_INTERVAL)));
    w.str("timeout", &duration(interval));
    w.int("retries", 3);
    let start = ready.timeout.unwrap_or(Duration::from_secs(24 * 3600));
    w.str("start_period", &duration(start));
    w.str("start_interval", &duration(interval));
    w.close();
}

/// How often a healthy container is probed: at most every 30 s, Docker's own default.
const HEALTHY_INTERVAL: Duration = Duration::from_secs(30);

/// `after`: `depends_on` with what each dependency must reach first.
fn after(unit: &Unit, units: &[Unit], w: &mut Writer) {
    let deps = unit.dependencies(units);
    for d in deps.iter().filter(|d| d.dropped) {
        w.comment(&format!(
            "after {:?}: scaled to 0, so formation drops it (SPEC §4.2) and so does this file",
            d.name
        ));
    }
    if deps.iter().all(|d| d.dropped) {
        return;
    }
    w.open("depends_on");
    for d in deps.iter().filter(|d| !d.dropped) {
        w.open(d.name);
        let condition = match d.condition {
            Condition::Completed => "service_completed_successfully",
            Condition::Healthy => "service_healthy",
            Condition::Started => "service_started",
        };
        w.str("condition", condition);
        w.close();
    }
    w.close();
}

/// `schedule`: said in the file, since the service looks like any other.
fn schedule(unit: &Unit, w: &mut Writer) {
    if unit.t.schedule.is_some() {
        w.comment(&format!(
            "{}: scheduled; this one container runs formation's scheduler, which starts {} \
             run(s) at each fire time",
            unit.t.name, unit.scale
        ));
    }
}

/// A duration in compose's units.
fn duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
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
