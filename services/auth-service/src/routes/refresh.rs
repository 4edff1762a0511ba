//! The token response of sign-up, sign-in and refresh, and the refresh route itself.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue, PRAGMA};
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{DateTime, Utc};
use http_problem::Problem;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::api_doc::TAG_SESSIONS;
use super::cookie_mode::{self, RefreshTokenDelivery};
use super::{ApiError, AppState, refresh_cookie};
use crate::accounts;
use crate::entities::users;
use crate::sessions::refresh::{RotateError, RotateRefused};
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
    /// Opaque, single use: each refresh returns its successor. Absent in cookie mode, where
    /// only the `taskgate_refresh` cookie carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
    user: UserView,
}

/// RFC 6749 §5.1 token response (`Cache-Control: no-store`), plus the refresh cookie; in
/// cookie mode the body leaves the refresh token out.
pub fn token_response(
    state: &AppState,
    user: &users::Model,
    issued: IssuedRefreshToken,
    delivery: RefreshTokenDelivery,
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
            refresh_token: (delivery == RefreshTokenDelivery::Body).then_some(refresh_token),
            user: user.into(),
        }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// Absent: cookie mode, the `taskgate_refresh` cookie is used.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    refresh_token: Option<SecretString>,
}

/// Rotates a refresh token.
///
/// Exchanges a refresh token for a new access token and a new refresh token. A used one is
/// refused, and (outside a 2 s grace) revokes its whole session.
///
/// - Body mode: the token is in the JSON body; the answer carries its successor.
/// - Cookie mode (browsers): no token in the body (an empty body or `{}`); the
///   `taskgate_refresh` cookie authenticates the request. It must be sent with
///   `Content-Type: application/json` from this service's origin or one of
///   `AUTH__HTTP__ALLOWED_ORIGINS` (`Origin`), else 403; the successor is only in the cookie.
// The body is optional (the cookie alone is enough), so it is read as bytes, at most the JSON
// limit, and documented here rather than inferred from a `Json` argument.
#[utoipa::path(
    tag = TAG_SESSIONS,
    request_body(
        content = Option<RefreshRequest>,
        content_type = "application/json",
        description = "Empty, `null`, or without `refresh_token`, in cookie mode",
    ),
    params(("taskgate_refresh" = Option<String>, Cookie, description = "The refresh token, when the body has none (cookie mode)")),
    responses(
        (status = 200, description = "A new access token; the cookie is replaced, and in body \
            mode the body carries the new refresh token", body = TokenResponse,
            headers(("Set-Cookie" = String))),
        (status = 400, response = http_problem::openapi::BadRequest),
        (status = 401, response = http_problem::openapi::Unauthorized),
        (status = 403, response = cookie_mode::CookieModeForbidden),
        (status = 413, response = http_problem::openapi::PayloadTooLarge),
        (status = 415, response = http_problem::openapi::UnsupportedMediaType),
        (status = 500, response = http_problem::openapi::InternalError),
    ),
)]
#[post("/refresh")]
#[tracing::instrument(skip_all, fields(session_id = tracing::field::Empty))]
pub async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    // Read whole here (an empty body means cookie mode); like every body, capped by the
    // service's request limits (`service_runtime::request_limits`: 413 past 16 KiB).
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let from_body = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else if !cookie_mode::is_json(&req) {
        return Err(Problem::unsupported_media_type().into());
    } else if body.trim_ascii() == b"null" {
        // The document's body is optional, and JSON `null` is its "none" (cookie mode).
        None
    } else {
        http_problem::parse_object::<RefreshRequest>(&body)?.refresh_token
    };
    let (presented, delivery) = match from_body {
        Some(token) => (token, RefreshTokenDelivery::Body),
        None => {
            cookie_mode::admit(&state, &req)?;
            let token = refresh_cookie::read(&req).ok_or(ApiError::InvalidRefreshToken)?;
            (token, RefreshTokenDelivery::Cookie)
        }
    };
    let rotated = sessions::refresh::rotate(
        &state.db,
        &state.revocations,
        &presented,
        &state.reuse_policy(),
    )
    .await;
    let issued = match rotated {
        Ok(issued) => issued,
        // A dead cookie is removed, so the browser stops sending it. One that lost a race
        // with another tab's refresh (within the reuse grace) is not: the cookie jar is
        // shared, and a removal would delete the successor the winning tab has just been given.
        Err(RotateError::Refused(refused))
            if delivery == RefreshTokenDelivery::Cookie
                && refused != RotateRefused::UsedWithinGrace =>
        {
            return Err(ApiError::DeadRefreshCookie);
        }
        Err(error) => return Err(error.into()),
    };
    tracing::Span::current().record("session_id", tracing::field::display(issued.session.id));
    let Some(user) = accounts::find_by_id(&state.db, issued.session.user_id).await? else {
        return Err(ApiError::AccountGone);
    };
    token_response(&state, &user, issued, delivery, StatusCode::OK)
}
