//! The Kubernetes target: one apps/v1 Deployment per process type, and a v1 Service for
//! `web`, as one multi-document YAML stream (`kubectl apply -f`).
//!
//! Facts it relies on: object and container names are DNS labels (`[a-z0-9-]`, at most 63,
//! a Service's starting with a letter), so type names are lower-cased and `_` becomes `-`;
//! Kubernetes expands `$(VAR)` in `command`, `args` and env values and reads `$$` as `$`, so
//! every `$` is doubled; an env var name must match `[-._a-zA-Z][-._a-zA-Z0-9]*`; a
//! Deployment's pods always have `restartPolicy: Always`; `envFrom` a Secret that does not
//! exist keeps the pod from starting, which is what a missing env file should do.

use super::yaml::Writer;
use super::{Input, Notes, Unit, dns_label, restart_word, source, units};
use crate::config::model::Restart;

/// The objects, or why the types cannot be named in Kubernetes.
pub fn render(input: &Input, notes: &mut Notes) -> Result<String, String> {
    let units = units(input);
    let names = names(input, &units)?;
    let mut w = Writer::new();
    w.comment(&format!(
        "Written by `formation export kubernetes` from {}.",
        source(input)
    ));
    w.comment("Each Deployment runs one process type of it: formation -m TYPE=1,all=0.");
    if !input.env_files.is_empty() {
        w.comment(&notes.add(&input.app, secret_comment(input)));
    }
    for (unit, name) in units.iter().zip(&names) {
        w.document();
        w.comment(&format!(
            "{}: {} replica(s) of formation -m {}=1,all=0",
            unit.t.name, unit.scale, unit.t.name
        ));
        deployment(input, unit, name, notes, &mut w);
        if let Some(port) = input.web_port.filter(|_| unit.is_web()) {
            w.document();
            w.comment(&format!("{}'s PORT, inside the cluster", unit.t.name));
            service(input, unit, name, port, &mut w);
        }
    }
    Ok(w.finish())
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
    let api = if kind == "Service" { "v1" } else { "apps/v1" };
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
    w.int("replicas", i64::from(unit.scale));
    w.open("selector");
    w.open("matchLabels");
    app_labels(input, unit, w);
    w.close();
    w.close();
    w.open("template");
    w.open("metadata");
    w.open("labels");
    app_labels(input, unit, w);
    w.close();
    w.close();
    w.open("spec");
    restart(unit, notes, w);
    grace(unit, w);
    w.open("containers");
    w.item_map();
    image(input, unit, w);
    environment(input, unit, notes, w);
    env_files(input, w);
    port(input, unit, w);
    w.close();
    w.close();
    w.close();
    w.close();
    w.close();
}

/// A type: its container runs formation from the image with `-m TYPE=1,all=0`.
fn image(input: &Input, unit: &Unit, w: &mut Writer) {
    w.str("name", &dns_label(&unit.t.name));
    w.str("image", input.image.as_deref().unwrap_or_default());
    w.open("command");
    w.item(&literal(&input.entrypoint));
    w.close();
    w.open("args");
    for arg in unit.args(input) {
        w.item(&literal(&arg));
    }
    w.close();
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
