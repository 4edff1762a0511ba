//! The token lifecycle seen from the tasks-service, end to end against the real auth-service:
//! revocations reach it through the feed within a second (no call per request), the feed is
//! followed again after the auth-service restarts, and key rotations never break a valid token.

use std::time::{Duration, Instant};

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use service_database::on_both_backends;
use service_database::testing::Backend;
use service_runtime::testing::eventually;

use crate::helpers::{TestApp, claim, header_kid, problem};

on_both_backends!(
    revoked_access_tokens_fail_within_one_second,
    sign_out_revocation_delay_over_50_sessions,
    after_an_auth_restart_that_lost_its_history_the_feed_resets,
    tokens_issued_before_and_after_two_rotations_all_work,
);

/// The time a revocation may take to reach the tasks-service (docs/architecture.md,
/// "Revocation feed": within about a second).
const REVOCATION_BOUND: Duration = Duration::from_secs(1);

/// Polls the tasks-service with `token` every 5 ms until it is refused; the time that took
/// since `since`. Fails if the token is still accepted after [`REVOCATION_BOUND`].
async fn time_until_refused(app: &TestApp, token: &str, since: Instant) -> Duration {
    loop {
        let status = app.get(token, "").await.status().as_u16();
        if status == 401 {
            return since.elapsed();
        }
        assert_eq!(status, 200);
        assert!(
            since.elapsed() < REVOCATION_BOUND,
            "still accepted after {REVOCATION_BOUND:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn sign_out(app: &TestApp, token: &str) {
    let response = app.auth_post(token, "/api/auth/sign-out", &json!({})).await;
    assert_eq!(response.status().as_u16(), 204);
}

async fn revoked_access_tokens_fail_within_one_second(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.wait_for_revocation_feed().await;

    // Sign-out.
    let user = app.sign_up_tokens("out@example.org").await;
    let token = user["access_token"].as_str().unwrap();
    assert_eq!(app.get(token, "").await.status().as_u16(), 200);
    let start = Instant::now();
    assert_eq!(
        app.auth_post(token, "/api/auth/sign-out", &json!({}))
            .await
            .status()
            .as_u16(),
        204
    );
    time_until_refused(&app, token, start).await;

    // Revoking one session from another.
    let doomed = app.sign_up_tokens("sessions@example.org").await;
    let keeper = app.sign_in_tokens("sessions@example.org").await;
    let doomed_token = doomed["access_token"].as_str().unwrap();
    let keeper_token = keeper["access_token"].as_str().unwrap();
    let sid = claim(doomed_token, "sid");
    let start = Instant::now();
    let deleted = app
        .client
        .delete(format!("{}/api/auth/sessions/{sid}", app.auth_address))
        .bearer_auth(keeper_token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 204);
    time_until_refused(&app, doomed_token, start).await;
    assert_eq!(app.get(keeper_token, "").await.status().as_u16(), 200);

    // A password change ends every other session.
    let other = app.sign_up_tokens("pw@example.org").await;
    let here = app.sign_in_tokens("pw@example.org").await;
    let other_token = other["access_token"].as_str().unwrap();
    let here_token = here["access_token"].as_str().unwrap();
    let start = Instant::now();
    let changed = app
        .auth_post(
            here_token,
            "/api/auth/password",
            &json!({ "current_password": crate::helpers::PASSWORD, "new_password": "another long passphrase" }),
        )
        .await;
    assert_eq!(changed.status().as_u16(), 204);
    time_until_refused(&app, other_token, start).await;
    assert_eq!(app.get(here_token, "").await.status().as_u16(), 200);

    // No call per request: with the auth-service gone, valid tokens still work.
    app.stop_auth_service().await;
    for _ in 0..20 {
        assert_eq!(app.get(here_token, "").await.status().as_u16(), 200);
    }
    let refused = problem(app.get(other_token, "").await, 401).await;
    assert!(
        refused["detail"].as_str().unwrap().contains("revoked"),
        "{refused}"
    );
}

/// The revocation delay the closing note reports: sign-out to the first 401 at the
/// tasks-service, over 50 sessions. Printed; each bounded by the 1 s requirement.
async fn sign_out_revocation_delay_over_50_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.wait_for_revocation_feed().await;
    app.sign_up_tokens("many@example.org").await;
    let mut delays = Vec::new();
    for _ in 0..50 {
        let tokens = app.sign_in_tokens("many@example.org").await;
        let token = tokens["access_token"].as_str().unwrap();
        assert_eq!(app.get(token, "").await.status().as_u16(), 200);
        let start = Instant::now();
        assert_eq!(
            app.auth_post(token, "/api/auth/sign-out", &json!({}))
                .await
                .status()
                .as_u16(),
            204
        );
        delays.push(time_until_refused(&app, token, start).await);
    }
    delays.sort();
    eprintln!(
        "revocation delay over {} sign-outs ({backend:?}): median {:?}, worst {:?}",
        delays.len(),
        delays[delays.len() / 2],
        delays[delays.len() - 1]
    );
}

/// The auth-service restarts from a database restored from before its last revocation (its
/// log starts again): the tasks-service's cursor is unknown there, so it gets a snapshot
/// (`reset`) and replaces its whole set with the auth-service's, and new revocations reach it
/// within a second again.
async fn after_an_auth_restart_that_lost_its_history_the_feed_resets(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    app.wait_for_revocation_feed().await;
    let forgotten = app.sign_up_tokens("restored@example.org").await;
    let forgotten = forgotten["access_token"].as_str().unwrap();
    let later = app.sign_in_tokens("restored@example.org").await;
    let later = later["access_token"].as_str().unwrap();
    let start = Instant::now();
    sign_out(&app, forgotten).await;
    time_until_refused(&app, forgotten, start).await;

    app.stop_auth_service().await;
    let auth_db = app.auth_db().await;
    auth_db
        .execute_unprepared("DELETE FROM revocations")
        .await
        .unwrap();
    let restart_ids = if auth_db.get_database_backend() == sea_orm::DbBackend::Postgres {
        "ALTER SEQUENCE revocations_id_seq RESTART WITH 1"
    } else {
        "DELETE FROM sqlite_sequence WHERE name = 'revocations'"
    };
    auth_db.execute_unprepared(restart_ids).await.unwrap();
    let _ = auth_db.close().await;
    app.start_auth_service().await;
    app.wait_for_revocation_feed().await;

    let start = Instant::now();
    sign_out(&app, later).await;
    time_until_refused(&app, later, start).await;
    // The snapshot replaced the set: the revocation the auth-service no longer knows is gone
    // at the tasks-service too (its session is still ended at the auth-service itself).
    assert_eq!(app.get(forgotten, "").await.status().as_u16(), 200);
}

/// Tokens the auth-service issued with three keys: before any rotation, after one, after two.
/// The third key was unknown to the tasks-service when it first cached the JWKS (it was
/// published by the first rotation), so accepting its token means the tasks-service fetched
/// the new JWKS. The older tokens keep working: retired keys stay published.
async fn tokens_issued_before_and_after_two_rotations_all_work(backend: Backend) {
    let app = TestApp::spawn_with_auth(backend, |auth| auth.keys.reload_interval_secs = 1).await;
    app.sign_up("rotation@example.org").await;
    let mut tokens = Vec::new();
    for rotations in 0..3 {
        if rotations > 0 {
            let new_current = app.rotate_keys().await;
            // The auth-service's housekeeping picks the new key up within a second.
            eventually(Duration::from_secs(10), "the new key signing", async || {
                let issued = app.sign_in_tokens("rotation@example.org").await;
                header_kid(issued["access_token"].as_str().unwrap()) == new_current
            })
            .await;
        }
        let issued = app.sign_in_tokens("rotation@example.org").await;
        let token = issued["access_token"].as_str().unwrap().to_owned();
        let title = json!({ "title": format!("after {rotations} rotations") });
        if rotations < 2 {
            // Its key was in the JWKS the tasks-service cached at start.
            let created = app.create_task(&token, &title).await;
            assert_eq!(
                created.status().as_u16(),
                201,
                "after {rotations} rotations"
            );
        } else {
            // An unknown `kid`: refused until the tasks-service fetches the new JWKS, which it
            // does at once, or 5 s after its previous fetch at the soonest.
            let took = eventually(
                Duration::from_secs(15),
                "the new JWKS fetched",
                async || app.create_task(&token, &title).await.status().as_u16() == 201,
            )
            .await;
            println!("the third key's token was accepted after {took:?}");
        }
        tokens.push(token);
    }
    let kids: Vec<String> = tokens.iter().map(|t| header_kid(t)).collect();
    assert!(kids[0] != kids[1] && kids[1] != kids[2], "{kids:?}");
    for token in &tokens {
        let list: Value = app.get(token, "").await.json().await.unwrap();
        assert_eq!(list["items"].as_array().unwrap().len(), 3);
    }
}
