//! `POST /oauth/token` (RFC 6749 §6): the refresh_token grant, form-encoded, for clients that
//! speak plain OAuth. Errors use the RFC 6749 §5.2 format, not problem+json, because that is
//! what OAuth client libraries parse.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue, PRAGMA};
use actix_web::{HttpResponse, web};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access_token::USER_SCOPES;
use crate::sessions::{self, RotateError};
use crate::startup::AppState;

#[derive(Deserialize)]
pub struct TokenRequest {
    grant_type: Option<String>,
    refresh_token: Option<SecretString>,
    /// A narrower scope is not supported; if present it must not ask for more.
    scope: Option<String>,
}

#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    refresh_token: String,
    scope: &'static str,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .json(json!({ "error": error, "error_description": description }))
}

pub async fn token(
    state: web::Data<AppState>,
    form: Result<web::Form<TokenRequest>, actix_web::Error>,
) -> HttpResponse {
    let Ok(form) = form else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the body must be application/x-www-form-urlencoded",
        );
    };
    let form = form.into_inner();
    match form.grant_type.as_deref() {
        Some("refresh_token") => {}
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only the refresh_token grant is supported",
            );
        }
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "grant_type is required",
            );
        }
    }
    let Some(presented) = form.refresh_token else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "refresh_token is required",
        );
    };
    if let Some(scope) = &form.scope {
        let granted: Vec<&str> = USER_SCOPES.split(' ').collect();
        if !scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .all(|s| granted.contains(&s))
        {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                "the scope exceeds the grant",
            );
        }
    }
    let issued = match sessions::rotate(&state.db, &state.revocations, &presented).await {
        Ok(issued) => issued,
        Err(RotateError::Refused(_)) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "the refresh token is invalid, expired or already used",
            );
        }
        Err(RotateError::Unexpected(cause)) => {
            tracing::error!(error = ?cause, "refresh failed");
            return oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "try again later",
            );
        }
    };
    let minted = state.tokens.mint(
        &state.keys.current().signer,
        issued.session.user_id,
        issued.session.id,
    );
    match minted {
        Ok(access_token) => HttpResponse::Ok()
            .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .insert_header((PRAGMA, HeaderValue::from_static("no-cache")))
            .json(TokenResponse {
                access_token,
                token_type: "Bearer",
                expires_in: state.tokens.ttl_secs,
                refresh_token: secrecy::ExposeSecret::expose_secret(&issued.token).to_owned(),
                scope: USER_SCOPES,
            }),
        Err(cause) => {
            tracing::error!(error = ?cause, "minting an access token failed");
            oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "try again later",
            )
        }
    }
}
