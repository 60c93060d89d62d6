//! Check attempts (SPEC §4.2, §4.5): TCP connects, HTTP GETs and exec'd commands, each
//! non-blocking and bounded, made from the one loop; and the sd_notify sockets.
//!
//! Owns: the sockets and processes of attempts under way, at most one per instance, and each
//! instance's notify socket. The sockets sit in one epoll set, registered once each, and the
//! attempts in an index by bound: the supervisor polls the set's fd ([`Probes::fd`]) and calls
//! [`Probes::ready`], and a turn costs the same with 10,000 checks under way as with one; exits of exec attempts are claimed here before the engine sees them, so a
//! probe's process is never mistaken for an orphan or an instance.
//!
//! Must not: decide what a result means (the engine does), or block: a connect is
//! `O_NONBLOCK` and completes on POLLOUT; an HTTP answer is read as it comes. No name is
//! looked up (a lookup blocks): a host is an IP address or `localhost`.
//!
//! Notify: an abstract unix datagram socket per instance (no file: works on a read-only
//! root), named in the instance's `NOTIFY_SOCKET` with a leading `@` as systemd does; a
//! datagram holding the line `READY=1` makes it ready (sd_notify(3)).

use crate::engine::Probe;
use crate::engine::exit::Exit;
use crate::os::child::{self, Launch};
use crate::plan::checks::ProbeKind;
use crate::plan::{Instance, StdioMode};
use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::{Duration, Instant};

/// What an attempt or a notify socket reports: the slot, its run, the check and the result.
pub type Report = (usize, u64, Probe, Result<(), String>);

/// One attempt under way.
struct Attempt {
    run: u64,
    probe: Probe,
    until: Instant,
    how: How,
}

/// Every attempt under way and every notify socket.
#[derive(Default)]
pub struct Probes {
    attempts: HashMap<usize, Attempt>,
    execs: HashMap<Pid, usize>,
    notify: HashMap<usize, (u64, UnixDatagram)>,
    /// The attempts' sockets and the notify sockets (created with the first), and how many are
    /// in it. An event's data is the slot, shifted left once, with bit 0 set for a notify socket.
    set: Option<(Epoll, usize)>,
    /// The attempts by bound: the next deadline and the late ones without a walk over all.
    bounds: BTreeSet<(Instant, usize)>,
    /// Slots whose last exec attempt could not even be spawned (EAGAIN at a pids limit,
    /// ENOMEM): said once per run of such failures, not at every interval.
    unstartable: HashSet<usize>,
    /// Why a slot's check command could not be spawned, newly: for the supervisor to say.
    notices: Vec<(usize, String)>,
}

/// How many ready sockets one [`Probes::ready`] takes (the rest stay ready for the next turn).
const BATCH: usize = 256;

impl Probes {
    /// Starts an attempt of `kind` for slot `slot`'s run `run`, bounded by `bound`. A result
    /// known at once (a refused connect, an exec that cannot start) is returned.
    pub fn start(
        &mut self,
        (slot, run, probe): (usize, u64, Probe),
        kind: &ProbeKind,
        plan: &Instance,
        bound: Duration,
        now: Instant,
    ) -> Option<Report> {
        self.cancel(slot);
        let how = match kind {
            ProbeKind::Tcp(addr) => connect_to(addr).map(|stream| How::Socket {
                stream,
                connected: false,
                request: Vec::new(),
                answer: Vec::new(),
            }),
            ProbeKind::Http(url) => http(url),
            ProbeKind::Exec(argv) => {
                let launch = Launch {
                    argv,
                    env: plan.env.as_ref(),
                    cwd: plan.cwd.as_deref(),
                    user: plan.user.as_deref(),
                    stdio: StdioMode::Null,
                };
                let spawned = child::spawn(&launch);
                match &spawned {
                    Ok(_) => {
                        self.unstartable.remove(&slot);
                    }
                    Err(e) if self.unstartable.insert(slot) => {
                        self.notices.push((slot, e.reason.clone()));
                    }
                    Err(_) => {}
                }
                spawned
                    .map(|started| How::Exec(started.pid))
                    .map_err(|e| e.reason)
            }
            ProbeKind::Log(_) | ProbeKind::Notify => return None,
        };
        match how {
            Ok(how) => {
                if let How::Exec(pid) = how {
                    self.execs.insert(pid, slot);
                }
                if let Some((fd, flags)) = wants(&how)
                    && let Err(e) = self.watch(fd, flags, slot << 1)
                {
                    return Some((slot, run, probe, Err(format!("cannot wait for it: {e}"))));
                }
                let until = now + bound;
                let attempt = Attempt {
                    run,
                    probe,
                    until,
                    how,
                };
                self.bounds.insert((until, slot));
                self.attempts.insert(slot, attempt);
                None
            }
            Err(e) => Some((slot, run, probe, Err(e))),
        }
    }

