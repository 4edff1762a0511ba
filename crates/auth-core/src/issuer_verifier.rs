//! Verification against one trusted issuer: its header rules → its key (by `kid` from its JWKS
//! cache, or its single shared secret) → signature → its claim rules → its revocation set.
//! Each step refuses as early as possible so hostile input does the least work. Tokens that pass
//! are remembered in the issuer's verified-token cache; a hit skips the signature but not the
//! expiry, key and revocation checks (see `verified_token_cache`).

use std::sync::Arc;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};

use crate::claims::{AccessClaims, Claim};
use crate::clock::unix_now;
use crate::config::VerifierConfig;
use crate::error::TokenError;
use crate::header::{HeaderRules, RawHeader, check_header};
use crate::jwks_cache::KeyCache;
use crate::keys::{KeySet, VerificationKey};
use crate::revocation_follower::{RevocationFollower, RevocationStatus};
use crate::verified_token::VerifiedToken;
use crate::verified_token_cache::{
    CachedVerification, TokenDigest, VerifiedTokenCache, VerifyingKeyRef,
};

/// The claims jsonwebtoken itself can require; the others are checked in [`verified_claims`].
const SPEC_CLAIMS: [Claim; 5] = [Claim::Exp, Claim::Nbf, Claim::Aud, Claim::Iss, Claim::Sub];

/// Where one issuer's keys come from.
pub(crate) enum IssuerKeys {
    /// A JWK Set (fetched and refreshed, or fixed by the caller); tokens name a key by `kid`.
    Cached(Arc<KeyCache>),
    /// One shared HMAC secret, bound to one HS* algorithm. Tokens need no `kid`: there is only
    /// one key to try (Better Auth and FastAPI-style HS256 tokens usually have none).
    SharedSecret(VerificationKey),
}

pub(crate) struct IssuerVerifier {
    config: VerifierConfig,
    header_rules: HeaderRules,
    required: Vec<Claim>,
    /// One prepared `Validation` per allowed algorithm, so the hot path never rebuilds one.
    validations: Vec<(Algorithm, Validation)>,
    keys: IssuerKeys,
    revocations: Option<RevocationFollower>,
    /// `None` when `verified_token_cache_size` is 0.
    verified_tokens: Option<VerifiedTokenCache>,
}

impl IssuerVerifier {
    pub(crate) fn new(
        config: VerifierConfig,
        keys: IssuerKeys,
        revocations: Option<RevocationFollower>,
    ) -> IssuerVerifier {
        let required = config.effective_required_claims();
        let spec_required: Vec<&str> = SPEC_CLAIMS
            .iter()
            .filter(|claim| required.contains(claim))
            .map(|claim| claim.name())
            .collect();
        let validations = config
            .algorithms
            .iter()
            .map(|&alg| {
                // Exactly one algorithm each: the one the token's key is bound to.
                let mut validation = Validation::new(alg);
                validation.set_required_spec_claims(&spec_required);
                validation.set_issuer(&[&config.issuer]);
                validation.set_audience(&[&config.audience]);
                validation.leeway = config.leeway.as_secs();
                validation.validate_exp = true;
                // Checked whenever present, required only if the issuer's rules say so.
                validation.validate_nbf = true;
                validation.validate_aud = true;
                (alg, validation)
            })
            .collect();
        let header_rules = HeaderRules {
            algorithms: config.algorithms.clone(),
            require_typ: config.require_typ,
            require_kid: matches!(keys, IssuerKeys::Cached(_)),
        };
        let verified_tokens = VerifiedTokenCache::new(config.verified_token_cache_size);
        IssuerVerifier {
            config,
            header_rules,
            required,
            validations,
            keys,
            revocations,
            verified_tokens,
        }
    }

    pub(crate) fn config(&self) -> &VerifierConfig {
        &self.config
    }

    pub(crate) fn key_count(&self) -> usize {
        match &self.keys {
            IssuerKeys::Cached(cache) => cache.current().len(),
            IssuerKeys::SharedSecret(_) => 1,
        }
    }

    /// Swaps the key set of a JWKS issuer; `false` for a shared-secret issuer (nothing to swap).
    pub(crate) fn replace_keys(&self, keys: KeySet) -> bool {
        match &self.keys {
            IssuerKeys::Cached(cache) => {
                cache.replace(keys);
                true
            }
            IssuerKeys::SharedSecret(_) => false,
        }
    }

    pub(crate) fn revocation_status(&self) -> RevocationStatus {
        self.revocations
            .as_ref()
            .map_or_else(RevocationStatus::not_following, RevocationFollower::status)
    }

    pub(crate) fn caches_verified_tokens(&self) -> bool {
        self.verified_tokens.is_some()
    }

    pub(crate) fn cached_token_count(&self) -> usize {
        self.verified_tokens
            .as_ref()
            .map_or(0, VerifiedTokenCache::len)
    }

    /// The answer for a token this issuer verified before (`digest` is its [`TokenDigest`]):
    /// `None` when it is not cached, expired, or its key is no longer this issuer's (the caller
    /// then verifies it in full); otherwise the cached result, unless it has been revoked since.
    pub(crate) fn cached(
        &self,
        digest: &TokenDigest,
        now: i64,
    ) -> Option<Result<VerifiedToken, TokenError>> {
        let cache = self.verified_tokens.as_ref()?;
        let entry = cache.get(digest, now)?;
        if !self.still_holds(&entry.key) {
            cache.remove(digest);
            return None;
        }
        Some(
            self.check_not_revoked(&entry.token.claims)
                .map(|()| entry.token.clone()),
        )
    }

