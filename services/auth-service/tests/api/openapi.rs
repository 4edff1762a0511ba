//! `GET /openapi.json` of the auth-service, held against docs/architecture.md, "HTTP contract"
//! (the table below), the running app and the house rules. The generic checks live in
//! `http_problem::openapi_conformance` (shared with the tasks-service's test; its module docs
//! say what each guards against); this file has what is the auth-service's own: its routes,
//! which credentials each takes, the RFC 6749 error JSON on `/oauth/*`, and a real session.

use http_problem::openapi_conformance::{
    PROBLEM_ERRORS, assert_answer_fits, assert_bearer_scheme, assert_errors_are,
    assert_every_operation_is_served, assert_lists_exactly, assert_other_methods_are_405,
    assert_public, assert_refs_resolve_and_operation_ids_unique, assert_requires_bearer,
    fetch_spec,
};
use serde_json::{Value, json};
use service_database::testing::Backend;

use crate::helpers::TestApp;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Auth {
    /// No credentials.
    Public,
    /// A user access token: `security: [{bearer: []}]`.
    Bearer,
    /// A confidential OAuth client (HTTP Basic, or the form fields).
    Client,
    /// `/oauth/token`: a confidential client, or none for the public client's refresh grant.
    OptionalClient,
}

/// docs/architecture.md, "HTTP contract": the auth-service table plus the routes both services
/// serve. The spec must list exactly these.
const CONTRACT: &[(&str, &str, Auth)] = &[
    ("POST", "/api/auth/sign-up", Auth::Public),
    ("POST", "/api/auth/sign-in", Auth::Public),
    ("POST", "/api/auth/refresh", Auth::Public),
    ("POST", "/api/auth/sign-out", Auth::Bearer),
    ("GET", "/api/auth/me", Auth::Bearer),
    ("GET", "/api/auth/sessions", Auth::Bearer),
    ("DELETE", "/api/auth/sessions/{id}", Auth::Bearer),
    ("POST", "/api/auth/password", Auth::Bearer),
    ("DELETE", "/api/auth/account", Auth::Bearer),
    ("GET", "/.well-known/jwks.json", Auth::Public),
    ("GET", "/.well-known/openid-configuration", Auth::Public),
    (
        "GET",
        "/.well-known/oauth-authorization-server",
        Auth::Public,
    ),
    ("POST", "/oauth/token", Auth::OptionalClient),
    ("POST", "/oauth/revoke", Auth::Client),
    ("POST", "/oauth/introspect", Auth::Client),
    ("GET", "/api/auth/revocations", Auth::Bearer),
    ("GET", "/healthz", Auth::Public),
    ("GET", "/readyz", Auth::Public),
    ("GET", "/openapi.json", Auth::Public),
    ("GET", "/metrics", Auth::Public),
];

async fn spawn() -> (TestApp, Value) {
    // The document does not depend on the database: SQLite is enough.
    let app = TestApp::spawn(Backend::Sqlite).await;
    let spec = fetch_spec(&app.url("")).await;
    (app, spec)
}

#[tokio::test]
async fn the_spec_is_openapi_3_1_and_lists_exactly_the_contract_routes() {
    let (_app, spec) = spawn().await;
    assert_lists_exactly(&spec, CONTRACT.iter().map(|(m, p, _)| (*m, *p)));
}

#[tokio::test]
async fn every_documented_operation_is_served_and_answers_a_documented_status() {
    let (app, spec) = spawn().await;
    assert_every_operation_is_served(&spec, &app.url("")).await;
}

#[tokio::test]
async fn a_documented_path_answers_its_other_methods_with_405_and_allow() {
    let (app, spec) = spawn().await;
    assert_other_methods_are_405(&spec, &app.url("")).await;
}

#[tokio::test]
async fn every_error_is_problem_json_or_an_oauth_error() {
    let (_app, spec) = spawn().await;
    // RFC 6749 §5.2 fixes the error body of the OAuth endpoints; everything else is RFC 9457.
    assert_errors_are(&spec, |path| {
        if path.starts_with("/oauth/") {
            ("application/json", "#/components/schemas/OAuthErrorBody")
        } else {
            PROBLEM_ERRORS
        }
    });
}

