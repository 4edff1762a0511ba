//! The OpenAPI 3.1 pieces both services' specs share (feature `openapi`):
//! - the [`Problem`] and [`FieldError`] schemas, derived from the structs that are serialised;
//! - one reusable response per error status ([`BadRequest`], [`Unauthorized`], …), each
//!   `application/problem+json` with the headers that status carries;
//! - the [`BEARER`] security scheme (RFC 6750 `Authorization: Bearer <jwt>`);
//! - [`openapi_json_service`], which serves a finished document at `GET /openapi.json`.
//!
//! A handler documents an error by naming the response, e.g.
//! `(status = 401, response = http_problem::openapi::Unauthorized)`, and a protected route
//! says `security((BEARER = []))` (the literal `"bearer"`). Both resolve because the service
//! merges [`shared_components`] into its document; utoipa-actix-web collects schemas from the
//! handlers but not reusable responses or security schemes, hence this explicit merge.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use actix_web::{HttpResponse, web};
use serde_json::{Value, json};
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{HttpMethod, OperationBuilder};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Components, OpenApi, Ref};
use utoipa::{OpenApi as _, ToSchema};

use crate::problem::{FieldError, Problem};

/// The media type of every error body (RFC 9457 §3).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Name of the security scheme for our access tokens; use it in `security((...))`.
pub const BEARER: &str = "bearer";

/// A response whose body is a [`Problem`]. Exposed so a service can document a problem that
/// none of the shared responses describes well, and stay problem+json.
pub fn problem_response(description: &str, example: Option<Value>) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        PROBLEM_JSON,
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(Problem::name())))
            .example(example)
            .build(),
    )
}

fn example(kind: &str, title: &str, status: u16, detail: &str) -> Option<Value> {
    Some(json!({
        "type": format!("urn:taskgate:problem:{kind}"),
        "title": title,
        "status": status,
        "detail": detail,
        "request_id": "0b1f3c9e-6f6a-4f52-9d43-5e2f8f0f4d1a",
    }))
}

fn string_header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::String))
        .description(Some(description))
        .build()
}

/// Declares unit structs whose `ToResponse` is the response a builder makes; the component
/// name is the struct's name. Handlers then say `(status = 400, response = BadRequest)`. Used
/// here for the problem+json responses and by the auth-service for the RFC 6749 ones.
#[macro_export]
macro_rules! openapi_responses {
    ($(
        $(#[$attr:meta])*
        $name:ident => $response:expr;
    )*) => {$(
        $(#[$attr])*
        pub struct $name;

        impl<'r> ::utoipa::ToResponse<'r> for $name {
            fn response() -> (&'r str, ::utoipa::openapi::RefOr<::utoipa::openapi::response::Response>) {
                let response: ::utoipa::openapi::response::ResponseBuilder = $response;
                (stringify!($name), response.build().into())
            }
        }
    )*};
}

openapi_responses! {
    /// 400: the body or query string could not be read at all.
    BadRequest => problem_response(
        "Malformed request: the body or query string cannot be read (invalid JSON, a missing \
         or unknown field, a wrong type).",
        example("bad-request", "Malformed request", 400, "invalid JSON body: ..."),
    );
    /// 401 with an RFC 6750 `WWW-Authenticate: Bearer` challenge.
    Unauthorized => problem_response(
        "No valid credentials: the access token is missing, malformed, expired, revoked or \
         not ours (or, where a route says so, the credentials in the body are wrong).",
        example("invalid-token", "Invalid access token", 401, "the token has expired"),
    )
    .header(
        "WWW-Authenticate",
        string_header(r#"RFC 6750 challenge, e.g. `Bearer realm="taskgate", error="invalid_token"`."#),
    );
    /// 403: authenticated, but not allowed (RFC 6750 `insufficient_scope`).
    Forbidden => problem_response(
        "The token is valid but lacks the scope this operation needs.",
        example("insufficient-scope", "Insufficient scope", 403, "This request needs the `tasks:write` scope."),
    )
    .header(
        "WWW-Authenticate",
        string_header(r#"`Bearer realm="taskgate", error="insufficient_scope", scope="..."`."#),
    );
    /// 404: no such resource, or not the caller's (the two are indistinguishable on purpose).
    NotFound => problem_response(
        "Not found, or not the caller's: the answer is the same either way.",
        example("not-found", "Not found", 404, "no such resource"),
    );
    /// 409: the request conflicts with existing state.
    Conflict => problem_response(
        "The request conflicts with existing state (for example a unique value already taken).",
        None,
    );
    /// 412: an `If-Match` precondition did not hold.
    PreconditionFailed => problem_response(
        "The resource changed since the `If-Match` version was read.",
        None,
    );
    /// 413: the body is larger than the route accepts.
    PayloadTooLarge => problem_response(
        "The body is larger than this route accepts; `detail` says the limit.",
        example("payload-too-large", "Request body too large", 413, "the body must be at most 65536 bytes"),
    );
    /// 415: the body is not JSON.
    UnsupportedMediaType => problem_response(
        "The body must be JSON: `Content-Type: application/json` or another `+json` type.",
        None,
    );
    /// 428: the server requires `If-Match` on this change.
    PreconditionRequired => problem_response(
        "This server requires `If-Match` with the resource's `ETag` on every change.",
        None,
    );
    /// 422: readable input with invalid values, one `errors` entry per field.
    UnprocessableEntity => problem_response(
        "The input is well-formed but a value is invalid; `errors` names each field.",
        Some(json!({
            "type": "urn:taskgate:problem:validation-error",
            "title": "The request is not valid",
            "status": 422,
            "detail": "password must be at least 8 characters",
            "errors": [{ "field": "password", "message": "password must be at least 8 characters" }],
            "request_id": "0b1f3c9e-6f6a-4f52-9d43-5e2f8f0f4d1a",
        })),
    );
    /// 429 with `Retry-After`.
    TooManyRequests => problem_response(
        "Too many attempts; retry after the number of seconds in `Retry-After`.",
        example("throttled", "Too many attempts", 429, "too many failed sign-ins; retry in 30 s"),
    )
    .header("Retry-After", string_header("Seconds to wait before retrying."));
    /// 500: generic on purpose; the cause is in the log under the request id.
    InternalError => problem_response(
        "Unexpected server error. The body is generic; the cause is logged under `request_id`.",
        example(
            "internal-error",
            "Internal server error",
            500,
            "The server could not complete the request; it has been logged.",
        ),
    );
    /// 503: a dependency (database, issuer keys) is unavailable.
    ServiceUnavailable => problem_response(
        "A dependency (the database, or the issuer's keys) is unavailable; retry later.",
        example("not-ready", "Not ready", 503, "the database is unreachable"),
    )
    .header("Retry-After", string_header("Seconds to wait before retrying, when known."));
}

/// The components every service document needs: the problem schemas, the responses above and
/// the bearer scheme. Merge them in: `doc.merge(http_problem::openapi::shared_components())`.
pub fn shared_components() -> OpenApi {
    let mut doc = SharedComponents::openapi();
    let components = doc.components.get_or_insert_with(Components::new);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "An RFC 9068 access token (`typ: at+jwt`) from the auth-service: \
                     `Authorization: Bearer <token>`.",
                ))
                .build(),
        ),
    );
    doc
}

