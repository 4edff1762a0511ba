//! What a token given to `/oauth/revoke` or `/oauth/introspect` is: one of our refresh tokens,
//! one of our access tokens (verified with the service's own `Verifier`), or nothing we know.

use actix_web::{HttpRequest, web};
use auth_core::{AccessClaims, TokenError, Verifier};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{OAuthError, client_auth};

use crate::oauth::clients;
use crate::routes::AppState;
use crate::sessions::refresh::{self, RefreshTokenStatus};

/// The form of both endpoints (RFC 7009 §2.1, RFC 7662 §2.1), with client authentication.
#[derive(Deserialize, ToSchema)]
pub struct TokenForm {
    /// The token to revoke or introspect (required: its absence is `invalid_request`).
    #[schema(value_type = Option<String>)]
    token: Option<SecretString>,
    /// `access_token` or `refresh_token`: which kind is tried first; both always are.
    token_type_hint: Option<String>,
    /// `client_secret_post` only.
    client_id: Option<String>,
    /// `client_secret_post` only; never together with HTTP Basic.
    #[schema(value_type = Option<String>)]
    client_secret: Option<SecretString>,
}

/// Authenticates the client, checks it holds `scope` (either endpoint can name any user's
/// token, so only clients trusted with that may call: `unauthorized_client` otherwise), and
/// identifies the token it names.
pub async fn authorize_and_identify(
    state: &AppState,
    verifier: &Verifier,
    req: &HttpRequest,
    form: Result<web::Form<TokenForm>, actix_web::Error>,
    scope: &'static str,
) -> Result<PresentedToken, OAuthError> {
    let form = form.map_err(|_| OAuthError::malformed_body())?.into_inner();
    let client = client_auth::presented(req.headers(), form.client_id, form.client_secret)?;
    let client = client_auth::authenticate(&state.db, client).await?;
    if !client.scopes.contains(scope) {
        return Err(OAuthError::UnauthorizedClient(scope));
    }
    let token = form
        .token
        .ok_or(OAuthError::InvalidRequest("token is required"))?;
    Ok(identify(state, verifier, &token, form.token_type_hint.as_deref()).await?)
}

pub enum PresentedToken {
    Refresh(RefreshTokenStatus),
    /// Signed by us, for the default audience or a client's, unexpired within the verifier's
    /// leeway (its session may since have ended).
    Access(Box<AccessClaims>),
    Unknown,
}

/// RFC 7009 §2.1 / RFC 7662 §2.1: the hint only decides which kind is tried first; an
/// unknown hint is ignored and both kinds are always tried.
pub async fn identify(
    state: &AppState,
    verifier: &Verifier,
    token: &SecretString,
    hint: Option<&str>,
) -> anyhow::Result<PresentedToken> {
    if hint == Some("access_token") {
        if let Some(claims) = as_access_token(state, verifier, token).await? {
            return Ok(PresentedToken::Access(claims));
        }
        return as_refresh_token(state, token).await;
    }
    match as_refresh_token(state, token).await? {
        PresentedToken::Unknown => Ok(as_access_token(state, verifier, token)
            .await?
            .map_or(PresentedToken::Unknown, PresentedToken::Access)),
        found => Ok(found),
    }
}

async fn as_refresh_token(
    state: &AppState,
    token: &SecretString,
) -> anyhow::Result<PresentedToken> {
    Ok(refresh::inspect(&state.db, token)
        .await?
        .map_or(PresentedToken::Unknown, PresentedToken::Refresh))
}

async fn as_access_token(
    state: &AppState,
    verifier: &Verifier,
    token: &SecretString,
) -> anyhow::Result<Option<Box<AccessClaims>>> {
    // Refresh tokens have no dots: skip the verifier for them.
    let raw = token.expose_secret();
    if !raw.contains('.') {
        return Ok(None);
    }
    match verifier.verify(raw).await {
        Ok(claims) => Ok(Some(Box::new(claims))),
        Err(TokenError::WrongAudience) => for_client_audience(state, verifier, raw).await,
        Err(_) => Ok(None),
    }
}

/// The service's verifier expects the default audience, but a client with an audience of its
/// own gets tokens naming it (`clients create --audience`): ours all the same. Each audience
/// some client has is tried with the same rules and keys (a handful at most, and only for a
/// token signed by us whose audience is not the default).
async fn for_client_audience(
    state: &AppState,
    verifier: &Verifier,
    raw: &str,
) -> anyhow::Result<Option<Box<AccessClaims>>> {
    let jwks = state.keys.current().jwks.clone();
    for audience in clients::audiences(&state.db).await? {
        let mut config = verifier.config().clone();
        config.audience = audience;
        config.verified_token_cache_size = 0;
        if let Ok(claims) = Verifier::from_jwks(config, jwks.clone()).verify(raw).await {
            return Ok(Some(Box::new(claims)));
        }
    }
    Ok(None)
}
