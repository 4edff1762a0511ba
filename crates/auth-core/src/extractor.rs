//! actix-web extractors: `AuthUser` (a valid user access token is required),
//! `MaybeAuthUser` (no token is fine, an invalid one is not) and `ServiceClient` (a service's
//! client_credentials token is required). A user token never passes as a service and a
//! service token never passes as a user: either way the answer is 403 `insufficient_scope`. Failures are RFC 9457 problems
//! carrying the RFC 6750 §3 `WWW-Authenticate` challenge.

use std::future::{Future, ready};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use actix_web::{FromRequest, HttpRequest, web};
use http_problem::Problem;
use uuid::Uuid;

use crate::claims::AccessClaims;
use crate::config::UserIdSource;
use crate::error::TokenError;
use crate::verified_token::VerifiedToken;
use crate::verifier::Verifier;

const REALM: &str = "taskgate";

/// The signed-in user behind a verified access token.
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// Our user's UUID (`sub`) for the primary issuer; for a foreign issuer the id
    /// [`crate::derived_user_id`] gives its `iss` and `sub`, so its users never meet ours.
    pub user_id: Uuid,
    /// The session (`sid`) for our own issuer's tokens; `None` for a foreign issuer's.
    pub session_id: Option<Uuid>,
    /// The token's scopes, or the issuer's default scopes when the token has no `scope`.
    pub scopes: Vec<String>,
    pub claims: AccessClaims,
}

impl AuthUser {
    /// A user behind a verified token, under its issuer's rules: our own issuer's user tokens
    /// have a UUID `sub` and a UUID `sid` (service tokens, without `sid`, are refused).
    pub fn from_verified(token: VerifiedToken) -> Result<AuthUser, TokenError> {
        Ok(AuthUser {
            user_id: token.user_id()?,
            session_id: token.session_id()?,
            scopes: token.scopes,
            claims: token.claims,
        })
    }

    /// [`AuthUser::from_verified`] for claims of our own issuer (UUID `sub` and `sid`).
    pub fn from_claims(claims: AccessClaims) -> Result<AuthUser, TokenError> {
        let scopes = claims.scopes().map(str::to_owned).collect();
        AuthUser::from_verified(VerifiedToken {
            claims,
            scopes,
            user_ids: UserIdSource::Subject,
        })
    }

    /// For handlers: `user.require_scope(auth_core::scopes::TASKS_WRITE)?` answers 403
    /// `insufficient_scope` (RFC 6750 §3.1) when the token lacks the scope.
    // `Problem` is the workspace's error response; returning it unboxed lets handlers that
    // answer `Result<_, Problem>` use `?`. The size only matters on this cold path.
    #[allow(clippy::result_large_err)]
    pub fn require_scope(&self, scope: &str) -> Result<(), Problem> {
        require_scope(&self.scopes, scope)
    }
}

/// A service (an OAuth client of our own issuer) behind a `client_credentials` access token:
/// `sub` = `client_id`, no `sid`.
#[derive(Debug, Clone)]
pub struct ServiceClient {
    pub client_id: String,
    pub scopes: Vec<String>,
    pub claims: AccessClaims,
}

impl ServiceClient {
    /// The client behind a verified token, if it is a service token of our own issuer.
    pub fn from_verified(token: VerifiedToken) -> Option<ServiceClient> {
        is_service_token(&token).then(|| ServiceClient {
            client_id: token.claims.sub.clone(),
            scopes: token.scopes,
            claims: token.claims,
        })
    }

    /// As [`AuthUser::require_scope`].
    #[allow(clippy::result_large_err)]
    pub fn require_scope(&self, scope: &str) -> Result<(), Problem> {
        require_scope(&self.scopes, scope)
    }
}

/// Our issuer's service tokens: no session, and the subject is the client itself. Foreign
/// issuers' tokens are never service tokens here (their clients are not ours).
fn is_service_token(token: &VerifiedToken) -> bool {
    token.user_ids == UserIdSource::Subject
        && token.claims.sid.is_none()
        && token.claims.client_id.as_deref() == Some(token.claims.sub.as_str())
}

/// `Ok` if `granted` holds `scope`, else 403 `insufficient_scope` naming it: the one scope
/// check behind `AuthUser::require_scope` and `ServiceClient::require_scope`.
#[allow(clippy::result_large_err)]
fn require_scope(granted: &[String], scope: &str) -> Result<(), Problem> {
    if granted.iter().any(|s| s == scope) {
        return Ok(());
    }
    Err(insufficient_scope(
        scope,
        format!("This request needs the `{}` scope.", quotable(scope)),
    ))
}

/// 403 with the RFC 6750 §3.1 `insufficient_scope` challenge naming `scope`.
fn insufficient_scope(scope: &str, detail: String) -> Problem {
    let challenge = format!(
        r#"Bearer realm="{REALM}", error="insufficient_scope", scope="{}""#,
        quotable(scope)
    );
    Problem::new(
        StatusCode::FORBIDDEN,
        "insufficient-scope",
        "Insufficient scope",
    )
    .with_detail(detail)
    .with_header(WWW_AUTHENTICATE, header_value(challenge))
}

