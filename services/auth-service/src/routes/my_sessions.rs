//! The caller's sessions: sign-out, the list of live sessions, revoking one. Each revocation
//! reaches every validator through the revocation feed.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::api_doc::TAG_SESSIONS;
use super::{ApiError, AppState, LiveSession, refresh_cookie};
use crate::sessions;

/// Signs out.
///
/// Revokes the caller's session (every validator learns it through the revocation
/// feed) and clears the refresh cookie.
#[utoipa::path(
    tag = TAG_SESSIONS,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out; the cookie is cleared", headers(("Set-Cookie" = String))),
        (status = 401, response = http_problem::openapi::Unauthorized),
        (status = 500, response = http_problem::openapi::InternalError),
    ),
)]
#[post("/sign-out")]
#[tracing::instrument(skip_all, fields(user_id = %session.user_id))]
pub async fn sign_out(
    state: web::Data<AppState>,
    session: LiveSession,
) -> Result<HttpResponse, ApiError> {
    sessions::revoke(&state.db, &state.revocations, session.session_id).await?;
    Ok(HttpResponse::NoContent()
        .cookie(refresh_cookie::removal())
        .finish())
}

#[derive(Serialize, ToSchema)]
#[schema(as = Session)]
pub struct SessionView {
    id: Uuid,
    created_at: DateTime<Utc>,
    last_used_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    user_agent: Option<String>,
    ip: Option<String>,
    /// The session of the token making this request.
    current: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SessionList {
    items: Vec<SessionView>,
}

/// The caller's live sessions, newest first.
#[utoipa::path(
    tag = TAG_SESSIONS,
    operation_id = "list_sessions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The live sessions", body = SessionList),
        (status = 401, response = http_problem::openapi::Unauthorized),
        (status = 500, response = http_problem::openapi::InternalError),
    ),
)]
#[get("/sessions")]
pub async fn list(
    state: web::Data<AppState>,
    session: LiveSession,
) -> Result<HttpResponse, ApiError> {
    let items: Vec<SessionView> = sessions::list_live(&state.db, session.user_id)
        .await?
        .into_iter()
        .map(|s| SessionView {
            current: s.id == session.session_id,
            id: s.id,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            expires_at: s.expires_at,
            user_agent: s.user_agent,
            ip: s.ip,
        })
        .collect();
    Ok(HttpResponse::Ok().json(SessionList { items }))
}

/// Revokes one of the caller's sessions.
///
/// Any other id (someone else's, revoked,
/// malformed) is the same 404.
#[utoipa::path(
    tag = TAG_SESSIONS,
    operation_id = "revoke_session",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "A session id from the session list")),
    responses(
        (status = 204, description = "The session is revoked"),
        (status = 401, response = http_problem::openapi::Unauthorized),
        (status = 404, response = http_problem::openapi::NotFound),
        (status = 500, response = http_problem::openapi::InternalError),
    ),
)]
#[delete("/sessions/{id}")]
pub async fn revoke(
    state: web::Data<AppState>,
    caller: LiveSession,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::SessionNotFound)?;
    let session = sessions::find_live(&state.db, caller.user_id, id)
        .await?
        .ok_or(ApiError::SessionNotFound)?;
    sessions::revoke(&state.db, &state.revocations, session.id).await?;
    Ok(HttpResponse::NoContent().finish())
}
