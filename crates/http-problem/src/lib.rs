//! RFC 9457 `application/problem+json` responses, shared by both services and auth-core's
//! extractor so every error a client sees has one shape, and the request id that ties a
//! response (header and body) to the log lines of the request that produced it.
//!
//! This is a crate of its own because both services and auth-core render errors. It also holds
//! the edge of every JSON body ([`Json`]: objects only, or the same problem+json 400) and,
//! behind the `openapi` feature, the OpenAPI description of those errors (and of the bearer
//! scheme whose failures they report) that both services' specs share.

mod json_object;
#[cfg(feature = "openapi")]
pub mod openapi;
#[cfg(feature = "test-support")]
pub mod openapi_conformance;
mod problem;
mod request_id;
#[cfg(feature = "test-support")]
pub mod testing;

pub use json_object::{Json, parse_object};
pub use problem::{FieldError, InvalidField, Problem, json_error_handler, query_error_handler};
pub use request_id::{RequestIdHeader, current_request_id};