    /// Adds `fd` to the set (creating it), waiting for `flags`, with `data`.
    fn watch(&mut self, fd: BorrowedFd<'_>, flags: EpollFlags, data: usize) -> nix::Result<()> {
        if self.set.is_none() {
            self.set = Some((Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?, 0));
        }
        let Some((set, members)) = self.set.as_mut() else {
            return Err(Errno::EBADF);
        };
        set.add(fd, EpollEvent::new(flags, data as u64))?;
        *members += 1;
        Ok(())
    }

    /// Takes `fd` out of the set (before it is closed).
    fn unwatch(&mut self, fd: BorrowedFd<'_>) {
        if let Some((set, members)) = self.set.as_mut()
            && set.delete(fd).is_ok()
        {
            *members -= 1;
        }
    }

    /// Removes slot `slot`'s attempt from the table, the index and the set.
    fn take(&mut self, slot: usize) -> Option<Attempt> {
        let attempt = self.attempts.remove(&slot)?;
        self.bounds.remove(&(attempt.until, slot));
        if let Some((fd, _)) = wants(&attempt.how) {
            self.unwatch(fd);
        }
        Some(attempt)
    }

    /// Drops slot `slot`'s attempt, if any (an exec attempt's group is killed).
    /// The slots whose check command newly could not be spawned, with why (one notice per
    /// run of failures: a pids limit would otherwise log a line at every interval).
    pub fn take_notices(&mut self) -> Vec<(usize, String)> {
        std::mem::take(&mut self.notices)
    }

    fn cancel(&mut self, slot: usize) {
        if let Some(attempt) = self.take(slot)
            && let How::Exec(pid) = attempt.how
        {
            child::signal_group(pid, Signal::SIGKILL);
            // Its exit is still claimed (and ignored) when it is reaped.
        }
    }

    /// A notify socket for slot `slot`'s run `run`: the `NOTIFY_SOCKET` value to give it.
    pub fn notify_socket(&mut self, slot: usize, run: u64) -> Result<String, String> {
        let name = format!("formation/{}/{slot}/{run}", std::process::id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).map_err(|e| e.to_string())?;
        let socket = UnixDatagram::bind_addr(&addr).map_err(|e| e.to_string())?;
        socket.set_nonblocking(true).map_err(|e| e.to_string())?;
        if let Some((_, old)) = self.notify.remove(&slot) {
            self.unwatch(old.as_fd());
        }
        let data = slot << 1 | 1;
        self.watch(socket.as_fd(), EpollFlags::EPOLLIN, data)
            .map_err(|e| e.to_string())?;
        self.notify.insert(slot, (run, socket));
        Ok(format!("@{name}"))
    }

