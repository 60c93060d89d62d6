//! Operator requests (SPEC §10): stop, start, restart (rolling), signal, scale, and what a
//! `--wait` sees of them.

use super::*;
use crate::engine::control::{Answer, Order, Progress, Ticket};
use crate::plan::blueprint::Blueprint;
use crate::plan::checks::{ProbeKind, ReadyCheck};

/// Instance `n` of type `name` (type index `t`).
pub fn nth(name: &str, n: u32, t: usize, restart: Restart, essential: bool) -> Instance {
    Instance {
        type_index: t,
        ..instance(&format!("{name}.{n}"), restart, essential)
    }
}

fn http_ready(mut i: Instance) -> Instance {
    i.ready = Some(Box::new(ReadyCheck {
        kind: ProbeKind::Http("http://127.0.0.1:5000/up".into()),
        interval: ms(250),
        timeout: Some(ms(2000)),
    }));
    i
}

fn no_reread() -> Result<Blueprint, Vec<String>> {
    Err(vec!["no config".into()])
}

pub use crate::plan::blueprint::from_toml as blueprint;

impl T {
    /// Asks `order`; spawns what it starts at once (nothing: starts are due at the next tick).
    pub fn order(&mut self, order: Order) -> (Answer, Vec<Effect>) {
        self.order_with(order, &no_reread)
    }

    pub fn order_with(
        &mut self,
        order: Order,
        reread: &crate::engine::Reread,
    ) -> (Answer, Vec<Effect>) {
        let mut fx = Vec::new();
        let answer = self.e.control(order, reread, self.now, &mut fx);
        let fx = self.spawn_all(fx);
        (answer, fx)
    }

    /// A formation planned from a blueprint, as formation mode starts one.
    pub fn planned(bp: Blueprint) -> T {
        let instances = bp.all().expect("plannable");
        let mut t = T::formation(instances);
        t.e.blueprint(bp);
        t
    }

    pub fn probe_ok(&mut self, id: SlotId) -> Vec<Effect> {
        let run = self.e.run(id);
        let mut fx = Vec::new();
        self.e
            .probed(id, run, Probe::Ready, Ok(()), self.now, &mut fx);
        self.spawn_all(fx)
    }
}

fn words(w: &[&str]) -> Vec<String> {
    w.iter().map(|s| s.to_string()).collect()
}

fn ticket(answer: &Answer) -> Ticket {
    match answer {
        Answer::Done {
            ticket: Some(t), ..
        } => *t,
        other => panic!("no ticket: {other:?}"),
    }
}

fn lines(answer: &Answer) -> Vec<&str> {
    match answer {
        Answer::Done { lines, .. } | Answer::Usage(lines) | Answer::Failed(lines) => {
            lines.iter().map(String::as_str).collect()
        }
    }
}

fn web2() -> T {
    T::formation(vec![
        nth("web", 1, 0, Restart::Always, true),
        nth("web", 2, 0, Restart::Always, true),
    ])
}

#[test]
fn a_stopped_instance_stays_stopped_whatever_its_policy() {
    let mut t = web2();
    t.at(0);
    let pid = t.pid(0);
    let (answer, fx) = t.order(Order::Stop(words(&["web.1"])));
    assert_eq!(signals(&fx), [(pid, TERM)], "its stop signal, as in §4.1");
    let ticket = ticket(&answer);
    assert_eq!(t.e.progress(ticket), Progress::default(), "not yet");
    let fx = t.exit(0, Exit::Signal(15), false);
    assert_eq!(said(&fx), ["web.1 was killed by SIGTERM; stopped"]);
    assert_eq!(t.e.state(0), State::Stopped);
    assert!(
        t.e.stop.is_none(),
        "an essential one stopped so stops nothing"
    );
    assert_eq!(t.e.next_deadline(), None, "no restart, no backoff");
    let progress = t.e.progress(ticket);
    assert_eq!(progress.lines, ["web.1 stopped"]);
    assert!(progress.done && progress.failed.is_none());
}

#[test]
fn stopping_everything_does_not_end_the_formation_and_start_brings_it_back() {
    let mut t = web2();
    t.at(0);
    t.order(Order::Stop(words(&["web"])));
    t.exit(0, Exit::Signal(15), false);
    t.exit(1, Exit::Signal(15), false);
    t.group_gone(None, false);
    assert!(t.e.stop.is_none() && t.outcome().is_none());
    let (answer, _) = t.order(Order::Start(words(&["web"])));
    let ticket = ticket(&answer);
    let fx = t.at(1);
    assert_eq!(
        said(&fx),
        ["web.1 started (pid 102)", "web.2 started (pid 103)"]
    );
    assert_eq!(
        t.e.progress(ticket).lines,
        ["web.1 running", "web.2 running"]
    );
}

