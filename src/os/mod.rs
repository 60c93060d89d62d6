pub mod child;
pub mod reaper;
pub mod signals;
pub mod sweep;
