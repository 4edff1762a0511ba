//! `POST /oauth/introspect` (RFC 7662), for authenticated confidential clients: whether a
//! token is active now, and what it says. An inactive or unknown token is `{"active": false}`
//! and nothing more (§2.2).

use actix_web::{HttpRequest, HttpResponse, web};
use auth_core::{AccessClaims, Verifier};
use serde_json::{Value, json};
use uuid::Uuid;

use super::presented_token::{PresentedToken, TokenForm, authorize_and_identify};
use super::{OAuthError, no_store_json};
use crate::access_token::FIRST_PARTY_CLIENT_ID;
use crate::oauth_clients;
use crate::sessions;
use crate::startup::AppState;

#[tracing::instrument(skip_all, fields(client_id))]
pub async fn introspect(
    state: web::Data<AppState>,
    verifier: web::Data<Verifier>,
    req: HttpRequest,
    form: Result<web::Form<TokenForm>, actix_web::Error>,
) -> Result<HttpResponse, OAuthError> {
    let presented =
        authorize_and_identify(&state, &verifier, &req, form, "tokens:introspect").await?;
    let answer = match presented {
        PresentedToken::Access(claims) if access_token_is_live(&state, &claims).await? => {
            access_token_answer(&claims)
        }
        PresentedToken::Refresh(status) if status.active => json!({
            "active": true,
            "client_id": FIRST_PARTY_CLIENT_ID,
            "sub": status.session.user_id,
            "exp": status.expires_at.timestamp(),
            "sid": status.session.id,
            "token_type": "refresh_token",
        }),
        _ => json!({ "active": false }),
    };
    Ok(no_store_json(answer))
}

/// A verified user token is live while its session is; a service token while its client is
/// not revoked.
async fn access_token_is_live(state: &AppState, claims: &AccessClaims) -> anyhow::Result<bool> {
    match claims.sid.as_deref() {
        Some(sid) => {
            let (Ok(user_id), Ok(session_id)) =
                (Uuid::parse_str(&claims.sub), Uuid::parse_str(sid))
            else {
                return Ok(false);
            };
            Ok(sessions::find_live(&state.db, user_id, session_id)
                .await?
                .is_some())
        }
        None => oauth_clients::is_active(&state.db, &claims.sub).await,
    }
}

fn access_token_answer(claims: &AccessClaims) -> Value {
    let mut answer = json!({
        "active": true,
        "scope": claims.scope,
        "client_id": claims.client_id.as_deref().unwrap_or(&claims.sub),
        "sub": claims.sub,
        "exp": claims.exp,
        "iat": claims.iat,
        "nbf": claims.nbf,
        "iss": claims.iss,
        "aud": claims.aud,
        "jti": claims.jti,
        "token_type": "Bearer",
    });
    if let (Some(sid), Some(object)) = (&claims.sid, answer.as_object_mut()) {
        object.insert("sid".to_owned(), Value::String(sid.clone()));
    }
    answer
}
