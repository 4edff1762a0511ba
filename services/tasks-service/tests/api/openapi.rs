//! `GET /openapi.json` of the tasks-service, held against docs/architecture.md, "HTTP contract"
//! (the table below), the running app and the house rules. The generic checks live in
//! `http_problem::openapi_conformance` (shared with the auth-service's test); this file has
//! what is the tasks-service's own: its routes, which need a token, and a real session with the
//! task API, error answers included.

use http_problem::openapi_conformance::{
    PROBLEM_ERRORS, assert_answer_fits, assert_bearer_scheme, assert_errors_are,
    assert_every_operation_is_served, assert_lists_exactly, assert_other_methods_are_405,
    assert_public, assert_refs_resolve_and_operation_ids_unique, assert_requires_bearer,
    fetch_spec,
};
use reqwest::Method;
use serde_json::{Value, json};
use service_database::testing::Backend;

use crate::helpers::TestApp;

/// Whether a route needs a user access token (`security: [{bearer: []}]`).
#[derive(Clone, Copy, PartialEq, Debug)]
enum Access {
    Public,
    /// A user token; the route checks a `tasks:*` scope, so 403 is a possible answer too.
    UserToken,
    /// A service's client_credentials token (the same bearer scheme); 403 for a user token.
    ServiceToken,
}

/// docs/architecture.md, "HTTP contract": the tasks-service table plus the routes both services
/// serve. The spec must list exactly these. `GET /metrics` is in the contract but not served
/// yet; add it here with its handler.
const CONTRACT: &[(&str, &str, Access)] = &[
    ("GET", "/api/tasks", Access::UserToken),
    ("POST", "/api/tasks", Access::UserToken),
    ("GET", "/api/tasks/{id}", Access::UserToken),
    ("PATCH", "/api/tasks/{id}", Access::UserToken),
    ("DELETE", "/api/tasks/{id}", Access::UserToken),
    (
        "DELETE",
        "/internal/users/{user_id}/tasks",
        Access::ServiceToken,
    ),
    ("GET", "/healthz", Access::Public),
    ("GET", "/readyz", Access::Public),
    ("GET", "/openapi.json", Access::Public),
];

async fn spawn() -> (TestApp, Value) {
    // The document does not depend on the database: SQLite is enough.
    let app = TestApp::spawn(Backend::Sqlite).await;
    let spec = fetch_spec(&app.tasks_address).await;
    (app, spec)
}

#[tokio::test]
async fn the_spec_is_openapi_3_1_and_lists_exactly_the_contract_routes() {
    let (_app, spec) = spawn().await;
    assert_lists_exactly(&spec, CONTRACT.iter().map(|(m, p, _)| (*m, *p)));
}

#[tokio::test]
async fn every_documented_operation_is_served_and_answers_a_documented_status() {
    let (app, spec) = spawn().await;
    assert_every_operation_is_served(&spec, &app.tasks_address).await;
}

#[tokio::test]
async fn a_documented_path_answers_its_other_methods_with_405_and_allow() {
    let (app, spec) = spawn().await;
    assert_other_methods_are_405(&spec, &app.tasks_address).await;
}

#[tokio::test]
async fn every_error_is_problem_json() {
    let (_app, spec) = spawn().await;
    assert_errors_are(&spec, |_| PROBLEM_ERRORS);
}

#[tokio::test]
async fn task_routes_require_a_bearer_token_and_the_rest_are_public() {
    let (_app, spec) = spawn().await;
    assert_bearer_scheme(&spec);
    for (method, path, access) in CONTRACT {
        match access {
            Access::Public => assert_public(&spec, method, path),
            Access::UserToken | Access::ServiceToken => {
                assert_requires_bearer(&spec, method, path, &[401, 403])
            }
        }
    }
}

#[tokio::test]
async fn refs_resolve_and_operation_ids_are_unique() {
    let (_app, spec) = spawn().await;
    assert_refs_resolve_and_operation_ids_unique(&spec);
}

