use serde_json::Value;
use service_database::on_both_backends;
use service_database::testing::Backend;

use crate::helpers::TestApp;

on_both_backends!(oauth_token_endpoint_refreshes_with_rfc6749_errors);

async fn token_request(app: &TestApp, form: &[(&str, &str)]) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/oauth/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    assert_eq!(response.headers()["cache-control"], "no-store");
    (status, response.json().await.unwrap())
}

async fn oauth_token_endpoint_refreshes_with_rfc6749_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens: Value = app.sign_up("oauth@example.org").await.json().await.unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();

    let (status, body) = token_request(
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "tasks:read tasks:write");
    assert_ne!(body["refresh_token"].as_str().unwrap(), refresh);
    let me = app
        .get_authed("/api/auth/me", body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me.status().as_u16(), 200);

    let (status, body) = token_request(
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (400, "invalid_grant")
    );
    let (status, body) =
        token_request(&app, &[("grant_type", "password"), ("username", "x")]).await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (400, "unsupported_grant_type")
    );
    let (status, body) = token_request(&app, &[("grant_type", "refresh_token")]).await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (400, "invalid_request")
    );
    let (status, body) = token_request(&app, &[]).await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (400, "invalid_request")
    );
    let json_body = app
        .client
        .post(app.url("/oauth/token"))
        .json(&serde_json::json!({ "grant_type": "refresh_token" }))
        .send()
        .await
        .unwrap();
    assert_eq!(json_body.status().as_u16(), 400);
    assert_eq!(
        json_body.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );
}
