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

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;
    use actix_web::test::TestRequest;
    use proptest::prelude::*;

    use super::*;

    /// A request carrying `value` as `name` (anything a client can send: any bytes a header
    /// value may hold).
    fn request_with(name: &str, value: &[u8]) -> Option<HttpRequest> {
        let value = HeaderValue::from_bytes(value).ok()?;
        Some(
            TestRequest::default()
                .insert_header((name, value))
                .to_http_request(),
        )
    }

    #[test]
    fn versions_are_read_from_strong_tags_only() {
        let request = request_with("If-Match", br#""3", W/"4", "x", "5""#).unwrap();
        assert_eq!(
            write_precondition(&request, true).unwrap(),
            Precondition::Versions(vec![3, 5])
        );
        // Malformed tags name no version: refused (400), or matching nothing (412).
        for malformed in [&b"3"[..], b"\"3", b"W/", b"\"3\" \"4\""] {
            let request = request_with("If-Match", malformed).unwrap();
            match write_precondition(&request, false) {
                Err(ApiError::BadHeader("If-Match")) => {}
                Ok(Precondition::Versions(versions)) => assert!(versions.is_empty()),
                other => panic!("{malformed:?}: {other:?}"),
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any `If-Match` is a precondition or a 400 naming the header: never a panic.
        #[test]
        fn any_if_match_is_read_or_refused(value in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Some(request) = request_with("If-Match", &value) {
                match write_precondition(&request, true) {
                    Ok(_) | Err(ApiError::BadHeader("If-Match")) => {}
                    Err(other) => prop_assert!(false, "unexpected {other:?}"),
                }
            }
        }

        #[test]
        fn any_if_none_match_is_read_or_refused(value in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Some(request) = request_with("If-None-Match", &value) {
                match is_not_modified(&request, 7) {
                    Ok(_) | Err(ApiError::BadHeader("If-None-Match")) => {}
                    Err(other) => prop_assert!(false, "unexpected {other:?}"),
                }
            }
        }
    }
}
