pub mod format;
pub mod logmux;
pub mod sink;
