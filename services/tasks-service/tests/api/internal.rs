//! `DELETE /internal/users/{user_id}/tasks` and the wall between user and service tokens: a
//! service token with `tasks:purge` purges, idempotently; a user token never reaches an
//! internal route, and a service token never acts as a user (403 `insufficient_scope` both
//! ways).

use serde_json::{Value, json};
use service_database::on_both_backends;
use service_database::testing::Backend;

use crate::helpers::{TestApp, problem};

on_both_backends!(
    a_service_token_with_purge_deletes_exactly_one_users_tasks,
    user_and_service_tokens_never_cross
);

async fn purge(app: &TestApp, token: &str, user_id: &str) -> reqwest::Response {
    app.client
        .delete(format!(
            "{}/internal/users/{user_id}/tasks",
            app.tasks_address
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// [`problem`], also checking its `type` (`urn:taskgate:problem:<kind>`) and `detail`.
async fn problem_of(response: reqwest::Response, status: u16, kind: &str, detail: &str) {
    let body = problem(response, status).await;
    assert_eq!(
        (body["type"].as_str(), body["detail"].as_str()),
        (
            Some(format!("urn:taskgate:problem:{kind}").as_str()),
            Some(detail)
        ),
        "{body}"
    );
}

async fn task_count(app: &TestApp, token: &str) -> usize {
    let page: Value = app.get(token, "?limit=100").await.json().await.unwrap();
    page["items"].as_array().unwrap().len()
}

async fn a_service_token_with_purge_deletes_exactly_one_users_tasks(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let alice = app.sign_up("alice@example.org").await;
    let bob = app.sign_up("bob@example.org").await;
    for n in 0..3 {
        let body = json!({ "title": format!("task {n}") });
        assert_eq!(
            app.create_task(&alice.access_token, &body).await.status(),
            201
        );
        assert_eq!(
            app.create_task(&bob.access_token, &body).await.status(),
            201
        );
    }
    let service = app.service_token("tasks:purge", None).await;

    let response = purge(&app, &service, &alice.id).await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({ "user_id": alice.id, "deleted": 3 }));
    assert_eq!(task_count(&app, &alice.access_token).await, 0);
    assert_eq!(
        task_count(&app, &bob.access_token).await,
        3,
        "only Alice's tasks"
    );

    // Idempotent: again, and for a user who never had tasks.
    let again: Value = purge(&app, &service, &alice.id).await.json().await.unwrap();
    assert_eq!(again["deleted"], 0);
    let nobody = uuid::Uuid::now_v7().to_string();
    assert_eq!(purge(&app, &service, &nobody).await.status().as_u16(), 200);
    problem_of(
        purge(&app, &service, "not-a-uuid").await,
        404,
        "not-found",
        "no such task",
    )
    .await;
}

async fn user_and_service_tokens_never_cross(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let alice = app.sign_up("alice@example.org").await;
    let body = json!({ "title": "keep me" });
    assert_eq!(
        app.create_task(&alice.access_token, &body).await.status(),
        201
    );

    // A user token, even the victim's own, cannot purge.
    problem_of(
        purge(&app, &alice.access_token, &alice.id).await,
        403,
        "insufficient-scope",
        "This route is for services; a user's token cannot call it.",
    )
    .await;
    // A service token without `tasks:purge` cannot either.
    let reader = app.service_token("tasks:read", None).await;
    let response = purge(&app, &reader, &alice.id).await;
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains(r#"error="insufficient_scope", scope="tasks:purge""#),
        "{challenge}"
    );
    problem_of(
        response,
        403,
        "insufficient-scope",
        "This request needs the `tasks:purge` scope.",
    )
    .await;
    assert_eq!(task_count(&app, &alice.access_token).await, 1);

    // A service token cannot act as a user, whatever scopes it holds.
    let service = app
        .service_token("tasks:read tasks:write tasks:purge", None)
        .await;
    let as_user = "A service token cannot act as a user; this route needs a user's token.";
    problem_of(
        app.get(&service, "").await,
        403,
        "insufficient-scope",
        as_user,
    )
    .await;
    problem_of(
        app.create_task(&service, &json!({ "title": "x" })).await,
        403,
        "insufficient-scope",
        as_user,
    )
    .await;
    // No token, or a bad one: 401 as everywhere.
    let response = app
        .client
        .delete(format!(
            "{}/internal/users/{}/tasks",
            app.tasks_address, alice.id
        ))
        .send()
        .await
        .unwrap();
    problem_of(
        response,
        401,
        "missing-token",
        "Send an access token in the header `Authorization: Bearer <token>`.",
    )
    .await;
    problem_of(
        purge(&app, "not.a.token", &alice.id).await,
        401,
        "invalid-token",
        "the token is not a well-formed JWT",
    )
    .await;
    // A token meant for another service (its client's audience) is not for this one.
    let elsewhere = app.service_token("tasks:purge", Some("billing-api")).await;
    problem_of(
        purge(&app, &elsewhere, &alice.id).await,
        401,
        "invalid-token",
        "the token is not intended for this service",
    )
    .await;
    assert_eq!(task_count(&app, &alice.access_token).await, 1);
}
