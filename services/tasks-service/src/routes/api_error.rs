//! The client-facing errors of the task API and their one rendering as problem+json.

use actix_web::http::StatusCode;
use http_problem::{InvalidField, Problem};

/// What a 503 for an unreachable database tells the client to wait.
const DATABASE_RETRY_AFTER_SECS: u32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A value that parsed but is not acceptable (422 naming the field).
    #[error(transparent)]
    Invalid(#[from] InvalidField),
    /// A query parameter that cannot be used; 400 naming it.
    #[error("{message}")]
    InvalidParameter { name: &'static str, message: String },
    #[error("the {0} header is not valid")]
    BadHeader(&'static str),
    #[error("the task has changed since the version named in If-Match")]
    PreconditionFailed,
    #[error("this server requires If-Match with the task's ETag on every change")]
    PreconditionRequired,
    /// Missing, or owned by someone else: the two are indistinguishable on purpose.
    #[error("no such task")]
    TaskNotFound,
    /// Already rendered (auth-core's 403 `insufficient_scope`, a body that is not a JSON
    /// object, …).
    #[error("{0}")]
    Rendered(Box<Problem>),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl ApiError {
    fn problem(&self) -> Problem {
        let detail = self.to_string();
        match self {
            Self::Invalid(invalid) => invalid.into(),
            Self::InvalidParameter { name, message } => {
                Problem::bad_request(detail.clone()).with_field_error(*name, message.clone())
            }
            Self::BadHeader(_) => Problem::bad_request(detail),
            Self::PreconditionFailed => Problem::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                "Precondition failed",
            )
            .with_detail(detail),
            Self::PreconditionRequired => Problem::new(
                StatusCode::PRECONDITION_REQUIRED,
                "precondition-required",
                "Precondition required",
            )
            .with_detail(detail),
            Self::TaskNotFound => Problem::not_found(detail),
            Self::Rendered(problem) => (**problem).clone(),
            Self::Unexpected(cause) if service_database::is_unavailable(cause) => {
                Problem::unavailable(
                    "the database cannot be reached right now; try again shortly",
                    DATABASE_RETRY_AFTER_SECS,
                )
            }
            Self::Unexpected(_) => Problem::internal(),
        }
    }
}

impl From<Problem> for ApiError {
    fn from(problem: Problem) -> Self {
        Self::Rendered(Box::new(problem))
    }
}

http_problem::impl_response_error!(ApiError);
