//! `GET /api/tasks`: filters, sorts, keyset cursors. The expected answers are computed here,
//! in plain Rust over the tasks as created, and compared with what the service returns.

use std::cmp::Ordering;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use service_database::on_both_backends;
use service_database::testing::Backend;

use tasks_service::listing::Sort;

use crate::helpers::{TestApp, problem};

on_both_backends!(
    filters_select_exactly_the_matching_tasks,
    every_sort_pages_through_every_task_once,
    pages_stay_correct_while_tasks_change,
    cursors_only_work_unchanged_and_where_they_were_made,
    bad_parameters_are_400_naming_them
);

/// A dozen tasks with ties in every sort key, missing due dates, and search traps.
async fn seed(app: &TestApp, token: &str) -> Vec<Value> {
    let fixtures = [
        (
            "alpha",
            "low",
            Some("2030-01-03T00:00:00Z"),
            Some("Buy 100% MILK"),
        ),
        ("bravo", "high", None, None),
        (
            "charlie",
            "medium",
            Some("2030-01-01T00:00:00Z"),
            Some("snake_case"),
        ),
        ("delta", "high", Some("2030-01-03T00:00:00Z"), None),
        ("echo", "low", None, Some("call mum")),
        ("echo", "medium", Some("2030-01-02T00:00:00Z"), None),
        (
            "foxtrot",
            "high",
            Some("2030-01-01T00:00:00Z"),
            Some("snakeXcase"),
        ),
        ("golf milk", "medium", None, None),
        (
            "hotel",
            "low",
            Some("2030-01-05T00:00:00Z"),
            Some("back\\slash"),
        ),
        ("india", "medium", Some("2030-01-02T00:00:00Z"), None),
        ("juliet", "high", None, Some("Semi-skimmed milk")),
        ("kilo", "low", Some("2030-01-04T00:00:00Z"), None),
    ];
    let mut tasks = Vec::new();
    for (n, (title, priority, due_at, description)) in fixtures.into_iter().enumerate() {
        let response = app
            .create_task(
                token,
                &json!({ "title": title, "priority": priority, "due_at": due_at,
                         "description": description }),
            )
            .await;
        assert_eq!(response.status().as_u16(), 201);
        let mut task: Value = response.json().await.unwrap();
        if n % 3 == 0 {
            let path = format!("/{}", task["id"].as_str().unwrap());
            let response = app.patch(token, &path, &json!({ "completed": true })).await;
            assert_eq!(response.status().as_u16(), 200);
            task = response.json().await.unwrap();
        }
        tasks.push(task);
    }
    tasks
}

fn time(value: &Value) -> Option<DateTime<Utc>> {
    value.as_str().map(|s| s.parse().unwrap())
}

fn rank(task: &Value) -> u8 {
    match task["priority"].as_str().unwrap() {
        "low" => 1,
        "medium" => 2,
        "high" => 3,
        other => panic!("priority {other}"),
    }
}

/// The order the service promises for `sort`, ties broken by id in the same direction;
/// tasks without a due date count as due after every dated one.
fn expected_order(tasks: &[Value], sort: &str) -> Vec<Value> {
    let (descending, field) = match sort.strip_prefix('-') {
        Some(field) => (true, field),
        None => (false, sort),
    };
    let mut sorted = tasks.to_vec();
    sorted.sort_by(|a, b| {
        let by_field = match field {
            "created_at" => time(&a["created_at"]).cmp(&time(&b["created_at"])),
            "due_at" => match (time(&a["due_at"]), time(&b["due_at"])) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            },
            "priority" => rank(a).cmp(&rank(b)),
            "title" => a["title"].as_str().cmp(&b["title"].as_str()),
            other => panic!("sort {other}"),
        };
        let order = by_field.then_with(|| a["id"].as_str().cmp(&b["id"].as_str()));
        if descending { order.reverse() } else { order }
    });
    sorted
}

fn ids(tasks: &[Value]) -> Vec<String> {
    tasks
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Every page of `query`, concatenated.
async fn walk(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    walk_from(app, token, query, None).await
}

/// Every page of `query` from `cursor` on, concatenated.
async fn walk_from(app: &TestApp, token: &str, query: &str, cursor: Option<String>) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor = cursor;
    for _ in 0..100 {
        let path = match &cursor {
            Some(c) => format!("?{query}&cursor={c}"),
            None => format!("?{query}"),
        };
        let response = app.get(token, &path).await;
        assert_eq!(response.status().as_u16(), 200, "{path}");
        let page: Value = response.json().await.unwrap();
        all.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return all,
        }
    }
    panic!("more than 100 pages for {query}");
}

