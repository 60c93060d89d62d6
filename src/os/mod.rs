//! The only system calls: spawning and signalling process groups, reaping, the signal mask
//! and signalfd, readiness probes, the listener and control sockets, terminals, /proc and
//! the cgroup, the clock.
//!
//! Owns: each syscall's quirks, named where they bite (a file per resource). Every fd it
//! hands out has one owner in the supervisor's poll set.
//!
//! Must not: decide anything. What a signal means, when to restart, what to kill next are the
//! engine's (`engine/`); this layer carries out and reports, and the pure types it shares with
//! the engine (`Exit`, `StdioMode`) live there, not here.

pub mod cgroup;
pub mod child;
pub mod clock;
pub mod conns;
pub mod control;
pub mod host;
pub mod listener;
pub mod probe;
pub mod procfs;
pub mod reaper;
pub mod secret;
pub mod signals;
pub mod spawn;
pub mod sweep;
pub mod terminal;
