//! What a browser app relies on: cookie mode keeps the refresh token out of JavaScript, a
//! cookie-mode request must be JSON from an allowed origin (CSRF), CORS answers the listed
//! origins with credentials, and `/refresh` reads at most 16 KiB.

use serde_json::{Value, json};
use service_database::on_both_backends;
use service_database::testing::Backend;

use crate::helpers::{PASSWORD, TestApp, problem_of};

/// A page of another origin the deployment lists in `AUTH__HTTP__ALLOWED_ORIGINS`.
const APP_ORIGIN: &str = "http://app.example";

on_both_backends!(
    cookie_mode_keeps_the_refresh_token_out_of_the_body,
    cookie_mode_needs_json_from_an_allowed_origin,
    a_dead_refresh_cookie_is_removed_but_not_one_that_lost_a_race,
);

async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |settings| {
        settings.http.allowed_origins = vec![APP_ORIGIN.into()];
    })
    .await
}

fn refresh_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("taskgate_refresh="))
        .unwrap_or_else(|| panic!("no refresh cookie in {:?}", response.headers()))
        .to_owned()
}

async fn sign_in_with_cookie(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/auth/sign-in"))
        .header("origin", origin)
        .json(&json!({
            "email": "browser@example.org",
            "password": PASSWORD,
            "refresh_token_delivery": "cookie",
        }))
        .send()
        .await
        .unwrap()
}

async fn cookie_mode_keeps_the_refresh_token_out_of_the_body(backend: Backend) {
    let app = spawn(backend).await;
    // Body mode (the default) still hands the token to non-browser clients.
    let signed_up: Value = app
        .sign_up("browser@example.org")
        .await
        .json()
        .await
        .unwrap();
    assert!(signed_up["refresh_token"].is_string());

    let signed_in = sign_in_with_cookie(&app, APP_ORIGIN).await;
    assert_eq!(signed_in.status().as_u16(), 200);
    let cookie = refresh_cookie(&signed_in);
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    let body: Value = signed_in.json().await.unwrap();
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert!(body["access_token"].is_string());

    // The refresh the cookie authenticates answers the same way, from our own origin and from
    // a listed one, each time rotating the cookie.
    for origin in [app.address.as_str(), APP_ORIGIN] {
        let refreshed = app.refresh_with_cookie(origin).await;
        assert_eq!(refreshed.status().as_u16(), 200);
        assert_ne!(refresh_cookie(&refreshed), cookie);
        let body: Value = refreshed.json().await.unwrap();
        assert!(body.get("refresh_token").is_none(), "{body}");
        let me = app
            .get_authed("/api/auth/me", body["access_token"].as_str().unwrap())
            .await;
        assert_eq!(me.status().as_u16(), 200);
    }
    // An empty body is cookie mode too.
    let empty = app
        .client
        .post(app.url("/api/auth/refresh"))
        .header("origin", APP_ORIGIN)
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status().as_u16(), 200);
    let body: Value = empty.json().await.unwrap();
    assert!(body.get("refresh_token").is_none(), "{body}");
    // So is JSON `null`, the document's "no body".
    let null = app
        .client
        .post(app.url("/api/auth/refresh"))
        .header("origin", APP_ORIGIN)
        .json(&Value::Null)
        .send()
        .await
        .unwrap();
    assert_eq!(null.status().as_u16(), 200);
}

/// A cookie-mode refresh with `cookie` (`taskgate_refresh=…`) from a tab that does not
/// share the test client's jar.
async fn refresh_with(app: &TestApp, cookie: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url("/api/auth/refresh"))
        .header("origin", APP_ORIGIN)
        .header("cookie", cookie)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
}

/// The cookie's `name=value`, without its attributes.
fn name_and_value(set_cookie: &str) -> &str {
    set_cookie.split(';').next().unwrap()
}

fn removes_the_cookie(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.starts_with("taskgate_refresh=;") && value.contains("Max-Age=0"))
}

async fn a_dead_refresh_cookie_is_removed_but_not_one_that_lost_a_race(backend: Backend) {
    let app = spawn(backend).await;
    app.sign_up("browser@example.org").await;
    let signed_in = sign_in_with_cookie(&app, APP_ORIGIN).await;
    let first = name_and_value(&refresh_cookie(&signed_in)).to_owned();
    let refreshed = app.refresh_with_cookie(APP_ORIGIN).await;
    assert_eq!(refreshed.status().as_u16(), 200);
    let second = name_and_value(&refresh_cookie(&refreshed)).to_owned();

    // Another tab sent the first cookie at the same moment: refused, and the cookie the
    // winner was given is left alone (the jar is shared).
    let lost_race = refresh_with(&app, &first).await;
    assert_eq!(lost_race.status().as_u16(), 401);
    assert!(!removes_the_cookie(&lost_race), "{:?}", lost_race.headers());

    // Replayed after the grace: theft, the session ends, and the cookie is removed.
    app.clock.advance(chrono::Duration::seconds(3));
    let replayed = refresh_with(&app, &first).await;
    assert_eq!(replayed.status().as_u16(), 401);
    assert!(removes_the_cookie(&replayed), "{:?}", replayed.headers());
    // The successor's session is over too: removed as well.
    let dead = refresh_with(&app, &second).await;
    assert_eq!(dead.status().as_u16(), 401);
    assert!(removes_the_cookie(&dead), "{:?}", dead.headers());
    problem_of(dead, 401, "invalid-refresh-token").await;
}