/// `None` only when the request has no `Authorization` header; a present but invalid token is
/// still a 401, so a client with a broken token learns about it instead of silently being
/// treated as anonymous.
#[derive(Debug, Clone)]
pub struct MaybeAuthUser(pub Option<AuthUser>);

type ExtractFuture<T> = Pin<Box<dyn Future<Output = Result<T, Problem>>>>;

/// The request's bearer token, verified: the part every extractor shares.
fn verified_token(req: &HttpRequest, extractor: &'static str) -> ExtractFuture<VerifiedToken> {
    let Some(verifier) = req.app_data::<web::Data<Verifier>>().cloned() else {
        tracing::error!(
            extractor,
            "auth-core extractor used but no web::Data<auth_core::Verifier> is registered"
        );
        return Box::pin(ready(Err(Problem::internal())));
    };
    let token = match bearer_token(req) {
        Credentials::Missing => return Box::pin(ready(Err(missing_token()))),
        Credentials::Invalid(err) => return Box::pin(ready(Err(rejected(&err)))),
        Credentials::Bearer(token) => token,
    };
    Box::pin(async move {
        verifier
            .verify_token(&token)
            .await
            .map_err(|err| rejected(&err))
    })
}

impl FromRequest for AuthUser {
    type Error = Problem;
    type Future = ExtractFuture<AuthUser>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verified = verified_token(req, "AuthUser");
        Box::pin(async move {
            let verified = verified.await?;
            if is_service_token(&verified) {
                return Err(insufficient_scope(
                    "user",
                    "A service token cannot act as a user; this route needs a user's token."
                        .to_owned(),
                ));
            }
            AuthUser::from_verified(verified).map_err(|err| rejected(&err))
        })
    }
}

impl FromRequest for ServiceClient {
    type Error = Problem;
    type Future = ExtractFuture<ServiceClient>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verified = verified_token(req, "ServiceClient");
        Box::pin(async move {
            ServiceClient::from_verified(verified.await?).ok_or_else(|| {
                insufficient_scope(
                    "service",
                    "This route is for services; a user's token cannot call it.".to_owned(),
                )
            })
        })
    }
}

impl FromRequest for MaybeAuthUser {
    type Error = Problem;
    type Future = ExtractFuture<MaybeAuthUser>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if !req.headers().contains_key(AUTHORIZATION) {
            return Box::pin(ready(Ok(MaybeAuthUser(None))));
        }
        let user = AuthUser::from_request(req, payload);
        Box::pin(async move { user.await.map(|user| MaybeAuthUser(Some(user))) })
    }
}

enum Credentials {
    Missing,
    Invalid(TokenError),
    Bearer(String),
}

/// `Authorization: Bearer <token>` (RFC 6750 §2.1; the scheme is case-insensitive per
/// RFC 9110 §11.1). More than one Authorization header is ambiguous and refused.
fn bearer_token(req: &HttpRequest) -> Credentials {
    let mut values = req.headers().get_all(AUTHORIZATION);
    let Some(value) = values.next() else {
        return Credentials::Missing;
    };
    if values.next().is_some() {
        return Credentials::Invalid(TokenError::Malformed);
    }
    let Ok(value) = value.to_str() else {
        return Credentials::Invalid(TokenError::Malformed);
    };
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Credentials::Invalid(TokenError::NotBearer);
    }
    let token = rest.trim_matches(' ');
    if token.is_empty() || token.contains(' ') {
        return Credentials::Invalid(TokenError::Malformed);
    }
    Credentials::Bearer(token.to_owned())
}

fn missing_token() -> Problem {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "missing-token",
        "Authentication required",
    )
    .with_detail("Send an access token in the header `Authorization: Bearer <token>`.")
    .with_header(
        WWW_AUTHENTICATE,
        header_value(format!(r#"Bearer realm="{REALM}""#)),
    )
}

fn rejected(err: &TokenError) -> Problem {
    if err.is_unavailable() {
        // Not the client's fault: a 401 would make it drop a perfectly good session.
        return Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "keys-unavailable",
            "Token verification unavailable",
        )
        .with_detail(err.to_string())
        .with_header(RETRY_AFTER, HeaderValue::from_static("5"));
    }
    let description = quotable(&err.to_string());
    let challenge = format!(
        r#"Bearer realm="{REALM}", error="invalid_token", error_description="{description}""#
    );
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "invalid-token",
        "Invalid access token",
    )
    .with_detail(err.to_string())
    .with_header(WWW_AUTHENTICATE, header_value(challenge))
}

/// RFC 6750 §3 restricts `error_description` and `scope` to printable ASCII without `"` and
/// `\`; our messages already are, this keeps a future message from breaking the header.
fn quotable(text: &str) -> String {
    text.chars()
        .filter(|c| matches!(c, ' '..='~') && *c != '"' && *c != '\\')
        .collect()
}

fn header_value(text: String) -> HeaderValue {
    HeaderValue::from_str(&text)
        .unwrap_or_else(|_| HeaderValue::from_static(r#"Bearer realm="taskgate""#))
}