/// A session with the task API: every answer, the error ones included, is the status the test
/// expects and fits what the spec documents for it.
#[tokio::test]
async fn real_answers_fit_their_documented_schemas() {
    let (app, spec) = spawn().await;
    let token = app.sign_up("openapi@example.org").await.access_token;
    let send = |method: Method, path: &str| app.request(method, path, &token);
    const TASKS: &str = "/api/tasks";
    const TASK: &str = "/api/tasks/{id}";

    for path in ["/healthz", "/readyz"] {
        let response = app
            .client
            .get(format!("{}{path}", app.tasks_address))
            .send()
            .await
            .unwrap();
        assert_answer_fits(&spec, "GET", path, 200, response).await;
    }

    // Create: the optional fields set on one, left out on the others.
    let created = send(Method::POST, "")
        .json(&json!({
            "title": "Write the OpenAPI test",
            "description": "for the tasks-service",
            "due_at": "2030-01-01T09:00:00Z",
            "priority": "high",
        }))
        .send()
        .await
        .unwrap();
    assert!(created.headers().contains_key("location"));
    assert!(created.headers().contains_key("etag"));
    let task = assert_answer_fits(&spec, "POST", TASKS, 201, created).await;
    for title in ["Second", "Third"] {
        let created = send(Method::POST, "")
            .json(&json!({ "title": title }))
            .send()
            .await
            .unwrap();
        assert_answer_fits(&spec, "POST", TASKS, 201, created).await;
    }
    let id = task["id"].as_str().unwrap();
    let one = format!("/{id}");

    // Read, then read again with the ETag held: 304 without a body.
    let read = send(Method::GET, &one).send().await.unwrap();
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();
    assert_answer_fits(&spec, "GET", TASK, 200, read).await;
    let not_modified = send(Method::GET, &one)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_answer_fits(&spec, "GET", TASK, 304, not_modified).await;
    let missing = send(Method::GET, &format!("/{}", uuid::Uuid::now_v7()))
        .send()
        .await
        .unwrap();
    assert_answer_fits(&spec, "GET", TASK, 404, missing).await;

    // List with every filter, a sort and a page size, then follow the cursor.
    let page = send(
        Method::GET,
        "?completed=false&priority=medium&sort=title&limit=1",
    )
    .send()
    .await
    .unwrap();
    let page = assert_answer_fits(&spec, "GET", TASKS, 200, page).await;
    let cursor = page["next_cursor"].as_str().expect("a second page");
    let next = send(
        Method::GET,
        "?completed=false&priority=medium&sort=title&limit=1",
    )
    .query(&[("cursor", cursor)])
    .send()
    .await
    .unwrap();
    let next = assert_answer_fits(&spec, "GET", TASKS, 200, next).await;
    assert!(next["next_cursor"].is_null(), "{next}");
    let filtered = send(Method::GET, "")
        .query(&[
            ("q", "openapi"),
            ("due_before", "2031-01-01T00:00:00Z"),
            ("due_after", "2029-01-01T00:00:00Z"),
            ("sort", "-due_at"),
        ])
        .send()
        .await
        .unwrap();
    let filtered = assert_answer_fits(&spec, "GET", TASKS, 200, filtered).await;
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1, "{filtered}");
    for bad in [
        "?limit=0",
        "?sort=colour",
        "?completed=maybe",
        "?colour=red",
    ] {
        let refused = send(Method::GET, bad).send().await.unwrap();
        assert_answer_fits(&spec, "GET", TASKS, 400, refused).await;
    }

    // Change it (a merge patch, clearing a field), then try again with the old version.
    let patched = send(Method::PATCH, &one)
        .header("content-type", "application/merge-patch+json")
        .header("if-match", &etag)
        .body(json!({ "completed": true, "due_at": null }).to_string())
        .send()
        .await
        .unwrap();
    let patched = assert_answer_fits(&spec, "PATCH", TASK, 200, patched).await;
    assert!(patched["completed_at"].is_string(), "{patched}");
    let stale = send(Method::PATCH, &one)
        .header("if-match", &etag)
        .json(&json!({ "title": "Too late" }))
        .send()
        .await
        .unwrap();
    assert_answer_fits(&spec, "PATCH", TASK, 412, stale).await;

    let empty_title = send(Method::POST, "")
        .json(&json!({ "title": "   " }))
        .send()
        .await
        .unwrap();
    let problem = assert_answer_fits(&spec, "POST", TASKS, 422, empty_title).await;
    assert_eq!(problem["errors"][0]["field"], "title", "{problem}");

    let deleted = send(Method::DELETE, &one).send().await.unwrap();
    assert_answer_fits(&spec, "DELETE", TASK, 204, deleted).await;
}
