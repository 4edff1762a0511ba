//! The token response of sign-up, sign-in and refresh, and the refresh route itself.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue, PRAGMA};
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::api_doc::TAG_SESSIONS;
use super::{ApiError, AppState, refresh_cookie};
use crate::accounts;
use crate::entities::users;
use crate::sessions::{self, IssuedRefreshToken};

/// A user as the API shows it (never the password hash).
#[derive(Serialize, ToSchema)]
#[schema(as = User)]
pub struct UserView {
    id: Uuid,
    #[schema(example = "alice@example.org")]
    email: String,
    name: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<&users::Model> for UserView {
    fn from(user: &users::Model) -> Self {
        Self {
            id: user.id,
            email: user.email.clone(),
            name: user.name.clone(),
            created_at: user.created_at,
        }
    }
}

/// The answer of sign-up, sign-in and refresh (RFC 6749 §5.1 fields plus the user).
#[derive(Serialize, ToSchema)]
pub struct TokenResponse<'a> {
    /// An RFC 9068 JWT (`typ: at+jwt`).
    access_token: String,
    #[schema(example = "Bearer")]
    token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    expires_in: i64,
    /// Opaque, single use: each refresh returns its successor.
    refresh_token: &'a str,
    user: UserView,
}

/// RFC 6749 §5.1 token response (`Cache-Control: no-store`), plus the refresh cookie.
pub fn token_response(
    state: &AppState,
    user: &users::Model,
    issued: IssuedRefreshToken,
    status: StatusCode,
) -> Result<HttpResponse, ApiError> {
    let access_token =
        state
            .tokens
            .mint(&state.keys.current().signer, user.id, issued.session.id)?;
    let refresh_token = issued.token.expose_secret();
    let remaining = (issued.session.expires_at - Utc::now())
        .num_seconds()
        .max(0);
    let cookie = refresh_cookie::set(refresh_token, remaining, state.secure_cookies);
    Ok(HttpResponse::build(status)
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((PRAGMA, HeaderValue::from_static("no-cache")))
        .cookie(cookie)
        .json(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: state.tokens.ttl_secs,
            refresh_token,
            user: user.into(),
        }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[schema(value_type = String)]
    refresh_token: SecretString,
}

/// Rotates a refresh token.
///
/// Exchanges a refresh token, from the JSON body or else the `taskgate_refresh` cookie, for a
/// new access token and a new refresh token. A used one is refused, and (outside a 2 s grace)
/// revokes its whole session.
// The body is optional (the cookie alone is enough), so it is read as bytes and documented
// here rather than inferred from a `Json` argument.
#[utoipa::path(
    tag = TAG_SESSIONS,
    request_body(
        content = Option<RefreshRequest>,
        content_type = "application/json",
        description = "Optional when the `taskgate_refresh` cookie is sent",
    ),
    params(("taskgate_refresh" = Option<String>, Cookie, description = "The refresh token, when the body has none")),
    responses(
        (status = 200, description = "A new token pair; the cookie is replaced",
            body = TokenResponse, headers(("Set-Cookie" = String))),
        (status = 400, response = http_problem::openapi::BadRequest),
        (status = 401, response = http_problem::openapi::Unauthorized),
        (status = 500, response = http_problem::openapi::InternalError),
    ),
)]
#[post("/refresh")]
#[tracing::instrument(skip_all, fields(session_id = tracing::field::Empty))]
pub async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let from_body = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let parsed: RefreshRequest = http_problem::parse_object(&body)?;
        Some(parsed.refresh_token)
    };
    let presented = from_body
        .or_else(|| refresh_cookie::read(&req))
        .ok_or(ApiError::InvalidRefreshToken)?;
    let issued = sessions::refresh::rotate(
        &state.db,
        &state.revocations,
        &presented,
        &state.reuse_policy(),
    )
    .await?;
    tracing::Span::current().record("session_id", tracing::field::display(issued.session.id));
    let user = accounts::find_by_id(&state.db, issued.session.user_id)
        .await?
        .ok_or(ApiError::AccountGone)?;
    token_response(&state, &user, issued, StatusCode::OK)
}
