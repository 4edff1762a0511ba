//! The password rule for new passwords: no common or breached password, not the email.

use serde_json::{Value, json};
use service_database::on_both_backends;
use service_database::testing::Backend;

use crate::helpers::{PASSWORD, TestApp, problem};

on_both_backends!(
    sign_up_refuses_common_passwords_and_the_email,
    password_change_refuses_common_passwords_and_the_email,
);

/// A 422 naming `field`, whose message contains `says`.
async fn refused(response: reqwest::Response, field: &str, says: &str) {
    let body = problem(response, 422).await;
    assert_eq!(body["errors"][0]["field"], field, "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains(says), "{message}");
}

async fn sign_up_refuses_common_passwords_and_the_email(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sign_up = |email: &str, password: &str| {
        let body = json!({ "email": email, "password": password });
        let app = &app;
        async move { app.post_json("/api/auth/sign-up", &body).await }
    };
    // On the list, in any case.
    for common in ["password1", "Password123", "QWERTYUIOP", "iloveyou!"] {
        refused(
            sign_up("carol@example.org", common).await,
            "password",
            "too common",
        )
        .await;
    }
    for same in [
        "Carol.Jones@Example.org",
        "carol.jones@example.org",
        "CAROL.JONES",
    ] {
        refused(
            sign_up("Carol.Jones@example.org", same).await,
            "password",
            "email",
        )
        .await;
    }
    // Nothing was created: the email is still free.
    assert_eq!(
        sign_up("Carol.Jones@example.org", PASSWORD).await.status(),
        201
    );
}

async fn password_change_refuses_common_passwords_and_the_email(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens: Value = app.sign_up("dave@example.org").await.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let change = |new: &str| {
        app.client
            .post(app.url("/api/auth/password"))
            .bearer_auth(&access)
            .json(&json!({ "current_password": PASSWORD, "new_password": new }))
            .send()
    };
    refused(
        change("Sunshine1").await.unwrap(),
        "new_password",
        "too common",
    )
    .await;
    refused(
        change("letmein123").await.unwrap(),
        "new_password",
        "too common",
    )
    .await;
    refused(
        change("dave@example.org").await.unwrap(),
        "new_password",
        "email",
    )
    .await;
    refused(change("Dave").await.unwrap(), "new_password", "at least 8").await;
    // The old password still works; a good new one is taken.
    assert_eq!(change("a new long passphrase").await.unwrap().status(), 204);
}
