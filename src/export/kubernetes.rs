//! The Kubernetes target: one apps/v1 Deployment per process type, and a v1 Service for
//! `web`, as one multi-document YAML stream (`kubectl apply -f`).
//!
//! Facts it relies on: object and container names are DNS labels (`[a-z0-9-]`, at most 63,
//! a Service's starting with a letter), so type names are lower-cased and `_` becomes `-`;
//! Kubernetes expands `$(VAR)` in `command`, `args` and env values and reads `$$` as `$`, so
//! every `$` is doubled; an env var name must match `[-._a-zA-Z][-._a-zA-Z0-9]*`; a
//! Deployment's pods always have `restartPolicy: Always`, a Job's `Never` or `OnFailure`;
//! `envFrom` a Secret that does not exist keeps the pod from starting, which is what a
//! missing env file should do; while a `startupProbe` fails, readiness is not probed, and
//! after `failureThreshold` failures the kubelet kills the container; a CronJob's `schedule`
//! is read by robfig/cron's standard parser (five fields, Vixie's day-of-month/day-of-week
//! rule, `@every`), `timeZone` (batch/v1, Kubernetes 1.27) names an IANA zone.
//!
//! The kubelet's tcpSocket and httpGet probes connect to the pod's IP, while a `ready`
//! check connects where formation does (127.0.0.1 for a bare port): every check is the exec
//! probe `formation probe TYPE`, which makes the very check formation makes.

use super::yaml::Writer;
use super::{
    Input, Notes, Unit, cron_text, dns_label, restart_word, secs_at_least_1, source, units,
};
use crate::config::model::Restart;
use crate::time::cron::Schedule;

/// The objects, or why the types cannot be named in Kubernetes.
pub fn render(input: &Input, notes: &mut Notes) -> Result<String, String> {
    let units = units(input);
    let names = names(input, &units)?;
    let mut w = Writer::new();
    w.comment(&format!(
        "Written by `formation export kubernetes` from {}.",
        source(input)
    ));
    w.comment(
        "Each Deployment runs one process type of it: formation -m TYPE=1,all=0; each Job \
         and CronJob one run of a oneshot or scheduled type: formation run TYPE.",
    );
    if !input.env_files.is_empty() {
        w.comment(&notes.add(&input.app, secret_comment(input)));
    }
    let files = super::secrets::files(input);
    if let Some(text) = super::secrets::kube_comment(input, &files) {
        w.comment(&text);
    }
    for text in super::secrets::relative_notes(input, notes) {
        w.comment(&text);
    }
    for (unit, name) in units.iter().zip(&names) {
        w.document();
        let schedule = unit.t.schedule.as_ref().map(|s| (s, cron_text(s)));
        if let Some((spec, Some(cron))) = schedule {
            w.comment(&format!(
                "{}: a CronJob; each fire runs {} pod(s) of formation run {}",
                unit.t.name, unit.scale, unit.t.name
            ));
            if matches!(spec.schedule, Schedule::Every(_)) {
                w.comment(
                    &notes.add(
                        &unit.t.name,
                        "@every is counted by Kubernetes from the CronJob's previous fire, not \
                     from a start"
                            .into(),
                    ),
                );
            }
            after(unit, &units, notes, &mut w);
            let zone = spec.timezone.as_ref().map(|(z, _)| z.as_str());
            cron_job(input, unit, name, &cron, zone, notes, &mut w);
        } else if unit.t.oneshot {
            w.comment(&format!(
                "{}: a Job of {} pod(s) of formation run {}",
                unit.t.name, unit.scale, unit.t.name
            ));
            after(unit, &units, notes, &mut w);
            job(input, unit, name, notes, &mut w);
        } else {
            if schedule.is_some() {
                w.comment(
                    &notes.add(
                        &unit.t.name,
                        "its schedule cannot be written as a CronJob's: one replica runs \
                     formation's scheduler instead"
                            .into(),
                    ),
                );
            }
            w.comment(&format!(
                "{}: {} replica(s) of formation -m {}=1,all=0",
                unit.t.name, unit.scale, unit.t.name
            ));
            after(unit, &units, notes, &mut w);
            deployment(input, unit, name, notes, &mut w);
        }
        if let Some(port) = input.web_port.filter(|_| unit.is_web()) {
            w.document();
            w.comment(&format!("{}'s PORT, inside the cluster", unit.t.name));
            service(input, unit, name, port, &mut w);
        }
    }
    Ok(w.finish())
}

