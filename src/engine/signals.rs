//! What each signal means to formation (SPEC §1.1, §4): pure, table-tested. The mask and the
//! signalfd that deliver them are `os::signals`.

use nix::sys::signal::Signal;

/// How formation treats the stop signals TERM, INT and QUIT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalPolicy {
    /// Single-command mode (SPEC §1.1): every signal is forwarded, TERM, INT and QUIT too.
    ForwardAll,
    /// Formation mode (SPEC §4): TERM, INT and QUIT stop the formation.
    StopOnTerm,
}

/// What a received signal asks of the supervisor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// SIGCHLD: a child may have ended; drain the reaper.
    Reap,
    /// Job-control signals (TSTP, TTIN, TTOU): PID 1 must not stop, so they are dropped.
    Ignore,
    /// Stop the formation (a second one while stopping: SIGKILL now).
    Stop(Signal),
    /// Pass it on to the process group of every running instance.
    Forward(Signal),
}

/// Decides what a signal means under a policy. `signo` is raw because a signalfd can deliver
/// real-time signals that [`Signal`] cannot name; those are ignored.
pub fn classify(signo: i32, policy: SignalPolicy) -> Action {
    let Ok(sig) = Signal::try_from(signo) else {
        return Action::Ignore;
    };
    match sig {
        Signal::SIGCHLD => Action::Reap,
        Signal::SIGTSTP | Signal::SIGTTIN | Signal::SIGTTOU => Action::Ignore,
        // Unblockable, or (SIGPIPE) left unblocked and ignored: never read from the signalfd.
        Signal::SIGKILL | Signal::SIGSTOP | Signal::SIGPIPE => Action::Ignore,
        Signal::SIGTERM | Signal::SIGINT | Signal::SIGQUIT
            if policy == SignalPolicy::StopOnTerm =>
        {
            Action::Stop(sig)
        }
        _ => Action::Forward(sig),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SignalPolicy::*;

    #[test]
    fn classification() {
        let table = [
            (Signal::SIGCHLD, ForwardAll, Action::Reap),
            (Signal::SIGTSTP, ForwardAll, Action::Ignore),
            (Signal::SIGTTIN, StopOnTerm, Action::Ignore),
            (Signal::SIGTTOU, StopOnTerm, Action::Ignore),
            (
                Signal::SIGTERM,
                ForwardAll,
                Action::Forward(Signal::SIGTERM),
            ),
            (Signal::SIGINT, ForwardAll, Action::Forward(Signal::SIGINT)),
            (
                Signal::SIGQUIT,
                ForwardAll,
                Action::Forward(Signal::SIGQUIT),
            ),
            (Signal::SIGTERM, StopOnTerm, Action::Stop(Signal::SIGTERM)),
            (Signal::SIGINT, StopOnTerm, Action::Stop(Signal::SIGINT)),
            (Signal::SIGQUIT, StopOnTerm, Action::Stop(Signal::SIGQUIT)),
            (Signal::SIGHUP, StopOnTerm, Action::Forward(Signal::SIGHUP)),
            (
                Signal::SIGUSR1,
                StopOnTerm,
                Action::Forward(Signal::SIGUSR1),
            ),
            (
                Signal::SIGWINCH,
                ForwardAll,
                Action::Forward(Signal::SIGWINCH),
            ),
        ];
        for (sig, policy, want) in table {
            assert_eq!(classify(sig as i32, policy), want, "{sig} {policy:?}");
        }
        assert_eq!(classify(40, ForwardAll), Action::Ignore, "real-time signal");
    }
}
