//! Taskgate auth-service: signs users up and in, issues RFC 9068 access tokens and rotating
//! refresh tokens, and publishes its public keys. See docs/architecture.md, "Tokens" and
//! "HTTP contract".
//!
//! Layers point one way: `routes` (HTTP) and `cli` (the command line) → the data modules
//! (`accounts`, `sessions`, `tokens`, `oauth`, `account_deletion`) → `entities` and
//! `database`. Nothing outside `routes` handles requests or maps errors to statuses (a data
//! type whose JSON is the API's, such as the revocation feed's page, may carry its OpenAPI
//! schema); `startup` wires it all, and `workers` run the background loops with exactly the
//! dependencies they use.
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod account_deletion;
pub mod accounts;
pub mod cli;
pub mod client_address;
pub mod clock;
pub mod config;
pub mod database;
pub mod domain;
pub mod entities;
pub mod oauth;
pub mod retention;
pub mod routes;
pub mod sessions;
pub mod startup;
pub mod tokens;
pub mod workers;
