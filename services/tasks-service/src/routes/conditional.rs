//! Conditional requests (RFC 9110 §13): a task's ETag is its version, `If-Match` guards
//! writes against lost updates (412), and `If-None-Match` lets a reader revalidate (304).

use actix_web::HttpRequest;
use actix_web::http::header::{EntityTag, Header, IfMatch, IfNoneMatch};

use crate::routes::ApiError;
use crate::task_store::Precondition;

/// The strong ETag of a task version: `"<version>"`.
pub fn etag(version: i32) -> EntityTag {
    EntityTag::new_strong(version.to_string())
}

/// The write precondition the request's `If-Match` sets. With `required`, a write without one
/// is refused (428) so that no client can overwrite a change it has not seen.
pub fn write_precondition(request: &HttpRequest, required: bool) -> Result<Precondition, ApiError> {
    if !request.headers().contains_key(IfMatch::name()) {
        return if required {
            Err(ApiError::PreconditionRequired)
        } else {
            Ok(Precondition::None)
        };
    }
    match IfMatch::parse(request).map_err(|_| ApiError::BadHeader("If-Match"))? {
        IfMatch::Any => Ok(Precondition::Exists),
        // If-Match uses the strong comparison: a weak tag never matches, nor does a tag that
        // is not one of our version numbers.
        IfMatch::Items(tags) => Ok(Precondition::Versions(
            tags.iter()
                .filter(|tag| !tag.weak)
                .filter_map(|tag| tag.tag().parse::<i32>().ok())
                .collect(),
        )),
    }
}

/// Whether the client's `If-None-Match` already names this version (weak comparison), so the
/// answer is 304 with no body.
pub fn is_not_modified(request: &HttpRequest, version: i32) -> Result<bool, ApiError> {
    if !request.headers().contains_key(IfNoneMatch::name()) {
        return Ok(false);
    }
    let current = etag(version);
    match IfNoneMatch::parse(request).map_err(|_| ApiError::BadHeader("If-None-Match"))? {
        IfNoneMatch::Any => Ok(true),
        IfNoneMatch::Items(tags) => Ok(tags.iter().any(|tag| tag.weak_eq(&current))),
    }
}
