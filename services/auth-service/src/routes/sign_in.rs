//! Sign-up and sign-in: both answer with a token response and set the refresh cookie.

use actix_web::{HttpRequest, HttpResponse, post, web};
use http_problem::{InvalidField, Json};
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;

use super::api_doc::TAG_ACCOUNT;
use super::client_info::{client_address, client_info};
use super::cookie_mode::{self, RefreshTokenDelivery};
use super::refresh::{TokenResponse, token_response};
use super::{ApiError, AppState};
use crate::accounts;
use crate::accounts::password_check;
use crate::accounts::password_hasher::HashError;
use crate::accounts::sign_in_throttle::ThrottleKeys;
use crate::domain::{Email, Password};
use crate::sessions;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUpRequest {
    #[schema(format = Email, example = "alice@example.org")]
    email: String,
    /// 8–128 characters, no composition rules (NIST SP 800-63B); not a common or breached
    /// password, and not the email or its part before the @.
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 128)]
    password: SecretString,
    /// Display name; trimmed, at most 200 characters, no control characters.
    #[serde(default)]
    #[schema(max_length = 200, example = "Alice")]
    name: Option<String>,
    /// `cookie` (browsers): the answer carries the refresh token only in the HttpOnly cookie,
    /// and the request must come from an allowed origin. Default `body`.
    #[serde(default)]
    refresh_token_delivery: RefreshTokenDelivery,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    #[schema(example = "alice@example.org")]
    email: String,
    #[schema(value_type = String, format = Password)]
    password: SecretString,
    /// `cookie` (browsers): the answer carries the refresh token only in the HttpOnly cookie,
    /// and the request must come from an allowed origin. Default `body`.
    #[serde(default)]
    refresh_token_delivery: RefreshTokenDelivery,
}

/// Creates an account and signs it in.
///
/// Throttled per client address (429 with `Retry-After`); when too many passwords are
/// waiting to be hashed, 503 with `Retry-After`.
#[utoipa::path(
    tag = TAG_ACCOUNT,
    responses(
        (status = 201, description = "Signed up and in; the refresh token is also set as the \
            `taskgate_refresh` cookie (HttpOnly, SameSite=Strict, path /api/auth), and only \
            there in cookie mode", body = TokenResponse, headers(("Set-Cookie" = String))),
        (status = 400, response = http_problem::openapi::BadRequest),
        (status = 403, response = cookie_mode::CookieModeForbidden),
        (status = 409, response = http_problem::openapi::Conflict),
        (status = 422, response = http_problem::openapi::UnprocessableEntity),
        (status = 429, response = http_problem::openapi::TooManyRequests),
        (status = 500, response = http_problem::openapi::InternalError),
        (status = 503, response = http_problem::openapi::ServiceUnavailable),
    ),
)]
#[post("/sign-up")]
#[tracing::instrument(skip_all, fields(user_id = tracing::field::Empty))]
pub async fn sign_up(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<SignUpRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if body.refresh_token_delivery == RefreshTokenDelivery::Cookie {
        cookie_mode::admit(&state, &req)?;
    }
    let email = Email::parse(&body.email).map_err(|e| InvalidField::new("email", e))?;
    let password =
        Password::parse(body.password, &email).map_err(|e| InvalidField::new("password", e))?;
    let name = parse_name(body.name)?;

    // Counted before the hash, so a refused sign-up costs none.
    let ip = client_address(&req, &state.proxies);
    if let Some(ip) = ip
        && let Err(retry_after) = state.sign_up_throttle.admit(&state.db, ip).await?
    {
        return Err(ApiError::SignUpThrottled {
            retry_after_secs: retry_after.as_secs(),
        });
    }
    let hash = match state.hasher.hash(password).await {
        Ok(hash) => hash,
        Err(busy @ HashError::Busy { .. }) => {
            if let Some(ip) = ip {
                state
                    .sign_up_throttle
                    .record_unchecked(&state.db, ip)
                    .await?;
            }
            return Err(busy.into());
        }
        Err(other) => return Err(other.into()),
    };
    let user = accounts::create_user(&state.db, &email, name, hash).await?;
    tracing::Span::current().record("user_id", tracing::field::display(user.id));
    // Changing the password takes a session, and this account has none yet.
    let client = client_info(&req, ip);
    let issued = sessions::start_session(&state.db, &user, state.session_ttl, client)
        .await?
        .ok_or_else(|| anyhow::anyhow!("a new account's password changed before it signed in"))?;
    token_response(
        &state,
        &user,
        issued,
        body.refresh_token_delivery,
        actix_web::http::StatusCode::CREATED,
    )
}

/// Signs in with email and password.
///
/// An unknown email and a wrong password get the same 401;
/// repeated failures lock the account (and the client IP) for a while: 429 with `Retry-After`.
/// When too many passwords are waiting to be checked, 503 with `Retry-After`.
#[utoipa::path(
    tag = TAG_ACCOUNT,
    responses(
        (status = 200, description = "Signed in; the refresh token is also set as the \
            `taskgate_refresh` cookie, and only there in cookie mode", body = TokenResponse,
            headers(("Set-Cookie" = String))),
        (status = 400, response = http_problem::openapi::BadRequest),
        (status = 403, response = cookie_mode::CookieModeForbidden),
        (status = 401, response = http_problem::openapi::Unauthorized),
        (status = 429, response = http_problem::openapi::TooManyRequests),
        (status = 500, response = http_problem::openapi::InternalError),
        (status = 503, response = http_problem::openapi::ServiceUnavailable),
    ),
)]
#[post("/sign-in")]
#[tracing::instrument(skip_all, fields(user_id = tracing::field::Empty))]
pub async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<SignInRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if body.refresh_token_delivery == RefreshTokenDelivery::Cookie {
        cookie_mode::admit(&state, &req)?;
    }
    let ip = client_address(&req, &state.proxies);
    let client = client_info(&req, ip);
    let attempt = password_check::admit(
        &state.db,
        &state.throttle,
        ThrottleKeys::new(&body.email, ip),
    )
    .await?;
    // A malformed email cannot belong to anyone: answer exactly like a wrong password, after
    // the same hashing work.
    let user = match Email::parse(&body.email) {
        Ok(email) => accounts::find_by_email(&state.db, &email).await?,
        Err(_) => None,
    };
    let stored_hash = user.as_ref().map(|user| user.password_hash.clone());
    let matches = attempt
        .verify(&state.hasher, body.password, stored_hash)
        .await?;
    let Some(user) = user.filter(|_| matches) else {
        return Err(ApiError::InvalidCredentials);
    };
    tracing::Span::current().record("user_id", tracing::field::display(user.id));
    // None: the password changed while this one was being checked (the old one, then).
    let issued = sessions::start_session(&state.db, &user, state.session_ttl, client)
        .await?
        .ok_or(ApiError::InvalidCredentials)?;
    token_response(
        &state,
        &user,
        issued,
        body.refresh_token_delivery,
        actix_web::http::StatusCode::OK,
    )
}

fn parse_name(name: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(name) = name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if name.chars().count() > 200 {
        return Err(InvalidField::new("name", "name must be at most 200 characters").into());
    }
    if name.chars().any(char::is_control) {
        return Err(InvalidField::new("name", "name must not contain control characters").into());
    }
    Ok(Some(name))
}
