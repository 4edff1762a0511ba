//! CORS for a browser app on another origin: the listed origins get answers they may read,
//! without credentials (the task API takes bearer tokens, never cookies); others get none.

use reqwest::Method;
use serde_json::json;
use service_database::testing::Backend;

use crate::helpers::TestApp;

const APP_ORIGIN: &str = "http://app.example";

#[tokio::test]
async fn cors_answers_listed_origins_without_credentials() {
    let app = TestApp::spawn_with(Backend::Sqlite, |settings| {
        settings.http.allowed_origins = vec![APP_ORIGIN.into()];
    })
    .await;
    let user = app.sign_up("cors@example.org").await;
    let preflight = |origin: &str| {
        app.client
            .request(Method::OPTIONS, app.tasks_url("/some-id"))
            .header("origin", origin)
            .header("access-control-request-method", "PATCH")
            .header(
                "access-control-request-headers",
                "authorization, content-type, if-match",
            )
            .send()
    };

    let allowed = preflight(APP_ORIGIN).await.unwrap();
    assert_eq!(allowed.status().as_u16(), 204);
    let headers = allowed.headers();
    assert_eq!(headers["access-control-allow-origin"], APP_ORIGIN);
    assert!(
        headers["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("PATCH")
    );
    assert_eq!(
        headers["access-control-allow-headers"],
        "authorization, content-type, if-match"
    );
    assert!(headers.get("access-control-allow-credentials").is_none());

    let refused = preflight("http://evil.example").await.unwrap();
    assert!(!refused.status().is_success());
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    // The actual request: the listed origin may read it, and its ETag.
    let created = app
        .request(Method::POST, "", &user.access_token)
        .header("origin", APP_ORIGIN)
        .json(&json!({ "title": "From the browser" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let headers = created.headers();
    assert_eq!(headers["access-control-allow-origin"], APP_ORIGIN);
    assert!(headers.get("access-control-allow-credentials").is_none());
    assert!(
        headers["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .contains("etag")
    );
    let foreign = app
        .request(Method::GET, "", &user.access_token)
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status().as_u16(), 200);
    assert!(
        foreign
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}
