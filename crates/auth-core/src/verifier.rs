//! Access-token verification: size limit → header → key by `kid` → signature → claims.
//! Each step refuses as early as possible so hostile input does the least work.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};

use crate::claims::{AccessClaims, DEFAULT_MAX_TOKEN_BYTES};
use crate::error::TokenError;
use crate::header::{check_header, split_compact};
use crate::jwks_cache::{KeyCache, spawn_refresh};
use crate::jwks_fetch::JwksFetcher;
use crate::keys::{KeyOrigin, KeySet};

/// Claims every access token must carry (RFC 9068 §2.2, plus `nbf` which our issuer always sets).
const REQUIRED_CLAIMS: [&str; 7] = ["exp", "nbf", "iat", "iss", "aud", "sub", "jti"];

#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// Expected `iss`, compared exactly.
    pub issuer: String,
    /// Expected in `aud` (a string, or an array containing it).
    pub audience: String,
    /// `None`: discover via `{issuer}/.well-known/openid-configuration` → `jwks_uri`.
    pub jwks_url: Option<String>,
    /// Allow-list; `none` can never be in it.
    pub algorithms: Vec<Algorithm>,
    /// Clock-skew allowance for `exp` and `nbf` (whole seconds are used).
    pub leeway: Duration,
    pub max_token_bytes: usize,
    /// How often the background task refreshes the JWKS.
    pub refresh_interval: Duration,
    /// An unknown `kid` triggers a re-fetch at most this often.
    pub min_refetch_interval: Duration,
    /// Require header `typ` `at+jwt` (or `application/at+jwt`), case-insensitively.
    pub require_typ: bool,
}

impl VerifierConfig {
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        VerifierConfig {
            issuer: issuer.into(),
            audience: audience.into(),
            jwks_url: None,
            algorithms: vec![Algorithm::EdDSA],
            leeway: Duration::from_secs(60),
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            refresh_interval: Duration::from_secs(5 * 60),
            min_refetch_interval: Duration::from_secs(5),
            require_typ: true,
        }
    }
}

/// Verifies access tokens against a cached JWK Set. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    config: VerifierConfig,
    /// One prepared `Validation` per allowed algorithm, so the hot path never rebuilds one.
    validations: Vec<(Algorithm, Validation)>,
    cache: Arc<KeyCache>,
}

impl Verifier {
    /// Remote issuer: tries the first fetch now (a failure is logged, not fatal: the issuer may
    /// start later), then spawns a tokio task that refreshes every `refresh_interval`, retrying
    /// failures with capped backoff and serving the cached keys while the issuer is down.
    pub async fn connect(config: VerifierConfig) -> Verifier {
        let fetcher = JwksFetcher::new(&config.issuer, config.jwks_url.as_deref());
        let cache = Arc::new(KeyCache::remote(fetcher, config.min_refetch_interval));
        let loaded = cache.refresh().await;
        if !loaded {
            tracing::warn!(
                issuer = %config.issuer,
                "no signing keys yet; tokens are refused until the issuer's JWKS can be fetched"
            );
        }
        spawn_refresh(Arc::downgrade(&cache), config.refresh_interval, loaded);
        Verifier::with_cache(config, cache)
    }

    /// Fixed keys, no network (the auth-service verifies its own tokens this way; tests too).
    /// Unlike fetched sets, a fixed set may hold symmetric (`oct`) keys, each bound to its
    /// declared HS* algorithm, for the HS256 compatibility mode.
    pub fn from_jwks(config: VerifierConfig, keys: JwkSet) -> Verifier {
        let cache = KeyCache::fixed(KeySet::from_jwks(&keys, KeyOrigin::Local));
        Verifier::with_cache(config, Arc::new(cache))
    }

    fn with_cache(config: VerifierConfig, cache: Arc<KeyCache>) -> Verifier {
        let validations = config
            .algorithms
            .iter()
            .map(|&alg| {
                // Exactly one algorithm each: the one the token's key is bound to.
                let mut validation = Validation::new(alg);
                validation.set_required_spec_claims(&REQUIRED_CLAIMS);
                validation.set_issuer(&[&config.issuer]);
                validation.set_audience(&[&config.audience]);
                validation.leeway = config.leeway.as_secs();
                validation.validate_exp = true;
                validation.validate_nbf = true;
                validation.validate_aud = true;
                (alg, validation)
            })
            .collect();
        Verifier {
            inner: Arc::new(Inner {
                config,
                validations,
                cache,
            }),
        }
    }

