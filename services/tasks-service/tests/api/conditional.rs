//! Writes and conditional requests: ETags, `If-Match` (412/428), `If-None-Match` (304),
//! merge-patch semantics, the body cap, and no lost update under concurrent writes.

use reqwest::Method;
use serde_json::{Value, json};
use service_database::on_both_backends;
use service_database::testing::Backend;

use crate::helpers::{TestApp, problem};

on_both_backends!(
    get_revalidates_with_if_none_match,
    if_match_guards_updates_and_deletes,
    if_match_can_be_required,
    merge_patch_semantics,
    oversized_and_non_json_bodies_are_refused,
    concurrent_writers_never_lose_an_update
);

async fn new_task(app: &TestApp, token: &str, body: Value) -> (String, Value) {
    let response = app.create_task(token, &body).await;
    assert_eq!(response.status().as_u16(), 201);
    let task: Value = response.json().await.unwrap();
    (format!("/{}", task["id"].as_str().unwrap()), task)
}

fn etag(response: &reqwest::Response) -> String {
    response.headers()["etag"].to_str().unwrap().to_owned()
}

async fn get_revalidates_with_if_none_match(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.sign_up("etag@example.org").await;
    let token = user.access_token.as_str();
    let (path, _) = new_task(&app, token, json!({ "title": "cache me" })).await;

    for (if_none_match, status) in [
        ("\"1\"", 304),
        ("W/\"1\"", 304),
        ("\"7\", \"1\"", 304),
        ("*", 304),
        ("\"2\"", 200),
    ] {
        let response = app
            .request(Method::GET, &path, token)
            .header("if-none-match", if_none_match)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{if_none_match}");
        assert_eq!(etag(&response), "\"1\"");
        let body = response.bytes().await.unwrap();
        assert_eq!(body.is_empty(), status == 304, "{if_none_match}");
    }
    app.patch(token, &path, &json!({ "title": "changed" }))
        .await;
    let response = app
        .request(Method::GET, &path, token)
        .header("if-none-match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(etag(&response), "\"2\"");
    // Another user's task stays a 404, whatever the header says.
    let mallory = app.sign_up("mallory@example.org").await;
    let response = app
        .request(Method::GET, &path, &mallory.access_token)
        .header("if-none-match", "*")
        .send()
        .await
        .unwrap();
    let body = problem(response, 404).await;
    assert_eq!(body["detail"], "no such task");
}

async fn if_match_guards_updates_and_deletes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.sign_up("ifmatch@example.org").await;
    let token = user.access_token.as_str();
    let (path, _) = new_task(&app, token, json!({ "title": "guarded" })).await;
    let patch = |if_match: &str, title: &str| {
        app.request(Method::PATCH, &path, token)
            .header("if-match", if_match)
            .json(&json!({ "title": title }))
            .send()
    };

    // A weak tag never matches (strong comparison), nor does anything but a version.
    for stale in ["\"2\"", "W/\"1\"", "\"one\"", "not-a-tag"] {
        let body = problem(patch(stale, "lost").await.unwrap(), 412).await;
        assert_eq!(body["title"], "Precondition failed");
    }
    let response = patch("\"9\", \"1\"", "first").await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(etag(&response), "\"2\"");
    let response = patch("*", "second").await.unwrap();
    assert_eq!(etag(&response), "\"3\"");
    let task: Value = app.get(token, &path).await.json().await.unwrap();
    assert_eq!(task["title"], "second", "a refused write changed nothing");

    let delete = |if_match: &'static str| {
        app.request(Method::DELETE, &path, token)
            .header("if-match", if_match)
            .send()
    };
    problem(delete("\"2\"").await.unwrap(), 412).await;
    assert_eq!(app.get(token, &path).await.status().as_u16(), 200);
    assert_eq!(delete("\"3\"").await.unwrap().status().as_u16(), 204);
    problem(delete("\"3\"").await.unwrap(), 404).await;
    problem(patch("*", "gone").await.unwrap(), 404).await;
}

