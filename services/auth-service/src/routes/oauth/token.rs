//! `POST /oauth/token` (RFC 6749 §4.4 and §6): the client_credentials grant for confidential
//! service clients, and the refresh_token grant for the first-party public client.

use actix_web::{HttpRequest, HttpResponse, post, web};
use auth_core::scopes;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::client_auth::{self, PresentedClient};
use super::{OAuthError, OAuthInvalidClient, OAuthInvalidRequest, OAuthServerError, no_store_json};
use crate::domain::ScopeSet;
use crate::routes::AppState;
use crate::routes::api_doc::TAG_OAUTH;
use crate::sessions;
use crate::sessions::refresh::RotateError;
use crate::tokens::access_token::FIRST_PARTY_CLIENT_ID;

/// The form of `POST /oauth/token`. Every field is optional to the parser so that a missing
/// one is an RFC 6749 error, not a generic 400; which are needed depends on `grant_type`.
#[derive(Deserialize, ToSchema)]
#[schema(as = OAuthTokenRequest)]
pub struct TokenRequest {
    /// `client_credentials` or `refresh_token`.
    #[schema(example = "client_credentials")]
    grant_type: Option<String>,
    /// The refresh token (grant `refresh_token`).
    #[schema(value_type = Option<String>)]
    refresh_token: Option<SecretString>,
    /// Space-separated; default: every scope the client is allowed.
    #[schema(example = "tasks:purge")]
    scope: Option<String>,
    /// `client_secret_post`, or `taskgate` for the first-party public client.
    client_id: Option<String>,
    /// `client_secret_post` only; never together with HTTP Basic.
    #[schema(value_type = Option<String>)]
    client_secret: Option<SecretString>,
}

/// RFC 6749 §5.1.
#[derive(Serialize, ToSchema)]
#[schema(as = OAuthTokenResponse)]
pub struct TokenResponse {
    access_token: String,
    #[schema(example = "Bearer")]
    token_type: &'static str,
    #[schema(example = 900)]
    expires_in: i64,
    /// Only for the `refresh_token` grant: the successor of the token presented.
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[schema(example = "tasks:purge")]
    scope: String,
}

/// RFC 6749 token endpoint.
///
/// `client_credentials` for confidential service clients (HTTP Basic
/// or `client_secret_post`), `refresh_token` for the first-party public client (no client
/// authentication).
#[utoipa::path(
    tag = TAG_OAUTH,
    operation_id = "oauth_token",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    security((), ("client_basic" = [])),
    responses(
        (status = 200, description = "An access token", body = TokenResponse,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, response = OAuthInvalidRequest),
        (status = 401, response = OAuthInvalidClient),
        (status = 500, response = OAuthServerError),
    ),
)]
#[post("/oauth/token")]
#[tracing::instrument(skip_all, fields(grant_type, client_id))]
pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: Result<web::Form<TokenRequest>, actix_web::Error>,
) -> Result<HttpResponse, OAuthError> {
    let form = form.map_err(|_| OAuthError::malformed_body())?.into_inner();
    let client = client_auth::presented(req.headers(), form.client_id, form.client_secret)?;
    let grant_type = form
        .grant_type
        .ok_or(OAuthError::InvalidRequest("grant_type is required"))?;
    match grant_type.as_str() {
        "client_credentials" => {
            tracing::Span::current().record("grant_type", "client_credentials");
            client_credentials(&state, client, form.scope).await
        }
        "refresh_token" => {
            tracing::Span::current().record("grant_type", "refresh_token");
            refresh(&state, client, form.refresh_token, form.scope).await
        }
        _ => Err(OAuthError::UnsupportedGrantType),
    }
}

/// RFC 6749 §4.4: a service's own token, `sub` = `client_id`, no session, no refresh token.
async fn client_credentials(
    state: &AppState,
    client: PresentedClient,
    scope: Option<String>,
) -> Result<HttpResponse, OAuthError> {
    let client = client_auth::authenticate(&state.db, client).await?;
    let requested = scope.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let scopes = match requested {
        None => client.scopes,
        Some(raw) => {
            let requested = ScopeSet::parse(raw)
                .map_err(|_| OAuthError::InvalidScope("the scope names an unknown scope"))?;
            if !requested.is_subset_of(&client.scopes) {
                return Err(OAuthError::InvalidScope(
                    "the scope exceeds what this client is allowed",
                ));
            }
            requested
        }
    };
    let access_token = state.tokens.mint_service(
        &state.keys.current().signer,
        &client.client_id,
        scopes,
        client.audience.as_deref(),
    )?;
    tracing::info!(client_id = %client.client_id, %scopes, "issued a service access token");
    Ok(no_store_json(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: state.tokens.service_ttl_secs,
        refresh_token: None,
        scope: scopes.to_string(),
    }))
}

/// RFC 6749 §6: rotates a first-party refresh token. Its client is public, so it sends no
/// credentials (at most `client_id=taskgate`); refresh tokens are never issued to a
/// confidential client, so one that authenticates here gets `invalid_grant`.
async fn refresh(
    state: &AppState,
    client: PresentedClient,
    refresh_token: Option<SecretString>,
    scope: Option<String>,
) -> Result<HttpResponse, OAuthError> {
    match client {
        PresentedClient::Anonymous => {}
        PresentedClient::Public(id) if id == FIRST_PARTY_CLIENT_ID => {}
        PresentedClient::Public(_) => return Err(OAuthError::InvalidClient),
        credentials @ PresentedClient::Credentials(_) => {
            client_auth::authenticate(&state.db, credentials).await?;
            return Err(OAuthError::InvalidGrant(
                "refresh tokens are not issued to this client",
            ));
        }
    }
    let presented = refresh_token.ok_or(OAuthError::InvalidRequest("refresh_token is required"))?;
    // A narrower scope is not supported; if present it must not ask for more.
    if let Some(scope) = &scope
        && !scope
            .split_ascii_whitespace()
            .all(|s| scopes::USER.contains(&s))
    {
        return Err(OAuthError::InvalidScope("the scope exceeds the grant"));
    }
    let issued = match sessions::refresh::rotate(
        &state.db,
        &state.revocations,
        &presented,
        &state.reuse_policy(),
    )
    .await
    {
        Ok(issued) => issued,
        Err(RotateError::Refused(_)) => {
            return Err(OAuthError::InvalidGrant(
                "the refresh token is invalid, expired or already used",
            ));
        }
        Err(RotateError::Unexpected(cause)) => return Err(cause.into()),
    };
    let access_token = state.tokens.mint(
        &state.keys.current().signer,
        issued.session.user_id,
        issued.session.id,
    )?;
    Ok(no_store_json(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: state.tokens.ttl_secs,
        refresh_token: Some(issued.token.expose_secret().to_owned()),
        scope: scopes::USER.join(" "),
    }))
}
