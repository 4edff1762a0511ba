use serde_json::{Value, json};
use service_database::on_both_backends;
use service_database::testing::Backend;

use crate::helpers::{TestApp, problem};

on_both_backends!(another_users_tasks_are_404_and_lists_never_mix);

async fn another_users_tasks_are_404_and_lists_never_mix(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let alice = app.sign_up("alice@example.org").await;
    let bob = app.sign_up("bob@example.org").await;

    let alices: Value = app
        .create_task(&alice.access_token, &json!({ "title": "alice's secret" }))
        .await
        .json()
        .await
        .unwrap();
    let id = alices["id"].as_str().unwrap();
    let path = format!("/{id}");
    app.create_task(&bob.access_token, &json!({ "title": "bob's own" }))
        .await;

    // Bob can neither see, change nor delete Alice's task: each is the same 404 as a task
    // that does not exist, and nothing of it leaks.
    let missing = problem(
        app.get(&bob.access_token, "/01935c2e-0000-7000-8000-000000000000")
            .await,
        404,
    )
    .await;
    assert_eq!(missing["detail"], "no such task");
    let seen = problem(app.get(&bob.access_token, &path).await, 404).await;
    assert_eq!(seen["detail"], missing["detail"]);
    assert!(!seen.to_string().contains("secret"));
    let changed = problem(
        app.patch(&bob.access_token, &path, &json!({ "title": "pwned" }))
            .await,
        404,
    )
    .await;
    assert_eq!(changed["detail"], "no such task");
    let deleted = problem(app.delete(&bob.access_token, &path).await, 404).await;
    assert_eq!(deleted["detail"], "no such task");

    let bobs_list: Value = app.get(&bob.access_token, "").await.json().await.unwrap();
    let titles: Vec<&str> = bobs_list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["bob's own"]);

    // Alice's task is untouched.
    let still: Value = app
        .get(&alice.access_token, &path)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still, alices);
    let alices_list: Value = app.get(&alice.access_token, "").await.json().await.unwrap();
    let titles: Vec<&str> = alices_list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["alice's secret"]);
}