/// `after`: Kubernetes has no order between objects.
fn after(unit: &Unit, units: &[Unit], notes: &mut Notes, w: &mut Writer) {
    if let Some(note) = unit.after_note(units, None) {
        w.comment(&notes.add(&unit.t.name, note));
    }
}

/// `APP-TYPE` for every type; an error when two types would share one or one is too long.
fn names(input: &Input, units: &[Unit]) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = Vec::new();
    for unit in units {
        let label = dns_label(&unit.t.name);
        let name = format!("{}-{label}", input.app);
        if label.is_empty() || name.len() > 63 {
            return Err(format!(
                "process type {:?} cannot be named in Kubernetes ({name:?} is not a DNS label \
                 of at most 63 characters)",
                unit.t.name
            ));
        }
        if let Some(i) = names.iter().position(|n| *n == name) {
            return Err(format!(
                "process types {:?} and {:?} would both be named {name:?} in Kubernetes",
                units[i].t.name, unit.t.name
            ));
        }
        names.push(name);
    }
    Ok(names)
}

fn secret_comment(input: &Input) -> String {
    let mut from = String::new();
    for f in &input.env_files {
        from.push_str(" --from-env-file=");
        from.push_str(&super::shell_word(f));
    }
    format!(
        "env files are not inlined (they hold secrets): every Deployment reads them from the \
         Secret {app}-env; create it with: kubectl create secret generic {app}-env{from}",
        app = input.app
    )
}

/// The two labels every object of a type carries (and selects its pods by).
fn app_labels(input: &Input, unit: &Unit, w: &mut Writer) {
    w.str("app.kubernetes.io/name", &input.app);
    w.str("app.kubernetes.io/component", &dns_label(&unit.t.name));
}

/// `apiVersion`, `kind` and `metadata` (name and labels).
fn head(kind: &str, input: &Input, unit: &Unit, name: &str, w: &mut Writer) {
    let api = match kind {
        "Service" => "v1",
        "Job" | "CronJob" => "batch/v1",
        _ => "apps/v1",
    };
    w.str("apiVersion", api);
    w.str("kind", kind);
    w.open("metadata");
    w.str("name", name);
    w.open("labels");
    app_labels(input, unit, w);
    w.close();
    w.close();
}

/// One Deployment: the rows of SPEC §8's table, in its order.
fn deployment(input: &Input, unit: &Unit, name: &str, notes: &mut Notes, w: &mut Writer) {
    head("Deployment", input, unit, name, w);
    w.open("spec");
    let replicas = if unit.t.schedule.is_some() {
        unit.scale.min(1)
    } else {
        unit.scale
    };
    w.int("replicas", i64::from(replicas));
    w.open("selector");
    w.open("matchLabels");
    app_labels(input, unit, w);
    w.close();
    w.close();
    pod(input, unit, &unit.args(input), false, notes, w);
    w.close();
}

/// A oneshot: a Job of `scale` pods, each running it once.
fn job(input: &Input, unit: &Unit, name: &str, notes: &mut Notes, w: &mut Writer) {
    head("Job", input, unit, name, w);
    w.open("spec");
    job_spec(input, unit, notes, w);
    w.close();
}

