//! The client-facing errors of the task API and their one rendering as problem+json.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use http_problem::Problem;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    Validation {
        field: &'static str,
        message: String,
    },
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
    /// Already rendered by auth-core (e.g. 403 `insufficient_scope`).
    #[error("{0}")]
    Auth(Box<Problem>),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl ApiError {
    pub fn validation(field: &'static str, error: impl std::fmt::Display) -> Self {
        Self::Validation {
            field,
            message: error.to_string(),
        }
    }

    fn problem(&self) -> Problem {
        let detail = self.to_string();
        match self {
            Self::Validation { field, message } => Problem::validation(field, message),
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
            Self::Auth(problem) => (**problem).clone(),
            Self::Unexpected(_) => Problem::internal(),
        }
    }
}

/// auth-core's extractors and scope checks answer with a finished problem.
impl From<Problem> for ApiError {
    fn from(problem: Problem) -> Self {
        Self::Auth(Box::new(problem))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.problem().status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let cause = match self {
            Self::Unexpected(cause) => Some(cause as &dyn std::fmt::Debug),
            _ => None,
        };
        self.problem().respond(cause)
    }
}