#[test]
fn start_leaves_a_running_instance_alone_with_a_line() {
    let mut t = web2();
    t.at(0);
    let (answer, fx) = t.order(Order::Start(words(&["web.2"])));
    assert_eq!(lines(&answer), ["web.2 is already running"]);
    assert!(fx.is_empty());
    assert!(matches!(answer, Answer::Done { ticket: None, .. }));
}

#[test]
fn an_unknown_target_is_a_usage_error_and_changes_nothing() {
    let mut t = web2();
    t.at(0);
    for word in ["wbe", "web.3", "web.0", "web.x", "web."] {
        let (answer, fx) = t.order(Order::Stop(words(&["web.1", word])));
        assert_eq!(
            answer,
            Answer::Usage(vec![format!("unknown type or instance {word:?}")])
        );
        assert!(fx.is_empty(), "{word}: web.1 not stopped either");
    }
}

#[test]
fn a_restart_rolls_one_instance_at_a_time_each_waiting_for_readiness() {
    let mut t = T::formation(vec![
        http_ready(nth("web", 1, 0, Restart::Never, true)),
        http_ready(nth("web", 2, 0, Restart::Never, true)),
    ]);
    t.at(0);
    t.probe_ok(0);
    t.probe_ok(1);
    let (web1, web2) = (t.pid(0), t.pid(1));
    let (answer, fx) = t.order(Order::Restart(words(&["web"])));
    assert_eq!(signals(&fx), [(web1, TERM)], "web.2 serves meanwhile");
    let ticket = ticket(&answer);
    let fx = t.exit(0, Exit::Signal(15), false);
    assert_eq!(said(&fx), ["web.1 was killed by SIGTERM; restarting now"]);
    assert!(signals(&fx).is_empty());
    let fx = t.at(1);
    assert_eq!(said(&fx), ["web.1 started (pid 102)"], "no backoff");
    assert!(signals(&fx).is_empty(), "web.2 waits until web.1 is ready");
    assert_eq!(t.e.progress(ticket).lines, Vec::<String>::new());
    let fx = t.probe_ok(0);
    assert_eq!(signals(&fx), [(web2, TERM)]);
    assert_eq!(t.e.progress(ticket).lines, ["web.1 ready"]);
    t.exit(1, Exit::Signal(15), false);
    t.at(2);
    t.probe_ok(1);
    let progress = t.e.progress(ticket);
    assert_eq!(progress.lines, ["web.2 ready"]);
    assert!(progress.done);
    let views: Vec<u32> = t.e.views().map(|v| v.restarts).collect();
    assert_eq!(views, [1, 1], "counted as restarts");
    assert_eq!(
        t.e.table.slot(0).restarts,
        0,
        "the crash-loop count untouched"
    );
    assert!(
        t.e.stop.is_none(),
        "essential instances restarted stop nothing"
    );
}

#[test]
fn a_restart_skips_the_backoff_of_an_instance_waiting_for_it() {
    let mut t = T::formation(vec![nth("web", 1, 0, Restart::Always, true)]);
    t.at(0);
    t.exit(0, Exit::Code(1), false);
    assert_eq!(t.e.state(0), State::Waiting { at: t.t0 + ms(10) });
    t.order(Order::Restart(words(&["web"])));
    assert_eq!(t.e.state(0), State::Waiting { at: t.now });
}

#[test]
fn a_completed_oneshot_runs_again_on_restart() {
    let release = Instance {
        oneshot: true,
        ..nth("release", 1, 0, Restart::Never, true)
    };
    let mut t = T::formation(vec![release, nth("web", 1, 1, Restart::Never, true)]);
    t.at(0);
    t.exit(0, Exit::Code(0), false);
    let (answer, _) = t.order(Order::Restart(words(&["release"])));
    let ticket = ticket(&answer);
    let fx = t.at(1);
    assert_eq!(said(&fx), ["release.1 started (pid 102)"]);
    t.exit(0, Exit::Code(0), false);
    assert_eq!(t.e.progress(ticket).lines, ["release.1 completed"]);
}

#[test]
fn signal_goes_to_each_group_as_given_and_sigkill_is_a_crash() {
    let mut t = web2();
    t.at(0);
    let (web1, web2) = (t.pid(0), t.pid(1));
    let (answer, fx) = t.order(Order::Signal(Signal::SIGUSR1, words(&["web"])));
    assert_eq!(
        signals(&fx),
        [(web1, Signal::SIGUSR1), (web2, Signal::SIGUSR1)]
    );
    assert_eq!(
        answer,
        Answer::Done {
            lines: vec![],
            ticket: None
        }
    );
    t.order(Order::Signal(KILL, words(&["web.1"])));
    let fx = t.exit(0, Exit::Signal(9), false);
    assert_eq!(
        said(&fx),
        ["web.1 was killed by SIGKILL; restarting in 10ms"],
        "the policy applies"
    );
}