async fn filters_select_exactly_the_matching_tasks(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.sign_up("filters@example.org").await;
    let token = user.access_token.as_str();
    let tasks = seed(&app, token).await;
    // Another user's matching tasks never show up.
    let other = app.sign_up("other@example.org").await;
    seed(&app, &other.access_token).await;

    let titles_where = |keep: &dyn Fn(&Value) -> bool| -> Vec<String> {
        let mut titles: Vec<String> = tasks
            .iter()
            .filter(|t| keep(t))
            .map(|t| t["title"].as_str().unwrap().to_owned())
            .collect();
        titles.sort();
        titles
    };
    let due = |t: &Value| time(&t["due_at"]);
    let jan = |day: u32| {
        format!("2030-01-{day:02}T00:00:00Z")
            .parse::<DateTime<Utc>>()
            .unwrap()
    };
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("completed=true", titles_where(&|t| t["completed"] == true)),
        (
            "completed=false",
            titles_where(&|t| t["completed"] == false),
        ),
        ("priority=high", titles_where(&|t| t["priority"] == "high")),
        (
            "due_before=2030-01-03T00:00:00Z",
            titles_where(&|t| due(t).is_some_and(|d| d < jan(3))),
        ),
        (
            "due_after=2030-01-03T00:00:00Z",
            titles_where(&|t| due(t).is_some_and(|d| d >= jan(3))),
        ),
        (
            "due_after=2030-01-02T00:00:00Z&due_before=2030-01-04T00:00:00%2B00:00",
            titles_where(&|t| due(t).is_some_and(|d| d >= jan(2) && d < jan(4))),
        ),
        // Case-insensitive, in the title or the description.
        (
            "q=MiLk",
            vec!["alpha".into(), "golf milk".into(), "juliet".into()],
        ),
        // `%`, `_` and `\` match themselves, not "anything".
        ("q=100%25", vec!["alpha".into()]),
        ("q=snake_case", vec!["charlie".into()]),
        ("q=k%5Cs", vec!["hotel".into()]),
        ("q=%20%20", titles_where(&|_| true)),
        (
            "q=milk&completed=false&priority=high",
            vec!["juliet".into()],
        ),
        ("q=nothing-like-this", vec![]),
    ];
    for (query, expected) in cases {
        let mut titles: Vec<String> = walk(&app, token, &format!("{query}&limit=5"))
            .await
            .iter()
            .map(|t| t["title"].as_str().unwrap().to_owned())
            .collect();
        titles.sort();
        assert_eq!(titles, expected, "{query}");
    }
}

async fn every_sort_pages_through_every_task_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.sign_up("sorts@example.org").await;
    let token = user.access_token.as_str();
    let tasks = seed(&app, token).await;
    let open: Vec<Value> = tasks
        .iter()
        .filter(|t| t["completed"] == false)
        .cloned()
        .collect();

    for sort in Sort::NAMES {
        let expected = ids(&expected_order(&tasks, sort));
        for limit in [1, 2, 5, 12, 100] {
            let got = ids(&walk(&app, token, &format!("sort={sort}&limit={limit}")).await);
            assert_eq!(got, expected, "sort={sort} limit={limit}");
        }
        let got = ids(&walk(&app, token, &format!("sort={sort}&limit=2&completed=false")).await);
        assert_eq!(
            got,
            ids(&expected_order(&open, sort)),
            "open tasks, sort={sort}"
        );
    }
    // No sort means newest first.
    let got = ids(&walk(&app, token, "limit=4").await);
    assert_eq!(got, ids(&expected_order(&tasks, "-created_at")));
}

async fn pages_stay_correct_while_tasks_change(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.sign_up("moving@example.org").await;
    let token = user.access_token.as_str();
    // The list as it is now, kept in step with every change the test makes.
    let mut model = seed(&app, token).await;

    for sort in ["title", "-due_at", "due_at", "priority", "-created_at"] {
        let first: Value = app
            .get(token, &format!("?sort={sort}&limit=4"))
            .await
            .json()
            .await
            .unwrap();
        let first_page = ids(first["items"].as_array().unwrap());
        assert_eq!(first_page, ids(&expected_order(&model, sort)[..4]));
        let cursor = first["next_cursor"].as_str().unwrap().to_owned();

        // Between pages: a task further down is deleted, and tasks are added that sort
        // before and after the cursor.
        let victim = ids(&expected_order(&model, sort))[6].clone();
        assert_eq!(app.delete(token, &format!("/{victim}")).await.status(), 204);
        model.retain(|t| t["id"] != victim.as_str());
        for body in [
            json!({ "title": "aaa", "priority": "low", "due_at": "2029-01-01T00:00:00Z" }),
            json!({ "title": "zzz", "priority": "high" }),
            json!({ "title": "mmm", "priority": "medium", "due_at": "2030-01-02T00:00:00Z" }),
        ] {
            let response = app.create_task(token, &body).await;
            assert_eq!(response.status().as_u16(), 201);
            model.push(response.json().await.unwrap());
        }

        let rest =
            ids(&walk_from(&app, token, &format!("sort={sort}&limit=3"), Some(cursor)).await);
        let now_ordered = ids(&expected_order(&model, sort));
        let last_seen = first_page.last().unwrap();
        let position = now_ordered.iter().position(|id| id == last_seen).unwrap();
        assert_eq!(rest, now_ordered[position + 1..].to_vec(), "sort={sort}");
        assert!(!rest.contains(&victim));
        assert!(first_page.iter().all(|id| !rest.contains(id)));
    }
}

