//! The OpenAPI 3.1 pieces both services' specs share (feature `openapi`):
//! - the [`Problem`] and [`FieldError`] schemas, derived from the structs that are serialised;
//! - one reusable response per error status ([`BadRequest`], [`Unauthorized`], …), each
//!   `application/problem+json` with the headers that status carries;
//! - the [`BEARER`] security scheme (RFC 6750 `Authorization: Bearer <jwt>`);
//! - [`finish_document`] and [`openapi_json_service`], which serves it at `GET /openapi.json`.
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
use utoipa::openapi::path::{HttpMethod, Operation, OperationBuilder};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Components, OpenApi, Ref, RefOr};
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
         or unknown field, a wrong type), or the URL carries an access token (`token-in-url`: \
         tokens go only in the `Authorization` header).",
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
        "The body is larger than this service accepts (announced or sent); `detail` says the \
         limit.",
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
    /// 503: not now; `type` says why (a dependency is down, or the service is too busy).
    ServiceUnavailable => problem_response(
        "Not now; retry later (after `Retry-After` seconds, when given). `type` says why: \
         `service-unavailable` (the database cannot be reached), `keys-unavailable` (the \
         issuer's keys cannot be fetched), `busy` (too many passwords waiting to be hashed), \
         `feed-busy` (too many revocation long-polls held), `not-ready` (`/readyz`).",
        example(
            "service-unavailable",
            "Service unavailable",
            503,
            "the database cannot be reached right now; try again shortly",
        ),
    )
    .header("Retry-After", string_header("Seconds to wait before retrying, when known."));
    /// 408: the body did not arrive in time (service-runtime's request limits).
    RequestTimeout => problem_response(
        "The request body did not arrive in time; `detail` says the limit.",
        example("request-timeout", "Request body too slow", 408, "the body must arrive within 15 s of the request"),
    );
    /// 414: the path and query are too long (service-runtime's request limits).
    UriTooLong => problem_response(
        "The path and query are longer than the service reads; `detail` says the limit.",
        example("uri-too-long", "URI too long", 414, "the path and query must be at most 8192 bytes"),
    );
    /// 431: the header block is too large (service-runtime's request limits).
    HeaderFieldsTooLarge => problem_response(
        "The request headers, names and values together, are larger than the service reads; \
         `detail` says the limit.",
        example(
            "header-fields-too-large",
            "Request header fields too large",
            431,
            "the headers must be at most 16384 bytes, names and values together",
        ),
    );
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
        ServiceUnavailable,
        RequestTimeout,
        UriTooLong,
        HeaderFieldsTooLarge
    )
))]
struct SharedComponents;

/// The answers `service_runtime::request_limits` gives in front of every route, whatever the
/// route: (status, name of the shared response). 400 is `token-in-url`; 413 is also answered
/// to a bodiless route when a request announces a body over the limit.
pub const ANSWERED_BEFORE_EVERY_ROUTE: [(u16, &str); 5] = [
    (400, "BadRequest"),
    (408, "RequestTimeout"),
    (413, "PayloadTooLarge"),
    (414, "UriTooLong"),
    (431, "HeaderFieldsTooLarge"),
];

/// What every route that reads a JSON body may answer before its handler runs:
/// [`crate::json_error_handler`] (and [`crate::Json`]) refuse an unreadable body (400), a body
/// over the limit (413) and one that is not JSON (415).
const ANSWERED_FOR_EVERY_JSON_BODY: [(u16, &str); 3] = [
    (400, "BadRequest"),
    (413, "PayloadTooLarge"),
    (415, "UnsupportedMediaType"),
];

/// Documents, on every operation, the answers that no handler lists because no handler gives
/// them: the request limits' ([`ANSWERED_BEFORE_EVERY_ROUTE`]), the JSON body's
/// (`ANSWERED_FOR_EVERY_JSON_BODY`), and the 503 that [`crate::impl_response_error!`] gives
/// instead of a 500 when a dependency is down (so every operation that documents the shared
/// `InternalError` also documents `ServiceUnavailable`). Doing it here, once, means a new
/// route cannot forget them.
pub fn document_shared_answers(doc: &mut OpenApi) {
    let components = doc.components.clone().unwrap_or_default();
    for item in doc.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            let reads_json = operation.request_body.as_ref().is_some_and(|body| {
                body.content
                    .keys()
                    .any(|media| media == "application/json" || media.ends_with("+json"))
            });
            let answers_internal_error = matches!(
                operation.responses.responses.get("500"),
                Some(RefOr::Ref(reference)) if reference.ref_location == response_ref("InternalError")
            );
            let mut answers = ANSWERED_BEFORE_EVERY_ROUTE.to_vec();
            if reads_json {
                answers.extend(ANSWERED_FOR_EVERY_JSON_BODY);
            }
            if answers_internal_error {
                answers.push((503, "ServiceUnavailable"));
            }
            for (status, name) in answers {
                document_answer(operation, &components, status, name);
            }
        }
    }
}

fn response_ref(name: &str) -> String {
    format!("#/components/responses/{name}")
}

