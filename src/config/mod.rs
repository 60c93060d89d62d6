pub mod envfile;
pub mod load;
pub mod model;
pub mod procfile;
pub mod schema;
pub mod units;
pub mod users;
pub mod validate;
