//! Cookie mode: how a browser keeps its refresh token out of JavaScript.
//!
//! - Sign-up and sign-in ask for it with `"refresh_token_delivery": "cookie"`; a refresh asks
//!   for it by sending no `refresh_token` in its body (an empty body or `{}`), so the
//!   `taskgate_refresh` cookie authenticates it. A cookie-mode answer carries the refresh
//!   token only in `Set-Cookie`, never in the body.
//! - A browser attaches the cookie on its own, so a cookie-mode request must prove it comes
//!   from one of our pages (CSRF): `Content-Type: application/json` (which no HTML form can
//!   send, and which makes a cross-origin page ask first, with a CORS preflight) and an
//!   `Origin` header naming our own origin or one of `AUTH__HTTP__ALLOWED_ORIGINS`. Browsers
//!   send `Origin` with every `POST`. Anything else is a 403.
//! - Requests that carry the refresh token in their body, or a bearer token, are not
//!   CSRF-able: a foreign page cannot know the token. They need no `Origin` (non-browser
//!   clients send none).

use actix_web::HttpRequest;
use actix_web::http::header::{CONTENT_TYPE, ORIGIN};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{ApiError, AppState};

/// Where a sign-up or sign-in answer puts the refresh token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RefreshTokenDelivery {
    /// In the body as `refresh_token` (and in the cookie): for non-browser clients.
    #[default]
    Body,
    /// Only in the HttpOnly `taskgate_refresh` cookie: for browsers. Needs an allowed `Origin`.
    Cookie,
}

/// Refuses (403) a cookie-mode request that is not JSON from an allowed origin.
pub fn admit(state: &AppState, req: &HttpRequest) -> Result<(), ApiError> {
    if !is_json(req) {
        return Err(ApiError::CookieModeRefused(
            "a request in cookie mode must be sent with Content-Type: application/json",
        ));
    }
    let origin = req.headers().get(ORIGIN);
    if !origin.is_some_and(|origin| state.cookie_origins.allows(origin)) {
        return Err(ApiError::CookieModeRefused(
            "a request in cookie mode must come from this service's origin or an allowed one \
             (Origin header)",
        ));
    }
    Ok(())
}

/// `Content-Type: application/json`, or another `+json` type, as for every JSON body.
pub fn is_json(req: &HttpRequest) -> bool {
    let Some(Ok(value)) = req.headers().get(CONTENT_TYPE).map(|v| v.to_str()) else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

// The 403 of the cookie-mode routes, registered in `api_doc`.
http_problem::openapi_responses! {
    CookieModeForbidden => http_problem::openapi::problem_response(
        "Cookie mode, but not `Content-Type: application/json` from this service's origin or \
         one of `AUTH__HTTP__ALLOWED_ORIGINS` (`Origin` header)",
        Some(serde_json::json!({
            "type": "urn:taskgate:problem:cookie-mode-refused",
            "title": "Cookie request refused",
            "status": 403,
            "detail": "a request in cookie mode must come from this service's origin or an \
                       allowed one (Origin header)",
        })),
    );
}
