//! The issuers a `Verifier` trusts and where each one's keys come from, with the set-up checks
//! that keep every key bound to its own algorithm family: a published JWKS never supplies an
//! HMAC secret, and a shared secret verifies exactly one HS* algorithm.

use std::sync::Arc;

use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::JwkSet;
use secrecy::{ExposeSecret, SecretString};

use crate::config::{MAX_LEEWAY_SECS, VerifierConfig};
use crate::issuer_verifier::{IssuerKeys, IssuerVerifier};
use crate::jwks_cache::{KeyCache, spawn_refresh};
use crate::jwks_fetch::JwksFetcher;
use crate::keys::{KeyOrigin, KeySet, VerificationKey};
use crate::revocation_follower::RevocationFollower;

/// One issuer whose tokens are accepted, with its rules ([`VerifierConfig`]) and keys.
#[derive(Debug)]
pub struct TrustedIssuer {
    config: VerifierConfig,
    keys: TrustedKeys,
}

#[derive(Debug)]
enum TrustedKeys {
    Fetched,
    Fixed(JwkSet),
    SharedSecret(SecretString),
}

/// A trusted-issuer list that cannot be used safely; the message names the issuer and why.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("no trusted issuer is configured")]
    NoIssuers,
    #[error("trusted issuer {issuer:?}: {reason}")]
    Invalid { issuer: String, reason: String },
}

impl TrustedIssuer {
    /// Keys from the issuer's JWKS (`jwks_url`, else discovery), fetched now and refreshed in
    /// the background. Asymmetric algorithms only.
    pub fn jwks(config: VerifierConfig) -> TrustedIssuer {
        TrustedIssuer {
            config,
            keys: TrustedKeys::Fetched,
        }
    }

    /// Fixed keys given by the caller (tests; a service verifying its own tokens). May hold
    /// `oct` keys, each bound to the HS* algorithm its JWK declares.
    pub fn fixed_keys(config: VerifierConfig, keys: JwkSet) -> TrustedIssuer {
        TrustedIssuer {
            config,
            keys: TrustedKeys::Fixed(keys),
        }
    }

    /// One shared HMAC secret (e.g. `BETTER_AUTH_SECRET`): `config.algorithms` must be exactly
    /// one of HS256/HS384/HS512, and the secret at least 32 bytes. `jwks_url` and the refresh
    /// intervals are ignored.
    pub fn shared_secret(config: VerifierConfig, secret: SecretString) -> TrustedIssuer {
        TrustedIssuer {
            config,
            keys: TrustedKeys::SharedSecret(secret),
        }
    }

    pub fn config(&self) -> &VerifierConfig {
        &self.config
    }

    fn invalid(&self, reason: impl Into<String>) -> TrustError {
        TrustError::Invalid {
            issuer: self.config.issuer.clone(),
            reason: reason.into(),
        }
    }

    /// Everything that can be checked without I/O.
    fn check(&self) -> Result<(), TrustError> {
        let config = &self.config;
        if config.issuer.is_empty() || config.issuer.chars().any(char::is_control) {
            // No control characters: `derived_user_id` relies on no newline in an issuer.
            return Err(self.invalid("the issuer must be non-empty, without control characters"));
        }
        if config.audience.is_empty() {
            return Err(self.invalid("the audience must not be empty"));
        }
        if config.algorithms.is_empty() {
            return Err(self.invalid("no algorithm is allowed"));
        }
        // Whole seconds, as the validators and the revocation grace use it.
        if config.leeway.as_secs() > MAX_LEEWAY_SECS {
            return Err(self.invalid(format!(
                "the leeway ({} s) exceeds the maximum of {MAX_LEEWAY_SECS} s: revocations and \
                 retired keys are only kept that much longer than the tokens they concern",
                config.leeway.as_secs()
            )));
        }
        let hmac = config
            .algorithms
            .iter()
            .filter(|alg| is_hmac(**alg))
            .count();
        match &self.keys {
            TrustedKeys::Fetched if hmac > 0 => Err(self.invalid(
                "a fetched JWKS never carries a shared secret: HS* algorithms need a \
                 shared-secret issuer",
            )),
            TrustedKeys::SharedSecret(secret) => {
                let [alg] = config.algorithms[..] else {
                    return Err(self.invalid("a shared secret is bound to exactly one algorithm"));
                };
                VerificationKey::shared_secret(secret.expose_secret().as_bytes(), alg)
                    .map(drop)
                    .map_err(|reason| self.invalid(reason))
            }
            _ => Ok(()),
        }
    }

