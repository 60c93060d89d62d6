pub mod civil;
pub mod cron;
pub mod duration;
pub mod tz;