#[test]
fn requests_during_a_stop_are_refused_and_waits_fail() {
    let mut t = web2();
    t.at(0);
    let (answer, _) = t.order(Order::Stop(words(&["web.1"])));
    let ticket = ticket(&answer);
    t.signal(TERM);
    let (refused, _) = t.order(Order::Start(words(&["web"])));
    assert_eq!(
        refused,
        Answer::Failed(vec!["formation is stopping".into()])
    );
    let progress = t.e.progress(ticket);
    assert!(progress.done);
    assert_eq!(progress.failed.as_deref(), Some("formation is stopping"));
}

#[test]
fn the_wait_timeout_is_the_largest_grace_plus_the_ready_timeout() {
    let mut t = T::formation(vec![
        http_ready(nth("web", 1, 0, Restart::Never, true)),
        nth("worker", 1, 1, Restart::Never, true),
    ]);
    t.at(0);
    let (answer, _) = t.order(Order::Restart(words(&["web"])));
    assert_eq!(t.e.wait_timeout(ticket(&answer)), ms(1000 + 2000));
    let (answer, _) = t.order(Order::Stop(words(&["worker"])));
    assert_eq!(t.e.wait_timeout(ticket(&answer)), ms(1000 + 60_000));
}

const TWO_TYPES: &str = r#"
[process.web]
command = "server"
scale = 2
[process.worker]
command = "work"
"#;

fn port(t: &T, id: SlotId) -> String {
    let env = t.e.plan(id).env.as_ref().expect("an env");
    env.get("PORT")
        .expect("a PORT")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn scale_up_adds_the_next_indexes_with_their_ports() {
    let mut t = T::planned(blueprint(TWO_TYPES));
    t.at(0);
    let (answer, _) = t.order(Order::Scale(vec![("web".into(), 4)]));
    assert_eq!(lines(&answer), ["web: scale 2 -> 4"]);
    let ticket = ticket(&answer);
    let fx = t.at(1);
    assert_eq!(
        said(&fx),
        ["web.3 started (pid 103)", "web.4 started (pid 104)"]
    );
    let names: Vec<&str> = t.e.views().map(|v| v.plan.name.as_str()).collect();
    assert_eq!(names, ["web.1", "web.2", "worker.1", "web.3", "web.4"]);
    assert_eq!((port(&t, 3), port(&t, 4)), ("5002".into(), "5003".into()));
    assert_eq!(t.e.plan(3).type_index, 0);
    assert_eq!(
        t.e.progress(ticket).lines,
        ["web.3 running", "web.4 running"]
    );
}

#[test]
fn scale_down_stops_the_highest_indexes_first_and_up_again_reuses_them() {
    let mut t = T::planned(blueprint(TWO_TYPES));
    t.at(0);
    t.order(Order::Scale(vec![("web".into(), 3)]));
    t.at(1);
    let (answer, fx) = t.order(Order::Scale(vec![("web".into(), 1)]));
    let stopped: Vec<Pid> = signals(&fx).into_iter().map(|(p, _)| p).collect();
    assert_eq!(stopped, [t.pid(3), t.pid(1)], "web.3, then web.2");
    let ticket = ticket(&answer);
    t.exit(3, Exit::Signal(15), false);
    t.exit(1, Exit::Signal(15), false);
    assert_eq!(
        t.e.progress(ticket).lines,
        ["web.3 stopped", "web.2 stopped"]
    );
    let (answer, _) = t.order(Order::Stop(words(&["web.2"])));
    assert_eq!(
        answer,
        Answer::Usage(vec!["unknown type or instance \"web.2\"".into()]),
        "beyond the scale"
    );
    t.order(Order::Scale(vec![("web".into(), 2)]));
    let fx = t.at(2);
    assert_eq!(
        said(&fx),
        ["web.2 started (pid 104)"],
        "the same slot again"
    );
    assert_eq!(t.e.views().count(), 4);
}

#[test]
fn scale_refuses_an_unknown_type_and_works_without_a_config_only_downwards() {
    let mut t = web2();
    t.at(0);
    let (answer, _) = t.order(Order::Scale(vec![("wbe".into(), 1)]));
    assert_eq!(answer, Answer::Usage(vec!["unknown type \"wbe\"".into()]));
    let (answer, _) = t.order(Order::Scale(vec![("web".into(), 3)]));
    assert!(matches!(answer, Answer::Failed(_)), "{answer:?}");
    let (answer, _) = t.order(Order::Scale(vec![("web".into(), 0)]));
    assert_eq!(lines(&answer), ["web: scale 2 -> 0"]);
}
