//! JSON request bodies that must be objects.
//!
//! serde's derived `Deserialize` for a struct also reads a JSON array, field by field in
//! declaration order, so with actix-web's `web::Json<T>` the body `["Buy milk"]` would create
//! a task titled "Buy milk". Every body of our APIs is an object: [`Json`] and
//! [`parse_object`] refuse anything else with the same 400 as malformed JSON.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::Problem;

/// A request body that is a JSON object read into `T`. Like `web::Json<T>` in everything else:
/// the app's `JsonConfig` (size limit, content type, problem+json errors) applies. It is named
/// `Json` so that utoipa documents the request body from it as it does from `web::Json`.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let raw = web::Json::<Box<RawValue>>::from_request(req, payload);
        Box::pin(async move {
            let raw = raw.await?.into_inner();
            Ok(Json(parse_object(raw.get().as_bytes())?))
        })
    }
}

/// `body` as `T` if it is a JSON object; a 400 problem saying why otherwise.
// `Problem` is what every handler answers with; unboxed, `?` converts it into each service's
// error. Its size only matters on this cold path.
#[allow(clippy::result_large_err)]
pub fn parse_object<T: DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    let first = body.iter().find(|byte| !byte.is_ascii_whitespace());
    if first.is_some_and(|&byte| byte != b'{') {
        return Err(Problem::bad_request(
            "invalid JSON body: it must be a JSON object",
        ));
    }
    serde_json::from_slice(body)
        .map_err(|error| Problem::bad_request(format!("invalid JSON body: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Task {
        title: String,
    }

    fn detail(result: Result<Task, Problem>) -> String {
        result.unwrap_err().detail.unwrap()
    }

    #[test]
    fn only_objects_are_read() {
        assert_eq!(
            parse_object::<Task>(br#" {"title": "a"} "#).unwrap(),
            Task { title: "a".into() }
        );
        for not_an_object in [&br#"["a"]"#[..], b" [\"a\"]", b"\"a\"", b"7", b"null"] {
            assert_eq!(
                detail(parse_object(not_an_object)),
                "invalid JSON body: it must be a JSON object"
            );
        }
        assert!(
            detail(parse_object(br#"{"title": 1}"#)).starts_with("invalid JSON body: invalid type")
        );
        assert!(detail(parse_object(b"")).contains("EOF"));
    }
}