/// Adds the shared response `name` as `status` to `operation`. One that already documents the
/// status keeps its own response when that is problem+json too (it says the route's own cause);
/// one documenting another body (RFC 6749's error JSON on `/oauth/*`) gets the problem+json
/// body beside its own, with a sentence saying when each is sent.
fn document_answer(operation: &mut Operation, components: &Components, status: u16, name: &str) {
    let shared = match components.responses.get(name) {
        Some(RefOr::T(response)) => response,
        _ => {
            tracing::error!(name, "no such shared response: the document lacks it");
            return;
        }
    };
    let key = status.to_string();
    let Some(existing) = operation.responses.responses.get(&key) else {
        operation
            .responses
            .responses
            .insert(key, RefOr::Ref(Ref::new(response_ref(name))));
        return;
    };
    let own = match existing {
        RefOr::T(response) => response.clone(),
        RefOr::Ref(reference) => match reference
            .ref_location
            .strip_prefix("#/components/responses/")
            .and_then(|own| components.responses.get(own))
        {
            Some(RefOr::T(response)) => response.clone(),
            _ => return,
        },
    };
    if own.content.contains_key(PROBLEM_JSON) {
        return;
    }
    let mut merged: Response = own;
    merged.description = format!(
        "{} Refused before the route is reached, `application/problem+json`: {}",
        merged.description, shared.description
    );
    if let Some(problem) = shared.content.get(PROBLEM_JSON) {
        merged
            .content
            .insert(PROBLEM_JSON.to_owned(), problem.clone());
    }
    operation.responses.responses.insert(key, RefOr::T(merged));
}

/// Finishes the document the routes collected: adds `GET /openapi.json` itself (so the spec
/// lists every route the app serves, this one included) and then, on every operation, the
/// answers no handler lists ([`document_shared_answers`]).
pub fn finish_document(doc: &mut OpenApi) {
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
    document_shared_answers(doc);
}

/// `GET /openapi.json` serving `doc` (finished by [`finish_document`]), serialised once. Other
/// methods fall through to the app's default service.
///
/// With utoipa-actix-web: `.into_utoipa_app().openapi(base).configure(routes::configure)
/// .openapi_service(|mut doc| { finish_document(&mut doc); openapi_json_service(&doc) })`.
pub fn openapi_json_service(doc: &OpenApi) -> actix_web::Resource {
    let body = match serde_json::to_vec(doc) {
        Ok(body) => web::Bytes::from(body),
        Err(error) => {
            // Unreachable in practice (the document is plain data); still never panic.
            tracing::error!(%error, "serialising the OpenAPI document failed");
            web::Bytes::new()
        }
    };
    web::resource("/openapi.json")
        .guard(actix_web::guard::Get())
        .to(move || {
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
        })
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

    #[test]
    fn every_operation_gets_the_answers_no_handler_lists() {
        let mut doc: OpenApi = serde_json::from_value(serde_json::json!({
            "openapi": "3.1.0",
            "info": { "title": "t", "version": "1" },
            "paths": {
                "/json": { "post": {
                    "requestBody": { "content": { "application/json": { "schema": { "type": "object" } } } },
                    "responses": {
                        "201": { "description": "made" },
                        "500": { "$ref": "#/components/responses/InternalError" },
                    },
                }},
                "/oauth": { "post": {
                    "requestBody": { "content": { "application/x-www-form-urlencoded": { "schema": { "type": "object" } } } },
                    "responses": {
                        "200": { "description": "ok" },
                        "400": { "description": "RFC 6749", "content": { "application/json": { "schema": { "type": "object" } } } },
                    },
                }},
            },
        }))
        .unwrap();
        doc.merge(shared_components());
        document_shared_answers(&mut doc);
        let doc = serde_json::to_value(&doc).unwrap();
        let json = &doc["paths"]["/json"]["post"]["responses"];
        for (status, name) in [
            ("400", "BadRequest"),
            ("408", "RequestTimeout"),
            ("413", "PayloadTooLarge"),
            ("414", "UriTooLong"),
            ("415", "UnsupportedMediaType"),
            ("431", "HeaderFieldsTooLarge"),
            ("503", "ServiceUnavailable"),
        ] {
            assert_eq!(
                json[status]["$ref"],
                format!("#/components/responses/{name}"),
                "{status}"
            );
        }
        let oauth = &doc["paths"]["/oauth"]["post"]["responses"];
        // A form body is not JSON, and no shared 500 means no 503.
        assert!(oauth["415"].is_null() && oauth["503"].is_null());
        assert_eq!(
            oauth["413"]["$ref"],
            "#/components/responses/PayloadTooLarge"
        );
        // The route's own 400 stays, with the problem+json refusal beside it.
        let bad = oauth["400"]["content"].as_object().unwrap();
        assert_eq!(
            bad.keys().collect::<Vec<_>>(),
            ["application/json", PROBLEM_JSON]
        );
        assert!(
            oauth["400"]["description"]
                .as_str()
                .unwrap()
                .starts_with("RFC 6749 ")
        );
    }

    #[actix_web::test]
    async fn the_endpoint_serves_the_document_and_lists_itself() {
        let mut doc = shared_components();
        finish_document(&mut doc);
        let app = actix_test::init_service(App::new().service(openapi_json_service(&doc))).await;
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