/// A scheduled type: a CronJob whose Jobs run it once per fire; a fire while the last
/// run is still running is skipped, as formation skips it (SPEC §4.4).
fn cron_job(
    input: &Input,
    unit: &Unit,
    name: &str,
    cron: &str,
    zone: Option<&str>,
    notes: &mut Notes,
    w: &mut Writer,
) {
    head("CronJob", input, unit, name, w);
    w.open("spec");
    w.str("schedule", cron);
    if let Some(zone) = zone {
        w.str("timeZone", zone);
    }
    w.str("concurrencyPolicy", "Forbid");
    w.open("jobTemplate");
    w.open("spec");
    job_spec(input, unit, notes, w);
    w.close();
    w.close();
    w.close();
}

/// A Job's spec: `scale` pods at once, retried only as `restart` says.
fn job_spec(input: &Input, unit: &Unit, notes: &mut Notes, w: &mut Writer) {
    w.int("parallelism", i64::from(unit.scale));
    w.int("completions", i64::from(unit.scale));
    if unit.t.restart == Restart::Never {
        w.int("backoffLimit", 0);
    }
    pod(input, unit, &unit.run_args(input), true, notes, w);
}

/// The pod template: labels, restart policy, grace and the one container; a `task` (a
/// Job's pod) ends, a Deployment's runs for ever.
fn pod(input: &Input, unit: &Unit, args: &[String], task: bool, notes: &mut Notes, w: &mut Writer) {
    w.open("template");
    w.open("metadata");
    w.open("labels");
    app_labels(input, unit, w);
    w.close();
    w.close();
    w.open("spec");
    if task {
        let policy = match unit.t.restart {
            Restart::OnFailure => "OnFailure",
            _ => "Never",
        };
        w.str("restartPolicy", policy);
    } else {
        restart(unit, notes, w);
    }
    grace(unit, w);
    w.open("containers");
    w.item_map();
    image(input, unit, args, w);
    environment(input, unit, notes, w);
    env_files(input, w);
    let files = super::secrets::files(input);
    super::secrets::kube_mounts(input, unit, &files, w);
    port(input, unit, w);
    if !task {
        ready(input, unit, notes, w);
    }
    w.close();
    w.close();
    super::secrets::kube_volumes(input, unit, &files, w);
    w.close();
    w.close();
}

/// A type: its container runs formation from the image with `args`.
fn image(input: &Input, unit: &Unit, args: &[String], w: &mut Writer) {
    w.str("name", &dns_label(&unit.t.name));
    w.str("image", input.image.as_deref().unwrap_or_default());
    w.open("command");
    w.item(&literal(&input.entrypoint));
    w.close();
    w.open("args");
    for arg in args {
        w.item(&literal(arg));
    }
    w.close();
}

/// `ready`: a readinessProbe running `formation probe TYPE`, and with a `timeout` a
/// startupProbe that gives up (and has the container killed) when it passes, as formation
/// stops an instance not ready in time.
fn ready(input: &Input, unit: &Unit, notes: &mut Notes, w: &mut Writer) {
    if let Some(note) = unit.unprobeable_note() {
        w.comment(&notes.add(&unit.t.name, note));
    }
    let Some(ready) = unit.probe() else {
        return;
    };
    let period = secs_at_least_1(ready.interval);
    if let Some(timeout) = ready.timeout {
        w.open("startupProbe");
        probe(input, unit, period, w);
        let tries = timeout.as_secs().div_ceil(period).max(1);
        w.int("failureThreshold", i64::try_from(tries).unwrap_or(i64::MAX));
        w.close();
    }
    w.open("readinessProbe");
    probe(input, unit, period, w);
    w.close();
}

fn probe(input: &Input, unit: &Unit, period: u64, w: &mut Writer) {
    w.open("exec");
    w.open("command");
    w.item(&literal(&input.entrypoint));
    for arg in unit.probe_args(input) {
        w.item(&literal(&arg));
    }
    w.close();
    w.close();
    let period = i64::try_from(period).unwrap_or(i64::MAX);
    w.int("periodSeconds", period);
    w.int("timeoutSeconds", period);
}

