//! The rules: when an instance restarts, how long it waits, when it gives up, and what status
//! formation exits with.
//!
//! Owns: pure functions of (policy, history, exit, uptime). No clock is read here and no
//! syscall is made: the supervisor passes `now`-derived values in and carries out the
//! decision, which keeps every rule table-testable.
//!
//! SPEC §3.4 and §4: backoff starts at 1 s and doubles to a 30 s cap; a run of 30 s counts as
//! healthy and resets both the backoff and the crash-loop counter; after 10 restarts without a
//! healthy run, the next exit ends the instance for good.

use crate::config::model::{Backoff, Restart};
use crate::engine::exit::Exit;
use std::time::Duration;

/// What happens to an instance after it exited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterExit {
    /// Start it again after `delay`; `restarts` is the new count since its last healthy run.
    Restart { delay: Duration, restarts: u32 },
    /// It has ended for good: its policy does not restart this exit.
    Done,
    /// It has ended for good: it kept crashing (`restarts` restarts without a healthy run).
    CrashLoop { restarts: u32 },
}

/// Decides what follows an exit. `restarts` counts the restarts since the last healthy run;
/// `uptime` is how long this run lasted.
pub fn after_exit(
    restart: Restart,
    backoff: &Backoff,
    restarts: u32,
    exit: Exit,
    uptime: Duration,
) -> AfterExit {
    let wanted = match restart {
        Restart::Never => false,
        Restart::OnFailure => !exit.success(),
        Restart::Always => true,
    };
    if !wanted {
        return AfterExit::Done;
    }
    let restarts = if uptime >= backoff.healthy {
        0
    } else {
        restarts
    };
    if restarts >= backoff.restarts {
        return AfterExit::CrashLoop { restarts };
    }
    AfterExit::Restart {
        delay: delay(backoff, restarts),
        restarts: restarts + 1,
    }
}

/// The wait before restart number `done + 1`: `initial`, doubling, capped at `max`.
fn delay(backoff: &Backoff, done: u32) -> Duration {
    backoff
        .initial
        .saturating_mul(1u32 << done.min(31))
        .min(backoff.max)
}

/// Why the formation is stopping; decides the exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopCause {
    /// SIGTERM, SIGINT or SIGQUIT (this number) asked for it.
    Signal(i32),
    /// An essential instance ended for good with this exit.
    Essential(Exit),
    /// Every instance ended and none was essential; the first non-zero status, if any.
    AllEnded(Option<i32>),
}

/// formation's own exit status (SPEC §4.1). `forced` is true when anything had to be
/// SIGKILLed — past a grace, or because a second signal asked for it.
pub fn exit_status(cause: StopCause, forced: bool) -> i32 {
    match cause {
        StopCause::Signal(_) if forced => 137,
        StopCause::Signal(_) => 0,
        StopCause::Essential(exit) => exit.status(),
        StopCause::AllEnded(first_failure) => first_failure.unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;
    const B: Backoff = Backoff {
        initial: Duration::from_secs(1),
        max: Duration::from_secs(30),
        healthy: Duration::from_secs(30),
        restarts: 10,
    };

    #[test]
    fn the_defaults_are_the_specs() {
        assert_eq!(Backoff::default(), B);
    }

    #[test]
    fn backoff_is_the_processs_to_set() {
        let ms = Duration::from_millis;
        let b = Backoff {
            initial: ms(10),
            max: ms(35),
            healthy: ms(100),
            restarts: 2,
        };
        let run = |n, up| after_exit(Restart::Always, &b, n, Exit::Code(1), up);
        assert_eq!(
            run(0, ms(0)),
            AfterExit::Restart {
                delay: ms(10),
                restarts: 1
            }
        );
        assert_eq!(
            run(1, ms(0)),
            AfterExit::Restart {
                delay: ms(20),
                restarts: 2
            }
        );
        assert_eq!(run(2, ms(0)), AfterExit::CrashLoop { restarts: 2 });
        assert_eq!(
            run(2, ms(100)),
            AfterExit::Restart {
                delay: ms(10),
                restarts: 1
            }
        );
        let capped = Backoff { restarts: 100, ..b };
        let late = after_exit(Restart::Always, &capped, 40, Exit::Code(1), ms(0));
        assert_eq!(
            late,
            AfterExit::Restart {
                delay: ms(35),
                restarts: 41
            }
        );
    }

    #[test]
    fn restart_policies() {
        use AfterExit::Done;
        let again = |delay| AfterExit::Restart { delay, restarts: 1 };
        let fail = Exit::Code(1);
        let ok = Exit::Code(0);
        let killed = Exit::Signal(9);
        let table = [
            (Restart::Never, fail, Done),
            (Restart::Never, ok, Done),
            (Restart::OnFailure, ok, Done),
            (Restart::OnFailure, fail, again(S(1))),
            (Restart::OnFailure, killed, again(S(1))),
            (Restart::Always, ok, again(S(1))),
        ];
        for (policy, exit, want) in table {
            assert_eq!(
                after_exit(policy, &B, 0, exit, S(1)),
                want,
                "{policy:?} {exit:?}"
            );
        }
    }

    #[test]
    fn backoff_doubles_to_a_cap() {
        let delays: Vec<u64> = (0..10)
            .map(
                |n| match after_exit(Restart::Always, &B, n, Exit::Code(1), S(0)) {
                    AfterExit::Restart { delay, .. } => delay.as_secs(),
                    other => panic!("{other:?}"),
                },
            )
            .collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30, 30, 30, 30]);
    }

    #[test]
    fn crash_loop_after_ten_unhealthy_restarts() {
        assert_eq!(
            after_exit(Restart::Always, &B, 10, Exit::Code(1), S(29)),
            AfterExit::CrashLoop { restarts: 10 }
        );
        assert_eq!(
            after_exit(Restart::Always, &B, 9, Exit::Code(1), S(29)),
            AfterExit::Restart {
                delay: S(30),
                restarts: 10
            }
        );
    }

    #[test]
    fn healthy_run_resets_backoff_and_count() {
        assert_eq!(
            after_exit(Restart::Always, &B, 10, Exit::Code(1), B.healthy),
            AfterExit::Restart {
                delay: S(1),
                restarts: 1
            }
        );
    }

    #[test]
    fn exit_status_rules() {
        let table = [
            (StopCause::Signal(15), false, 0),
            (StopCause::Signal(15), true, 137),
            (StopCause::Essential(Exit::Code(3)), false, 3),
            (StopCause::Essential(Exit::Code(3)), true, 3),
            (StopCause::Essential(Exit::Signal(15)), false, 143),
            (StopCause::AllEnded(None), false, 0),
            (StopCause::AllEnded(Some(4)), true, 4),
        ];
        for (cause, forced, want) in table {
            assert_eq!(
                exit_status(cause, forced),
                want,
                "{cause:?} forced={forced}"
            );
        }
    }
}
