pub mod child;
pub mod probe;
pub mod reaper;
pub mod signals;
pub mod sweep;