/// `[env]` and the type's `env`. A name Kubernetes refuses is left to formation, which sets
/// it in the container from the config anyway.
fn environment(input: &Input, unit: &Unit, notes: &mut Notes, w: &mut Writer) {
    let mut valid = Vec::new();
    for (k, v) in unit.env(input) {
        if env_name_is_valid(k) {
            valid.push((k, v));
        } else {
            w.comment(&notes.add(
                &unit.t.name,
                format!(
                    "env {k:?} is not a valid Kubernetes env name: left out of the Deployment \
                     (formation still sets it in the container)"
                ),
            ));
        }
    }
    if !valid.is_empty() {
        w.open("env");
        for (k, v) in valid {
            w.item_map();
            w.str("name", k);
            w.str("value", &literal(v));
            w.close();
        }
        w.close();
    }
}

/// Env files: a Secret (see the comment at the top of the file).
fn env_files(input: &Input, w: &mut Writer) {
    if !input.env_files.is_empty() {
        w.open("envFrom");
        w.item_map();
        w.open("secretRef");
        w.str("name", &format!("{}-env", input.app));
        w.close();
        w.close();
        w.close();
    }
}

/// `web`'s `PORT` as a container port (and a Service, in [`service`]).
fn port(input: &Input, unit: &Unit, w: &mut Writer) {
    if let Some(port) = input.web_port.filter(|_| unit.is_web()) {
        w.open("ports");
        w.item_map();
        w.str("name", "http");
        w.int("containerPort", i64::from(port));
        w.close();
        w.close();
    }
}

/// A Deployment's pod is restarted whatever the exit: said where `restart` differs.
fn restart(unit: &Unit, notes: &mut Notes, w: &mut Writer) {
    if unit.t.restart != Restart::Always {
        let word = restart_word(unit.t.restart);
        w.comment(&notes.add(
            &unit.t.name,
            format!(
                "restart = {word:?} cannot be expressed: a Deployment restarts the pod whenever \
                 formation exits, 0 included (inside the pod, formation applies {word:?})"
            ),
        ));
    }
    w.str("restartPolicy", "Always");
}

/// The kubelet's SIGKILL comes 1 s after formation's own.
fn grace(unit: &Unit, w: &mut Writer) {
    let secs = i64::try_from(unit.kill_after_secs()).unwrap_or(i64::MAX);
    w.int("terminationGracePeriodSeconds", secs);
}

/// A ClusterIP Service in front of `web`'s pods, on its own port.
fn service(input: &Input, unit: &Unit, name: &str, port: u32, w: &mut Writer) {
    head("Service", input, unit, name, w);
    w.open("spec");
    w.open("selector");
    app_labels(input, unit, w);
    w.close();
    w.open("ports");
    w.item_map();
    w.str("name", "http");
    w.int("port", i64::from(port));
    w.int("targetPort", i64::from(port));
    w.close();
    w.close();
    w.close();
}

/// `[-._a-zA-Z][-._a-zA-Z0-9]*`.
fn env_name_is_valid(name: &str) -> bool {
    let ok = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_');
    matches!(name.as_bytes(), [first, ..] if !first.is_ascii_digit()) && name.bytes().all(ok)
}

/// A value Kubernetes will not expand.
fn literal(text: &str) -> String {
    text.replace('$', "$$")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names() {
        for (name, ok) in [
            ("PORT", true),
            ("my.var-1", true),
            ("_X", true),
            ("1X", false),
            ("", false),
            ("A B", false),
            ("A=B", false),
        ] {
            assert_eq!(env_name_is_valid(name), ok, "{name:?}");
        }
    }

    #[test]
    fn dollars_are_not_expanded() {
        assert_eq!(literal("$(HOME)$X"), "$$(HOME)$$X");
    }
}
