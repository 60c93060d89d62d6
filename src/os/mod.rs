pub mod child;
pub mod clock;
pub mod probe;
pub mod reaper;
pub mod signals;
pub mod spawn;
pub mod sweep;
