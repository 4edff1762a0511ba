//! `DELETE /api/auth/account` across both services: the user, their sessions and tokens go at
//! once, and their tasks follow through the auth-service's outbox and the internal purge.

use std::time::{Duration, Instant};

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use service_database::testing::Backend;
use service_database::{on_both_backends, on_postgres_only};
use service_runtime::testing::{eventually, gauge};
use tasks_service::entities::tasks;

use crate::helpers::{PASSWORD, TestApp, problem};

on_both_backends!(deleting_an_account_purges_its_tasks_while_the_tasks_service_runs);

async fn tasks_of(app: &TestApp, user_id: &str) -> u64 {
    let db = app.tasks_db().await;
    let count = tasks::Entity::find()
        .filter(tasks::Column::UserId.eq(uuid::Uuid::parse_str(user_id).unwrap()))
        .count(&db)
        .await
        .unwrap();
    let _ = db.close().await;
    count
}

/// Writes a task for `user_id` straight into the tasks database, past the service.
async fn write_directly(app: &TestApp, user_id: &str, title: &str) {
    let tasks_db = app.tasks_db().await;
    let new = tasks_service::task_store::NewTask {
        title: tasks_service::domain::TaskTitle::parse(title).unwrap(),
        description: tasks_service::domain::Description::parse(None).unwrap(),
        due_at: None,
        priority: tasks_service::domain::Priority::Medium,
    };
    let owner = tasks_service::domain::UserId(uuid::Uuid::parse_str(user_id).unwrap());
    tasks_service::task_store::create(&tasks_db, owner, new)
        .await
        .unwrap();
    let _ = tasks_db.close().await;
}

