//! The OAuth 2.0 endpoints, form-encoded in and RFC 6749 §5.2 errors out (not problem+json:
//! that is what OAuth client libraries parse):
//! - `POST /oauth/token`: refresh_token (public first-party client) and client_credentials
//!   (confidential service clients) grants;
//! - `POST /oauth/revoke` (RFC 7009) and `POST /oauth/introspect` (RFC 7662), for
//!   authenticated confidential clients.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue, PRAGMA, WWW_AUTHENTICATE};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa::openapi::Ref;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};

mod client_auth;
// Each holds one handler of the same name (a unit struct made by actix's route macro), so the
// handlers are reached through their modules rather than re-exported here.
pub(super) mod introspect;
mod presented_token;
pub(super) mod revoke;
pub(super) mod token;

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

    fn code(&self) -> OAuthErrorCode {
        match self {
            Self::InvalidRequest(_) => OAuthErrorCode::InvalidRequest,
            Self::InvalidClient => OAuthErrorCode::InvalidClient,
            Self::InvalidGrant(_) => OAuthErrorCode::InvalidGrant,
            Self::InvalidScope(_) => OAuthErrorCode::InvalidScope,
            Self::UnauthorizedClient(_) => OAuthErrorCode::UnauthorizedClient,
            Self::UnsupportedGrantType => OAuthErrorCode::UnsupportedGrantType,
            Self::ServerError(_) => OAuthErrorCode::ServerError,
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
        response.json(OAuthErrorBody {
            error: self.code(),
            error_description: self.to_string(),
        })
    }
}

/// The RFC 6749 §5.2 error body, as OAuth client libraries parse it.
#[derive(Serialize, ToSchema)]
pub struct OAuthErrorBody {
    error: OAuthErrorCode,
    /// Human-readable; never contains a credential or token.
    error_description: String,
}

#[derive(Serialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    InvalidScope,
    UnauthorizedClient,
    UnsupportedGrantType,
    ServerError,
}

/// An `application/json` [`OAuthErrorBody`] response for the OpenAPI document.
fn oauth_error_response(description: &str, code: &str, detail: &str) -> ResponseBuilder {
    ResponseBuilder::new()
        .description(description)
        .header(
            "Cache-Control",
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .description(Some("`no-store`"))
                .build(),
        )
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(OAuthErrorBody::name())))
                .example(Some(json!({ "error": code, "error_description": detail })))
                .build(),
        )
}

// `ToResponse` unit structs, registered in `api_doc` and referenced by the handlers as
// `response = OAuthInvalidRequest` etc.
http_problem::openapi_responses! {
    OAuthInvalidRequest => oauth_error_response(
        "`invalid_request` (missing or repeated parameter, not a form), `invalid_grant`, \
         `invalid_scope` or `unsupported_grant_type`",
        "invalid_request",
        "grant_type is required",
    );
    OAuthInvalidClient => oauth_error_response(
        "`invalid_client`: client authentication is missing, malformed or wrong, or the \
         client is unknown or revoked",
        "invalid_client",
        "client authentication failed",
    )
    .header(
        "WWW-Authenticate",
        HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(Type::String))
            .description(Some(r#"`Basic realm="taskgate"`"#))
            .build(),
    );
    OAuthUnauthorizedClient => oauth_error_response(
        "`unauthorized_client`: the client lacks the scope this endpoint needs",
        "unauthorized_client",
        "this client lacks the tokens:introspect scope",
    );
    OAuthServerError => oauth_error_response(
        "`server_error`: unexpected; the cause is logged",
        "server_error",
        "try again later",
    );
}

/// A 200 JSON answer that no cache may keep (token and introspection responses).
fn no_store_json(body: impl serde::Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((PRAGMA, HeaderValue::from_static("no-cache")))
        .json(body)
}
