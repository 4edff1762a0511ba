//! The throttled password check, one for sign-in and for the re-check before a sensitive
//! change (a stolen access token must not become an unlimited password oracle):
//! admit → verify → record. The attempt is counted before any hash is computed, so parallel
//! guesses cannot all pass the throttle; only a match clears the account's count.

use std::time::Duration;

use sea_orm::ConnectionTrait;
use secrecy::SecretString;

use super::password_hasher::PasswordHasher;
use super::sign_in_throttle::{SignInThrottle, ThrottleKeys};

#[derive(Debug, thiserror::Error)]
pub enum PasswordCheckError {
    /// Too many failures: refused before any hashing.
    #[error("too many failed attempts; retry in {} s", retry_after.as_secs())]
    Throttled { retry_after: Duration },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Whether `password` matches `stored_hash`. Without a stored hash (no such account) the same
/// hashing work is done against a dummy and the answer is `false`, so the time taken reveals
/// nothing.
pub async fn check<C: ConnectionTrait>(
    db: &C,
    throttle: &SignInThrottle,
    hasher: &PasswordHasher,
    keys: &ThrottleKeys,
    password: SecretString,
    stored_hash: Option<String>,
) -> Result<bool, PasswordCheckError> {
    if let Err(retry_after) = throttle.admit(db, keys).await? {
        return Err(PasswordCheckError::Throttled { retry_after });
    }
    let known = stored_hash.is_some();
    let matches = hasher.verify(password, stored_hash).await? && known;
    if matches {
        throttle.record_success(db, keys).await?;
    }
    Ok(matches)
}