async fn cookie_mode_needs_json_from_an_allowed_origin(backend: Backend) {
    let app = spawn(backend).await;
    app.sign_up("browser@example.org").await;

    // A foreign page cannot sign in in cookie mode (login CSRF)...
    let foreign = problem_of(
        sign_in_with_cookie(&app, "http://evil.example").await,
        403,
        "cookie-mode-refused",
    )
    .await;
    assert!(
        foreign["detail"].as_str().unwrap().contains("Origin"),
        "{foreign}"
    );

    // ... nor use the cookie: wrong or missing Origin, or a body an HTML form could send.
    for origin in ["http://evil.example", "null", "http://app.example:8080"] {
        problem_of(
            app.refresh_with_cookie(origin).await,
            403,
            "cookie-mode-refused",
        )
        .await;
    }
    let no_origin = app
        .client
        .post(app.url("/api/auth/refresh"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    problem_of(no_origin, 403, "cookie-mode-refused").await;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut request = app
            .client
            .post(app.url("/api/auth/refresh"))
            .header("origin", APP_ORIGIN);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let body = problem_of(request.send().await.unwrap(), 403, "cookie-mode-refused").await;
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("Content-Type: application/json"),
            "{body}"
        );
    }

    // None of that used up the cookie: the allowed origin still refreshes with it.
    assert_eq!(
        app.refresh_with_cookie(APP_ORIGIN).await.status().as_u16(),
        200
    );
}

#[tokio::test]
async fn cors_answers_listed_origins_with_credentials_and_nobody_else() {
    let app = spawn(Backend::Sqlite).await;
    let preflight = |origin: &str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/auth/refresh"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };

    let allowed = preflight(APP_ORIGIN).await.unwrap();
    assert_eq!(allowed.status().as_u16(), 204);
    let headers = allowed.headers();
    assert_eq!(headers["access-control-allow-origin"], APP_ORIGIN);
    assert_eq!(headers["access-control-allow-credentials"], "true");
    assert!(
        headers["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    assert_eq!(headers["access-control-allow-headers"], "content-type");
    assert!(headers.get_all("vary").iter().any(|v| v == "origin"));

    let refused = preflight("http://evil.example").await.unwrap();
    assert!(!refused.status().is_success());
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert!(
        refused
            .headers()
            .get("access-control-allow-credentials")
            .is_none()
    );

    // The actual request: readable (errors too) by the listed origin only.
    for (origin, readable) in [(APP_ORIGIN, true), ("http://evil.example", false)] {
        let response = app
            .client
            .get(app.url("/api/auth/me"))
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 401);
        let headers = response.headers();
        assert_eq!(
            headers.get("access-control-allow-origin").is_some(),
            readable,
            "{origin}: {headers:?}"
        );
        assert_eq!(
            headers.get("access-control-allow-credentials").is_some(),
            readable
        );
    }

    // By default there is no CORS at all.
    let closed = TestApp::spawn(Backend::Sqlite).await;
    let response = closed
        .client
        .request(reqwest::Method::OPTIONS, closed.url("/api/auth/refresh"))
        .header("origin", APP_ORIGIN)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn a_refresh_body_over_16_kib_is_413() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let padded = |len: usize| {
        let token = "x".repeat(len - r#"{"refresh_token":""}"#.len());
        format!(r#"{{"refresh_token":"{token}"}}"#)
    };
    let send = |body: String| {
        app.client
            .post(app.url("/api/auth/refresh"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    // At the limit the body is read (and the token refused); past it, not.
    problem_of(
        send(padded(16 * 1024)).await.unwrap(),
        401,
        "invalid-refresh-token",
    )
    .await;
    let body = problem_of(
        send(padded(17 * 1024)).await.unwrap(),
        413,
        "payload-too-large",
    )
    .await;
    assert_eq!(body["detail"], "the body must be at most 16384 bytes");

    // A body that is not declared JSON is refused like on every JSON route.
    let form = app
        .client
        .post(app.url("/api/auth/refresh"))
        .header("content-type", "text/plain")
        .body(r#"{"refresh_token":"x"}"#)
        .send()
        .await
        .unwrap();
    problem_of(form, 415, "unsupported-media-type").await;
}
