//! The access-token claim set (RFC 9068 §2.2). The auth-service serialises [`AccessClaims`] to
//! sign, the verifier deserialises it, so both sides share one definition.

use serde::{Deserialize, Serialize};

/// The JOSE `typ` of an access token (RFC 9068 §2.1). Verifiers also accept the full media type
/// `application/at+jwt`, compared case-insensitively.
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// Tokens longer than this are refused before any parsing (a cheap guard against oversized
/// input; real access tokens are well under 1 KiB).
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccessClaims {
    /// The auth-service's public URL.
    pub iss: String,
    /// The user id (a UUID), or the client id for service tokens.
    pub sub: String,
    /// The audience. A verified token may carry an array; the verifier then stores here the one
    /// audience it checked (its own), since that is the only one that matters to the caller.
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
    /// Session id (the refresh-token family); absent on service tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Space-separated scopes (RFC 9068 §2.2.3.1).
    #[serde(default)]
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

impl AccessClaims {
    /// The individual scopes; repeated or stray spaces yield no empty entries.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split_ascii_whitespace()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn scopes_split_on_any_whitespace_and_skip_empties() {
        let claims = AccessClaims {
            iss: "i".into(),
            sub: "s".into(),
            aud: "a".into(),
            exp: 0,
            iat: 0,
            nbf: 0,
            jti: "j".into(),
            sid: None,
            scope: " tasks:read  tasks:write ".into(),
            client_id: None,
        };
        assert_eq!(
            claims.scopes().collect::<Vec<_>>(),
            ["tasks:read", "tasks:write"]
        );
    }

    #[test]
    fn optional_claims_are_omitted_and_scope_defaults_to_empty() {
        let json = serde_json::json!({
            "iss": "i", "sub": "s", "aud": "a", "exp": 2, "iat": 1, "nbf": 1, "jti": "j"
        });
        let claims: AccessClaims = serde_json::from_value(json).unwrap();
        assert_eq!(claims.scope, "");
        assert_eq!(claims.sid, None);
        let back = serde_json::to_value(&claims).unwrap();
        assert!(back.get("sid").is_none());
        assert!(back.get("client_id").is_none());
    }
}
