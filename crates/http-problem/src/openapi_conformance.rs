//! Checks a service's integration tests run against its OpenAPI document (feature
//! `test-support`). Shared so both services' `tests/api/openapi.rs` hold their spec to the same
//! rules without copying them; each test keeps only what is its own (its "HTTP contract" route
//! table from docs/architecture.md, which routes need which credentials, which error body a
//! path answers, its real sessions).
//!
//! The document is generated from the handlers, so comparing it with itself proves nothing.
//! These hold it against things that are not the spec:
//! - a contract table written out by hand ([`assert_lists_exactly`]);
//! - the running app: every documented operation reaches a real handler and answers a status
//!   it documents, with a body that fits ([`assert_every_operation_is_served`],
//!   [`assert_answer_fits`]);
//! - the house rules: one error media type and schema per path ([`assert_errors_are`]), the
//!   bearer scheme ([`assert_bearer_scheme`], [`assert_requires_bearer`]), every `$ref`
//!   resolvable and unique operation ids ([`assert_refs_resolve_and_operation_ids_unique`]).
//!
//! Building blocks: [`operations`], [`resolve`] and the schema checker [`check`].

// Panicking is how these report: they run inside tests.
#![allow(clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::openapi::{BEARER, PROBLEM_JSON};

/// The error body of every route but RFC 6749's: `application/problem+json` with the shared
/// [`crate::Problem`] schema. Pass it (or a closure returning it) to [`assert_errors_are`].
pub const PROBLEM_ERRORS: (&str, &str) = (PROBLEM_JSON, "#/components/schemas/Problem");

/// The methods an operation can be documented under (OpenAPI 3.1 path item fields we use).
pub const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Every (METHOD, path, operation) of the document.
pub fn operations(spec: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                found.push((method.to_uppercase(), path.clone(), operation.clone()));
            }
        }
    }
    found
}

/// Follows a local `$ref` (`#/components/...`) to what it names.
pub fn resolve<'a>(spec: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("non-local $ref {reference}"));
            let target = spec
                .pointer(pointer)
                .unwrap_or_else(|| panic!("unresolvable $ref {reference}"));
            resolve(spec, target)
        }
        None => node,
    }
}

/// A small JSON Schema (2020-12 subset, as utoipa emits it) checker: `$ref`, `type` (one or a
/// list), `required`, `properties`, `items`, `oneOf`/`anyOf`/`allOf`, `enum`, `minimum` and
/// `maximum`. Stricter than JSON Schema in one way, on purpose: a member the schema does not
/// list is an error, so a handler cannot grow an undocumented field.
pub fn check(spec: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let schema = resolve(spec, schema);
    let mut errors = Vec::new();
    if let Some(options) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        if !options.iter().any(|o| check(spec, o, value, at).is_empty()) {
            errors.push(format!("{at}: matches none of {options:?}"));
        }
        return errors;
    }
    if let Some(parts) = schema["allOf"].as_array() {
        for part in parts {
            errors.extend(check(spec, part, value, at));
        }
    }
    if let Some(types) = match &schema["type"] {
        Value::String(t) => Some(vec![t.as_str()]),
        Value::Array(ts) => Some(ts.iter().filter_map(Value::as_str).collect()),
        _ => None,
    } {
        let fits = types.iter().any(|t| match *t {
            "null" => value.is_null(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "string" => value.is_string(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => false,
        });
        if !fits {
            errors.push(format!("{at}: {value} is not {types:?}"));
            return errors;
        }
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        errors.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let Some(number) = value.as_f64()
        && (schema["minimum"].as_f64().is_some_and(|min| number < min)
            || schema["maximum"].as_f64().is_some_and(|max| number > max))
    {
        errors.push(format!("{at}: {number} is out of range"));
    }
    if let Some(object) = value.as_object() {
        let properties = schema["properties"].as_object();
        for required in schema["required"].as_array().into_iter().flatten() {
            let name = required.as_str().unwrap_or_default();
            if !object.contains_key(name) {
                errors.push(format!("{at}: missing required {name}"));
            }
        }
        if let Some(properties) = properties {
            for (name, member) in object {
                match properties.get(name) {
                    Some(sub) => errors.extend(check(spec, sub, member, &format!("{at}.{name}"))),
                    None => errors.push(format!("{at}: undocumented member {name}")),
                }
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, item) in array.iter().enumerate() {
            errors.extend(check(spec, items, item, &format!("{at}[{i}]")));
        }
    }
    errors
}

/// The operation documented for `method` (any case) and `path`, or `Value::Null`.
fn operation<'a>(spec: &'a Value, method: &str, path: &str) -> &'a Value {
    &spec["paths"][path][method.to_lowercase()]
}

/// `GET {base_url}/openapi.json`: 200, `application/json`, and the document.
pub async fn fetch_spec(base_url: &str) -> Value {
    let response = reqwest::get(format!("{base_url}/openapi.json"))
        .await
        .expect("the service answers");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    response.json().await.expect("the document is JSON")
}

/// The document is OpenAPI 3.1.x, has a title, and documents exactly the (METHOD, path) pairs
/// of `contract` (docs/architecture.md, "HTTP contract", written out by hand in the service's
/// test): a route served but missing from the contract fails, and so does one the contract has
/// but the app does not register (registering a handler is what documents it).
#[track_caller]
pub fn assert_lists_exactly<'a>(
    spec: &Value,
    contract: impl IntoIterator<Item = (&'a str, &'a str)>,
) {
    let version = spec["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3.1."), "openapi is {version:?}");
    assert!(
        spec["info"]["title"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "the document has no title"
    );
    let documented: BTreeSet<(String, String)> = operations(spec)
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    let contract: BTreeSet<(String, String)> = contract
        .into_iter()
        .map(|(method, path)| (method.to_uppercase(), path.to_owned()))
        .collect();
    let missing: Vec<_> = contract.difference(&documented).collect();
    let unexpected: Vec<_> = documented.difference(&contract).collect();
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "in the HTTP contract (docs/architecture.md) but not in the spec: {missing:?}; in the spec but not in the \
         contract table: {unexpected:?}"
    );
}

