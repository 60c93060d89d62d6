pub mod child;
pub mod reaper;
pub mod signals;
pub mod spawn;
pub mod sweep;
