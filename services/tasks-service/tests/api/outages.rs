//! Outages that heal by themselves: Postgres stops under both running services, then comes
//! back; the issuer's JWKS endpoint goes away. Against a Postgres server of the test's own
//! (`ThrowawayCluster`), so stopping it disturbs no other test.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use service_database::on_postgres_only;
use service_database::testing::{Backend, ThrowawayCluster};
use service_runtime::testing::eventually;

use crate::helpers::{PASSWORD, TestApp};

on_postgres_only!(a_database_outage_is_503_and_both_services_heal_by_themselves);

/// A client that gives up after 10 s: a request that hangs on the pool fails the test.
fn impatient_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn status(request: reqwest::RequestBuilder) -> u16 {
    request
        .send()
        .await
        .map_or(0, |response| response.status().as_u16())
}

async fn a_database_outage_is_503_and_both_services_heal_by_themselves(_backend: Backend) {
    let cluster = ThrowawayCluster::start();
    let app = TestApp::spawn_on_postgres_at(&cluster.url()).await;
    app.wait_for_revocation_feed().await;
    let alice = app.sign_up("alice@example.org").await;
    let body = json!({ "title": "before the outage" });
    assert_eq!(
        app.create_task(&alice.access_token, &body).await.status(),
        201
    );
    let client = impatient_client();
    let list = || {
        client
            .get(app.tasks_url(""))
            .bearer_auth(&alice.access_token)
    };
    let sign_in = || {
        client
            .post(format!("{}/api/auth/sign-in", app.auth_address))
            .json(&json!({ "email": "alice@example.org", "password": PASSWORD }))
    };
    let readyz = |base: &str| client.get(format!("{base}/readyz"));

    cluster.stop();

    // Each service answers at once: 503 problem+json with Retry-After, never a hang or a 500.
    for (service, request) in [("tasks-service", list()), ("auth-service", sign_in())] {
        let started = Instant::now();
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{service}: {e}"));
        let took = started.elapsed();
        assert_eq!(response.status().as_u16(), 503, "{service}");
        assert_eq!(response.headers()["retry-after"], "2", "{service}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{service}"
        );
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["type"], "urn:taskgate:problem:service-unavailable");
        println!("{service}: 503 after {took:?} with the database down");
    }
    assert_eq!(status(readyz(&app.tasks_address)).await, 503);
    assert_eq!(status(readyz(&app.auth_address)).await, 503);

    cluster.start_again();

    // Both recover without a restart: the pools open new connections by themselves.
    let limit = Duration::from_secs(30);
    eventually(limit, "tasks-service serving again", async || {
        status(list()).await == 200
    })
    .await;
    eventually(limit, "auth-service signing in again", async || {
        status(sign_in()).await == 200
    })
    .await;
    eventually(limit, "both ready again", async || {
        status(readyz(&app.tasks_address)).await == 200
            && status(readyz(&app.auth_address)).await == 200
    })
    .await;
    let tasks: Value = list().send().await.unwrap().json().await.unwrap();
    assert_eq!(tasks["items"][0]["title"], "before the outage");

    // The issuer goes away: the tasks-service keeps serving with the keys it has.
    app.stop_auth_service().await;
    assert_eq!(status(list()).await, 200);
}
