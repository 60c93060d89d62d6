//! formation's pure layers, compiled from `../../src` as they are, for the fuzz targets.
//!
//! Why `#[path]` includes and not a `lib.rs` in the main crate: formation is one binary
//! crate whose layers are folders (docs/architecture.md). A library target would compile
//! every module twice on each build of the binary and its tests (once for the lib, once for
//! the bin), and move the unit tests to `cargo test --lib`; a `[lib]` that the binary used
//! instead would turn every `crate::` path of main.rs into the library's name. Including the
//! folders here leaves the binary as it is: these modules' `crate::` paths resolve against
//! this file, which declares the same top-level names as main.rs. The cost: when a layer
//! moves (a folder renamed), this list follows — CI's short fuzz run notices at once.
//!
//! Only what the targets reach is here: the layers below the loop (no `os/`, `supervisor/`
//! or `commands/`), which make no system calls of their own beyond what `config/` reads.
#![allow(dead_code, unused_imports, unused_macros, unreachable_pub)]

#[path = "../../src/cli/mod.rs"]
pub mod cli;
#[path = "../../src/config/mod.rs"]
pub mod config;
#[path = "../../src/engine/mod.rs"]
pub mod engine;
#[path = "../../src/export/mod.rs"]
pub mod export;
#[path = "../../src/output/mod.rs"]
pub mod output;
#[path = "../../src/plan/mod.rs"]
pub mod plan;
#[path = "../../src/serve/mod.rs"]
pub mod serve;
#[path = "../../src/time/mod.rs"]
pub mod time;
