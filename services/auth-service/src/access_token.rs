//! Mints RFC 9068 access tokens (ARCHITECTURE §3) with the current signing key.

use auth_core::{ACCESS_TOKEN_TYPE, AccessClaims};
use chrono::Utc;
use jsonwebtoken::Header;
use uuid::Uuid;

use crate::signing_keys::SigningKey;

/// Scopes of a first-party user session: everything a user may do with their own tasks.
pub const USER_SCOPES: &str = "tasks:read tasks:write";
/// `client_id` (RFC 9068 §2.2) of tokens issued through the first-party sign-in API.
pub const FIRST_PARTY_CLIENT_ID: &str = "taskgate";

pub struct AccessTokenIssuer {
    pub issuer: String,
    pub audience: String,
    pub ttl_secs: i64,
}

impl AccessTokenIssuer {
    pub fn mint(
        &self,
        key: &SigningKey,
        user_id: Uuid,
        session_id: Uuid,
    ) -> anyhow::Result<String> {
        let now = Utc::now().timestamp();
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            sub: user_id.to_string(),
            aud: self.audience.clone(),
            exp: now + self.ttl_secs,
            iat: now,
            nbf: now,
            jti: Uuid::now_v7().to_string(),
            sid: Some(session_id.to_string()),
            scope: USER_SCOPES.to_owned(),
            client_id: Some(FIRST_PARTY_CLIENT_ID.to_owned()),
        };
        let mut header = Header::new(key.algorithm);
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, &claims, &key.encoding_key)
            .map_err(|e| anyhow::anyhow!("signing an access token: {e}"))
    }
}
