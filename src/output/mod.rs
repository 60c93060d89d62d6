pub mod format;
pub mod json;
pub mod logmux;
pub mod sink;
