//! Taskgate tasks-service: each signed-in user's own tasks, behind tokens verified by
//! auth-core against the auth-service's published keys. See docs/architecture.md, "HTTP
//! contract".
//!
//! Layers point one way: `routes` (HTTP) → `task_store`, `listing`, `cursor` → `entities` and
//! `database`; `startup` wires it all.
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod config;
pub mod cursor;
pub mod database;
pub mod domain;
pub mod entities;
pub mod listing;
pub mod routes;
pub mod startup;
pub mod task_store;
