//! The token lifecycle seen from the tasks-service: revocations reach it through the feed
//! (no call per request), and key rotations never break a valid token.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use service_database::on_both_backends;
use service_database::testing::Backend;

use crate::helpers::{TestApp, problem};

on_both_backends!(
    revoked_access_tokens_fail_within_two_seconds,
    sign_out_revocation_delay_over_50_sessions,
    rotation_never_breaks_a_valid_token,
);

/// Polls the tasks-service with `token` until it is refused; the time that took.
async fn time_until_refused(app: &TestApp, token: &str, since: Instant) -> Duration {
    loop {
        let status = app.get(token, "").await.status().as_u16();
        if status == 401 {
            return since.elapsed();
        }
        assert_eq!(status, 200);
        assert!(
            since.elapsed() < Duration::from_secs(2),
            "still accepted after 2 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn revoked_access_tokens_fail_within_two_seconds(backend: Backend) {
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
    let sid = crate::helpers::claim(doomed_token, "sid");
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
/// tasks-service, over 50 sessions. Printed; bounded by the 2 s requirement.
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

async fn rotation_never_breaks_a_valid_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.sign_up("rotation@example.org").await;
    // The tasks-service has cached the JWKS: the current key and the published next one.
    assert_eq!(app.get(&user.access_token, "").await.status().as_u16(), 200);

    let new_current = app.rotate_keys().await;
    // Take the issuer offline: whatever the tasks-service accepts now comes from the JWKS it
    // cached before the rotation.
    app.stop_auth_service().await;
    let minted = app.mint(&app.claims_for(&user)).await;
    assert_eq!(crate::helpers::header_kid(&minted), new_current);
    let created = app
        .create_task(&minted, &json!({ "title": "signed by the new key" }))
        .await;
    assert_eq!(created.status().as_u16(), 201);
    // A token issued before the rotation keeps working until it expires.
    let list: Value = app.get(&user.access_token, "").await.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}
