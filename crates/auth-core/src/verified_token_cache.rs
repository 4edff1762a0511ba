//! A bounded cache of tokens that already passed every check of their issuer, so a client that
//! presents the same access token on each request pays for its signature once (EdDSA costs tens
//! of microseconds, RS256 more) instead of on every request.
//!
//! Why serving a token from here is as safe as verifying it again:
//! - The key is the SHA-256 of the whole compact token, signature included: a token that differs
//!   in any byte (a tampered payload, another signature over the same payload) is another key
//!   and goes the full way. Only successful verifications are inserted, so tokens anyone can
//!   mint cannot evict good entries with bad ones or make a refusal stick.
//! - Time: an entry is used only while `now < exp`, and a token is not inserted once that no
//!   longer holds. Past `exp` the token is verified in full, where the configured leeway applies
//!   exactly as without a cache. `nbf` needs no re-check: it only becomes truer with time.
//! - Revocation is never cached: the issuer checks its revocation set on every hit.
//! - Keys: an entry remembers the key that verified it (`kid`, algorithm and a fingerprint of
//!   the key material), and the issuer serves it only while its current key set still holds that
//!   same key for that algorithm. Key rotation deletes a key only after every token it signed
//!   has expired (docs/architecture.md, "Key rotation"), so in normal operation this never
//!   refuses anything; it makes a key pulled early (compromised) stop its tokens at once, cache
//!   or not.
//! - Everything else a verification depends on (issuer, audience, `typ`, required claims,
//!   allowed algorithms) is fixed for the verifier's lifetime, and so is this cache.
//!
//! Memory: one entry is the 32-byte digest plus the verified claims (a few short strings): about
//! 830 bytes of resident memory each for our auth-service's tokens (measured: 10,000 entries
//! added 8.2 MB of RSS), so the default 10,000 entries take around 8 MB. quick_cache evicts with
//! S3-FIFO: a token seen once (a scan, an attacker's valid tokens) leaves before hot ones.

use std::sync::Arc;

use jsonwebtoken::Algorithm;
use sha2::{Digest, Sha256};

use crate::keys::KeyFingerprint;
use crate::verified_token::VerifiedToken;

/// SHA-256 of the whole compact token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct TokenDigest([u8; 32]);

impl TokenDigest {
    pub(crate) fn of(token: &str) -> TokenDigest {
        TokenDigest(Sha256::digest(token.as_bytes()).into())
    }
}

/// The key a cached token was verified with, to tell whether the issuer still holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VerifyingKeyRef {
    /// `None` for a shared-secret issuer (its one key is fixed for the verifier's lifetime).
    pub kid: Option<String>,
    pub alg: Algorithm,
    pub fingerprint: KeyFingerprint,
}

/// One verified token, as the issuer returned it the first time.
#[derive(Debug)]
pub(crate) struct CachedVerification {
    pub token: VerifiedToken,
    pub key: VerifyingKeyRef,
}

impl CachedVerification {
    fn usable_at(&self, now: i64) -> bool {
        now < self.token.claims.exp
    }
}

pub(crate) struct VerifiedTokenCache {
    /// `Arc` values: a hit clones a pointer under the shard lock, not the claims.
    entries: quick_cache::sync::Cache<TokenDigest, Arc<CachedVerification>>,
}

impl VerifiedTokenCache {
    /// A cache of at most about `capacity` entries (quick_cache rounds per shard); `None` for 0,
    /// which disables caching.
    pub(crate) fn new(capacity: usize) -> Option<VerifiedTokenCache> {
        (capacity > 0).then(|| VerifiedTokenCache {
            entries: quick_cache::sync::Cache::new(capacity),
        })
    }

    /// The entry for `digest` if it is still before its `exp` at `now`. An expired entry is
    /// dropped on the way, so dead entries do not wait for eviction.
    pub(crate) fn get(&self, digest: &TokenDigest, now: i64) -> Option<Arc<CachedVerification>> {
        let entry = self.entries.get(digest)?;
        if entry.usable_at(now) {
            Some(entry)
        } else {
            self.remove(digest);
            None
        }
    }

    /// Remembers a token that just passed every check; one already at or past `exp` is not
    /// worth a slot (it would never be served).
    pub(crate) fn insert(&self, digest: TokenDigest, entry: CachedVerification, now: i64) {
        if entry.usable_at(now) {
            self.entries.insert(digest, Arc::new(entry));
        }
    }

    pub(crate) fn remove(&self, digest: &TokenDigest) {
        self.entries.remove(digest);
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::claims::AccessClaims;
    use crate::config::UserIdSource;
    use crate::keys::{KeyOrigin, KeySet};

    const NOW: i64 = 1_800_000_000;

    fn fingerprint() -> KeyFingerprint {
        use base64::Engine;
        let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([7u8; 32]);
        let jwks = serde_json::from_value(serde_json::json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "k"}
        ]}))
        .unwrap();
        KeySet::from_jwks(&jwks, KeyOrigin::Local)
            .get("k")
            .unwrap()
            .fingerprint
    }

    fn entry(exp: i64) -> CachedVerification {
        CachedVerification {
            token: VerifiedToken {
                claims: AccessClaims {
                    iss: "i".into(),
                    sub: "s".into(),
                    aud: "a".into(),
                    exp,
                    iat: NOW - 10,
                    nbf: NOW - 10,
                    jti: "j".into(),
                    sid: None,
                    scope: String::new(),
                    client_id: None,
                },
                scopes: Vec::new(),
                user_ids: UserIdSource::Subject,
            },
            key: VerifyingKeyRef {
                kid: Some("k".into()),
                alg: Algorithm::EdDSA,
                fingerprint: fingerprint(),
            },
        }
    }

    #[test]
    fn zero_capacity_means_no_cache() {
        assert!(VerifiedTokenCache::new(0).is_none());
    }

    #[test]
    fn an_entry_is_served_until_just_before_exp_and_dropped_after() {
        let cache = VerifiedTokenCache::new(10).unwrap();
        let digest = TokenDigest::of("a.b.c");
        cache.insert(digest, entry(NOW + 2), NOW);
        assert!(cache.get(&digest, NOW).is_some());
        assert!(cache.get(&digest, NOW + 1).is_some());
        assert!(cache.get(&digest, NOW + 2).is_none());
        assert_eq!(cache.len(), 0, "the expired entry is removed when found");
    }

    #[test]
    fn an_already_expired_token_is_not_inserted() {
        let cache = VerifiedTokenCache::new(10).unwrap();
        cache.insert(TokenDigest::of("a.b.c"), entry(NOW), NOW);
        cache.insert(TokenDigest::of("d.e.f"), entry(NOW - 30), NOW);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn any_changed_byte_is_another_entry() {
        let cache = VerifiedTokenCache::new(10).unwrap();
        cache.insert(TokenDigest::of("a.b.sig1"), entry(NOW + 60), NOW);
        assert!(cache.get(&TokenDigest::of("a.b.sig1"), NOW).is_some());
        assert!(cache.get(&TokenDigest::of("a.b.sig2"), NOW).is_none());
        assert!(cache.get(&TokenDigest::of("a.b.sig"), NOW).is_none());
    }

    #[test]
    fn the_cache_stays_within_its_capacity() {
        let cache = VerifiedTokenCache::new(16).unwrap();
        for n in 0..1_000 {
            cache.insert(TokenDigest::of(&format!("t{n}")), entry(NOW + 60), NOW);
        }
        assert!(cache.len() <= 16, "{} entries", cache.len());
        assert!(cache.len() > 0);
    }
}
