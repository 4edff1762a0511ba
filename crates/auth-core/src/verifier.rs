//! The verifier services hold: one or more trusted issuers, each with its own keys and rules.
//! A token goes: size limit → JWS syntax → header members → issuer chosen by its unverified
//! `iss` → that issuer's checks (header, key, signature, claims, revocations). A token some
//! issuer verified before is answered from that issuer's verified-token cache first, before any
//! parsing: a digest of the token, a lookup, and the expiry, key and revocation checks.

use std::sync::Arc;

use jsonwebtoken::jwk::JwkSet;

use crate::claims::AccessClaims;
use crate::clock::unix_now;
use crate::config::VerifierConfig;
use crate::error::TokenError;
use crate::header::{parse_header, split_compact};
use crate::issuer_selection::{select, unverified_issuer};
use crate::issuer_verifier::{IssuerKeys, IssuerVerifier};
use crate::keys::{KeyOrigin, KeySet};
use crate::revocation_follower::RevocationStatus;
use crate::trusted_issuer::{TrustError, TrustedIssuer, check_all, fixed_cache};
use crate::verified_token::VerifiedToken;
use crate::verified_token_cache::TokenDigest;

/// Verifies access tokens. Cheap to clone (one `Arc`).
///
/// The first issuer is the *primary* one (our auth-service): [`Verifier::config`],
/// [`Verifier::has_keys`], [`Verifier::replace_keys`] and [`Verifier::revocation_status`] are
/// about it. Verification never makes a network call for revocation; at most one JWKS re-fetch
/// per `min_refetch_interval` when a token names an unknown `kid`.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    /// Never empty.
    issuers: Vec<IssuerVerifier>,
    /// The largest per-issuer limit, checked before any parsing.
    max_token_bytes: usize,
    /// Some issuer has a verified-token cache, so tokens are digested and looked up first.
    caching: bool,
}

impl Verifier {
    /// Fixed keys, no network (the auth-service verifies its own tokens this way; tests too).
    /// Unlike fetched sets, a fixed set may hold symmetric (`oct`) keys, each bound to its
    /// declared HS* algorithm. No revocation feed is followed here, even if configured: use
    /// [`Verifier::connect_trusted`] with [`TrustedIssuer::fixed_keys`] for that.
    pub fn from_jwks(config: VerifierConfig, keys: JwkSet) -> Verifier {
        if config.revocation_feed_url.is_some() {
            tracing::warn!(
                issuer = %config.issuer,
                "Verifier::from_jwks does not follow revocation feeds; revocation_feed_url is ignored"
            );
        }
        let cache = fixed_cache(&keys);
        Verifier::from_issuers(vec![IssuerVerifier::new(
            config,
            IssuerKeys::Cached(cache),
            None,
        )])
    }

    /// Several trusted issuers, the first being the primary one (a single remote issuer is
    /// `connect_trusted(vec![TrustedIssuer::jwks(config)])`). A token is verified by the
    /// issuer its `iss` names (by its header `alg` too, when one `iss` is configured twice).
    /// Fails, before any I/O, on a list that could not be used safely (see [`TrustError`]).
    ///
    /// For each issuer: a [`TrustedIssuer::jwks`] one tries the first JWKS fetch now (a failure
    /// is logged, not fatal: the issuer may start later), then refreshes in the background,
    /// retrying failures with capped backoff and serving the cached keys while the issuer is
    /// down. An issuer with a `revocation_feed_url` has its feed followed, the first snapshot
    /// awaited briefly here.
    pub async fn connect_trusted(issuers: Vec<TrustedIssuer>) -> Result<Verifier, TrustError> {
        check_all(&issuers)?;
        let mut connected = Vec::with_capacity(issuers.len());
        for issuer in issuers {
            connected.push(issuer.connect().await?);
        }
        Ok(Verifier::from_issuers(connected))
    }

