//! `POST /oauth/introspect` (RFC 7662), for authenticated confidential clients: whether a
//! token is active now, and what it says. An inactive or unknown token is `{"active": false}`
//! and nothing more (§2.2).

use actix_web::{HttpRequest, HttpResponse, post, web};
use auth_core::scopes::TOKENS_INTROSPECT;
use auth_core::{AccessClaims, Verifier};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::presented_token::{PresentedToken, TokenForm, authorize_and_identify};
use super::{
    OAuthError, OAuthInvalidClient, OAuthInvalidRequest, OAuthServerError, OAuthUnauthorizedClient,
    no_store_json,
};
use crate::oauth::clients;
use crate::routes::AppState;
use crate::routes::api_doc::TAG_OAUTH;
use crate::sessions;
use crate::tokens::access_token::FIRST_PARTY_CLIENT_ID;

/// RFC 7662 §2.2. Every member but `active` is absent for an inactive token.
#[derive(Serialize, ToSchema, Default)]
pub struct IntrospectionResponse {
    active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    /// The user id, or the client id of a service token.
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nbf: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jti: Option<String>,
    /// `Bearer` for access tokens, `refresh_token` for refresh tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    token_type: Option<&'static str>,
    /// The session of a user token.
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
}

/// RFC 7662 token introspection.
///
/// For clients allowed `tokens:introspect`.
#[utoipa::path(
    tag = TAG_OAUTH,
    operation_id = "oauth_introspect",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    security(("client_basic" = []), ()),
    responses(
        (status = 200, description = "Whether the token is active, and its claims if so",
            body = IntrospectionResponse,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, response = OAuthInvalidRequest),
        (status = 401, response = OAuthInvalidClient),
        (status = 403, response = OAuthUnauthorizedClient),
        (status = 500, response = OAuthServerError),
    ),
)]
#[post("/oauth/introspect")]
#[tracing::instrument(skip_all, fields(client_id))]
pub async fn introspect(
    state: web::Data<AppState>,
    verifier: web::Data<Verifier>,
    req: HttpRequest,
    form: Result<web::Form<TokenForm>, actix_web::Error>,
) -> Result<HttpResponse, OAuthError> {
    let presented =
        authorize_and_identify(&state, &verifier, &req, form, TOKENS_INTROSPECT).await?;
    let answer = match presented {
        // Active until `exp` exactly: the verifier's clock-skew leeway is for validators
        // comparing with their own clocks, not for the issuer reporting on its own token.
        PresentedToken::Access(claims)
            if claims.exp > state.clock.now().timestamp()
                && access_token_is_live(&state, &claims).await? =>
        {
            access_token_answer(&claims)
        }
        PresentedToken::Refresh(status) if status.active => IntrospectionResponse {
            active: true,
            client_id: Some(FIRST_PARTY_CLIENT_ID.to_owned()),
            sub: Some(status.session.user_id.to_string()),
            exp: Some(status.expires_at.timestamp()),
            sid: Some(status.session.id.to_string()),
            token_type: Some("refresh_token"),
            ..IntrospectionResponse::default()
        },
        _ => IntrospectionResponse::default(),
    };
    Ok(no_store_json(answer))
}

/// A verified user token is live while its session is; a service token while its client is
/// not revoked.
async fn access_token_is_live(state: &AppState, claims: &AccessClaims) -> anyhow::Result<bool> {
    match claims.sid.as_deref() {
        Some(sid) => {
            let (Ok(user_id), Ok(session_id)) =
                (Uuid::parse_str(&claims.sub), Uuid::parse_str(sid))
            else {
                return Ok(false);
            };
            Ok(sessions::find_live(&state.db, user_id, session_id)
                .await?
                .is_some())
        }
        None => clients::is_active(&state.db, &claims.sub).await,
    }
}

fn access_token_answer(claims: &AccessClaims) -> IntrospectionResponse {
    IntrospectionResponse {
        active: true,
        scope: Some(claims.scope.clone()),
        client_id: Some(
            claims
                .client_id
                .clone()
                .unwrap_or_else(|| claims.sub.clone()),
        ),
        sub: Some(claims.sub.clone()),
        exp: Some(claims.exp),
        iat: Some(claims.iat),
        nbf: Some(claims.nbf),
        iss: Some(claims.iss.clone()),
        aud: Some(claims.aud.clone()),
        jti: Some(claims.jti.clone()),
        token_type: Some("Bearer"),
        sid: claims.sid.clone(),
    }
}