/// `path` with every `{parameter}` replaced by a fresh UUID v7: every path parameter of both
/// services is an id, and a random one names nothing, so the answer is about the route.
fn with_ids(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').expect("closed parameter") + start;
        out.push_str(&uuid::Uuid::now_v7().to_string());
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// What a `method` request to a route that does not exist gets from the app's default
/// service: the fields that tell it apart from a handler's own 404 (e.g. a missing task).
async fn default_service_answer(client: &reqwest::Client, base_url: &str, method: &str) -> Value {
    let response = client
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).expect("a method"),
            format!("{base_url}/no/such/route/anywhere"),
        )
        .send()
        .await
        .expect("the service answers");
    assert_eq!(response.status().as_u16(), 404);
    let body: Value = response.json().await.unwrap_or(Value::Null);
    json!({ "status": 404, "type": body["type"], "detail": body["detail"] })
}

/// Sends every documented operation to the running app at `base_url` as a stranger would: no
/// credentials, no cookies, path parameters that name nothing, and an empty body of the first
/// documented request media type (`{}` for JSON ones, an empty form for forms). Each must reach
/// a handler (not the default service's 404, not 405) and answer a status the operation
/// documents, with a body that fits it ([`assert_answer_fits`]).
pub async fn assert_every_operation_is_served(spec: &Value, base_url: &str) {
    let client = reqwest::Client::new();
    let mut not_found: BTreeMap<String, Value> = BTreeMap::new();
    for (method, path, operation) in operations(spec) {
        let mut request = client.request(
            reqwest::Method::from_bytes(method.as_bytes()).expect("a method"),
            format!("{base_url}{}", with_ids(&path)),
        );
        if let Some((media_type, _)) = operation["requestBody"]["content"]
            .as_object()
            .and_then(|content| content.iter().next())
        {
            let body = if media_type == "application/json" || media_type.ends_with("+json") {
                "{}"
            } else {
                ""
            };
            request = request
                .header("content-type", media_type.as_str())
                .body(body);
        }
        let response = request.send().await.expect("the service answers");
        let status = response.status().as_u16();
        assert_ne!(status, 405, "{method} {path}: method not allowed");
        let (_, body) = answer(spec, &method, &path, response, false).await;

        if !not_found.contains_key(&method) {
            let answer = default_service_answer(&client, base_url, &method).await;
            not_found.insert(method.clone(), answer);
        }
        let this = json!({ "status": status, "type": body["type"], "detail": body["detail"] });
        assert_ne!(
            this, not_found[&method],
            "{method} {path} is documented but answered by the default service (no such route)"
        );
    }
}

