//! auth-service integration tests: the real app on a random port, against a fresh database,
//! each scenario on SQLite and on Postgres.

mod helpers;

mod accounts;
mod cli;
mod client_addresses;
mod clients;
mod configuration;
mod keys;
mod limits;
mod oauth;
mod openapi;
mod retention;
mod revocation_feed;
mod passwords;
mod rotation;
mod sessions;
mod throttling;