/// `DELETE /api/auth/account` with the user's token and password: 204.
async fn delete_account(app: &TestApp, access_token: &str) {
    let response = app
        .client
        .delete(format!("{}/api/auth/account", app.auth_address))
        .bearer_auth(access_token)
        .json(&json!({ "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
}

/// Waits until the auth-service's outbox holds nothing undelivered.
async fn all_delivered_within(auth_db: &sea_orm::DatabaseConnection, limit: Duration) {
    let undelivered = async || {
        auth_service::account_deletion::undelivered(auth_db)
            .await
            .unwrap()
    };
    eventually(limit, "every purge delivered", async || {
        undelivered().await == 0
    })
    .await;
}

async fn deleting_an_account_purges_its_tasks_while_the_tasks_service_runs(backend: Backend) {
    let app = TestApp::spawn_with_purge(backend).await;
    app.wait_for_revocation_feed().await;
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
    let delete = |password: &str| {
        app.client
            .delete(format!("{}/api/auth/account", app.auth_address))
            .bearer_auth(&alice.access_token)
            .json(&json!({ "password": password }))
            .send()
    };

    // The password is checked again; a wrong one changes nothing.
    let body = problem(delete("not the password").await.unwrap(), 422).await;
    assert_eq!(body["errors"][0]["field"], "password");
    assert_eq!(tasks_of(&app, &alice.id).await, 3);

    assert_eq!(delete(PASSWORD).await.unwrap().status().as_u16(), 204);
    let started = Instant::now();
    // Her access token stops working everywhere within about a second (the feed's cut-off)…
    eventually(Duration::from_secs(3), "her token refused", async || {
        app.get(&alice.access_token, "").await.status().as_u16() == 401
    })
    .await;
    // …and her tasks are purged within seconds; Bob's stay.
    eventually(Duration::from_secs(10), "her tasks purged", async || {
        tasks_of(&app, &alice.id).await == 0
    })
    .await;
    assert_eq!(tasks_of(&app, &bob.id).await, 3);
    println!(
        "account deleted: token refused and tasks purged in {:?}",
        started.elapsed()
    );

    // The outbox says delivered; the account cannot sign in any more.
    let auth_db = app.auth_db().await;
    all_delivered_within(&auth_db, Duration::from_secs(5)).await;
    let records = auth_service::account_deletion::list_outbox(&auth_db, 10)
        .await
        .unwrap();
    let [final_sweep, purge] = &records[..] else {
        panic!("expected the purge and its final sweep: {records:?}")
    };
    assert_eq!(purge.user_id.to_string(), alice.id);
    assert_eq!(purge.attempts, 0, "delivered on the first attempt");
    assert!(purge.delivered_at.is_some());
    // The final sweep waits until every token she held has expired.
    assert_eq!(final_sweep.user_id, purge.user_id);
    assert!(final_sweep.delivered_at.is_none());
    assert_eq!(
        final_sweep.created_at - purge.created_at,
        auth_service::account_deletion::final_sweep_delay(15 * 60)
    );
    let _ = auth_db.close().await;
    let response = app
        .client
        .post(format!("{}/api/auth/sign-in", app.auth_address))
        .json(&json!({ "email": "alice@example.org", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    problem(response, 401).await;
}

on_both_backends!(writes_racing_a_deletion_leave_nothing_behind);

/// Tasks written with her token while her account is being deleted: each either lands before
/// the purge, or is refused once the cut-off arrives, or commits after the purge (its token
/// was verified just before the cut-off) and is taken by the final sweep. The last case is
/// forced once, deterministically, by a write straight into the database after the purge.
async fn writes_racing_a_deletion_leave_nothing_behind(backend: Backend) {
    let app = TestApp::spawn_with_purge(backend).await;
    app.wait_for_revocation_feed().await;
    let alice = app.sign_up("alice@example.org").await;
    // Each writer writes until her token is refused (the feed's cut-off arriving).
    let started = Instant::now();
    let writer = || async {
        let mut written = 0;
        loop {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "her token was never refused"
            );
            let body = json!({ "title": format!("racing {written}") });
            match app
                .create_task(&alice.access_token, &body)
                .await
                .status()
                .as_u16()
            {
                201 => written += 1,
                401 => return written,
                other => panic!("a racing write answered {other}"),
            }
        }
    };
    let deleter = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        delete_account(&app, &alice.access_token).await;
    };
    let (written, ()) = tokio::join!(
        async {
            let counts = futures_util::future::join_all((0..4).map(|_| writer())).await;
            counts.into_iter().sum::<u32>()
        },
        deleter
    );
    assert!(written > 0, "the writers started before the deletion");
    let auth_db = app.auth_db().await;
    all_delivered_within(&auth_db, Duration::from_secs(10)).await;

    // A write whose token was verified before the cut-off, committing after the purge.
    write_directly(&app, &alice.id, "committed after the purge").await;
    assert!(tasks_of(&app, &alice.id).await >= 1);

    // Her tokens' lifetime passes: the final sweep falls due (moved to now) and takes it.
    let now = chrono::Utc::now();
    let moved = auth_service::entities::purge_outbox::Entity::update_many()
        .col_expr(
            auth_service::entities::purge_outbox::Column::CreatedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .col_expr(
            auth_service::entities::purge_outbox::Column::NextAttemptAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(auth_service::entities::purge_outbox::Column::DeliveredAt.is_null())
        .exec(&auth_db)
        .await
        .unwrap();
    assert_eq!(moved.rows_affected, 1, "one final sweep waits");
    eventually(Duration::from_secs(10), "her late task swept", async || {
        tasks_of(&app, &alice.id).await == 0
    })
    .await;
    all_delivered_within(&auth_db, Duration::from_secs(5)).await;
    let _ = auth_db.close().await;
}

on_both_backends!(a_purge_waits_out_a_tasks_service_outage_and_an_auth_restart);
on_postgres_only!(two_auth_replicas_deliver_each_purge_once);

/// The tasks-service is down when the account is deleted; the auth-service restarts; then the
/// tasks-service starts: the tasks are purged, by exactly one successful delivery.
async fn a_purge_waits_out_a_tasks_service_outage_and_an_auth_restart(backend: Backend) {
    let mut app = TestApp::spawn_with_purge_and_tasks_service_down(backend).await;
    let alice = app.sign_up("alice@example.org").await;
    // Her tasks, written straight into the tasks database (the service is down).
    for n in 0..4 {
        write_directly(&app, &alice.id, &format!("task {n}")).await;
    }
    delete_account(&app, &alice.access_token).await;

    // Deliveries fail while the tasks-service is down, and are recorded as attempts.
    let auth_db = app.auth_db().await;
    // The purge (its final sweep, listed first, falls due much later).
    let outbox = async || {
        let records = auth_service::account_deletion::list_outbox(&auth_db, 10)
            .await
            .unwrap();
        assert_eq!(records.len(), 2);
        records.into_iter().last().unwrap()
    };
    eventually(Duration::from_secs(10), "two failed attempts", async || {
        outbox().await.attempts >= 2
    })
    .await;
    let failing = outbox().await;
    assert!(failing.delivered_at.is_none());
    assert!(failing.last_error.is_some());
    // Operators see it in the metrics too.
    assert_eq!(
        gauge(&app.auth_address, "taskgate_purge_outbox_undelivered").await,
        1.0
    );
    assert!(gauge(&app.auth_address, "taskgate_purge_outbox_failed_attempts").await >= 2.0);

    app.restart_auth_service().await;
    app.start_tasks_service().await;
    eventually(Duration::from_secs(10), "her tasks purged", async || {
        tasks_of(&app, &alice.id).await == 0
    })
    .await;
    eventually(Duration::from_secs(5), "marked delivered", async || {
        outbox().await.delivered_at.is_some()
    })
    .await;
    // Delivered once: no attempt is made after success. Absence takes time to show: ten of
    // the worker's 50 ms rounds pass.
    let delivered = outbox().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let later = outbox().await;
    assert_eq!(later.attempts, delivered.attempts);
    assert_eq!(later.delivered_at, delivered.delivered_at);
    assert_eq!(
        gauge(&app.auth_address, "taskgate_purge_outbox_undelivered").await,
        0.0
    );
    assert_eq!(
        gauge(&app.auth_address, "taskgate_purge_outbox_delivered").await,
        1.0
    );
    assert_eq!(
        gauge(
            &app.auth_address,
            "taskgate_purge_outbox_oldest_undelivered_seconds"
        )
        .await,
        0.0
    );
    let _ = auth_db.close().await;
}

/// Two auth-service replicas deliver one outbox (Postgres, where `FOR UPDATE SKIP LOCKED`
/// decides): every deleted account's purge reaches the tasks-service exactly once. A proxy in
/// front of the tasks-service counts the calls and answers slowly, so the replicas' rounds
/// overlap while a delivery is in flight.
async fn two_auth_replicas_deliver_each_purge_once(backend: Backend) {
    let proxy = CountingProxy::start().await;
    let app = TestApp::spawn_with_purge_via(backend, &proxy.url).await;
    *proxy.target.lock().unwrap() = app.tasks_address.clone();
    app.start_auth_replica().await;

    let mut users = Vec::new();
    for n in 0..8 {
        let user = app.sign_up(&format!("user{n}@example.org")).await;
        let body = json!({ "title": "mine" });
        assert_eq!(
            app.create_task(&user.access_token, &body).await.status(),
            201
        );
        users.push(user);
    }
    let deletions = users.iter().map(|user| {
        app.client
            .delete(format!("{}/api/auth/account", app.auth_address))
            .bearer_auth(&user.access_token)
            .json(&json!({ "password": PASSWORD }))
            .send()
    });
    for response in futures_util::future::join_all(deletions).await {
        assert_eq!(response.unwrap().status().as_u16(), 204);
    }

    let auth_db = app.auth_db().await;
    all_delivered_within(&auth_db, Duration::from_secs(20)).await;
    // Later rounds of either replica must not deliver anything again. Absence takes time to
    // show: ten of the workers' 50 ms rounds pass.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let calls = proxy.calls.lock().unwrap().clone();
    for user in &users {
        let path = format!("/internal/users/{}/tasks", user.id);
        assert_eq!(calls.get(&path), Some(&1), "{path}: {calls:?}");
        assert_eq!(tasks_of(&app, &user.id).await, 0);
    }
    assert_eq!(calls.len(), users.len());
    let _ = auth_db.close().await;
}

/// Forwards `DELETE`s to the tasks-service after a pause, counting them by path.
struct CountingProxy {
    url: String,
    target: std::sync::Arc<std::sync::Mutex<String>>,
    calls: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, u32>>>,
}

impl CountingProxy {
    async fn start() -> Self {
        use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
        let target = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let calls = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashMap::new()));
        let (forward_to, counted) = (target.clone(), calls.clone());
        let client = reqwest::Client::new();
        let server = HttpServer::new(move || {
            let (forward_to, counted, client) =
                (forward_to.clone(), counted.clone(), client.clone());
            App::new().default_service(web::to(move |req: HttpRequest| {
                let (forward_to, counted, client) =
                    (forward_to.clone(), counted.clone(), client.clone());
                async move {
                    let path = req.path().to_owned();
                    *counted.lock().unwrap().entry(path.clone()).or_insert(0) += 1;
                    // A slow answer, so the replicas' rounds overlap while it is in flight.
                    tokio::time::sleep(Duration::from_millis(150)).await;
                    let url = format!("{}{path}", forward_to.lock().unwrap());
                    let authorization = req
                        .headers()
                        .get("authorization")
                        .unwrap()
                        .to_str()
                        .unwrap()
                        .to_owned();
                    let answer = client
                        .delete(url)
                        .header("authorization", authorization)
                        .send()
                        .await
                        .unwrap();
                    let status = answer.status().as_u16();
                    let body = answer.bytes().await.unwrap();
                    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
                        .content_type("application/json")
                        .body(body)
                }
            }))
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .unwrap();
        let url = format!("http://127.0.0.1:{}", server.addrs()[0].port());
        tokio::spawn(server.run());
        Self { url, target, calls }
    }
}
