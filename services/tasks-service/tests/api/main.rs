//! tasks-service integration tests: a real auth-service and a real tasks-service, in-process on
//! random ports, the tasks-service trusting only the auth-service's published keys. Each
//! scenario runs on SQLite and on Postgres.

mod helpers;

mod account_deletion;
mod authentication;
mod browser;
mod compat;
mod conditional;
mod configuration;
mod crud;
mod internal;
mod isolation;
mod lifecycle;
mod limits;
mod listing;
mod openapi;
mod outages;
mod query_plans;
mod shutdown;