/// Panics unless every documented path answers a method it does not document with 405
/// `method-not-allowed` problem+json whose `Allow` names exactly the documented methods.
pub async fn assert_other_methods_are_405(spec: &Value, base_url: &str) {
    let mut documented: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (method, path, _) in operations(spec) {
        documented
            .entry(path)
            .or_default()
            .insert(method.to_uppercase());
    }
    let client = reqwest::Client::new();
    for (path, methods) in documented {
        let other = ["PUT", "PATCH", "DELETE", "POST", "GET"]
            .into_iter()
            .find(|method| !methods.contains(*method))
            .expect("a method the path does not take");
        let response = client
            .request(
                reqwest::Method::from_bytes(other.as_bytes()).expect("a method"),
                format!("{base_url}{}", with_ids(&path)),
            )
            .send()
            .await
            .expect("the service answers");
        let what = format!("{other} {path}");
        assert_eq!(response.status().as_u16(), 405, "{what}");
        let allow = response.headers()["allow"]
            .to_str()
            .expect("ASCII")
            .to_owned();
        let expected: Vec<&str> = methods.iter().map(String::as_str).collect();
        assert_eq!(allow, expected.join(", "), "{what}: Allow");
        assert_eq!(response.headers()["content-type"], PROBLEM_JSON, "{what}");
        let body: Value = response.json().await.expect("a problem+json body");
        assert_eq!(
            body["type"], "urn:taskgate:problem:method-not-allowed",
            "{what}: {body}"
        );
    }
}

/// Checks a real answer to `method path` against the document: its status is documented, its
/// media type is one the response documents and its body fits that schema, or, for a response
/// documented without content, it has no body. With `require_schema`, documented content must
/// also name a schema (a success answer the spec says nothing about is not documented).
/// Returns the status and the body (`Null` when empty or not JSON).
async fn answer(
    spec: &Value,
    method: &str,
    path: &str,
    response: reqwest::Response,
    require_schema: bool,
) -> (u16, Value) {
    let status = response.status().as_u16();
    let content_type = crate::testing::content_type(&response);
    let bytes = response.bytes().await.expect("a body");
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);

    let documented = resolve(
        spec,
        &operation(spec, method, path)["responses"][status.to_string()],
    );
    assert!(
        documented.is_object(),
        "{method} {path} answered {status}, which it does not document: {body}"
    );
    match documented["content"].as_object() {
        Some(content) => {
            let media_type = content_type.split(';').next().unwrap_or_default().trim();
            let entry = content.get(media_type).unwrap_or_else(|| {
                panic!("{method} {path} {status}: {media_type:?} is not documented")
            });
            let schema = &entry["schema"];
            assert!(
                !(require_schema && schema.is_null()),
                "{method} {path} {status}: {media_type} documents no schema"
            );
            if !schema.is_null() {
                // A non-JSON body (Prometheus text, say) is checked as one string.
                let body = if media_type.ends_with("json") {
                    body.clone()
                } else {
                    Value::String(String::from_utf8_lossy(&bytes).into_owned())
                };
                let errors = check(spec, schema, &body, "$");
                assert!(
                    errors.is_empty(),
                    "{method} {path} {status}: body {body} does not fit: {errors:?}"
                );
            }
        }
        None => assert!(
            bytes.is_empty(),
            "{method} {path} {status}: documented without a body, answered {bytes:?}"
        ),
    }
    (status, body)
}

/// A real answer to `method path` is `expected` and fits what the document says of that status
/// (see [`assert_every_operation_is_served`]); returns its JSON body (`Null` if it has none).
pub async fn assert_answer_fits(
    spec: &Value,
    method: &str,
    path: &str,
    expected: u16,
    response: reqwest::Response,
) -> Value {
    let status = response.status().as_u16();
    if status != expected {
        let body = response.text().await.unwrap_or_default();
        panic!("{method} {path}: expected {expected}, got {status}: {body}");
    }
    answer(spec, method, path, response, true).await.1
}

/// Every operation documents a success, every response has a description, and every 4xx/5xx
/// response documents exactly one body: the `(media type, schema $ref)` that `expected(path)`
/// returns ([`PROBLEM_ERRORS`] everywhere but RFC 6749 routes). The one exception is what the
/// request limits answer before any route is reached
/// ([`crate::openapi::ANSWERED_BEFORE_EVERY_ROUTE`]), problem+json on every path: there the
/// problem+json body may stand beside, or instead of, the path's own. Every operation documents
/// those statuses. The shared Problem schema is RFC 9457's shape with the field errors (every
/// service merges it in).
#[track_caller]
pub fn assert_errors_are<'a>(spec: &Value, expected: impl Fn(&str) -> (&'a str, &'a str)) {
    for (method, path, operation) in operations(spec) {
        let responses = operation["responses"].as_object().expect("responses");
        assert!(
            responses.keys().any(|status| status.starts_with('2')),
            "{method} {path} documents no success response"
        );
        let (media_type, schema) = expected(&path);
        for (status, _) in crate::openapi::ANSWERED_BEFORE_EVERY_ROUTE {
            assert!(
                responses.contains_key(&status.to_string()),
                "{method} {path} does not document {status}, which the request limits answer"
            );
        }
        for (status, response) in responses {
            let response = resolve(spec, response);
            assert!(
                response["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty()),
                "{method} {path} {status} has no description"
            );
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            let content = response["content"].as_object().unwrap_or_else(|| {
                panic!("{method} {path} {status}: an error without a documented body")
            });
            let before_route = crate::openapi::ANSWERED_BEFORE_EVERY_ROUTE
                .iter()
                .any(|(answered, _)| answered.to_string() == *status);
            let mut bodies = vec![(media_type, schema)];
            if before_route && media_type != PROBLEM_ERRORS.0 {
                bodies.push(PROBLEM_ERRORS);
                bodies.retain(|(media, _)| content.contains_key(*media));
                assert!(
                    !bodies.is_empty(),
                    "{method} {path} {status}: no error body"
                );
            }
            let types: BTreeSet<&str> = content.keys().map(String::as_str).collect();
            let expected_types: BTreeSet<&str> = bodies.iter().map(|(media, _)| *media).collect();
            assert_eq!(types, expected_types, "{method} {path} {status}");
            for (media, schema) in bodies {
                assert_eq!(
                    content[media]["schema"]["$ref"], schema,
                    "{method} {path} {status}"
                );
            }
        }
    }
    let problem = &spec["components"]["schemas"]["Problem"];
    for member in ["type", "title", "status", "detail", "errors", "request_id"] {
        assert!(
            problem["properties"][member].is_object(),
            "Problem lacks {member}"
        );
    }
    let field_error = resolve(spec, &problem["properties"]["errors"]["items"]);
    assert!(field_error["properties"]["field"].is_object());
    assert!(field_error["properties"]["message"].is_object());
}

