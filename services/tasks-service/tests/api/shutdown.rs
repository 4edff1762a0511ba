//! Stopping (docs/operations.md, "Stopping"): on SIGTERM the real binary turns `/readyz` to 503,
//! closes its listener after the drain delay, still answers the request in flight, and exits 0;
//! and `tasks-service healthcheck`, which a container runs to learn whether it is ready.

use serde_json::json;
use service_database::on_both_backends;
use service_database::testing::Backend;
use service_runtime::testing::{DRAIN_DELAY_SECS, DrainProbe, assert_sigterm_drains, free_port};

use crate::helpers::TestApp;

on_both_backends!(
    sigterm_drains_the_request_in_flight_then_exits_0,
    healthcheck_exits_0_for_a_ready_service_and_1_otherwise,
);

async fn sigterm_drains_the_request_in_flight_then_exits_0(backend: Backend) {
    // The app made the database and runs the auth-service; the binary is a second
    // tasks-service replica on the same database.
    let app = TestApp::spawn(backend).await;
    let user = app.sign_up("draining@example.org").await;
    let port = free_port();
    let mut env = app.binary_env(port);
    env.push((
        "TASKS__HTTP__DRAIN_DELAY_SECS".into(),
        DRAIN_DELAY_SECS.to_string(),
    ));

    let body = json!({ "title": "finish me while draining" }).to_string();
    let create = format!(
        "POST /api/tasks HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n\
         authorization: Bearer {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        user.access_token,
        body.len()
    );
    assert_sigterm_drains(DrainProbe {
        binary: env!("CARGO_BIN_EXE_tasks-service").into(),
        env,
        port,
        slow_request: create.into_bytes(),
        expected_status: 201,
        held_requests: Vec::new(),
        held_gauge: None,
    })
    .await;
}

/// `tasks-service healthcheck`, as a container's HEALTHCHECK runs it beside the server: 0 while
/// it is ready, 1 (with the reason) once it drains or is gone.
async fn healthcheck_exits_0_for_a_ready_service_and_1_otherwise(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Async: the services run on this test's runtime, which must keep serving meanwhile.
    let healthcheck = |port: String| async move {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_tasks-service"))
            .args(["healthcheck"])
            .env_clear()
            .env("TASKS__HTTP__PORT", port)
            .output()
            .await
            .unwrap()
    };
    let port = app.tasks_address.rsplit(':').next().unwrap().to_owned();
    let ready = healthcheck(port).await;
    assert!(ready.status.success(), "{ready:?}");
    assert_eq!(String::from_utf8_lossy(&ready.stdout).trim(), "ok");

    let down = healthcheck(free_port().to_string()).await;
    assert_eq!(down.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&down.stderr).contains("nothing answers"),
        "{down:?}"
    );
}
