use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::startup::AppState;

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
            "grant_types_supported": ["refresh_token"],
            "token_endpoint_auth_methods_supported": ["none"],
            "revocation_feed_endpoint": format!("{issuer}/api/auth/revocations"),
            "scopes_supported": ["tasks:read", "tasks:write"],
            "response_types_supported": [],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [algorithm],
            "access_token_signing_alg_values_supported": [algorithm],
        }))
}
