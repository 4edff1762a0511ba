//! Parsed, validated values: handlers never touch raw strings from a request.
pub mod common_passwords;
pub mod email;
pub mod password;
pub mod scope;

pub use email::Email;
pub use password::Password;
pub use scope::{ScopeError, ScopeSet};
