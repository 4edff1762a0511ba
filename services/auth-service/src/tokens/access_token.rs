//! Mints RFC 9068 access tokens (docs/architecture.md, "Tokens") with the current signing
//! key: user tokens (with the session's `sid`) and service tokens (client_credentials: `sub` =
//! `client_id`, no `sid`).

use auth_core::{ACCESS_TOKEN_TYPE, AccessClaims};
use chrono::Utc;
use jsonwebtoken::Header;
use uuid::Uuid;

use super::signing_keys::SigningKey;
use crate::domain::ScopeSet;

/// `client_id` (RFC 9068 §2.2) of tokens issued through the first-party sign-in API.
pub const FIRST_PARTY_CLIENT_ID: &str = "taskgate";

#[derive(Clone)]
pub struct AccessTokenIssuer {
    pub issuer: String,
    pub audience: String,
    pub ttl_secs: i64,
    /// Lifetime of service (client_credentials) tokens: shorter, as nothing can revoke them
    /// (they have no session) and a service can always fetch a new one.
    pub service_ttl_secs: i64,
}

impl AccessTokenIssuer {
    /// A user's token, bound to their session.
    pub fn mint(
        &self,
        key: &SigningKey,
        user_id: Uuid,
        session_id: Uuid,
    ) -> anyhow::Result<String> {
        let mut claims = self.claims(
            &self.audience,
            user_id.to_string(),
            FIRST_PARTY_CLIENT_ID,
            self.ttl_secs,
        );
        claims.sid = Some(session_id.to_string());
        claims.scope = auth_core::scopes::USER.join(" ");
        sign(key, &claims)
    }

    /// A service's own token (client_credentials grant): it acts for no user and no session.
    /// `audience` is the service it calls (default: ours).
    pub fn mint_service(
        &self,
        key: &SigningKey,
        client_id: &str,
        scopes: ScopeSet,
        audience: Option<&str>,
    ) -> anyhow::Result<String> {
        let mut claims = self.claims(
            audience.unwrap_or(&self.audience),
            client_id.to_owned(),
            client_id,
            self.service_ttl_secs,
        );
        claims.scope = scopes.to_string();
        sign(key, &claims)
    }

    /// Claims valid from now for `ttl_secs`, without session or scope.
    fn claims(&self, audience: &str, sub: String, client_id: &str, ttl_secs: i64) -> AccessClaims {
        let now = Utc::now().timestamp();
        AccessClaims {
            iss: self.issuer.clone(),
            sub,
            aud: audience.to_owned(),
            exp: now + ttl_secs,
            iat: now,
            nbf: now,
            jti: Uuid::now_v7().to_string(),
            sid: None,
            scope: String::new(),
            client_id: Some(client_id.to_owned()),
        }
    }
}

fn sign(key: &SigningKey, claims: &AccessClaims) -> anyhow::Result<String> {
    let mut header = Header::new(key.algorithm);
    header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding_key)
        .map_err(|e| anyhow::anyhow!("signing an access token: {e}"))
}
