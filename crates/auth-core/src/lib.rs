//! Taskgate access tokens: the RFC 9068 claim set the auth-service signs, and the verifier every
//! service uses to accept them (size limit → header → key by `kid` from a JWKS cache →
//! signature → claims). With the default `actix` feature it also provides the `AuthUser` /
//! `MaybeAuthUser` extractors, which answer RFC 6750 + RFC 9457 errors.
//!
//! No database and no HTTP server here: the only I/O is fetching the issuer's JWKS.

#![deny(clippy::unwrap_used, clippy::expect_used)]

mod claims;
mod error;
#[cfg(feature = "actix")]
mod extractor;
mod header;
mod jwks_cache;
mod jwks_fetch;
mod keys;
mod verifier;

pub use claims::*;
pub use error::TokenError;
#[cfg(feature = "actix")]
pub use extractor::{AuthUser, MaybeAuthUser};
pub use verifier::{Verifier, VerifierConfig};

/// Re-exported so callers can build a [`VerifierConfig`] and call [`Verifier::from_jwks`]
/// without depending on the exact `jsonwebtoken` version themselves.
pub use jsonwebtoken::Algorithm;
pub use jsonwebtoken::jwk::JwkSet;