    /// Builds the verifier for this issuer: first JWKS fetch and first revocation snapshot
    /// included (failures are logged, not fatal: the issuer may start later).
    pub(crate) async fn connect(self) -> Result<IssuerVerifier, TrustError> {
        let keys = match &self.keys {
            TrustedKeys::Fetched => IssuerKeys::Cached(connect_jwks(&self.config).await),
            TrustedKeys::Fixed(set) => IssuerKeys::Cached(fixed_cache(set)),
            TrustedKeys::SharedSecret(secret) => {
                let alg = self.config.algorithms.first().copied();
                let key = alg
                    .ok_or("no algorithm is allowed")
                    .and_then(|alg| {
                        VerificationKey::shared_secret(secret.expose_secret().as_bytes(), alg)
                    })
                    .map_err(|reason| self.invalid(reason))?;
                IssuerKeys::SharedSecret(key)
            }
        };
        let revocations = match &self.config.revocation_feed_url {
            Some(url) => Some(
                RevocationFollower::start(
                    url,
                    self.config.revocation_feed_client.clone(),
                    self.config.leeway,
                )
                .await,
            ),
            None => None,
        };
        Ok(IssuerVerifier::new(self.config, keys, revocations))
    }
}

/// Checks a whole list: each issuer on its own (identity, audience, algorithms, a leeway of at
/// most [`MAX_LEEWAY_SECS`], keys bound to their algorithm family), and that no two issuers with
/// the same `iss` could both claim a token (they must differ in algorithm, e.g. Better Auth's
/// EdDSA JWKS and its HS256 secret).
pub(crate) fn check_all(issuers: &[TrustedIssuer]) -> Result<(), TrustError> {
    if issuers.is_empty() {
        return Err(TrustError::NoIssuers);
    }
    for (index, issuer) in issuers.iter().enumerate() {
        issuer.check()?;
        let clash = issuers[..index].iter().any(|earlier| {
            earlier.config.issuer == issuer.config.issuer
                && earlier
                    .config
                    .algorithms
                    .iter()
                    .any(|alg| issuer.config.algorithms.contains(alg))
        });
        if clash {
            return Err(issuer.invalid(
                "configured twice with a shared algorithm, so a token could match either",
            ));
        }
    }
    Ok(())
}

async fn connect_jwks(config: &VerifierConfig) -> Arc<KeyCache> {
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
    cache
}

pub(crate) fn fixed_cache(keys: &JwkSet) -> Arc<KeyCache> {
    Arc::new(KeyCache::fixed(KeySet::from_jwks(keys, KeyOrigin::Local)))
}

fn is_hmac(alg: Algorithm) -> bool {
    matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn with_leeway(leeway: Duration) -> Vec<TrustedIssuer> {
        let mut config = VerifierConfig::new("https://auth.example", "tasks-api");
        config.leeway = leeway;
        vec![TrustedIssuer::fixed_keys(
            config,
            JwkSet { keys: Vec::new() },
        )]
    }

    #[test]
    fn a_leeway_above_the_maximum_is_refused() {
        let max = Duration::from_secs(MAX_LEEWAY_SECS);
        for allowed in [Duration::ZERO, Duration::from_secs(60), max] {
            if let Err(err) = check_all(&with_leeway(allowed)) {
                panic!("leeway {allowed:?} refused: {err}");
            }
        }
        for excessive in [max + Duration::from_secs(1), Duration::from_secs(3600)] {
            match check_all(&with_leeway(excessive)) {
                Err(TrustError::Invalid { issuer, reason }) => {
                    assert_eq!(issuer, "https://auth.example");
                    assert!(reason.contains("leeway"), "{reason}");
                    assert!(reason.contains(&MAX_LEEWAY_SECS.to_string()), "{reason}");
                }
                other => {
                    panic!("leeway {excessive:?}: expected TrustError::Invalid, got {other:?}")
                }
            }
        }
    }
}
