//! The throttled password check, one for sign-in and for the re-check before a sensitive
//! change (a stolen access token must not become an unlimited password oracle):
//! admit → verify → record. [`admit`] counts the attempt before anything else is done (no
//! account lookup, no hash), so parallel guesses cannot all pass the throttle; only an
//! [`Admitted`] attempt can be verified, and only a match clears the account's count.

use std::time::Duration;

use sea_orm::ConnectionTrait;
use secrecy::SecretString;

use super::password_hasher::{HashError, PasswordHasher};
use super::sign_in_throttle::{SignInThrottle, ThrottleKeys};

#[derive(Debug, thiserror::Error)]
pub enum PasswordCheckError {
    /// Too many failures: refused before any lookup or hashing.
    #[error("too many failed attempts; retry in {} s", retry_after.as_secs())]
    Throttled { retry_after: Duration },
    /// The hasher's queue is full: nothing was checked, and the attempt is not counted.
    #[error("too busy to check the password; retry in {} s", retry_after.as_secs())]
    Busy { retry_after: Duration },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// An attempt the throttle has counted and let through.
pub struct Admitted<'a, C> {
    db: &'a C,
    throttle: &'a SignInThrottle,
    keys: ThrottleKeys,
}

/// Counts an attempt on `keys`; `Throttled` if it is refused.
pub async fn admit<'a, C: ConnectionTrait>(
    db: &'a C,
    throttle: &'a SignInThrottle,
    keys: ThrottleKeys,
) -> Result<Admitted<'a, C>, PasswordCheckError> {
    if let Err(retry_after) = throttle.admit(db, &keys).await? {
        return Err(PasswordCheckError::Throttled { retry_after });
    }
    Ok(Admitted { db, throttle, keys })
}

impl<C: ConnectionTrait> Admitted<'_, C> {
    /// Whether `password` matches `stored_hash`. Without a stored hash (no such account) the
    /// same hashing work is done against a dummy and the answer is `false`, so the time taken
    /// reveals nothing.
    pub async fn verify(
        self,
        hasher: &PasswordHasher,
        password: SecretString,
        stored_hash: Option<String>,
    ) -> Result<bool, PasswordCheckError> {
        let known = stored_hash.is_some();
        let matches = match hasher.verify(password, stored_hash).await {
            Ok(matches) => matches && known,
            Err(HashError::Busy { retry_after }) => {
                self.throttle.record_unchecked(self.db, &self.keys).await?;
                return Err(PasswordCheckError::Busy { retry_after });
            }
            Err(HashError::Unexpected(cause)) => return Err(cause.into()),
        };
        if matches {
            self.throttle.record_success(self.db, &self.keys).await?;
        }
        Ok(matches)
    }
}
