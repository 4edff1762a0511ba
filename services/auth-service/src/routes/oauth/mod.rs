//! The OAuth 2.0 endpoints, form-encoded in and RFC 6749 §5.2 errors out (not problem+json:
//! that is what OAuth client libraries parse):
//! - `POST /oauth/token`: refresh_token (public first-party client) and client_credentials
//!   (confidential service clients) grants;
//! - `POST /oauth/revoke` (RFC 7009) and `POST /oauth/introspect` (RFC 7662), for
//!   authenticated confidential clients.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue, PRAGMA, WWW_AUTHENTICATE};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

mod client_auth;
mod introspect;
mod presented_token;
mod revoke;
mod token;

pub use introspect::introspect;
pub use revoke::revoke;
pub use token::token;

/// The RFC 6749 §5.2 error codes this service answers, with a safe description (never a part
/// of a credential or token).
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("{0}")]
    InvalidRequest(&'static str),
    /// Unknown client, wrong secret, revoked client, malformed or missing client authentication.
    #[error("client authentication failed")]
    InvalidClient,
    #[error("{0}")]
    InvalidGrant(&'static str),
    #[error("{0}")]
    InvalidScope(&'static str),
    /// Authenticated, but not allowed this endpoint: the client lacks this scope.
    #[error("this client lacks the {0} scope")]
    UnauthorizedClient(&'static str),
    #[error("this grant type is not supported (refresh_token, client_credentials)")]
    UnsupportedGrantType,
    #[error("try again later")]
    ServerError(#[from] anyhow::Error),
}

impl OAuthError {
    /// For a body that is not a form, or repeats a parameter (RFC 6749 §3.2).
    pub fn malformed_body() -> Self {
        Self::InvalidRequest(
            "the body must be application/x-www-form-urlencoded, each parameter at most once",
        )
    }

    fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::InvalidScope(_) => "invalid_scope",
            Self::UnauthorizedClient(_) => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::ServerError(_) => "server_error",
        }
    }
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::InvalidClient => StatusCode::UNAUTHORIZED,
            Self::UnauthorizedClient(_) => StatusCode::FORBIDDEN,
            Self::ServerError(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::ServerError(cause) = self {
            tracing::error!(error = ?cause, "OAuth request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        response
            .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .insert_header((PRAGMA, HeaderValue::from_static("no-cache")));
        if matches!(self, Self::InvalidClient) {
            // RFC 6749 §5.2: a 401 names the scheme the client should authenticate with.
            response.insert_header((
                WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Basic realm="taskgate""#),
            ));
        }
        response.json(json!({ "error": self.code(), "error_description": self.to_string() }))
    }
}

/// A 200 JSON answer that no cache may keep (token and introspection responses).
fn no_store_json(body: impl serde::Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((PRAGMA, HeaderValue::from_static("no-cache")))
        .json(body)
}
