//! `POST /oauth/revoke` (RFC 7009), for authenticated confidential clients. A refresh token
//! or a user access token ends its session, which the revocation feed then reports to every
//! validator. Unknown, invalid and already revoked tokens get the same empty 200 (§2.2).

use actix_web::{HttpRequest, HttpResponse, post, web};
use auth_core::Verifier;
use auth_core::scopes::TOKENS_REVOKE;
use uuid::Uuid;

use super::presented_token::{PresentedToken, TokenForm, authorize_and_identify};
use super::{
    OAuthError, OAuthInvalidClient, OAuthInvalidRequest, OAuthServerError, OAuthUnauthorizedClient,
};
use crate::routes::AppState;
use crate::routes::api_doc::TAG_OAUTH;
use crate::sessions;

/// RFC 7009 token revocation.
///
/// For clients allowed `tokens:revoke`: a refresh token or a user access
/// token ends its session. Unknown, invalid and already revoked tokens get the same empty 200.
#[utoipa::path(
    tag = TAG_OAUTH,
    operation_id = "oauth_revoke",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    security(("client_basic" = []), ()),
    responses(
        (status = 200, description = "Revoked, or nothing to revoke (empty body)"),
        (status = 400, response = OAuthInvalidRequest),
        (status = 401, response = OAuthInvalidClient),
        (status = 403, response = OAuthUnauthorizedClient),
        (status = 500, response = OAuthServerError),
    ),
)]
#[post("/oauth/revoke")]
#[tracing::instrument(skip_all, fields(client_id, session_id))]
pub async fn revoke(
    state: web::Data<AppState>,
    verifier: web::Data<Verifier>,
    req: HttpRequest,
    form: Result<web::Form<TokenForm>, actix_web::Error>,
) -> Result<HttpResponse, OAuthError> {
    let presented = authorize_and_identify(&state, &verifier, &req, form, TOKENS_REVOKE).await?;
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
