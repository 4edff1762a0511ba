//! auth-core's integration tests, one binary (house style): hand-built hostile tokens against
//! fixed keys, a real HTTP JWKS endpoint, several trusted issuers, a real revocation feed, the
//! verified-token cache, and the actix-web extractors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod arbitrary_tokens;
#[cfg(feature = "actix")]
mod extractor;
mod hostile_tokens;
mod remote_jwks;
mod revocation;
mod support;
mod trusted_issuers;
mod verified_token_cache;
