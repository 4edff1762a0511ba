//! The parts of the OpenAPI document that no handler carries: title, tags, the OAuth client
//! authentication scheme and the reusable OAuth error responses, plus the problem+json pieces
//! shared with the tasks-service. The paths come from the handlers (see `routes::configure`).

use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi as _};

use super::cookie_mode::CookieModeForbidden;
use super::oauth::{
    OAuthErrorBody, OAuthErrorCode, OAuthInvalidClient, OAuthInvalidRequest, OAuthServerError,
    OAuthUnauthorizedClient,
};

/// Security scheme of confidential OAuth clients (`client_secret_basic`, RFC 6749 §2.3.1).
pub const CLIENT_BASIC: &str = "client_basic";

pub const TAG_ACCOUNT: &str = "account";
pub const TAG_SESSIONS: &str = "sessions";
pub const TAG_OAUTH: &str = "oauth";
pub const TAG_KEYS: &str = "discovery";

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Taskgate auth-service",
        description = "Signs users up and in, issues RFC 9068 access tokens and rotating refresh \
                       tokens, publishes its keys, discovery document and revocation feed, and \
                       serves OAuth 2.0 service clients. Errors are RFC 9457 \
                       `application/problem+json`, except on `/oauth/*`, which answer RFC 6749 \
                       §5.2 error JSON."
    ),
    tags(
        (name = TAG_ACCOUNT, description = "Sign-up, sign-in, the signed-in user"),
        (name = TAG_SESSIONS, description = "Refresh, sign-out, sessions, password, the revocation feed"),
        (name = TAG_OAUTH, description = "OAuth 2.0 endpoints for clients (form-encoded)"),
        (name = TAG_KEYS, description = "Public keys and discovery"),
        (name = service_runtime::health::TAG, description = "Liveness and readiness"),
    ),
    components(
        schemas(OAuthErrorBody, OAuthErrorCode),
        responses(
            OAuthInvalidRequest, OAuthInvalidClient, OAuthUnauthorizedClient, OAuthServerError,
            CookieModeForbidden
        )
    ),
    modifiers(&ClientBasicScheme)
)]
struct AuthApiDoc;

struct ClientBasicScheme;

impl Modify for ClientBasicScheme {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi
            .components
            .get_or_insert_with(utoipa::openapi::Components::new);
        components.add_security_scheme(
            CLIENT_BASIC,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "`client_secret_basic`: `base64(urlencode(client_id) \":\" \
                         urlencode(client_secret))`. The form fields `client_id` and \
                         `client_secret` (`client_secret_post`) are the alternative; never both.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document the handlers' paths are added to.
pub fn base_document() -> OpenApi {
    let mut doc = AuthApiDoc::openapi();
    doc.merge(http_problem::openapi::shared_components());
    doc
}
