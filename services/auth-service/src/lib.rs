//! Taskgate auth-service: signs users up and in, issues RFC 9068 access tokens and rotating
//! refresh tokens, and publishes its public keys. See ARCHITECTURE.md §3 and §4.
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod access_token;
pub mod account_deletion;
pub mod accounts;
pub mod clock;
pub mod config;
pub mod domain;
pub mod entities;
pub mod error;
pub mod key_rotation;
pub mod master_key;
pub mod oauth_clients;
pub mod opaque_secret;
pub mod password_hasher;
pub mod purge_delivery;
pub mod revocations;
pub mod routes;
pub mod sessions;
pub mod signing_keys;
pub mod startup;
pub mod throttle;
