//! The integration tests, as one binary (one link, one process start for the whole suite):
//! the real `formation` run as PID 1 of a new pid namespace (`unshare --pid --fork
//! --mount-proc`, so they need root) or, where a test says so, as a plain child.
//!
//! Run one area with `cargo test --test pid1 logs::`, one test by its name. Tests run in
//! parallel threads: each owns its temporary directory and its processes, and waits for the
//! fixtures' handshakes, never for a fixed time; a time that is the subject of a test (a
//! grace, a backoff, "nothing happens for a while") is a short setting, said so where it is.

mod cgroups;
mod harness;

mod check;
mod control;
mod docs;
mod export;
mod faults;
mod formation;
mod graph;
mod listener;
mod logs;
mod overrides;
mod reload;
mod robustness;
mod secrets;
mod signals;
mod single;
mod spawn;
mod stack;
mod subcommands;
mod terminal;
