//! The request limits every route meets (`service_runtime::request_limits`): sizes of the
//! target, headers and body (also chunked), a body's time to arrive, no token in the URL.

use service_database::testing::Backend;
use service_runtime::testing::{LimitsProbe, assert_request_limits};

use crate::helpers::TestApp;

// The limits sit in front of every route and never touch the database: SQLite suffices.
#[tokio::test]
async fn every_request_is_held_to_the_limits() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    assert_request_limits(LimitsProbe {
        address: app.address.trim_start_matches("http://"),
        json_route: "POST /api/auth/sign-in",
        authorization: None,
        body_limit: 16 * 1024,
        accepted_body: r#"{"email": "nobody@example.com", "password": "not a known password"}"#,
        accepted_status: 401,
        nested_field: "email",
    })
    .await;
}
