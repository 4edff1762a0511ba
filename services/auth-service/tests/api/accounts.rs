use serde_json::{Value, json};
use service_database::on_both_backends;
use service_database::testing::Backend;

use crate::helpers::{PASSWORD, TestApp, problem, problem_of};

on_both_backends!(
    sign_up_sign_in_and_me,
    sign_up_rejects_bad_input,
    sign_in_failures_are_indistinguishable,
    refresh_tokens_rotate_and_are_single_use,
);

async fn sign_up_sign_in_and_me(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app.sign_up("  Alice@Example.ORG ").await;
    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert!(response.headers().contains_key("x-request-id"));
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in [
        "taskgate_refresh=",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/api/auth",
    ] {
        assert!(
            cookie.contains(attribute),
            "{attribute} missing from {cookie}"
        );
    }
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["user"]["email"], "Alice@example.org");
    assert!(body["refresh_token"].as_str().unwrap().len() >= 43);
    assert!(body.get("password").is_none() && body["user"].get("password_hash").is_none());

    // The domain is case-insensitive and surrounding spaces are ignored.
    let response = app.sign_in("Alice@EXAMPLE.org ", PASSWORD).await;
    assert_eq!(response.status().as_u16(), 200);
    let signed_in: Value = response.json().await.unwrap();
    assert_eq!(signed_in["user"]["id"], body["user"]["id"]);

    let me: Value = app
        .get_authed("/api/auth/me", signed_in["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], body["user"]["id"]);
    assert_eq!(me["email"], "Alice@example.org");

    let response = app
        .client
        .get(app.url("/api/auth/me"))
        .send()
        .await
        .unwrap();
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    problem_of(response, 401, "missing-token").await;
    let response = app.get_authed("/api/auth/me", "not.a.token").await;
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    let body = problem_of(response, 401, "invalid-token").await;
    assert_eq!(body["detail"], "the token is not a well-formed JWT");
}

async fn sign_up_rejects_bad_input(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let body = problem(app.sign_up("not-an-email").await, 422).await;
    assert_eq!(body["errors"][0]["field"], "email");
    let short = app
        .post_json(
            "/api/auth/sign-up",
            &json!({ "email": "bob@example.org", "password": "short" }),
        )
        .await;
    let body = problem(short, 422).await;
    assert_eq!(body["errors"][0]["field"], "password");
    assert_eq!(
        body["errors"][0]["message"],
        "password must be at least 8 characters"
    );
    let long = app
        .post_json(
            "/api/auth/sign-up",
            &json!({ "email": "bob@example.org", "password": "x".repeat(129) }),
        )
        .await;
    let body = problem(long, 422).await;
    assert_eq!(body["errors"][0]["field"], "password");
    assert_eq!(
        body["errors"][0]["message"],
        "password must be at most 128 characters"
    );
    let unknown_field = app
        .post_json(
            "/api/auth/sign-up",
            &json!({ "email": "bob@example.org", "password": PASSWORD, "is_admin": true }),
        )
        .await;
    let body = problem_of(unknown_field, 400, "bad-request").await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("unknown field `is_admin`"), "{detail}");
    let malformed = app
        .client
        .post(app.url("/api/auth/sign-up"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    let body = problem_of(malformed, 400, "bad-request").await;
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("invalid JSON body") && detail.contains("EOF"),
        "{detail}"
    );

    assert_eq!(app.sign_up("bob@example.org").await.status().as_u16(), 201);
    let duplicate = problem(app.sign_up("bob@EXAMPLE.org").await, 409).await;
    assert_eq!(duplicate["type"], "urn:taskgate:problem:email-taken");
}

async fn sign_in_failures_are_indistinguishable(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(
        app.sign_up("carol@example.org").await.status().as_u16(),
        201
    );

    let wrong_password = problem_of(
        app.sign_in("carol@example.org", "wrong password!").await,
        401,
        "invalid-credentials",
    )
    .await;
    assert_eq!(wrong_password["detail"], "email or password is incorrect");
    let unknown_email = problem(app.sign_in("nobody@example.org", PASSWORD).await, 401).await;
    let malformed_email = problem(app.sign_in("nobody", PASSWORD).await, 401).await;
    for body in [&unknown_email, &malformed_email] {
        assert_eq!(body["type"], wrong_password["type"]);
        assert_eq!(body["title"], wrong_password["title"]);
        assert_eq!(body["detail"], wrong_password["detail"]);
    }
}

async fn refresh_tokens_rotate_and_are_single_use(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let signed_up: Value = app.sign_up("dave@example.org").await.json().await.unwrap();
    let first = signed_up["refresh_token"].as_str().unwrap();

    let response = app
        .post_json("/api/auth/refresh", &json!({ "refresh_token": first }))
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let rotated: Value = response.json().await.unwrap();
    let second = rotated["refresh_token"].as_str().unwrap();
    assert_ne!(first, second);
    assert_ne!(rotated["access_token"], signed_up["access_token"]);
    assert_eq!(rotated["user"]["email"], "dave@example.org");

    // Without a token in the body (cookie mode), the HttpOnly cookie set by the last response
    // is used; its successor is only in the new cookie (tests/api/browser.rs has the rules).
    let via_cookie = app.refresh_with_cookie(&app.address).await;
    assert_eq!(via_cookie.status().as_u16(), 200);
    let third: Value = via_cookie.json().await.unwrap();
    assert!(third.get("refresh_token").is_none(), "{third}");
    let me = app
        .get_authed("/api/auth/me", third["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me.status().as_u16(), 200);

    for bad in [
        json!({ "refresh_token": "garbage" }),
        json!({ "refresh_token": "x".repeat(500) }),
    ] {
        problem_of(
            app.post_json("/api/auth/refresh", &bad).await,
            401,
            "invalid-refresh-token",
        )
        .await;
    }
    let body = problem_of(
        app.post_json("/api/auth/refresh", &json!({ "token": "x" }))
            .await,
        400,
        "bad-request",
    )
    .await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("unknown field `token`"), "{detail}");

    // Single use: the consumed token is refused (and, being a reuse, ends the session:
    // see sessions::a_reused_refresh_token_revokes_its_family).
    let reused = app
        .post_json("/api/auth/refresh", &json!({ "refresh_token": first }))
        .await;
    problem_of(reused, 401, "invalid-refresh-token").await;
}
