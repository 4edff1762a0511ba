//! auth-service integration tests: the real app on a random port, against a fresh database,
//! each scenario on SQLite and on Postgres.

mod helpers;

mod accounts;
mod browser;
mod cli;
mod clients;
mod configuration;
mod keys;
mod oauth;
mod openapi;
mod rotation;
mod sessions;
mod throttling;