async fn cursors_only_work_unchanged_and_where_they_were_made(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.sign_up("cursor@example.org").await;
    let token = user.access_token.as_str();
    seed(&app, token).await;

    let page: Value = app
        .get(token, "?sort=title&limit=3&completed=false")
        .await
        .json()
        .await
        .unwrap();
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let ok = app
        .get(
            token,
            &format!("?sort=title&limit=3&completed=false&cursor={cursor}"),
        )
        .await;
    assert_eq!(ok.status().as_u16(), 200);

    // A forged cursor: its payload is valid JSON naming another position (the client edited
    // it), sent with the genuine MAC.
    let (payload, mac) = cursor.split_once('.').unwrap();
    let mut position: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    position["id"] = json!(uuid::Uuid::nil());
    let forged = format!(
        "{}.{mac}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&position).unwrap())
    );
    let not_ours = "cursor has been changed or was made by another server";
    let invalid = "cursor is not valid";
    for (query, says) in [
        (
            format!("sort=-title&limit=3&completed=false&cursor={cursor}"),
            "cursor was made for another sort",
        ),
        (
            format!("sort=title&limit=3&cursor={cursor}"),
            "cursor was made for other filters",
        ),
        (
            format!("sort=title&limit=3&completed=true&cursor={cursor}"),
            "cursor was made for other filters",
        ),
        (
            format!("sort=title&limit=3&completed=false&q=a&cursor={cursor}"),
            "cursor was made for other filters",
        ),
        (
            format!("sort=title&limit=3&completed=false&cursor={forged}"),
            not_ours,
        ),
        (
            format!(
                "sort=title&completed=false&cursor={}",
                &cursor[..cursor.len() - 2]
            ),
            invalid,
        ),
        ("cursor=garbage".to_owned(), invalid),
        (format!("cursor={}", "A".repeat(5000)), invalid),
    ] {
        let body = problem(app.get(token, &format!("?{query}")).await, 400).await;
        assert_eq!(body["errors"][0]["field"], "cursor", "{query}");
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.starts_with(says), "{query}: {detail}");
    }
    // The page size may change between pages.
    let ok = app
        .get(
            token,
            &format!("?sort=title&limit=50&completed=false&cursor={cursor}"),
        )
        .await;
    assert_eq!(ok.status().as_u16(), 200);
}

async fn bad_parameters_are_400_naming_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.sign_up("params@example.org").await;
    let token = user.access_token.as_str();
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=-1", "limit"),
        ("limit=abc", "limit"),
        ("sort=hack", "sort"),
        ("sort=-id", "sort"),
        ("completed=yes", "completed"),
        ("priority=urgent", "priority"),
        ("due_before=tomorrow", "due_before"),
        ("due_after=2030-01-01", "due_after"),
        (
            "due_after=2030-02-01T00:00:00Z&due_before=2030-01-01T00:00:00Z",
            "due_after",
        ),
        ("q=%07bell", "q"),
    ] {
        let body = problem(app.get(token, &format!("?{query}")).await, 400).await;
        assert_eq!(body["errors"][0]["field"], field, "{query}");
        assert!(
            body["detail"].as_str().unwrap().contains(field),
            "{query}: {body}"
        );
    }
    let long = "x".repeat(201);
    let body = problem(app.get(token, &format!("?q={long}")).await, 400).await;
    assert_eq!(body["errors"][0]["field"], "q");
    assert_eq!(body["detail"], "q must be at most 200 characters");
    let body = problem(app.get(token, "?colour=red").await, 400).await;
    assert!(
        body["detail"].as_str().unwrap().contains("colour"),
        "{body}"
    );
}
