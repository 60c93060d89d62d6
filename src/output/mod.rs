//! Child pipes and terminals → whole, prefixed lines on our stdout and stderr (SPEC §5).
//!
//! Owns: cutting bytes into lines and pieces (`lines.rs`), how a line looks (`format/`: text
//! or JSON, colours, timestamps; `json/`: whether a child's line is one JSON object), the
//! mux that reads every source and keeps each label's lines whole (`logmux/`), and sinks that
//! never block the loop, with backpressure and counted drops (`sink.rs`).
//!
//! Must not: know pids or instances' states (a source is a `LabelId`), or block: the loop's
//! one `poll` waits for it.

pub mod format;
pub mod json;
pub mod lines;
pub mod logmux;
pub mod sink;
