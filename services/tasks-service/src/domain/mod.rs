//! Parsed task values: handlers never store unvalidated strings.
pub mod task_fields;

pub use task_fields::{Description, FieldError, Priority, TaskTitle, UserId};
