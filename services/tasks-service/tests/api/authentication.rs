use serde_json::json;
use service_database::on_both_backends;
use service_database::testing::Backend;

use crate::helpers::{TestApp, problem_of};

on_both_backends!(
    missing_bad_and_expired_tokens_are_401,
    tokens_must_match_issuer_audience_and_scope
);

/// A 401 `invalid-token` whose detail is `detail` (the `auth_core::TokenError` message).
async fn invalid_token(response: reqwest::Response, detail: &str) {
    let body = problem_of(response, 401, "invalid-token").await;
    assert_eq!(body["detail"], detail, "{body}");
}

fn challenge(response: &reqwest::Response) -> String {
    response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned()
}

async fn missing_bad_and_expired_tokens_are_401(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.sign_up("tokens@example.org").await;

    let none = app.client.get(app.tasks_url("")).send().await.unwrap();
    assert!(
        challenge(&none).starts_with("Bearer"),
        "{}",
        challenge(&none)
    );
    problem_of(none, 401, "missing-token").await;

    // Not three base64url segments (an extra character breaks the signature's encoding).
    for bad in ["garbage", "a.b.c", &format!("{}x", user.access_token)] {
        let response = app.get(bad, "").await;
        let header = challenge(&response);
        assert!(
            header.starts_with("Bearer") && header.contains(r#"error="invalid_token""#),
            "{header}"
        );
        invalid_token(response, "the token is not a well-formed JWT").await;
    }
    let basic = app
        .client
        .get(app.tasks_url(""))
        .header("authorization", format!("Basic {}", user.access_token))
        .send()
        .await
        .unwrap();
    invalid_token(basic, "the Authorization header must use the Bearer scheme").await;

    // Signed with the real key, expired beyond the 60 s leeway.
    let mut claims = app.claims_for(&user);
    claims.iat -= 3600;
    claims.nbf -= 3600;
    claims.exp = chrono::Utc::now().timestamp() - 120;
    let expired = app.mint(&claims).await;
    let response = app.get(&expired, "").await;
    let header = challenge(&response);
    assert!(header.contains(r#"error="invalid_token""#), "{header}");
    invalid_token(response, "the token has expired").await;

    // The same claims, unexpired, are accepted: the rejection above was the expiry alone.
    let fresh = app.mint(&app.claims_for(&user)).await;
    assert_eq!(app.get(&fresh, "").await.status().as_u16(), 200);
    assert_eq!(app.get(&user.access_token, "").await.status().as_u16(), 200);
}

async fn tokens_must_match_issuer_audience_and_scope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.sign_up("claims@example.org").await;

    let mut wrong_issuer = app.claims_for(&user);
    wrong_issuer.iss = "http://evil.example".into();
    let mut wrong_audience = app.claims_for(&user);
    wrong_audience.aud = "billing-api".into();
    for (claims, detail) in [
        (wrong_issuer, "the token was issued by an untrusted issuer"),
        (wrong_audience, "the token is not intended for this service"),
    ] {
        let token = app.mint(&claims).await;
        invalid_token(app.get(&token, "").await, detail).await;
    }

    let mut read_only = app.claims_for(&user);
    read_only.scope = "tasks:read".into();
    let token = app.mint(&read_only).await;
    assert_eq!(app.get(&token, "").await.status().as_u16(), 200);
    let response = app
        .create_task(&token, &json!({ "title": "no write scope" }))
        .await;
    assert!(
        challenge(&response).contains(r#"error="insufficient_scope", scope="tasks:write""#),
        "{}",
        challenge(&response)
    );
    let body = problem_of(response, 403, "insufficient-scope").await;
    assert_eq!(
        body["detail"],
        "This request needs the `tasks:write` scope."
    );
}
