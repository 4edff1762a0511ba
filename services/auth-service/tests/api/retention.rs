//! Housekeeping prunes what no rule reads any more (sign-in failure counters, used refresh
//! tokens, ended sessions, delivered account deletions) once past the retention, a bounded
//! batch of each per pass. The pass is run here directly, with "now" moved past the retention.

use auth_service::entities::{purge_outbox, refresh_tokens, sessions, sign_in_failures};
use auth_service::retention::{Pruned, Retention, prune_once};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use service_database::on_both_backends;
use service_database::testing::Backend;

use crate::helpers::{PASSWORD, TestApp};

on_both_backends!(rows_past_their_retention_are_pruned_in_bounded_batches);

/// Rows per table: sign-in failures, refresh tokens, sessions, purge outbox.
async fn rows(db: &DatabaseConnection) -> [u64; 4] {
    [
        sign_in_failures::Entity::find().count(db).await.unwrap(),
        refresh_tokens::Entity::find().count(db).await.unwrap(),
        sessions::Entity::find().count(db).await.unwrap(),
        purge_outbox::Entity::find().count(db).await.unwrap(),
    ]
}

async fn signed_up(app: &TestApp, email: &str) -> Value {
    let response = app.sign_up(email).await;
    assert_eq!(response.status().as_u16(), 201);
    response.json().await.unwrap()
}

fn field<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name].as_str().unwrap()
}

async fn rows_past_their_retention_are_pruned_in_bounded_batches(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (db, _) = app.key_admin().await;

    // Three ended sessions (signed out).
    for n in 0..3 {
        let tokens = signed_up(&app, &format!("ended{n}@example.org")).await;
        let out = app
            .client
            .post(app.url("/api/auth/sign-out"))
            .bearer_auth(field(&tokens, "access_token"))
            .send()
            .await
            .unwrap();
        assert_eq!(out.status().as_u16(), 204);
    }
    // A live session whose first refresh token is used up.
    let live = signed_up(&app, "live@example.org").await;
    let refreshed = app
        .post_json(
            "/api/auth/refresh",
            &json!({ "refresh_token": field(&live, "refresh_token") }),
        )
        .await;
    assert_eq!(refreshed.status().as_u16(), 200);
    let successor: Value = refreshed.json().await.unwrap();
    // Failure counters.
    assert_eq!(
        app.sign_in("live@example.org", "not the password")
            .await
            .status()
            .as_u16(),
        401
    );
    // A delivered account deletion.
    let gone = signed_up(&app, "gone@example.org").await;
    let deleted = app
        .client
        .delete(app.url("/api/auth/account"))
        .bearer_auth(field(&gone, "access_token"))
        .json(&json!({ "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 204);
    purge_outbox::Entity::update_many()
        .col_expr(
            purge_outbox::Column::DeliveredAt,
            Expr::value(auth_service::clock::now()),
        )
        .filter(purge_outbox::Column::DeliveredAt.is_null())
        .exec(&db)
        .await
        .unwrap();

    let before = rows(&db).await;
    let [failures, _, sessions_before, outbox] = before;
    // The deletion's purge and its final sweep.
    assert!(failures >= 1 && outbox == 2, "{before:?}");
    assert_eq!(sessions_before, 4, "three ended, one live");

    let retention = Retention {
        keep: chrono::Duration::days(30),
        batch_size: 2,
    };
    let now = chrono::Utc::now();
    // Within the retention, nothing goes.
    assert_eq!(
        prune_once(&db, &retention, now).await.unwrap(),
        Pruned::default()
    );
    assert_eq!(rows(&db).await, before);

    // Past it: at most two rows of each kind per pass; the third ended session waits.
    let later = now + chrono::Duration::days(31);
    let first = prune_once(&db, &retention, later).await.unwrap();
    assert_eq!(first.ended_sessions, 2, "{first:?}");
    assert_eq!(first.used_refresh_tokens, 1, "{first:?}");
    assert_eq!(first.delivered_purges, 2, "{first:?}");
    assert_eq!(first.sign_in_failures, failures.min(2), "{first:?}");
    assert_eq!(
        rows(&db).await[2],
        2,
        "one ended session left, and the live one"
    );
    let second = prune_once(&db, &retention, later).await.unwrap();
    assert_eq!(second.ended_sessions, 1, "{second:?}");
    for _ in 0..failures {
        if prune_once(&db, &retention, later).await.unwrap() == Pruned::default() {
            break;
        }
    }

    // What is left: the live session and its unused refresh token, which still works.
    assert_eq!(rows(&db).await, [0, 1, 1, 0]);
    let again = app
        .post_json(
            "/api/auth/refresh",
            &json!({ "refresh_token": field(&successor, "refresh_token") }),
        )
        .await;
    assert_eq!(again.status().as_u16(), 200);
    let _ = db.close().await;
}
