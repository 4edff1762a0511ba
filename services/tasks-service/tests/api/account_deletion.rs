//! `DELETE /api/auth/account` across both services: the user, their sessions and tokens go at
//! once, and their tasks follow through the auth-service's outbox and the internal purge.

use std::time::{Duration, Instant};

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use service_database::on_both_backends;
use service_database::testing::Backend;
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

async fn deleting_an_account_purges_its_tasks_while_the_tasks_service_runs(backend: Backend) {
    let Some(app) = TestApp::spawn_with_purge(backend).await else {
        return;
    };
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
    loop {
        if app.get(&alice.access_token, "").await.status().as_u16() == 401 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "token still accepted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // …and her tasks are purged within seconds; Bob's stay.
    while tasks_of(&app, &alice.id).await > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "tasks not purged"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(tasks_of(&app, &bob.id).await, 3);
    println!(
        "account deleted: token refused and tasks purged in {:?}",
        started.elapsed()
    );

    // The outbox says delivered; the account cannot sign in any more.
    let auth_db = app.auth_db().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while auth_service::account_deletion::undelivered(&auth_db)
        .await
        .unwrap()
        > 0
    {
        assert!(
            Instant::now() < deadline,
            "the outbox record was never marked delivered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let records = auth_service::account_deletion::list_outbox(&auth_db, 10)
        .await
        .unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].user_id.to_string(), alice.id);
    assert_eq!(records[0].attempts, 0, "delivered on the first attempt");
    let _ = auth_db.close().await;
    let response = app
        .client
        .post(format!("{}/api/auth/sign-in", app.auth_address))
        .json(&json!({ "email": "alice@example.org", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    problem(response, 401).await;
    app.finish().await;
}