    /// The fd to poll for input: the set of sockets, when it holds any.
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        match &self.set {
            Some((set, members)) if *members > 0 => Some(set.0.as_fd()),
            _ => None,
        }
    }

    /// Waits up to `timeout` for a socket of the set (outside the loop: `formation probe`),
    /// then reports what is ready.
    pub fn wait(&mut self, timeout: nix::poll::PollTimeout) -> Vec<Report> {
        let mut fds: Vec<nix::poll::PollFd> = self
            .fd()
            .map(|fd| nix::poll::PollFd::new(fd, nix::poll::PollFlags::POLLIN))
            .into_iter()
            .collect();
        let _ = nix::poll::poll(&mut fds, timeout);
        drop(fds);
        self.ready()
    }

    /// What the sockets that are ready now have to report (poll said the set is readable).
    pub fn ready(&mut self) -> Vec<Report> {
        let mut events = [EpollEvent::empty(); BATCH];
        let n = match &self.set {
            Some((set, _)) => set.wait(&mut events, EpollTimeout::ZERO).unwrap_or(0),
            None => 0,
        };
        events[..n]
            .iter()
            .filter_map(|e| {
                let data = e.data() as usize;
                self.ready_one(data >> 1, data & 1 == 1)
            })
            .collect()
    }

    /// Slot `slot`'s socket (its notify socket with `notify`) is ready.
    fn ready_one(&mut self, slot: usize, notify: bool) -> Option<Report> {
        if notify {
            let (run, socket) = self.notify.get(&slot)?;
            let mut buf = [0u8; 4096];
            let mut ready = false;
            while let Ok(n) = socket.recv(&mut buf) {
                ready |= buf[..n].split(|b| *b == b'\n').any(|l| l == b"READY=1");
            }
            let run = *run;
            if !ready {
                return None;
            }
            if let Some((_, socket)) = self.notify.remove(&slot) {
                self.unwatch(socket.as_fd());
            }
            return Some((slot, run, Probe::Ready, Ok(())));
        }
        let attempt = self.attempts.get_mut(&slot)?;
        let (run, probe) = (attempt.run, attempt.probe);
        let Some(result) = advance(&mut attempt.how) else {
            // Not done: what it waits for may have changed (connected, request sent).
            if let (Some((fd, flags)), Some((set, _))) = (wants(&attempt.how), &self.set) {
                let _ = set.modify(fd, &mut EpollEvent::new(flags, (slot << 1) as u64));
            }
            return None;
        };
        self.take(slot);
        Some((slot, run, probe, result))
    }

    /// Claims the exit of an exec attempt's process; None when `pid` is not one.
    pub fn exited(&mut self, pid: Pid, exit: Exit) -> Option<Option<Report>> {
        let slot = self.execs.remove(&pid)?;
        let current = self
            .attempts
            .get(&slot)
            .is_some_and(|a| matches!(a.how, How::Exec(p) if p == pid));
        if !current {
            return Some(None);
        }
        let attempt = self.take(slot)?;
        let result = if exit.success() {
            Ok(())
        } else {
            Err(format!("the check {exit}"))
        };
        Some(Some((slot, attempt.run, attempt.probe, result)))
    }

    /// The earliest bound of an attempt under way.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.bounds.first().map(|&(until, _)| until)
    }

    /// Ends the attempts whose bound has passed, as failures.
    pub fn expire(&mut self, now: Instant) -> Vec<Report> {
        let mut late = Vec::new();
        while let Some(&(until, slot)) = self.bounds.first()
            && until <= now
        {
            self.bounds.pop_first();
            if let Some((run, probe)) = self.attempts.get(&slot).map(|a| (a.run, a.probe)) {
                self.cancel(slot);
                late.push((slot, run, probe, Err("no answer in time".to_string())));
            }
        }
        late
    }
}

/// One attempt of `kind` for `plan`, to its end or `bound` (`formation probe`, SPEC §2.1). It
/// runs outside any supervisor (e.g. through `docker exec`), so an exec check's process is
/// reaped here, by the one reaper function.
pub fn once(kind: &ProbeKind, plan: &Instance, bound: Duration) -> Result<(), String> {
    let mut probes = Probes::default();
    let until = Instant::now() + bound;
    let who = (0, 0, Probe::Ready);
    if let Some((_, _, _, result)) = probes.start(who, kind, plan, bound, Instant::now()) {
        return result;
    }
    loop {
        // An exec check has no fd to wait on: look for its exit every 10 ms.
        if let Some((_, _, _, result)) = probes.wait(nix::poll::PollTimeout::from(10u8)).pop() {
            return result;
        }
        for (pid, exit) in crate::os::reaper::drain().exits {
            if let Some(Some((_, _, _, result))) = probes.exited(pid, exit) {
                return result;
            }
        }
        if Instant::now() >= until {
            probes.cancel(0);
            return Err(format!(
                "no answer within {}",
                crate::time::duration::Human(bound)
            ));
        }
    }
}

mod attempt;
use attempt::{How, advance, connect_to, http, wants};
#[cfg(test)]
mod tests;
