//! What each signal means to formation (SPEC §1.1, §4): pure, table-tested. The mask and the
//! signalfd that deliver them are `os::signals`.
//!
//! The order of the rules, as dumb-init has them: a signal our own system call raised (the
//! SIGPIPE of a write to a closed stdout) is dropped first; then the `-r` table rewrites what
//! arrived, and formation acts on what it became as if that had arrived. So in formation mode
//! `-r TERM:HUP` forwards HUP instead of stopping, `-r HUP:TERM` makes HUP stop the
//! formation, and `-r TERM:QUIT` changes nothing but the name (both stop; the stop sends each
//! type its own `stop_signal`). A type's own `signals` table is applied later, per group, to
//! what is forwarded (`Engine::signal`).

use crate::config::rewrite::Rewrites;
use nix::sys::signal::Signal;

/// How formation treats the stop signals TERM, INT and QUIT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalPolicy {
    /// Single-command mode (SPEC §1.1): every signal is forwarded, TERM, INT and QUIT too.
    ForwardAll,
    /// Formation mode (SPEC §4): TERM, INT and QUIT stop the formation.
    StopOnTerm,
}

/// Everything that decides what a received signal means; fixed for a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    /// What TERM, INT and QUIT do.
    pub policy: SignalPolicy,
    /// `-r`: applied to each received signal before it is classified.
    pub rewrites: Rewrites,
    /// Not PID 1 (a developer's terminal): TSTP, TTIN and TTOU suspend everything, as
    /// dumb-init does. As PID 1 they are ignored: a container has no shell to `fg` it.
    pub job_control: bool,
}

impl Rules {
    /// `policy` with no rewriting, as PID 1.
    #[cfg(test)]
    pub fn plain(policy: SignalPolicy) -> Rules {
        Rules {
            policy,
            rewrites: Rewrites::default(),
            job_control: false,
        }
    }
}

/// Who sent a signal, as the signalfd's siginfo names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sender {
    /// formation itself: the kernel names us as the sender of what our own system calls
    /// raise (SIGPIPE and SIGXFSZ of a write), and formation never signals itself otherwise.
    Ourselves,
    /// Anyone else (a sender outside our pid namespace shows as pid 0: that is someone else).
    Other,
}

/// What a received signal asks of the supervisor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// SIGCHLD: a child may have ended; drain the reaper.
    Reap,
    /// Raised by our own system call: dropped without a word (saying so would be a write,
    /// and a write to the closed output that raised it would raise another).
    Own,
    /// Dropped: a real-time signal, a rewrite to 0, or a job-control signal as PID 1.
    Ignore,
    /// Stop the formation (a second one while stopping: SIGKILL now).
    Stop(Signal),
    /// Pass it on to the process group of every running instance (through its type's
    /// `signals` table).
    Forward(Signal),
    /// SIGSTOP to every instance's group (a child may catch TSTP and go on), then to
    /// formation itself; the SIGCONT that resumes formation is then forwarded to every group.
    Suspend,
}

