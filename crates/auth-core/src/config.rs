//! What one trusted issuer's tokens must look like: its identity, where its keys and revocation
//! feed are, and the per-issuer rules (algorithms, `typ`, required claims, default scopes, how
//! its subjects become user ids).

use std::time::Duration;

use jsonwebtoken::Algorithm;

use crate::claims::{Claim, DEFAULT_MAX_TOKEN_BYTES};

/// Default [`VerifierConfig::verified_token_cache_size`]: room for the live tokens of a busy
/// service's active users, in about 8 MB (a bit over 800 bytes per entry, measured).
pub const DEFAULT_VERIFIED_TOKEN_CACHE_SIZE: usize = 10_000;

/// Default [`VerifierConfig::leeway`], in seconds.
const DEFAULT_LEEWAY_SECS: u64 = 60;

/// The largest clock-skew leeway any validator may be configured with, in seconds.
/// [`crate::Verifier::connect_trusted`] refuses an issuer whose `leeway` exceeds it. The
/// auth-service keeps revocations and retired signing keys this much longer than the tokens
/// they concern, so a token accepted up to `leeway` past its `exp` is still checked against them.
pub const MAX_LEEWAY_SECS: u64 = 300;

#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// Expected `iss`, compared exactly. Also picks this issuer for a token (see `Verifier`).
    pub issuer: String,
    /// Expected in `aud` (a string, or an array containing it).
    pub audience: String,
    /// `None`: discover via `{issuer}/.well-known/openid-configuration` → `jwks_uri`.
    pub jwks_url: Option<String>,
    /// Allow-list; `none` can never be in it.
    pub algorithms: Vec<Algorithm>,
    /// Clock-skew allowance for `exp` and `nbf` (whole seconds are used). At most
    /// [`MAX_LEEWAY_SECS`]; the default is 60 s.
    pub leeway: Duration,
    pub max_token_bytes: usize,
    /// How often the background task refreshes the JWKS.
    pub refresh_interval: Duration,
    /// An unknown `kid` triggers a re-fetch at most this often.
    pub min_refetch_interval: Duration,
    /// Require header `typ` `at+jwt` (or `application/at+jwt`), case-insensitively. Our
    /// auth-service sets it (RFC 9068); Better Auth does not.
    pub require_typ: bool,
    /// Claims a token must carry. [`Claim::ALWAYS_REQUIRED`] are required whatever this says.
    pub required_claims: Vec<Claim>,
    /// Scopes granted when a token has no `scope` claim at all. A present but empty `scope`
    /// grants nothing: the issuer said so explicitly.
    pub default_scopes: Vec<String>,
    /// How this issuer's `sub` becomes a user id.
    pub user_ids: UserIdSource,
    /// This issuer's revocation feed (`GET …?since=&wait=`); `None`: no revocation checks for
    /// its tokens. Followed by [`crate::Verifier::connect_trusted`] only (not by
    /// `Verifier::from_jwks`).
    pub revocation_feed_url: Option<String>,
    /// The OAuth client the revocation feed is read as: the follower gets a
    /// `client_credentials` token with the `revocations:read` scope and renews it before it
    /// expires. `None`: the feed is polled without a token (our auth-service answers 401).
    pub revocation_feed_client: Option<FeedClient>,
    /// How many of this issuer's tokens that passed every check are remembered (keyed by a
    /// digest of the whole token), so a token presented again skips signature verification.
    /// Expiry, revocation and the key's presence are still checked on every use (see
    /// `verified_token_cache`). 0 disables the cache.
    pub verified_token_cache_size: usize,
}

/// A confidential OAuth client (RFC 6749 §4.4): where it asks for tokens and its
/// credentials. The secret is only exposed to build the token request.
#[derive(Debug, Clone)]
pub struct FeedClient {
    /// The issuer's token endpoint, e.g. `https://auth.example/oauth/token`.
    pub token_url: String,
    pub client_id: String,
    pub client_secret: secrecy::SecretString,
}

/// How an issuer's subjects map to the user ids the services store data under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserIdSource {
    /// `sub` is the user's UUID and user tokens carry a UUID `sid`: our own auth-service.
    #[default]
    Subject,
    /// A foreign issuer (e.g. Better Auth, whose ids are random strings): the user id is
    /// [`crate::derived_user_id`]`(iss, sub)`, so equal `sub`s at two issuers never meet.
    DerivedFromIssuer,
}

impl VerifierConfig {
    /// Our auth-service's rules: EdDSA, `typ: at+jwt`, every RFC 9068 claim plus `nbf`, UUID
    /// subjects, no default scopes, no revocation feed (set `revocation_feed_url` to follow one).
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        VerifierConfig {
            issuer: issuer.into(),
            audience: audience.into(),
            jwks_url: None,
            algorithms: vec![Algorithm::EdDSA],
            leeway: Duration::from_secs(DEFAULT_LEEWAY_SECS),
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            refresh_interval: Duration::from_secs(5 * 60),
            min_refetch_interval: Duration::from_secs(5),
            require_typ: true,
            required_claims: Claim::ACCESS_TOKEN_DEFAULT.to_vec(),
            default_scopes: Vec::new(),
            user_ids: UserIdSource::Subject,
            revocation_feed_url: None,
            revocation_feed_client: None,
            verified_token_cache_size: DEFAULT_VERIFIED_TOKEN_CACHE_SIZE,
        }
    }

    /// The required claims actually enforced: the configured ones plus the always-required.
    pub(crate) fn effective_required_claims(&self) -> Vec<Claim> {
        let mut claims = Claim::ALWAYS_REQUIRED.to_vec();
        for claim in &self.required_claims {
            if !claims.contains(claim) {
                claims.push(*claim);
            }
        }
        claims
    }
}