#[tokio::test]
async fn security_schemes_match_the_contract() {
    let (_app, spec) = spawn().await;
    assert_bearer_scheme(&spec);
    let schemes = &spec["components"]["securitySchemes"];
    assert_eq!(schemes["client_basic"]["type"], "http");
    assert_eq!(schemes["client_basic"]["scheme"], "basic");

    for (method, path, auth) in CONTRACT {
        match auth {
            Auth::Public => assert_public(&spec, method, path),
            Auth::Bearer => assert_requires_bearer(&spec, method, path, &[401]),
            Auth::Client | Auth::OptionalClient => {
                // client_basic among the alternatives (the form fields are another, and the
                // public client's refresh grant a third on /oauth/token).
                let operation = &spec["paths"][*path][method.to_lowercase()];
                let security = &operation["security"];
                let names_client_basic = security.as_array().is_some_and(|requirements| {
                    requirements.iter().any(|r| {
                        r.as_object()
                            .is_some_and(|o| o.keys().eq(["client_basic"].iter()))
                    })
                });
                assert!(
                    names_client_basic,
                    "{method} {path} must name client_basic: {security}"
                );
                assert!(
                    operation["responses"]["401"].is_object(),
                    "{method} {path} authenticates clients but documents no 401"
                );
            }
        }
    }
}

#[tokio::test]
async fn refs_resolve_and_operation_ids_are_unique() {
    let (_app, spec) = spawn().await;
    assert_refs_resolve_and_operation_ids_unique(&spec);
}

/// The success answers of a real session fit the schemas the spec gives them.
#[tokio::test]
async fn real_answers_fit_their_documented_schemas() {
    let (app, spec) = spawn().await;

    let tokens = assert_answer_fits(
        &spec,
        "POST",
        "/api/auth/sign-up",
        201,
        app.sign_up("openapi@example.org").await,
    )
    .await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();

    for path in ["/api/auth/me", "/api/auth/sessions"] {
        let response = app.get_authed(path, access).await;
        assert_answer_fits(&spec, "GET", path, 200, response).await;
    }
    for path in [
        "/healthz",
        "/readyz",
        "/.well-known/jwks.json",
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_answer_fits(&spec, "GET", path, 200, response).await;
    }

    let refreshed = app
        .post_json("/api/auth/refresh", &json!({ "refresh_token": refresh }))
        .await;
    let refreshed = assert_answer_fits(&spec, "POST", "/api/auth/refresh", 200, refreshed).await;

    let (client_id, secret) = app
        .create_client("openapi", "tokens:introspect tasks:purge")
        .await;
    let issued = app
        .client
        .post(app.url("/oauth/token"))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_answer_fits(&spec, "POST", "/oauth/token", 200, issued).await;

    let refreshed_access = refreshed["access_token"].as_str().unwrap();
    for token in [
        refreshed_access,
        refreshed["refresh_token"].as_str().unwrap(),
        "junk",
    ] {
        let introspected = app
            .client
            .post(app.url("/oauth/introspect"))
            .basic_auth(&client_id, Some(&secret))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap();
        assert_answer_fits(&spec, "POST", "/oauth/introspect", 200, introspected).await;
    }

    // Cookie mode: the same schema without `refresh_token`.
    let via_cookie = app.refresh_with_cookie(&app.address).await;
    assert_answer_fits(&spec, "POST", "/api/auth/refresh", 200, via_cookie).await;

    let sign_out = app
        .client
        .post(app.url("/api/auth/sign-out"))
        .bearer_auth(refreshed_access)
        .send()
        .await
        .unwrap();
    assert_answer_fits(&spec, "POST", "/api/auth/sign-out", 204, sign_out).await;
    let feed = app.get_feed("").await;
    let feed = assert_answer_fits(&spec, "GET", "/api/auth/revocations", 200, feed).await;
    assert!(!feed["sessions"].as_array().unwrap().is_empty());
}

/// Every route that hashes a password can answer 503 (the hash queue is full) and 429 (a
/// throttle); the document says so.
#[tokio::test]
async fn routes_that_hash_document_their_throttle_and_busy_answers() {
    let (_app, spec) = spawn().await;
    for (method, path) in [
        ("post", "/api/auth/sign-up"),
        ("post", "/api/auth/sign-in"),
        ("post", "/api/auth/password"),
        ("delete", "/api/auth/account"),
    ] {
        let responses = &spec["paths"][path][method]["responses"];
        for status in ["422", "429", "503"] {
            if status == "422" && path == "/api/auth/sign-in" {
                continue;
            }
            assert!(
                responses[status].is_object(),
                "{method} {path} documents no {status}"
            );
        }
    }
}
