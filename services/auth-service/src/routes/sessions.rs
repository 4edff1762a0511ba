//! Sign-out, the session list, password change and account deletion: each revocation reaches every validator
//! through the revocation feed.

use actix_web::cookie::Cookie;
use actix_web::{HttpResponse, delete, get, post, web};
use auth_core::AuthUser;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::accounts;
use crate::domain::{Email, Password};
use crate::error::ApiError;
use crate::routes::api_doc::TAG_SESSIONS;
use crate::routes::tokens::REFRESH_COOKIE;
use crate::sessions;
use crate::startup::AppState;
use crate::throttle::ThrottleKeys;

/// The caller's session, if still live: the auth-service checks its own database rather than
/// waiting for the feed, so a revoked session cannot act here even for a moment.
pub(crate) async fn live_session(state: &AppState, user: &AuthUser) -> Result<Uuid, ApiError> {
    let session_id = user.session_id.ok_or(ApiError::SessionRevoked)?;
    sessions::find_live(&state.db, user.user_id, session_id)
        .await?
        .map(|session| session.id)
        .ok_or(ApiError::SessionRevoked)
}

/// Checks a signed-in user's password again before a sensitive change, throttled like
/// sign-in (a stolen access token must not become an unlimited password oracle). A wrong
/// password is a 422 naming `field`.
pub(crate) async fn recheck_password(
    state: &AppState,
    req: &actix_web::HttpRequest,
    account: &crate::entities::users::Model,
    password: SecretString,
    field: &'static str,
) -> Result<(), ApiError> {
    let email = Email::parse(&account.email).ok();
    let client = crate::routes::sign_in::client_info(req);
    let throttle_keys = ThrottleKeys::new(email.as_ref(), &account.email, client.ip.as_deref());
    if let Err(retry_after) = state.throttle.admit(&state.db, &throttle_keys).await? {
        return Err(ApiError::Throttled {
            retry_after_secs: retry_after.as_secs(),
        });
    }
    let stored = account.password_hash.clone();
    if !state.hasher.verify(password, Some(stored)).await? {
        return Err(ApiError::validation(field, "the password is incorrect"));
    }
    state
        .throttle
        .record_success(&state.db, &throttle_keys)
        .await?;
    Ok(())
}

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
#[tracing::instrument(skip_all, fields(user_id = %user.user_id))]
pub async fn sign_out(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let session_id = live_session(&state, &user).await?;
    sessions::revoke(&state.db, &state.revocations, session_id).await?;
    let mut clear = Cookie::build(REFRESH_COOKIE, "").path("/api/auth").finish();
    clear.make_removal();
    Ok(HttpResponse::NoContent().cookie(clear).finish())
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
pub async fn list(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let current = live_session(&state, &user).await?;
    let items: Vec<SessionView> = sessions::list_live(&state.db, user.user_id)
        .await?
        .into_iter()
        .map(|s| SessionView {
            current: s.id == current,
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
    user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    live_session(&state, &user).await?;
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::SessionNotFound)?;
    let session = sessions::find_live(&state.db, user.user_id, id)
        .await?
        .ok_or(ApiError::SessionNotFound)?;
    sessions::revoke(&state.db, &state.revocations, session.id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    #[schema(value_type = String, format = Password)]
    current_password: SecretString,
    /// 8–128 characters.
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 128)]
    new_password: SecretString,
}

/// Changes the password.
///
/// Checks the current one (throttled like sign-in), stores the new
/// one, and revokes every other session of the user (the caller's stays signed in).
#[utoipa::path(
    tag = TAG_SESSIONS,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Changed; the other sessions are revoked"),
        (status = 400, response = http_problem::openapi::BadRequest),
        (status = 401, response = http_problem::openapi::Unauthorized),
        (status = 422, response = http_problem::openapi::UnprocessableEntity),
        (status = 429, response = http_problem::openapi::TooManyRequests),
        (status = 500, response = http_problem::openapi::InternalError),
    ),
)]
#[post("/password")]
#[tracing::instrument(skip_all, fields(user_id = %user.user_id))]
pub async fn change_password(
    state: web::Data<AppState>,
    user: AuthUser,
    req: actix_web::HttpRequest,
    body: web::Json<ChangePassword>,
) -> Result<HttpResponse, ApiError> {
    let current_session = live_session(&state, &user).await?;
    let body = body.into_inner();
    let new_password =
        Password::parse(body.new_password).map_err(|e| ApiError::validation("new_password", e))?;
    let account = accounts::find_by_id(&state.db, user.user_id)
        .await?
        .ok_or(ApiError::AccountGone)?;

    recheck_password(
        &state,
        &req,
        &account,
        body.current_password,
        "current_password",
    )
    .await?;
    let new_hash = state.hasher.hash(new_password).await?;
    accounts::set_password_hash(&state.db, user.user_id, new_hash).await?;
    for session in sessions::list_live(&state.db, user.user_id).await? {
        if session.id != current_session {
            sessions::revoke(&state.db, &state.revocations, session.id).await?;
        }
    }
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccount {
    /// The account's password, checked again.
    #[schema(value_type = String, format = Password)]
    password: SecretString,
}

/// Deletes the account.
///
/// Checks the password again (throttled like sign-in), then in one transaction deletes the
/// user with every session, publishes a revocation cut-off for all their tokens, and queues
/// the purge of their tasks, which the tasks-service receives even if it is down right now.
#[utoipa::path(
    tag = TAG_SESSIONS,
    operation_id = "delete_account",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted; the refresh cookie is cleared"),
        (status = 400, response = http_problem::openapi::BadRequest),
        (status = 401, response = http_problem::openapi::Unauthorized),
        (status = 422, response = http_problem::openapi::UnprocessableEntity),
        (status = 429, response = http_problem::openapi::TooManyRequests),
        (status = 500, response = http_problem::openapi::InternalError),
    ),
)]
#[delete("/account")]
#[tracing::instrument(skip_all, fields(user_id = %user.user_id))]
pub async fn delete_account(
    state: web::Data<AppState>,
    user: AuthUser,
    req: actix_web::HttpRequest,
    body: web::Json<DeleteAccount>,
) -> Result<HttpResponse, ApiError> {
    live_session(&state, &user).await?;
    let account = accounts::find_by_id(&state.db, user.user_id)
        .await?
        .ok_or(ApiError::AccountGone)?;
    recheck_password(
        &state,
        &req,
        &account,
        body.into_inner().password,
        "password",
    )
    .await?;
    if !crate::account_deletion::delete_account(&state.db, &state.revocations, user.user_id).await?
    {
        return Err(ApiError::AccountGone);
    }
    let mut clear = Cookie::build(REFRESH_COOKIE, "").path("/api/auth").finish();
    clear.make_removal();
    Ok(HttpResponse::NoContent().cookie(clear).finish())
}
