//! auth-service integration tests: the real app on a random port, against a fresh database,
//! each scenario on SQLite and on Postgres.

mod helpers;

mod accounts;
mod browser;
mod cli;
mod client_addresses;
mod clients;
mod configuration;
mod keys;
mod limits;
mod oauth;
mod openapi;
mod passwords;
mod retention;
mod revocation_feed;
mod rotation;
mod sessions;
mod shutdown;
mod throttling;
