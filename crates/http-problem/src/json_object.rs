//! JSON request bodies that must be objects.
//!
//! serde's derived `Deserialize` for a struct also reads a JSON array, field by field in
//! declaration order, so with actix-web's `web::Json<T>` the body `["Buy milk"]` would create
//! a task titled "Buy milk". Every body of our APIs is an object: [`Json`] and
//! [`parse_object`] refuse anything else with the same 400 as malformed JSON, in the one
//! parse the body gets anyway.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::{Deserialize, DeserializeOwned, Deserializer, Visitor};

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
        let body = web::Json::<Object<T>>::from_request(req, payload);
        Box::pin(async move { Ok(Json(body.await?.into_inner().0)) })
    }
}

/// `body` as `T` if it is a JSON object; a 400 problem saying why otherwise.
// `Problem` is what every handler answers with; unboxed, `?` converts it into each service's
// error. Its size only matters on this cold path.
#[allow(clippy::result_large_err)]
pub fn parse_object<T: DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    serde_json::from_slice::<Object<T>>(body)
        .map(|object| object.0)
        .map_err(|error| Problem::bad_request(format!("invalid JSON body: {error}")))
}

/// `T`, read only from a JSON object.
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(MapOnly(deserializer)).map(Object)
    }
}

/// Hands every request for a value to the inner deserializer as a request for a map, so a
/// struct can be read from a JSON object and from nothing else (serde_json refuses an array,
/// a string, … where a map is asked for: "invalid type: sequence, expected struct …").
struct MapOnly<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for MapOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Task {
        title: String,
        #[serde(default)]
        done: Option<bool>,
    }

    fn detail(result: Result<Task, Problem>) -> String {
        result.unwrap_err().detail.unwrap()
    }

    #[test]
    fn only_objects_are_read() {
        assert_eq!(
            parse_object::<Task>(br#" {"title": "a", "done": null} "#).unwrap(),
            Task {
                title: "a".into(),
                done: None
            }
        );
        for not_an_object in [&br#"["a"]"#[..], b" [\"a\", true]", b"\"a\"", b"7", b"null"] {
            let detail = detail(parse_object(not_an_object));
            assert!(
                detail.starts_with("invalid JSON body: invalid type:")
                    && detail.contains("expected struct Task"),
                "{detail}"
            );
        }
        // Unknown fields are still refused, and nested values read as usual.
        assert!(detail(parse_object(br#"{"title": "a", "id": 1}"#)).contains("unknown field `id`"));
        assert!(detail(parse_object(br#"{"title": 1}"#)).contains("invalid type: integer"));
        assert!(detail(parse_object(b"")).contains("EOF"));
    }
}
