//! The start-up wiring both services share, so each service's `main.rs` and `startup.rs` say
//! only what is particular to it:
//! - [`telemetry`]: log lines for a server, for the CLI, and for tests (`TEST_LOG=1`);
//! - [`settings`]: layered configuration (defaults → `config/<service>.toml` → environment);
//! - [`http_server`]: the actix-web server with request ids, tracing, problem+json for
//!   malformed input and unknown routes, and the OpenAPI document at `/openapi.json`;
//! - [`request_limits`]: the size, time and token-in-URL limits every request meets;
//! - [`health`]: `GET /healthz` and the 503 of a `/readyz` that is not ready;
//! - [`healthcheck`]: the `healthcheck` subcommand's probe of a running service (containers);
//! - [`shutdown`]: the drain on SIGTERM (`/readyz` 503, requests in flight finish, exit 0);
//! - [`cors`]: the browser origins a deployment allows, and their CORS answers;
//! - [`unknown_routes`]: 405 with `Allow` for a documented path's other methods, else 404;
//! - [`loopback`]: which URLs and listen addresses stay on the machine (production rules).
//!
//! Errors and their problem+json shape live in `http-problem`; databases in
//! `service-database`. What a service does with its routes is its own.
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod cors;
pub mod health;
pub mod healthcheck;
pub mod http_server;
pub mod loopback;
pub mod request_limits;
pub mod settings;
pub mod shutdown;
pub mod telemetry;
pub mod unknown_routes;

#[cfg(feature = "test-support")]
pub mod testing;
