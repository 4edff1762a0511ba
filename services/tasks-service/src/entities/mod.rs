//! sea-orm entities of the `tasks` schema.
pub mod tasks;
