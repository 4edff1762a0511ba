//! Taskgate tasks-service: each signed-in user's own tasks, behind tokens verified by
//! auth-core against the auth-service's published keys. See ARCHITECTURE.md §4.
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod conditional;
pub mod config;
pub mod cursor;
pub mod domain;
pub mod entities;
pub mod error;
pub mod listing;
pub mod routes;
pub mod startup;
pub mod tasks;
