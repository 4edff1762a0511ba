//! The request limits every route meets (`service_runtime::request_limits`): sizes of the
//! target, headers and body (also chunked), a body's time to arrive, no token in the URL.

use service_database::testing::Backend;
use service_runtime::testing::{LimitsProbe, assert_request_limits};

use crate::helpers::TestApp;

// The limits sit in front of every route and never touch the database: SQLite suffices.
#[tokio::test]
async fn every_request_is_held_to_the_limits() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let user = app.sign_up("limits@example.com").await;
    let authorization = format!("Bearer {}", user.access_token);
    assert_request_limits(LimitsProbe {
        address: app.tasks_address.trim_start_matches("http://"),
        json_route: "POST /api/tasks",
        authorization: Some(&authorization),
        body_limit: 64 * 1024,
        accepted_body: r#"{"title": "sent in chunks"}"#,
        accepted_status: 201,
        nested_field: "title",
    })
    .await;
}
