pub mod format;
pub mod json;
pub mod lines;
pub mod logmux;
pub mod sink;
