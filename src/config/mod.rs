//! Config text → a validated [`model::Formation`] (SPEC §3): formation.toml, a Procfile (or
//! both, the Procfile with the toml's overrides), env files, and the values the command line
//! shares with them (signal names, log levels, the listen address).
//!
//! Owns: discovery and reading (`load.rs`, the only file I/O here, with the `user` lookup in
//! `users.rs`), the schema of every key (`schema/`), the Procfile and env-file grammars, the
//! model the rest of the program reads (`model/`), and the rules across types (`validate/`).
//! Every error of a file at once, each with file:line:col.
//!
//! Must not: spawn, print, need root, or import `cli/` (the command line imports this, not the
//! other way round); read the host for `export` beyond the config and env files themselves.
//! Durations, cron and time zones are `time/`.

pub mod document;
pub mod envfile;
pub mod listen;
pub mod load;
pub mod model;
pub mod names;
pub mod procfile;
pub mod rewrite;
pub mod schema;
pub mod users;
pub mod validate;