async fn if_match_can_be_required(backend: Backend) {
    let app = TestApp::spawn_with(backend, |settings| settings.api.require_if_match = true).await;
    let user = app.sign_up("strict-writes@example.org").await;
    let token = user.access_token.as_str();
    let (path, _) = new_task(&app, token, json!({ "title": "careful" })).await;

    let body = problem(app.patch(token, &path, &json!({ "title": "x" })).await, 428).await;
    assert!(body["detail"].as_str().unwrap().contains("If-Match"));
    problem(app.delete(token, &path).await, 428).await;
    let response = app
        .request(Method::PATCH, &path, token)
        .header("if-match", "\"1\"")
        .json(&json!({ "title": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let response = app
        .request(Method::DELETE, &path, token)
        .header("if-match", "\"2\"")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
}

async fn merge_patch_semantics(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.sign_up("merge@example.org").await;
    let token = user.access_token.as_str();
    let (path, created) = new_task(
        &app,
        token,
        json!({ "title": "  spaced out  ", "description": "notes",
                "due_at": "2030-06-01T12:00:00.123456789Z", "priority": "low" }),
    )
    .await;
    assert_eq!(created["title"], "spaced out");
    // Stored to the microsecond, as both databases keep it.
    assert_eq!(created["due_at"], "2030-06-01T12:00:00.123456Z");

    // The standard merge-patch media type is accepted.
    let response = app
        .request(Method::PATCH, &path, token)
        .header("content-type", "application/merge-patch+json")
        .body(r#"{"description": null, "due_at": null, "completed": true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let done: Value = response.json().await.unwrap();
    assert_eq!(done["description"], Value::Null);
    assert_eq!(done["due_at"], Value::Null);
    assert_eq!(done["completed"], true);
    assert!(done["completed_at"].is_string());
    assert_eq!(done["priority"], "low", "absent fields stay");
    assert_eq!(done["version"], 2);

    // Completing a completed task keeps its completion time; an empty patch changes nothing.
    let again: Value = app
        .patch(token, &path, &json!({ "completed": true }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["completed_at"], done["completed_at"]);
    assert_eq!(again["version"], 2);
    let same: Value = app
        .patch(token, &path, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(same, done);

    let reopened: Value = app
        .patch(
            token,
            &path,
            &json!({ "completed": false, "priority": null }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(reopened["completed"], false);
    assert_eq!(reopened["completed_at"], Value::Null);
    assert_eq!(
        reopened["priority"], "medium",
        "null priority is the default"
    );
    assert_eq!(reopened["version"], 3);
    assert_eq!(reopened["created_at"], created["created_at"]);
}

async fn oversized_and_non_json_bodies_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.sign_up("big@example.org").await;
    let token = user.access_token.as_str();
    let huge = json!({ "title": "big", "description": "x".repeat(70 * 1024) });
    let body = problem(app.create_task(token, &huge).await, 413).await;
    assert!(body["detail"].as_str().unwrap().contains("65536"));
    // Without a Content-Length too (a streamed body).
    let stream =
        futures_util::stream::iter((0..70).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1024])));
    let response = app
        .request(Method::POST, "", token)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    problem(response, 413).await;

    let response = app
        .request(Method::POST, "", token)
        .header("content-type", "text/plain")
        .body(r#"{"title": "plain"}"#)
        .send()
        .await
        .unwrap();
    problem(response, 415).await;
    // The largest valid task still fits.
    let largest = json!({ "title": "é".repeat(200), "description": "😀".repeat(10_000) });
    assert_eq!(
        app.create_task(token, &largest).await.status().as_u16(),
        201
    );
}

async fn concurrent_writers_never_lose_an_update(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.sign_up("race@example.org").await;
    let token = user.access_token.as_str();
    let (path, _) = new_task(&app, token, json!({ "title": "contested" })).await;

    // Ten writers all holding version 1: exactly one wins, the others get 412.
    let attempts = (0..10).map(|n| {
        app.request(Method::PATCH, &path, token)
            .header("if-match", "\"1\"")
            .json(&json!({ "title": format!("writer {n}") }))
            .send()
    });
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 412).count(),
        9,
        "{statuses:?}"
    );

    // Writers without If-Match touching different fields: every change lands.
    let changes = [
        json!({ "description": "d" }),
        json!({ "priority": "high" }),
        json!({ "due_at": "2031-01-01T00:00:00Z" }),
        json!({ "completed": true }),
    ];
    let writes = changes.iter().map(|change| app.patch(token, &path, change));
    for response in futures_util::future::join_all(writes).await {
        assert_eq!(response.status().as_u16(), 200);
    }
    let task: Value = app.get(token, &path).await.json().await.unwrap();
    assert_eq!(task["description"], "d");
    assert_eq!(task["priority"], "high");
    assert_eq!(task["due_at"], "2031-01-01T00:00:00Z");
    assert_eq!(task["completed"], true);
    assert_eq!(task["version"], 6);
}
