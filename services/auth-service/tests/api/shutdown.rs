//! Stopping (docs/operations.md, "Stopping"): on SIGTERM the real binary turns `/readyz` to 503,
//! answers its long-polls at once, closes its listener after the drain delay, still answers the
//! request in flight, and exits 0.

use serde_json::{Value, json};
use service_database::on_both_backends;
use service_database::testing::Backend;
use service_runtime::testing::{DRAIN_DELAY_SECS, DrainProbe, assert_sigterm_drains, free_port};

use crate::helpers::{PASSWORD, TestApp};

on_both_backends!(sigterm_drains_requests_in_flight_and_long_polls_then_exits_0);

async fn sigterm_drains_requests_in_flight_and_long_polls_then_exits_0(backend: Backend) {
    // The app made the database, its keys and a feed token; the binary serves the same
    // database as another replica of the same issuer.
    let app = TestApp::spawn(backend).await;
    let token = app.feed_token().await.to_owned();
    let head: Value = app.get_feed("").await.json().await.unwrap();
    let cursor = head["cursor"].as_str().unwrap();
    let secret = |setting: &Option<secrecy::SecretString>| {
        secrecy::ExposeSecret::expose_secret(setting.as_ref().unwrap()).to_owned()
    };
    let port = free_port();
    let env = [
        ("AUTH__DATABASE__URL", secret(&app.settings.database.url)),
        (
            "AUTH__KEYS__MASTER_KEY",
            secret(&app.settings.keys.master_key),
        ),
        (
            "AUTH__DATA_DIR",
            app.settings.data_dir.display().to_string(),
        ),
        ("AUTH__PUBLIC_URL", app.issuer.clone()),
        ("AUTH__HTTP__PORT", port.to_string()),
        ("AUTH__HTTP__DRAIN_DELAY_SECS", DRAIN_DELAY_SECS.to_string()),
    ];

    let body = json!({ "email": "draining@example.org", "password": PASSWORD }).to_string();
    let sign_up = format!(
        "POST /api/auth/sign-up HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let long_poll = format!(
        "GET /api/auth/revocations?since={cursor}&wait=30 HTTP/1.1\r\nhost: 127.0.0.1\r\n\
         authorization: Bearer {token}\r\nconnection: close\r\n\r\n"
    );
    assert_sigterm_drains(DrainProbe {
        binary: env!("CARGO_BIN_EXE_auth-service").into(),
        env: env.map(|(k, v)| (k.to_owned(), v)).to_vec(),
        port,
        slow_request: sign_up.into_bytes(),
        expected_status: 201,
        held_requests: vec![(long_poll.into_bytes(), 200)],
        held_gauge: Some("taskgate_revocation_feed_waiting_polls"),
    })
    .await;
}
