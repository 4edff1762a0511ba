//! `POST /oauth/revoke` (RFC 7009), for authenticated confidential clients. A refresh token
//! or a user access token ends its session, which the revocation feed then reports to every
//! validator. Unknown, invalid and already revoked tokens get the same empty 200 (§2.2).

use actix_web::{HttpRequest, HttpResponse, web};
use auth_core::Verifier;
use secrecy::SecretString;
use serde::Deserialize;
use uuid::Uuid;

use super::OAuthError;
use super::client_auth;
use super::presented_token::{PresentedToken, identify};
use crate::sessions;
use crate::startup::AppState;

#[derive(Deserialize)]
pub struct RevocationRequest {
    token: Option<SecretString>,
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<SecretString>,
}

#[tracing::instrument(skip_all, fields(client_id, session_id))]
pub async fn revoke(
    state: web::Data<AppState>,
    verifier: web::Data<Verifier>,
    req: HttpRequest,
    form: Result<web::Form<RevocationRequest>, actix_web::Error>,
) -> Result<HttpResponse, OAuthError> {
    let form = form.map_err(|_| OAuthError::malformed_body())?.into_inner();
    let client = client_auth::presented(req.headers(), form.client_id, form.client_secret)?;
    let client = client_auth::authenticate(&state.db, client).await?;
    // Any user's token can be named here, so only clients trusted with that may call.
    if !client.scopes.contains("tokens:revoke") {
        return Err(OAuthError::UnauthorizedClient(
            "this client lacks the tokens:revoke scope",
        ));
    }
    let token = form
        .token
        .ok_or(OAuthError::InvalidRequest("token is required"))?;
    let presented = identify(&state, &verifier, &token, form.token_type_hint.as_deref()).await?;
    let session_id = match presented {
        PresentedToken::Refresh(status) => Some(status.session.id),
        // A service token has no session: it cannot be revoked, only left to expire.
        PresentedToken::Access(claims) => claims
            .sid
            .as_deref()
            .and_then(|sid| Uuid::parse_str(sid).ok()),
        PresentedToken::Unknown => None,
    };
    if let Some(session_id) = session_id {
        tracing::Span::current().record("session_id", tracing::field::display(session_id));
        let newly = sessions::revoke(&state.db, &state.revocations, session_id).await?;
        tracing::info!(
            newly_revoked = newly,
            "session revoked through /oauth/revoke"
        );
    }
    Ok(HttpResponse::Ok().finish())
}
