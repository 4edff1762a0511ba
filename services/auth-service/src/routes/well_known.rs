use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::domain::KNOWN_SCOPES;
use crate::startup::AppState;

/// How confidential clients authenticate to the revocation and introspection endpoints.
const CONFIDENTIAL_AUTH_METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];

/// The public keys (RFC 7517). Validators may cache them for five minutes; a new key is
/// published before it signs (ARCHITECTURE §3), so a cached copy never misses a `kid`.
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        ))
        .json(&state.keys.current().jwks_json)
}

/// Discovery (OpenID Connect Discovery 1.0 / RFC 8414 fields that apply to this service),
/// served at both well-known paths. Only endpoints that exist are listed.
pub async fn openid_configuration(state: web::Data<AppState>) -> HttpResponse {
    let issuer = &state.tokens.issuer;
    let algorithm = state.keys.current().signer.algorithm;
    HttpResponse::Ok()
        .insert_header((
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        ))
        .json(json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
            "token_endpoint": format!("{issuer}/oauth/token"),
            "grant_types_supported": ["refresh_token", "client_credentials"],
            // `none`: the first-party public client refreshing; the secrets: service clients.
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic", "client_secret_post", "none"
            ],
            "revocation_endpoint": format!("{issuer}/oauth/revoke"),
            "revocation_endpoint_auth_methods_supported": CONFIDENTIAL_AUTH_METHODS,
            "introspection_endpoint": format!("{issuer}/oauth/introspect"),
            "introspection_endpoint_auth_methods_supported": CONFIDENTIAL_AUTH_METHODS,
            "revocation_feed_endpoint": format!("{issuer}/api/auth/revocations"),
            "scopes_supported": KNOWN_SCOPES,
            "response_types_supported": [],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [algorithm],
            "access_token_signing_alg_values_supported": [algorithm],
        }))
}