/// The `bearer` security scheme is RFC 6750's, carrying a JWT.
#[track_caller]
pub fn assert_bearer_scheme(spec: &Value) {
    let bearer = &spec["components"]["securitySchemes"][BEARER];
    assert_eq!(bearer["type"], "http");
    assert_eq!(bearer["scheme"], "bearer");
    assert_eq!(bearer["bearerFormat"], "JWT");
}

/// `method path` needs no credentials: it documents no security requirement.
#[track_caller]
pub fn assert_public(spec: &Value, method: &str, path: &str) {
    let security = &operation(spec, method, path)["security"];
    assert!(
        security.as_array().is_none_or(Vec::is_empty),
        "{method} {path} is public but documents {security}"
    );
}

/// `method path` requires exactly the bearer scheme (one requirement, and no empty `{}`
/// alternative that would make it optional) and documents each of `statuses` (the refusals a
/// token can get: 401, and 403 where a scope is checked).
#[track_caller]
pub fn assert_requires_bearer(spec: &Value, method: &str, path: &str, statuses: &[u16]) {
    let operation = operation(spec, method, path);
    assert_eq!(
        operation["security"],
        json!([{ BEARER: [] }]),
        "{method} {path} must require the bearer scheme"
    );
    for status in statuses {
        assert!(
            operation["responses"][status.to_string()].is_object(),
            "{method} {path} needs a token but documents no {status}"
        );
    }
}

/// Every `$ref` in the document is local and resolves, and every operation has an
/// `operationId` no other operation uses (client generators name methods after them).
#[track_caller]
pub fn assert_refs_resolve_and_operation_ids_unique(spec: &Value) {
    fn walk<'a>(node: &'a Value, refs: &mut Vec<&'a str>) {
        match node {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    refs.push(reference);
                }
                map.values().for_each(|v| walk(v, refs));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, refs)),
            _ => {}
        }
    }
    let mut refs = Vec::new();
    walk(spec, &mut refs);
    assert!(!refs.is_empty(), "the document has no $ref at all");
    for reference in refs {
        let pointer = reference.strip_prefix('#').expect("local $ref");
        assert!(spec.pointer(pointer).is_some(), "dangling $ref {reference}");
    }
    let mut ids = BTreeSet::new();
    for (method, path, operation) in operations(spec) {
        let id = operation["operationId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(!id.is_empty(), "{method} {path} has no operationId");
        assert!(ids.insert(id.clone()), "operationId {id} is used twice");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    #[test]
    fn the_schema_checker_can_fail() {
        let spec = json!({ "components": { "schemas": { "S": {
            "type": "object", "required": ["a"],
            "properties": { "a": { "type": "integer", "minimum": 1 }, "b": { "type": ["string", "null"] } }
        }}}});
        let schema = json!({ "$ref": "#/components/schemas/S" });
        assert!(check(&spec, &schema, &json!({ "a": 1, "b": null }), "$").is_empty());
        assert!(!check(&spec, &schema, &json!({ "b": "x" }), "$").is_empty());
        assert!(!check(&spec, &schema, &json!({ "a": 0 }), "$").is_empty());
        assert!(!check(&spec, &schema, &json!({ "a": 1, "c": 2 }), "$").is_empty());
        assert!(!check(&spec, &schema, &json!({ "a": "1" }), "$").is_empty());
    }
}
