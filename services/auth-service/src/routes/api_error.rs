//! The client-facing errors of the auth API, their one rendering as problem+json, and the
//! mapping of the data modules' own errors to them: only this layer speaks HTTP.

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, SET_COOKIE, WWW_AUTHENTICATE};
use http_problem::{InvalidField, Problem};

use crate::accounts::CreateUserError;
use crate::accounts::password_check::PasswordCheckError;
use crate::accounts::password_hasher::HashError;
use crate::sessions::refresh::RotateError;

/// What a 503 for an unreachable database tells the client to wait.
const DATABASE_RETRY_AFTER_SECS: u32 = 2;
/// How long a long-poll turned away at the cap waits (the `FeedBusy` message says it too):
/// long enough for held polls to end, short enough that a follower does not fall far behind.
const FEED_BUSY_RETRY_AFTER_SECS: u64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A value that parsed but is not acceptable (422 naming the field).
    #[error(transparent)]
    Invalid(#[from] InvalidField),
    /// Already rendered (a body that is not a JSON object, …).
    #[error("{0}")]
    Rendered(Box<Problem>),
    #[error("an account with this email already exists")]
    EmailTaken,
    /// Unknown email and wrong password are deliberately the same error.
    #[error("email or password is incorrect")]
    InvalidCredentials,
    #[error("the refresh token is invalid, expired or already used")]
    InvalidRefreshToken,
    /// [`Self::InvalidRefreshToken`] for a cookie that can never work again: the answer also
    /// removes it, so the browser stops sending it.
    #[error("the refresh cookie is invalid, expired or already used")]
    DeadRefreshCookie,
    #[error("the account no longer exists")]
    AccountGone,
    #[error("this session has been signed out")]
    SessionRevoked,
    #[error("no such session")]
    SessionNotFound,
    /// A cookie-mode request that is not JSON from an allowed origin (`cookie_mode`).
    #[error("{0}")]
    CookieModeRefused(&'static str),
    #[error("too many failed sign-ins; retry in {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    /// `AUTH__REVOCATION_FEED__MAX_LONG_POLLS` are held already.
    #[error(
        "this replica holds as many revocation-feed long-polls as it may; retry in {} s",
        FEED_BUSY_RETRY_AFTER_SECS
    )]
    FeedBusy,
    #[error("too many sign-ups from this address; retry in {retry_after_secs} s")]
    SignUpThrottled { retry_after_secs: u64 },
    /// The password hasher's queue is full: nothing was hashed.
    #[error("the service is too busy to check passwords right now; retry in {retry_after_secs} s")]
    Busy { retry_after_secs: u64 },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl ApiError {
    fn problem(&self) -> Problem {
        let detail = self.to_string();
        match self {
            Self::Invalid(invalid) => invalid.into(),
            Self::Rendered(problem) => (**problem).clone(),
            Self::EmailTaken => Problem::new(
                StatusCode::CONFLICT,
                "email-taken",
                "Email already registered",
            )
            .with_detail(detail),
            Self::InvalidCredentials => {
                unauthorized("invalid-credentials", "Sign-in failed", detail)
            }
            Self::InvalidRefreshToken => {
                unauthorized("invalid-refresh-token", "Refresh failed", detail)
            }
            Self::DeadRefreshCookie => {
                let problem = unauthorized("invalid-refresh-token", "Refresh failed", detail);
                match HeaderValue::from_str(&super::refresh_cookie::removal().to_string()) {
                    Ok(removal) => problem.with_header(SET_COOKIE, removal),
                    Err(_) => problem,
                }
            }
            Self::AccountGone => unauthorized("account-gone", "Account not found", detail),
            Self::SessionRevoked => unauthorized("session-revoked", "Session ended", detail),
            Self::SessionNotFound => Problem::not_found(detail),
            Self::CookieModeRefused(_) => Problem::new(
                StatusCode::FORBIDDEN,
                "cookie-mode-refused",
                "Cookie request refused",
            )
            .with_detail(detail),
            Self::Throttled { retry_after_secs } | Self::SignUpThrottled { retry_after_secs } => {
                Problem::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "throttled",
                    "Too many attempts",
                )
                .with_detail(detail)
                .with_retry_after(*retry_after_secs)
            }
            Self::Busy { retry_after_secs } => {
                Problem::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "Too busy")
                    .with_detail(detail)
                    .with_retry_after(*retry_after_secs)
            }
            Self::Unexpected(cause) if service_database::is_unavailable(cause) => {
                Problem::unavailable(
                    "the database cannot be reached right now; try again shortly",
                    DATABASE_RETRY_AFTER_SECS,
                )
            }
            Self::FeedBusy => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "feed-busy",
                "Too many long-polls",
            )
            .with_detail(detail)
            .with_retry_after(FEED_BUSY_RETRY_AFTER_SECS),
            Self::Unexpected(_) => Problem::internal(),
        }
    }
}

fn unauthorized(kind: &str, title: &str, detail: String) -> Problem {
    // RFC 9110 §15.5.2: a 401 names the scheme the client should use.
    Problem::new(StatusCode::UNAUTHORIZED, kind, title)
        .with_detail(detail)
        .with_header(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer realm="taskgate""#),
        )
}

http_problem::impl_response_error!(ApiError);

impl From<Problem> for ApiError {
    fn from(problem: Problem) -> Self {
        Self::Rendered(Box::new(problem))
    }
}

impl From<CreateUserError> for ApiError {
    fn from(err: CreateUserError) -> Self {
        match err {
            CreateUserError::EmailTaken => Self::EmailTaken,
            CreateUserError::Unexpected(cause) => Self::Unexpected(cause),
        }
    }
}

impl From<RotateError> for ApiError {
    fn from(err: RotateError) -> Self {
        match err {
            RotateError::Refused(_) => Self::InvalidRefreshToken,
            RotateError::Unexpected(cause) => Self::Unexpected(cause),
        }
    }
}

impl From<PasswordCheckError> for ApiError {
    fn from(err: PasswordCheckError) -> Self {
        match err {
            PasswordCheckError::Throttled { retry_after } => Self::Throttled {
                retry_after_secs: retry_after.as_secs(),
            },
            PasswordCheckError::Busy { retry_after } => Self::Busy {
                retry_after_secs: retry_after.as_secs(),
            },
            PasswordCheckError::Unexpected(cause) => Self::Unexpected(cause),
        }
    }
}

impl From<HashError> for ApiError {
    fn from(err: HashError) -> Self {
        match err {
            HashError::Busy { retry_after } => Self::Busy {
                retry_after_secs: retry_after.as_secs(),
            },
            HashError::Unexpected(cause) => Self::Unexpected(cause),
        }
    }
}
