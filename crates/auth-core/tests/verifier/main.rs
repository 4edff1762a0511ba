//! auth-core's integration tests, one binary (house style): hand-built hostile tokens against
//! fixed keys, a real HTTP JWKS endpoint, and the actix-web extractors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[cfg(feature = "actix")]
mod extractor;
mod hostile_tokens;
mod remote_jwks;
mod support;
