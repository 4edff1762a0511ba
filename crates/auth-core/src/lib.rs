//! Taskgate access tokens: the RFC 9068 claim set the auth-service signs, and the verifier every
//! service uses to accept them (size limit → header → issuer by `iss` → key by `kid` from a JWKS
//! cache, or a shared secret → signature → claims → revocation set). Several issuers can be
//! trusted at once, each with its own rules (the Better Auth compatibility mode). Tokens that
//! passed are remembered in a bounded cache, so a token presented again costs a hash lookup and
//! the expiry and revocation checks instead of a signature verification. With the
//! default `actix` feature it also provides the `AuthUser` / `MaybeAuthUser` extractors, which
//! answer RFC 6750 + RFC 9457 errors.
//!
//! No database and no HTTP server here: the only I/O is fetching issuers' JWKS and following
//! the primary issuer's revocation feed, both in the background.

#![deny(clippy::unwrap_used, clippy::expect_used)]

mod claims;
mod clock;
mod config;
mod error;
#[cfg(feature = "actix")]
mod extractor;
mod header;
mod http_fetch;
mod issuer_selection;
mod issuer_verifier;
mod jwks_cache;
mod jwks_fetch;
mod keys;
mod revocation_feed;
mod revocation_follower;
mod revocation_set;
pub mod scopes;
mod service_token;
mod trusted_issuer;
#[cfg(feature = "test-support")]
pub mod unverified;
mod verified_token;
mod verified_token_cache;
mod verifier;

pub use claims::*;
pub use config::{
    DEFAULT_VERIFIED_TOKEN_CACHE_SIZE, FeedClient, MAX_LEEWAY_SECS, UserIdSource, VerifierConfig,
};
pub use error::TokenError;
#[cfg(feature = "actix")]
pub use extractor::{AuthUser, MaybeAuthUser, ServiceClient};
pub use revocation_follower::RevocationStatus;
pub use trusted_issuer::{TrustError, TrustedIssuer};
pub use verified_token::{VerifiedToken, derived_user_id};
pub use verifier::Verifier;

/// Re-exported so callers can build a [`VerifierConfig`] and call [`Verifier::from_jwks`]
/// without depending on the exact `jsonwebtoken` or `secrecy` version themselves.
pub use jsonwebtoken::Algorithm;
pub use jsonwebtoken::jwk::JwkSet;
pub use secrecy::SecretString;