    /// Swaps in a new key set (e.g. after the auth-service rotates its own keys). Applied as
    /// given, even if empty: the caller is trusted, unlike a fetched response.
    pub fn replace_keys(&self, keys: JwkSet) {
        let keys = KeySet::from_jwks(&keys, KeyOrigin::Local);
        if keys.is_empty() {
            tracing::warn!("replace_keys: the new key set has no usable keys");
        }
        self.inner.cache.replace(keys);
    }

    /// Whether any usable key is loaded (for `/readyz`).
    pub fn has_keys(&self) -> bool {
        !self.inner.cache.current().is_empty()
    }

    pub fn config(&self) -> &VerifierConfig {
        &self.inner.config
    }

    pub async fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let result = self.verify_steps(token).await;
        if let Err(err) = &result {
            // The reason only: the token itself is a credential and is never logged.
            tracing::debug!(reason = %err, "access token refused");
        }
        result
    }

    async fn verify_steps(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let config = &self.inner.config;
        if token.len() > config.max_token_bytes {
            return Err(TokenError::TooLarge);
        }
        let header_json = split_compact(token)?;
        let header = check_header(&header_json, &config.algorithms, config.require_typ)?;

        let mut keys = self.inner.cache.current();
        if keys.get(&header.kid).is_none() {
            keys = self.inner.cache.refetch_for_unknown_kid(&header.kid).await;
        }
        let key = match keys.get(&header.kid) {
            Some(key) => key,
            None if keys.is_empty() => return Err(TokenError::KeysUnavailable),
            None => return Err(TokenError::UnknownKey),
        };
        if !key.accepts(header.alg) {
            return Err(TokenError::KeyAlgorithmMismatch);
        }

        let validation = self
            .inner
            .validations
            .iter()
            .find(|(alg, _)| *alg == header.alg)
            .map(|(_, validation)| validation)
            .ok_or(TokenError::AlgorithmNotAllowed)?;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key.decoding, validation)
            .map_err(|err| map_jwt_error(err.kind()))?;
        claims_from_map(data.claims, &config.audience)
    }
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.inner.config.issuer)
            .field("audience", &self.inner.config.audience)
            .field("keys", &self.inner.cache.current().len())
            .finish_non_exhaustive()
    }
}

/// Checks what jsonwebtoken does not (`iat`, `jti`) and builds the typed claims.
fn claims_from_map(
    mut claims: Map<String, Value>,
    audience: &str,
) -> Result<AccessClaims, TokenError> {
    for name in ["iat", "jti"] {
        if !claims.contains_key(name) {
            return Err(TokenError::MissingClaim(name));
        }
    }
    if claims
        .get("jti")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(TokenError::InvalidClaim("jti"));
    }
    // jsonwebtoken has already checked that an array `aud` contains ours; callers get the
    // audience the token was accepted for.
    if claims.get("aud").is_some_and(Value::is_array) {
        claims.insert("aud".to_owned(), Value::String(audience.to_owned()));
    }
    serde_json::from_value(Value::Object(claims)).map_err(|_| TokenError::MalformedClaims)
}

fn map_jwt_error(kind: &ErrorKind) -> TokenError {
    match kind {
        ErrorKind::InvalidSignature => TokenError::BadSignature,
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::ImmatureSignature => TokenError::NotYetValid,
        ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
        ErrorKind::InvalidAudience => TokenError::WrongAudience,
        ErrorKind::MissingRequiredClaim(name) => TokenError::MissingClaim(claim_name(name)),
        ErrorKind::InvalidClaimFormat(name) => TokenError::InvalidClaim(claim_name(name)),
        ErrorKind::InvalidAlgorithm => TokenError::KeyAlgorithmMismatch,
        ErrorKind::InvalidEddsaKey
        | ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidKeyFormat => {
            // Keys are checked when loaded, so this means a key we accepted is still unusable:
            // our problem to fix, but to the client it is simply an unverifiable token.
            tracing::warn!(error = ?kind, "a cached verification key could not be used");
            TokenError::BadSignature
        }
        _ => TokenError::Malformed,
    }
}

/// jsonwebtoken reports claim names as `String`; `TokenError` carries `&'static str`.
fn claim_name(name: &str) -> &'static str {
    REQUIRED_CLAIMS
        .iter()
        .find(|known| **known == name)
        .copied()
        .unwrap_or("unknown")
}
