//! What a successful verification yields: the claims, the scopes they grant under the issuer's
//! rules, and the user they name, in one id space shared by every trusted issuer.

use uuid::Uuid;

use crate::claims::AccessClaims;
use crate::config::UserIdSource;
use crate::error::TokenError;

/// UUIDv5 namespace for foreign subjects. Changing it would move every foreign user's data out
/// of reach, so it is fixed forever.
const FOREIGN_SUBJECT_NAMESPACE: Uuid = Uuid::from_u128(0xccfa190c_cbe1_4993_9a8a_2adde7d86da1);

/// The user id for subject `sub` at a foreign issuer `iss`: UUIDv5 over `iss + "\n" + sub` in a
/// fixed Taskgate namespace. Deterministic, so the same person maps to the same id on every
/// replica and after restarts; keyed by the issuer, so `sub: "42"` at two issuers (or a foreign
/// `sub` that spells one of our own users' UUIDs) are different users. Trusted issuer URLs
/// contain no newline (checked when configured), so the name is unambiguous. A version-5 UUID
/// can never equal one of our own user ids, which are version 7.
pub fn derived_user_id(issuer: &str, subject: &str) -> Uuid {
    let name = format!("{issuer}\n{subject}");
    Uuid::new_v5(&FOREIGN_SUBJECT_NAMESPACE, name.as_bytes())
}

/// A token that passed every check of the issuer that signed it.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    /// The token's claims as signed (with `aud` narrowed to ours when it was an array).
    pub claims: AccessClaims,
    /// The `scope` claim's scopes, or the issuer's `default_scopes` when it has no `scope`.
    pub scopes: Vec<String>,
    /// How the issuer's subjects map to user ids.
    pub user_ids: UserIdSource,
}

impl VerifiedToken {
    /// The user this token acts for: `sub` itself for our own issuer (it must be a UUID),
    /// [`derived_user_id`] for a foreign one.
    pub fn user_id(&self) -> Result<Uuid, TokenError> {
        match self.user_ids {
            UserIdSource::Subject => {
                Uuid::parse_str(&self.claims.sub).map_err(|_| TokenError::InvalidClaim("sub"))
            }
            UserIdSource::DerivedFromIssuer => {
                Ok(derived_user_id(&self.claims.iss, &self.claims.sub))
            }
        }
    }

    /// The session behind a user token. Our issuer's user tokens always carry a UUID `sid`
    /// (service tokens have none and are not user tokens). A foreign issuer's `sid`, if any,
    /// names a session at that issuer, which nothing here can act on: `None`.
    pub fn session_id(&self) -> Result<Option<Uuid>, TokenError> {
        match self.user_ids {
            UserIdSource::Subject => {
                let sid = self
                    .claims
                    .sid
                    .as_deref()
                    .ok_or(TokenError::MissingClaim("sid"))?;
                Uuid::parse_str(sid)
                    .map(Some)
                    .map_err(|_| TokenError::InvalidClaim("sid"))
            }
            UserIdSource::DerivedFromIssuer => Ok(None),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_version_5_and_keyed_by_issuer() {
        let a = derived_user_id("https://a.example", "42");
        assert_eq!(a, derived_user_id("https://a.example", "42"));
        assert_eq!(a.get_version_num(), 5);
        assert_ne!(a, derived_user_id("https://b.example", "42"));
        assert_ne!(a, derived_user_id("https://a.example", "43"));
        // The separator keeps the boundary between issuer and subject.
        assert_ne!(
            derived_user_id("https://a.example/x", "y"),
            derived_user_id("https://a.example", "x\ny")
        );
    }

    #[test]
    fn the_derivation_is_frozen() {
        // If this changes, every foreign user loses their data: never update this value.
        // (Python agrees: uuid.uuid5(UUID("ccfa190c-…-2adde7d86da1"), "http://localhost:3000\nuser_1").)
        assert_eq!(
            derived_user_id("http://localhost:3000", "user_1").to_string(),
            "18fb7eec-b1c5-5f84-bcd3-be94b6c9f6c4"
        );
    }
}
