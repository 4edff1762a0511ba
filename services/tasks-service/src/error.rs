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
    #[error("{0}")]
    BadRequest(String),
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
            Self::Validation { field, message } => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation-error",
                "The request is not valid",
            )
            .with_detail(detail.clone())
            .with_field_error(*field, message.clone()),
            Self::BadRequest(_) => Problem::bad_request(detail),
            Self::TaskNotFound => {
                Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found").with_detail(detail)
            }
            Self::Auth(problem) => (**problem).clone(),
            Self::Unexpected(_) => Problem::internal(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.problem().status_code()
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Unexpected(cause) = self {
            tracing::error!(error = ?cause, "request failed");
        }
        self.problem().to_response()
    }
}