    fn from_issuers(issuers: Vec<IssuerVerifier>) -> Verifier {
        let max_token_bytes = issuers
            .iter()
            .map(|issuer| issuer.config().max_token_bytes)
            .max()
            .unwrap_or(0);
        let caching = issuers.iter().any(IssuerVerifier::caches_verified_tokens);
        Verifier {
            inner: Arc::new(Inner {
                issuers,
                max_token_bytes,
                caching,
            }),
        }
    }

    fn primary(&self) -> &IssuerVerifier {
        // `from_issuers` is only ever given a non-empty list (`check_all` refuses an empty one).
        &self.inner.issuers[0]
    }

    /// Swaps in a new key set for the primary issuer (e.g. after the auth-service rotates its
    /// own keys). Applied as given, even if empty: the caller is trusted, unlike a fetched
    /// response.
    pub fn replace_keys(&self, keys: JwkSet) {
        let keys = KeySet::from_jwks(&keys, KeyOrigin::Local);
        if keys.is_empty() {
            tracing::warn!("replace_keys: the new key set has no usable keys");
        }
        if !self.primary().replace_keys(keys) {
            tracing::warn!("replace_keys: the primary issuer uses a shared secret, not a key set");
        }
    }

    /// Whether the primary issuer has any usable key loaded (for `/readyz`).
    pub fn has_keys(&self) -> bool {
        self.primary().key_count() > 0
    }

    /// The primary issuer's configuration.
    pub fn config(&self) -> &VerifierConfig {
        self.primary().config()
    }

    /// Every trusted issuer's configuration, the primary first.
    pub fn issuers(&self) -> impl Iterator<Item = &VerifierConfig> {
        self.inner.issuers.iter().map(IssuerVerifier::config)
    }

    /// How the primary issuer's revocation feed is followed (for `/readyz`).
    pub fn revocation_status(&self) -> RevocationStatus {
        self.primary().revocation_status()
    }

    /// How many verified tokens the issuers' caches hold in all (for metrics and tests).
    pub fn cached_token_count(&self) -> usize {
        self.inner
            .issuers
            .iter()
            .map(IssuerVerifier::cached_token_count)
            .sum()
    }

    /// Verifies `token` and returns its claims as signed. Use [`Verifier::verify_token`] to
    /// also get the scopes granted and the user id under the issuer's rules.
    pub async fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        self.verify_token(token)
            .await
            .map(|verified| verified.claims)
    }

    pub async fn verify_token(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        let result = self.verify_steps(token).await;
        if let Err(err) = &result {
            // The reason only: the token itself is a credential and is never logged.
            tracing::debug!(reason = %err, "access token refused");
        }
        result
    }

    async fn verify_steps(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        if token.len() > self.inner.max_token_bytes {
            return Err(TokenError::TooLarge);
        }
        let digest = self.inner.caching.then(|| TokenDigest::of(token));
        if let Some(digest) = &digest {
            // Keyed by the whole token, an entry can only be in the cache of the issuer that
            // verified it, so asking each issuer (a handful at most) needs no parsing first.
            let now = unix_now();
            for issuer in &self.inner.issuers {
                if let Some(result) = issuer.cached(digest, now) {
                    return result;
                }
            }
        }
        let parts = split_compact(token)?;
        let header = parse_header(&parts.header)?;
        let iss = unverified_issuer(&parts.payload)?;
        let issuer = select(&self.inner.issuers, &iss, header.algorithm())?;
        issuer.verify(token, &header, digest).await
    }
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let issuers: Vec<(&str, &str, usize)> = self
            .inner
            .issuers
            .iter()
            .map(|issuer| {
                let config = issuer.config();
                (
                    config.issuer.as_str(),
                    config.audience.as_str(),
                    issuer.key_count(),
                )
            })
            .collect();
        f.debug_struct("Verifier")
            .field("issuers (iss, aud, keys)", &issuers)
            .finish_non_exhaustive()
    }
}
