use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use serde::Serialize;

use crate::request_id::current_request_id;

/// One RFC 9457 problem document. `type` is a stable URI-ish slug that clients can match on;
/// `title` is the short human summary of that type; `detail` explains this occurrence.
// The schema is derived from this very struct (feature `openapi`), so the documented shape is
// the serialised one.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(description = "An RFC 9457 problem document (`application/problem+json`).")
)]
pub struct Problem {
    /// `urn:taskgate:problem:<slug>`: what kind of problem, stable for clients to match on.
    #[serde(rename = "type")]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "urn:taskgate:problem:validation-error")
    )]
    pub kind: String,
    /// Short summary of the problem type.
    pub title: String,
    /// The HTTP status code, repeated.
    #[cfg_attr(feature = "openapi", schema(minimum = 400, maximum = 599))]
    pub status: u16,
    /// What went wrong in this occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// One entry per invalid input field (validation errors only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The request id, also in the `x-request-id` header and every log line of the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip)]
    headers: Vec<(HeaderName, HeaderValue)>,
}

/// A validation failure tied to one input field (RFC 9457 §3.2 extension member).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The JSON member (or parameter) that is invalid.
    pub field: String,
    pub message: String,
}

impl Problem {
    /// `kind` is a short slug such as `validation-error`; it becomes `urn:taskgate:problem:<kind>`.
    pub fn new(status: StatusCode, kind: &str, title: &str) -> Self {
        Self {
            kind: format!("urn:taskgate:problem:{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: None,
            errors: Vec::new(),
            request_id: None,
            headers: Vec::new(),
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_field_error(
        mut self,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
        self
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The generic 500: the cause is logged by the caller, never shown to the client.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal-error",
            "Internal server error",
        )
        .with_detail("The server could not complete the request; it has been logged.")
    }

    /// The problem as a response, stamped with the current request id (if inside a request).
    pub fn to_response(&self) -> HttpResponse {
        let mut body = self.clone();
        body.request_id = current_request_id();
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        ));
        for (name, value) in &self.headers {
            response.insert_header((name.clone(), value.clone()));
        }
        let json = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
        response.body(json)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.title, self.status)
    }
}

impl actix_web::ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        Problem::status_code(self)
    }

    fn error_response(&self) -> HttpResponse {
        self.to_response()
    }
}

/// A value that parsed but is not acceptable, and the field it came from: a 422 problem naming
/// the field. Services' error types wrap it (`#[error(transparent)] Invalid(#[from] …)`), so a
/// handler writes `TaskTitle::parse(raw).map_err(|e| InvalidField::new("title", e))?`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidField {
    pub field: &'static str,
    pub message: String,
}

impl InvalidField {
    pub fn new(field: &'static str, error: impl std::fmt::Display) -> Self {
        Self {
            field,
            message: error.to_string(),
        }
    }
}

impl std::fmt::Display for InvalidField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InvalidField {}

impl From<&InvalidField> for Problem {
    fn from(invalid: &InvalidField) -> Self {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
            "The request is not valid",
        )
        .with_detail(invalid.message.clone())
        .with_field_error(invalid.field, invalid.message.clone())
    }
}

impl Problem {
    /// 400 for input that cannot be read at all (malformed JSON or query string, unknown
    /// fields); values that parse but are invalid are 422 validation errors instead.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, "bad-request", "Malformed request")
            .with_detail(detail)
    }

    /// 503: a dependency (the database) cannot be reached right now; the client may try
    /// again after `retry_after_secs`, which `Retry-After` says.
    pub fn unavailable(detail: impl Into<String>, retry_after_secs: u32) -> Self {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service-unavailable",
            "Service unavailable",
        )
        .with_detail(detail)
        .with_retry_after(retry_after_secs.into())
    }

    /// `Retry-After: <seconds>`: when the client may try again (429, 503).
    pub fn with_retry_after(self, secs: u64) -> Self {
        self.with_header(header::RETRY_AFTER, HeaderValue::from(secs))
    }

    /// 404: the resource does not exist, or is not the caller's (the two look the same).
    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found").with_detail(detail)
    }

    /// 413: the body is longer than the route's `limit` bytes.
    pub fn payload_too_large(limit: usize) -> Self {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Request body too large",
        )
        .with_detail(format!("the body must be at most {limit} bytes"))
    }

    /// 415: a body that is not declared as JSON.
    pub fn unsupported_media_type() -> Self {
        Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
        )
        .with_detail("the body must be JSON (Content-Type: application/json)")
    }
}

/// Implements actix-web's `ResponseError` for a service's client-facing error type `$error`,
/// which has `fn problem(&self) -> Problem` and an `Unexpected(anyhow::Error)` variant: the
/// response is the problem, and an unexpected cause is logged (never shown: its problem is
/// [`Problem::internal`], or a 503 when it is an outage the client can wait out, logged as a
/// warning). Both services render their errors through this one impl.
#[macro_export]
macro_rules! impl_response_error {
    ($error:ty) => {
        impl ::actix_web::ResponseError for $error {
            fn status_code(&self) -> ::actix_web::http::StatusCode {
                self.problem().status_code()
            }

            fn error_response(&self) -> ::actix_web::HttpResponse {
                let problem = self.problem();
                if let Self::Unexpected(cause) = self {
                    if problem.status_code() == ::actix_web::http::StatusCode::SERVICE_UNAVAILABLE {
                        ::tracing::warn!(error = %cause, "request refused: a dependency is unavailable");
                    } else {
                        ::tracing::error!(error = ?cause, "request failed");
                    }
                }
                problem.to_response()
            }
        }
    };
}

/// `JsonConfig::error_handler` for every service: a body that is not the expected JSON is a
/// problem+json 400, never actix's plain-text default.
pub fn json_error_handler(
    err: actix_web::error::JsonPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError;
    match err {
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            Problem::payload_too_large(limit).into()
        }
        JsonPayloadError::ContentType => Problem::unsupported_media_type().into(),
        err => Problem::bad_request(format!("invalid JSON body: {err}")).into(),
    }
}

/// `QueryConfig::error_handler` for every service, as [`json_error_handler`].
pub fn query_error_handler(
    err: actix_web::error::QueryPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    Problem::bad_request(format!("invalid query string: {err}")).into()
}