/// Decides what a signal means under `rules`. `signo` is raw because a signalfd can deliver
/// real-time signals that [`Signal`] cannot name; those are ignored.
pub fn classify(signo: i32, sender: Sender, rules: &Rules) -> Action {
    if sender == Sender::Ourselves {
        return Action::Own;
    }
    let Ok(received) = Signal::try_from(signo) else {
        return Action::Ignore;
    };
    // SIGCHLD cannot be rewritten (config::rewrite refuses it on either side).
    let Some(sig) = rules.rewrites.apply(received) else {
        return Action::Ignore;
    };
    match sig {
        Signal::SIGCHLD => Action::Reap,
        Signal::SIGTSTP | Signal::SIGTTIN | Signal::SIGTTOU if rules.job_control => Action::Suspend,
        Signal::SIGTSTP | Signal::SIGTTIN | Signal::SIGTTOU => Action::Ignore,
        Signal::SIGTERM | Signal::SIGINT | Signal::SIGQUIT
            if rules.policy == SignalPolicy::StopOnTerm =>
        {
            Action::Stop(sig)
        }
        // Everything else, KILL and STOP included: those cannot arrive, so here they are what
        // a rewrite asked to forward (`-r HUP:KILL`).
        _ => Action::Forward(sig),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;
    use Signal::*;
    use SignalPolicy::*;

    fn rules(
        policy: SignalPolicy,
        job_control: bool,
        rewrites: &[(Signal, Option<Signal>)],
    ) -> Rules {
        let mut r = Rules::plain(policy);
        r.job_control = job_control;
        for &(src, dst) in rewrites {
            r.rewrites.set(src, dst);
        }
        r
    }

    #[test]
    fn classification() {
        let table = [
            (SIGCHLD, ForwardAll, Reap),
            (SIGTSTP, ForwardAll, Ignore),
            (SIGTTIN, StopOnTerm, Ignore),
            (SIGTTOU, StopOnTerm, Ignore),
            (SIGTERM, ForwardAll, Forward(SIGTERM)),
            (SIGINT, ForwardAll, Forward(SIGINT)),
            (SIGQUIT, ForwardAll, Forward(SIGQUIT)),
            (SIGTERM, StopOnTerm, Stop(SIGTERM)),
            (SIGINT, StopOnTerm, Stop(SIGINT)),
            (SIGQUIT, StopOnTerm, Stop(SIGQUIT)),
            (SIGHUP, StopOnTerm, Forward(SIGHUP)),
            (SIGUSR1, StopOnTerm, Forward(SIGUSR1)),
            (SIGWINCH, ForwardAll, Forward(SIGWINCH)),
            (SIGPIPE, StopOnTerm, Forward(SIGPIPE)),
            (SIGPIPE, ForwardAll, Forward(SIGPIPE)),
            (SIGCONT, StopOnTerm, Forward(SIGCONT)),
        ];
        for (sig, policy, want) in table {
            let got = classify(sig as i32, Sender::Other, &Rules::plain(policy));
            assert_eq!(got, want, "{sig} {policy:?}");
        }
        let plain = Rules::plain(ForwardAll);
        assert_eq!(classify(40, Sender::Other, &plain), Ignore, "real-time");
    }

    #[test]
    fn what_our_own_system_calls_raise_is_dropped_before_anything_else() {
        let table = [
            (SIGPIPE, rules(StopOnTerm, false, &[])),
            (SIGXFSZ, rules(ForwardAll, true, &[])),
            (
                SIGPIPE,
                rules(ForwardAll, false, &[(SIGPIPE, Some(SIGHUP))]),
            ),
        ];
        for (sig, rules) in table {
            assert_eq!(
                classify(sig as i32, Sender::Ourselves, &rules),
                Own,
                "{sig}"
            );
            let forwarded = classify(sig as i32, Sender::Other, &rules);
            assert!(matches!(forwarded, Forward(_)), "{sig}: {forwarded:?}");
        }
    }

    #[test]
    fn job_control_suspends_only_when_not_pid1() {
        for sig in [SIGTSTP, SIGTTIN, SIGTTOU] {
            for policy in [ForwardAll, StopOnTerm] {
                let got = classify(sig as i32, Sender::Other, &rules(policy, true, &[]));
                assert_eq!(got, Suspend, "{sig} {policy:?} not PID 1");
                let got = classify(sig as i32, Sender::Other, &rules(policy, false, &[]));
                assert_eq!(got, Ignore, "{sig} {policy:?} PID 1");
            }
        }
        let r = rules(StopOnTerm, true, &[]);
        assert_eq!(
            classify(SIGCONT as i32, Sender::Other, &r),
            Forward(SIGCONT)
        );
    }

    /// The rewrite comes first; formation acts on what the signal became.
    #[test]
    fn rewriting_happens_before_acting() {
        let table = [
            // -r, the policy, job control, what arrived, what formation does.
            (
                (SIGTERM, Some(SIGQUIT)),
                ForwardAll,
                false,
                SIGTERM,
                Forward(SIGQUIT),
            ),
            (
                (SIGTERM, Some(SIGQUIT)),
                StopOnTerm,
                false,
                SIGTERM,
                Stop(SIGQUIT),
            ),
            (
                (SIGTERM, Some(SIGHUP)),
                StopOnTerm,
                false,
                SIGTERM,
                Forward(SIGHUP),
            ),
            (
                (SIGHUP, Some(SIGTERM)),
                StopOnTerm,
                false,
                SIGHUP,
                Stop(SIGTERM),
            ),
            (
                (SIGHUP, Some(SIGTERM)),
                ForwardAll,
                false,
                SIGHUP,
                Forward(SIGTERM),
            ),
            ((SIGTERM, None), StopOnTerm, false, SIGTERM, Ignore),
            ((SIGWINCH, None), ForwardAll, false, SIGWINCH, Ignore),
            ((SIGWINCH, None), ForwardAll, false, SIGHUP, Forward(SIGHUP)),
            ((SIGTSTP, None), ForwardAll, true, SIGTSTP, Ignore),
            (
                (SIGTSTP, Some(SIGUSR1)),
                StopOnTerm,
                true,
                SIGTSTP,
                Forward(SIGUSR1),
            ),
            ((SIGUSR1, Some(SIGTSTP)), StopOnTerm, true, SIGUSR1, Suspend),
            ((SIGUSR1, Some(SIGTSTP)), StopOnTerm, false, SIGUSR1, Ignore),
            (
                (SIGHUP, Some(SIGKILL)),
                ForwardAll,
                false,
                SIGHUP,
                Forward(SIGKILL),
            ),
            (
                (SIGPIPE, Some(SIGUSR2)),
                StopOnTerm,
                false,
                SIGPIPE,
                Forward(SIGUSR2),
            ),
        ];
        for (rule, policy, job_control, arrived, want) in table {
            let r = rules(policy, job_control, &[rule]);
            let got = classify(arrived as i32, Sender::Other, &r);
            assert_eq!(got, want, "-r {rule:?} {policy:?} {arrived}");
        }
    }
}
