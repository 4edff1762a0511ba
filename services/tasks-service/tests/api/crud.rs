use serde_json::{Value, json};
use service_database::on_both_backends;
use service_database::testing::Backend;

use crate::helpers::{TestApp, problem};

on_both_backends!(
    task_lifecycle,
    list_pages_with_an_opaque_cursor,
    bad_input_is_a_4xx_problem
);

async fn task_lifecycle(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let alice = app.sign_up("alice@example.org").await;
    let token = alice.access_token.as_str();

    let response = app
        .create_task(
            token,
            &json!({ "title": "  Buy milk ", "description": "semi-skimmed", "priority": "high",
                     "due_at": "2030-01-02T03:04:05+01:00" }),
        )
        .await;
    assert_eq!(response.status().as_u16(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(response.headers()["etag"], "\"1\"");
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    assert_eq!(location, format!("/api/tasks/{id}"));
    assert_eq!(created["title"], "Buy milk");
    assert_eq!(created["description"], "semi-skimmed");
    assert_eq!(created["priority"], "high");
    assert_eq!(created["completed"], false);
    assert_eq!(created["completed_at"], Value::Null);
    assert_eq!(created["due_at"], "2030-01-02T02:04:05Z");
    assert_eq!(created["version"], 1);

    let fetched: Value = app
        .get(token, &format!("/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched, created);

    let response = app
        .patch(
            token,
            &format!("/{id}"),
            &json!({ "completed": true, "description": null }),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["etag"], "\"2\"");
    let updated: Value = response.json().await.unwrap();
    assert_eq!(updated["completed"], true);
    assert!(updated["completed_at"].is_string());
    assert_eq!(
        updated["description"],
        Value::Null,
        "null clears an optional field"
    );
    assert_eq!(updated["title"], "Buy milk", "absent fields are left alone");
    assert_eq!(updated["due_at"], created["due_at"]);
    assert_eq!(updated["version"], 2);

    let reopened: Value = app
        .patch(
            token,
            &format!("/{id}"),
            &json!({ "completed": false, "title": "Buy oat milk" }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(reopened["completed_at"], Value::Null);
    assert_eq!(reopened["title"], "Buy oat milk");

    let list: Value = app.get(token, "").await.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["id"], id);
    assert_eq!(list["next_cursor"], Value::Null);

    assert_eq!(
        app.delete(token, &format!("/{id}")).await.status().as_u16(),
        204
    );
    problem(app.get(token, &format!("/{id}")).await, 404).await;
    problem(app.delete(token, &format!("/{id}")).await, 404).await;
    let list: Value = app.get(token, "").await.json().await.unwrap();
    assert!(list["items"].as_array().unwrap().is_empty());
}

async fn list_pages_with_an_opaque_cursor(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.sign_up("paging@example.org").await;
    let token = user.access_token.as_str();
    let mut created = Vec::new();
    for n in 0..7 {
        let task: Value = app
            .create_task(token, &json!({ "title": format!("task {n}") }))
            .await
            .json()
            .await
            .unwrap();
        created.push(task["id"].as_str().unwrap().to_owned());
    }

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("?limit=3&cursor={c}"),
            None => "?limit=3".to_owned(),
        };
        let page: Value = app.get(token, &path).await.json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|t| t["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    created.reverse();
    assert_eq!(seen, created, "newest first, every task exactly once");

    let default: Value = app.get(token, "").await.json().await.unwrap();
    assert_eq!(default["items"].as_array().unwrap().len(), 7);
}

async fn bad_input_is_a_4xx_problem(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.sign_up("strict@example.org").await;
    let token = user.access_token.as_str();

    // A value that parses but is not acceptable is a 422 naming its field; a body that does
    // not parse as a task (unknown fields included) is a 400 saying why (docs/http-api.md).
    let too_long = "title must be at most 200 characters";
    for (body, status, field, says) in [
        (
            json!({ "title": "" }),
            422,
            Some("title"),
            "title must not be empty",
        ),
        (
            json!({ "title": "   " }),
            422,
            Some("title"),
            "title must not be empty",
        ),
        (
            json!({ "title": "x".repeat(201) }),
            422,
            Some("title"),
            too_long,
        ),
        (
            json!({ "title": "ok", "description": "x".repeat(10_001) }),
            422,
            Some("description"),
            "description must be at most 10000 characters",
        ),
        (
            json!({ "title": "ok", "user_id": user.id }),
            400,
            None,
            "unknown field `user_id`",
        ),
        (
            json!({ "title": "ok", "id": "01935c2e-0000-7000-8000-000000000000" }),
            400,
            None,
            "unknown field `id`",
        ),
        (
            json!({ "title": "ok", "priority": "urgent" }),
            400,
            None,
            "unknown variant `urgent`",
        ),
        (
            json!({ "title": "ok", "due_at": "tomorrow" }),
            400,
            None,
            "input contains invalid characters",
        ),
        (
            json!({ "description": "no title" }),
            400,
            None,
            "missing field `title`",
        ),
    ] {
        let body = problem(app.create_task(token, &body).await, status).await;
        assert_eq!(body["errors"][0]["field"].as_str(), field, "{body}");
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains(says), "{body}");
        if status == 400 {
            assert!(detail.starts_with("invalid JSON body"), "{body}");
        }
    }
    let response = app
        .create_task(token, &json!({ "title": "x".repeat(200) }))
        .await;
    assert_eq!(response.status().as_u16(), 201);

    let task: Value = app
        .create_task(token, &json!({ "title": "valid" }))
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/{}", task["id"].as_str().unwrap());
    for (patch, status, field, says) in [
        (
            json!({ "title": null }),
            422,
            Some("title"),
            "title cannot be null",
        ),
        (
            json!({ "title": "" }),
            422,
            Some("title"),
            "title must not be empty",
        ),
        (
            json!({ "version": 7 }),
            400,
            None,
            "unknown field `version`",
        ),
        (
            json!({ "completed": "yes" }),
            400,
            None,
            "invalid type: string \"yes\", expected a boolean",
        ),
    ] {
        let body = problem(app.patch(token, &path, &patch).await, status).await;
        assert_eq!(body["errors"][0]["field"].as_str(), field, "{body}");
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains(says), "{body}");
        if status == 400 {
            assert!(detail.starts_with("invalid JSON body"), "{body}");
        }
    }

    // A query parameter that cannot be used is a 400 naming it (docs/http-api.md).
    for (query, field) in [
        ("?limit=0", "limit"),
        ("?limit=101", "limit"),
        ("?limit=-1", "limit"),
        ("?limit=abc", "limit"),
        ("?cursor=garbage", "cursor"),
        ("?sort=hack", "sort"),
    ] {
        let body = problem(app.get(token, query).await, 400).await;
        assert_eq!(body["errors"][0]["field"], field, "{query}");
    }
    problem(app.get(token, "/not-a-uuid").await, 404).await;
    problem(app.get(token, "/../../etc/passwd").await, 404).await;

    // A task and a patch are JSON objects: an array is refused as an array, not for what its
    // elements would mean as the fields in order (`["a title"]` must not create a task).
    let mut answers = Vec::new();
    for array in [json!(["a title"]), json!(["not", "an", "object"])] {
        answers.push((
            format!("POST {array}"),
            app.create_task(token, &array).await,
        ));
        answers.push((
            format!("PATCH {array}"),
            app.patch(token, &path, &array).await,
        ));
    }
    let statuses: Vec<(&str, u16)> = answers
        .iter()
        .map(|(what, response)| (what.as_str(), response.status().as_u16()))
        .collect();
    assert!(statuses.iter().all(|(_, s)| *s == 400), "{statuses:?}");
    for (what, response) in answers {
        let body = problem(response, 400).await;
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.starts_with("invalid JSON body")
                && detail.contains("invalid type: sequence, expected struct"),
            "{what}: {body}"
        );
    }
}
