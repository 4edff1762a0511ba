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
    /// Issued-at: always required, since per-user revocation cut-offs compare against it.
    pub iat: i64,
    /// Our issuer always sets it; a foreign issuer may not (its `required_claims` decide whether
    /// that is accepted), and then it reads 0, which restricts nothing.
    #[serde(default)]
    pub nbf: i64,
    /// Our issuer always sets it; empty when a foreign issuer's token has none.
    #[serde(default)]
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

/// A claim a [`crate::VerifierConfig`] can require. `iss`, `sub`, `aud`, `exp` and `iat` are
/// required of every issuer whatever its configuration says ([`Claim::ALWAYS_REQUIRED`]).
/// Names in configuration files are the claim names (`"nbf"`, `"client_id"`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Claim {
    Iss,
    Sub,
    Aud,
    Exp,
    Iat,
    Nbf,
    Jti,
    Sid,
    Scope,
    ClientId,
}

impl Claim {
    /// Without these a token cannot be checked at all: who issued it, for whom, for which
    /// service, until when, and since when (revocation cut-offs compare `iat`).
    pub const ALWAYS_REQUIRED: [Claim; 5] =
        [Claim::Iss, Claim::Sub, Claim::Aud, Claim::Exp, Claim::Iat];

    /// What our own issuer always sets (RFC 9068 §2.2 plus `nbf`); the default requirement.
    pub const ACCESS_TOKEN_DEFAULT: [Claim; 7] = [
        Claim::Exp,
        Claim::Nbf,
        Claim::Iat,
        Claim::Iss,
        Claim::Aud,
        Claim::Sub,
        Claim::Jti,
    ];

    const ALL: [Claim; 10] = [
        Claim::Iss,
        Claim::Sub,
        Claim::Aud,
        Claim::Exp,
        Claim::Iat,
        Claim::Nbf,
        Claim::Jti,
        Claim::Sid,
        Claim::Scope,
        Claim::ClientId,
    ];

    /// The claim's name in the JWT.
    pub const fn name(self) -> &'static str {
        match self {
            Claim::Iss => "iss",
            Claim::Sub => "sub",
            Claim::Aud => "aud",
            Claim::Exp => "exp",
            Claim::Iat => "iat",
            Claim::Nbf => "nbf",
            Claim::Jti => "jti",
            Claim::Sid => "sid",
            Claim::Scope => "scope",
            Claim::ClientId => "client_id",
        }
    }

    /// The `&'static` name for a claim name reported as a `String` (by jsonwebtoken).
    pub(crate) fn static_name(name: &str) -> &'static str {
        Claim::ALL
            .iter()
            .map(|claim| claim.name())
            .find(|known| *known == name)
            .unwrap_or("unknown")
    }
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

    #[test]
    fn nbf_and_jti_may_be_absent_for_foreign_issuers() {
        let json = serde_json::json!({"iss": "i", "sub": "s", "aud": "a", "exp": 2, "iat": 1});
        let claims: AccessClaims = serde_json::from_value(json).unwrap();
        assert_eq!((claims.nbf, claims.jti.as_str()), (0, ""));
    }

    #[test]
    fn claim_names_round_trip_through_serde() {
        for claim in Claim::ALL {
            let json = serde_json::to_value(claim).unwrap();
            assert_eq!(json, claim.name());
            assert_eq!(serde_json::from_value::<Claim>(json).unwrap(), claim);
            assert_eq!(Claim::static_name(claim.name()), claim.name());
        }
    }
}
