pub mod exit;
pub mod policy;
pub mod signals;
pub mod stop;
