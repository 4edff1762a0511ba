//! Assertions on problem+json answers, for both services' integration tests (feature
//! `test-support`).

use serde_json::Value;

/// Asserts that `response` is an `application/problem+json` answer with `status`, carrying
/// the request id (as every error answer does); returns its body.
pub async fn problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status);
    assert_eq!(content_type(&response), crate::openapi::PROBLEM_JSON);
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(body["status"], status, "{body}");
    assert!(
        body["request_id"].is_string(),
        "a problem carries the request id: {body}"
    );
    body
}

/// The response's `Content-Type`, or "" without one.
pub(crate) fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// [`problem`], also checking its `type` (`urn:taskgate:problem:<kind>`).
pub async fn problem_of(response: reqwest::Response, status: u16, kind: &str) -> Value {
    let body = problem(response, status).await;
    assert_eq!(
        body["type"],
        format!("urn:taskgate:problem:{kind}"),
        "{body}"
    );
    body
}