    /// Whether the key that verified a cached token is still one of this issuer's keys, bound to
    /// the same algorithm: a key removed from the JWKS (or replaced under its `kid`) stops
    /// vouching for its cached tokens at once.
    fn still_holds(&self, used: &VerifyingKeyRef) -> bool {
        match &self.keys {
            // One secret, fixed for the verifier's lifetime.
            IssuerKeys::SharedSecret(_) => true,
            IssuerKeys::Cached(cache) => {
                let Some(kid) = used.kid.as_deref() else {
                    return false;
                };
                cache
                    .current()
                    .get(kid)
                    .is_some_and(|key| key.fingerprint == used.fingerprint && key.accepts(used.alg))
            }
        }
    }

    fn check_not_revoked(&self, claims: &AccessClaims) -> Result<(), TokenError> {
        match &self.revocations {
            Some(revocations)
                if revocations.is_revoked(claims.sid.as_deref(), &claims.sub, claims.iat) =>
            {
                Err(TokenError::Revoked)
            }
            _ => Ok(()),
        }
    }

    /// Verifies `token` (whose header is already parsed) by this issuer's keys and rules, and
    /// caches the result under `digest` when it passes (and this issuer caches).
    pub(crate) async fn verify(
        &self,
        token: &str,
        header: &RawHeader,
        digest: Option<TokenDigest>,
    ) -> Result<VerifiedToken, TokenError> {
        if token.len() > self.config.max_token_bytes {
            return Err(TokenError::TooLarge);
        }
        let header = check_header(header, &self.header_rules)?;

        // Holds the key set alive while `key` borrows from it.
        let cached_keys;
        let key = match &self.keys {
            IssuerKeys::SharedSecret(key) => key,
            IssuerKeys::Cached(cache) => {
                let kid = header.kid.as_deref().ok_or(TokenError::MissingKeyId)?;
                let mut keys = cache.current();
                if keys.get(kid).is_none() {
                    keys = cache.refetch_for_unknown_kid(kid).await;
                }
                cached_keys = keys;
                match cached_keys.get(kid) {
                    Some(key) => key,
                    None if cached_keys.is_empty() => return Err(TokenError::KeysUnavailable),
                    None => return Err(TokenError::UnknownKey),
                }
            }
        };
        if !key.accepts(header.alg) {
            return Err(TokenError::KeyAlgorithmMismatch);
        }

        let validation = self
            .validations
            .iter()
            .find(|(alg, _)| *alg == header.alg)
            .map(|(_, validation)| validation)
            .ok_or(TokenError::AlgorithmNotAllowed)?;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key.decoding, validation)
            .map_err(|err| map_jwt_error(err.kind()))?;
        let verified = verified_claims(data.claims, &self.config, &self.required)?;
        self.check_not_revoked(&verified.claims)?;

        if let (Some(cache), Some(digest)) = (&self.verified_tokens, digest) {
            let key = VerifyingKeyRef {
                kid: header.kid.clone(),
                alg: header.alg,
                fingerprint: key.fingerprint,
            };
            let entry = CachedVerification {
                token: verified.clone(),
                key,
            };
            cache.insert(digest, entry, unix_now());
        }
        Ok(verified)
    }
}

/// Checks what jsonwebtoken does not (`iat`, `jti`, `sid`, `scope`, `client_id` presence and
/// the `jti` value), applies default scopes and builds the typed result.
fn verified_claims(
    mut claims: Map<String, Value>,
    config: &VerifierConfig,
    required: &[Claim],
) -> Result<VerifiedToken, TokenError> {
    if let Some(missing) = required
        .iter()
        .find(|claim| !claims.contains_key(claim.name()))
    {
        return Err(TokenError::MissingClaim(missing.name()));
    }
    if required.contains(&Claim::Jti)
        && claims
            .get("jti")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        return Err(TokenError::InvalidClaim("jti"));
    }
    let has_scope = claims.contains_key("scope");
    // jsonwebtoken has already checked that an array `aud` contains ours; callers get the
    // audience the token was accepted for.
    if claims.get("aud").is_some_and(Value::is_array) {
        claims.insert("aud".to_owned(), Value::String(config.audience.clone()));
    }
    let claims: AccessClaims =
        serde_json::from_value(Value::Object(claims)).map_err(|_| TokenError::MalformedClaims)?;
    let scopes = if has_scope {
        claims.scopes().map(str::to_owned).collect()
    } else {
        config.default_scopes.clone()
    };
    Ok(VerifiedToken {
        claims,
        scopes,
        user_ids: config.user_ids,
    })
}

fn map_jwt_error(kind: &ErrorKind) -> TokenError {
    match kind {
        ErrorKind::InvalidSignature => TokenError::BadSignature,
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::ImmatureSignature => TokenError::NotYetValid,
        ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
        ErrorKind::InvalidAudience => TokenError::WrongAudience,
        ErrorKind::MissingRequiredClaim(name) => TokenError::MissingClaim(Claim::static_name(name)),
        ErrorKind::InvalidClaimFormat(name) => TokenError::InvalidClaim(Claim::static_name(name)),
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