#[derive(utoipa::OpenApi)]
#[openapi(components(
    schemas(Problem, FieldError),
    responses(
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        PreconditionFailed,
        PayloadTooLarge,
        UnsupportedMediaType,
        PreconditionRequired,
        UnprocessableEntity,
        TooManyRequests,
        InternalError,
        ServiceUnavailable
    )
))]
struct SharedComponents;

/// `GET /openapi.json` serving `doc`, to which it first adds its own operation (so the spec
/// lists every route the app serves, this one included). The document is serialised once.
///
/// With utoipa-actix-web: `.into_utoipa_app().openapi(base).configure(routes::configure)
/// .openapi_service(http_problem::openapi::openapi_json_service)`.
pub fn openapi_json_service(mut doc: OpenApi) -> actix_web::Resource {
    doc.paths.add_path_operation(
        "/openapi.json",
        vec![HttpMethod::Get],
        OperationBuilder::new()
            .tag("meta")
            .operation_id(Some("openapi_json"))
            .summary(Some("This OpenAPI 3.1 document"))
            .response(
                "200",
                ResponseBuilder::new()
                    .description("The OpenAPI document")
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(ObjectBuilder::new().schema_type(Type::Object).build()))
                            .build(),
                    ),
            ),
    );
    let body = match serde_json::to_vec(&doc) {
        Ok(body) => web::Bytes::from(body),
        Err(error) => {
            // Unreachable in practice (the document is plain data); still never panic.
            tracing::error!(%error, "serialising the OpenAPI document failed");
            web::Bytes::new()
        }
    };
    web::resource("/openapi.json").route(web::get().to(move || {
        let body = body.clone();
        async move {
            if body.is_empty() {
                return Problem::internal().to_response();
            }
            HttpResponse::Ok()
                .insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")))
                .insert_header((
                    CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=300"),
                ))
                .body(body)
        }
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use actix_web::App;
    use actix_web::test as actix_test;
    use serde_json::Value;

    use super::*;

    #[test]
    fn every_shared_response_is_problem_json() {
        let doc = serde_json::to_value(shared_components()).unwrap();
        let responses = doc["components"]["responses"].as_object().unwrap();
        assert!(responses.contains_key("InternalError"));
        for (name, response) in responses {
            let content = response["content"].as_object().unwrap();
            assert_eq!(content.keys().collect::<Vec<_>>(), [PROBLEM_JSON], "{name}");
            assert_eq!(
                content[PROBLEM_JSON]["schema"]["$ref"], "#/components/schemas/Problem",
                "{name}"
            );
        }
        assert!(responses["Unauthorized"]["headers"]["WWW-Authenticate"].is_object());
        assert!(responses["TooManyRequests"]["headers"]["Retry-After"].is_object());
        assert_eq!(
            doc["components"]["securitySchemes"][BEARER]["scheme"],
            "bearer"
        );
        // The schema is the serialised struct: `type`, not `kind`; no `headers`.
        let problem = &doc["components"]["schemas"]["Problem"]["properties"];
        assert!(problem["type"].is_object() && problem["kind"].is_null());
        assert!(problem["headers"].is_null());
    }

    #[actix_web::test]
    async fn the_endpoint_serves_the_document_and_lists_itself() {
        let app =
            actix_test::init_service(App::new().service(openapi_json_service(shared_components())))
                .await;
        let response = actix_test::call_service(
            &app,
            actix_test::TestRequest::get()
                .uri("/openapi.json")
                .to_request(),
        )
        .await;
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(
            response.headers().get(CONTENT_TYPE).unwrap(),
            "application/json"
        );
        let doc: Value = actix_test::read_body_json(response).await;
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
        assert!(doc["paths"]["/openapi.json"]["get"]["responses"]["200"].is_object());
    }
}
