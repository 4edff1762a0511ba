use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpResponse, get, web};
use jsonwebtoken::Algorithm;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::api_doc::TAG_KEYS;

/// How confidential clients authenticate to the revocation and introspection endpoints.
const CONFIDENTIAL_AUTH_METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];

/// The shape of the published key set (RFC 7517). The handler serves the stored JWKs as they
/// are (`KeyRing::jwks_json`); this type only documents them, and tests/api/openapi.rs checks
/// the real answer against it.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct JwkSet {
    /// The current signing key first, then the next and the retired ones.
    keys: Vec<PublicJwk>,
}

/// An Ed25519 public key (RFC 8037).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct PublicJwk {
    #[schema(example = "OKP")]
    kty: String,
    #[schema(example = "Ed25519")]
    crv: String,
    /// The public key, base64url.
    x: String,
    /// The RFC 7638 thumbprint of the key.
    kid: String,
    #[schema(example = "EdDSA")]
    alg: String,
    #[serde(rename = "use")]
    #[schema(example = "sig")]
    use_: String,
}

/// The public keys (RFC 7517).
///
/// Validators may cache them for five minutes; a new key is
/// published before it signs (docs/architecture.md, "Key rotation"), so a cached copy never misses a `kid`.
#[utoipa::path(
    tag = TAG_KEYS,
    responses((
        status = 200,
        description = "The key set",
        body = JwkSet,
        headers(("Cache-Control" = String, description = "`public, max-age=300`")),
    )),
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        ))
        .json(&state.keys.current().jwks_json)
}

/// OpenID Connect Discovery 1.0 / RFC 8414 metadata, the fields that apply to this service.
#[derive(Serialize, ToSchema)]
pub struct DiscoveryDocument {
    issuer: String,
    jwks_uri: String,
    token_endpoint: String,
    grant_types_supported: Vec<&'static str>,
    /// `none`: the first-party public client refreshing; the secrets: service clients.
    token_endpoint_auth_methods_supported: Vec<&'static str>,
    revocation_endpoint: String,
    revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    introspection_endpoint: String,
    introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    /// Not a registered metadata name: where validators follow revoked sessions.
    revocation_feed_endpoint: String,
    scopes_supported: Vec<&'static str>,
    /// Empty: there is no authorization endpoint.
    response_types_supported: Vec<&'static str>,
    subject_types_supported: Vec<&'static str>,
    #[schema(value_type = Vec<String>, example = json!(["EdDSA"]))]
    id_token_signing_alg_values_supported: Vec<Algorithm>,
    #[schema(value_type = Vec<String>, example = json!(["EdDSA"]))]
    access_token_signing_alg_values_supported: Vec<Algorithm>,
}

/// The answer at both discovery paths (documentation only).
#[derive(utoipa::IntoResponses)]
#[response(
    status = 200,
    description = "The discovery document",
    headers(("Cache-Control" = String, description = "`public, max-age=300`")),
)]
#[allow(dead_code)]
struct DiscoveryAnswer(#[to_schema] DiscoveryDocument);

/// Discovery (OpenID Connect Discovery 1.0).
#[utoipa::path(tag = TAG_KEYS, responses(DiscoveryAnswer))]
#[get("/.well-known/openid-configuration")]
pub async fn openid_configuration(state: web::Data<AppState>) -> HttpResponse {
    discovery(&state)
}

/// Discovery (RFC 8414): the same document as `/.well-known/openid-configuration`.
#[utoipa::path(tag = TAG_KEYS, responses(DiscoveryAnswer))]
#[get("/.well-known/oauth-authorization-server")]
pub async fn oauth_authorization_server(state: web::Data<AppState>) -> HttpResponse {
    discovery(&state)
}

/// Served at both well-known paths. Only endpoints that exist are listed.
fn discovery(state: &AppState) -> HttpResponse {
    let issuer = &state.tokens.issuer;
    let algorithm = state.keys.current().signer.algorithm;
    HttpResponse::Ok()
        .insert_header((
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        ))
        .json(DiscoveryDocument {
            issuer: issuer.clone(),
            jwks_uri: format!("{issuer}/.well-known/jwks.json"),
            token_endpoint: format!("{issuer}/oauth/token"),
            grant_types_supported: vec!["refresh_token", "client_credentials"],
            token_endpoint_auth_methods_supported: vec![
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            revocation_endpoint: format!("{issuer}/oauth/revoke"),
            revocation_endpoint_auth_methods_supported: CONFIDENTIAL_AUTH_METHODS.to_vec(),
            introspection_endpoint: format!("{issuer}/oauth/introspect"),
            introspection_endpoint_auth_methods_supported: CONFIDENTIAL_AUTH_METHODS.to_vec(),
            revocation_feed_endpoint: format!("{issuer}/api/auth/revocations"),
            scopes_supported: auth_core::scopes::ALL.to_vec(),
            response_types_supported: Vec::new(),
            subject_types_supported: vec!["public"],
            id_token_signing_alg_values_supported: vec![algorithm],
            access_token_signing_alg_values_supported: vec![algorithm],
        })
}
