use std::time::Duration;

use service_database::on_both_backends;
use service_database::testing::Backend;

use crate::helpers::{PASSWORD, TestApp, problem};

on_both_backends!(
    failed_sign_ins_are_throttled_per_account,
    failed_sign_ins_are_throttled_per_client_ip,
);

fn retry_after(response: &reqwest::Response) -> u64 {
    response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn failed_sign_ins_are_throttled_per_account(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.throttle.account_max_failures = 3;
        s.throttle.ip_max_failures = 1000;
        s.throttle.base_lockout_secs = 1;
    })
    .await
    else {
        return;
    };
    assert_eq!(
        app.sign_up("victim@example.org").await.status().as_u16(),
        201
    );

    for _ in 0..3 {
        problem(app.sign_in("victim@example.org", "wrong guess!").await, 401).await;
    }
    // Locked: even the right password is refused, before any hashing.
    let locked = app.sign_in("victim@example.org", PASSWORD).await;
    let wait = retry_after(&locked);
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
    assert_eq!(
        problem(locked, 429).await["type"],
        "urn:taskgate:problem:throttled"
    );

    // Unknown emails are counted and locked the same way: no account enumeration.
    for _ in 0..3 {
        problem(app.sign_in("nobody@example.org", "wrong guess!").await, 401).await;
    }
    problem(app.sign_in("nobody@example.org", "wrong guess!").await, 429).await;

    // After the window the right password works, and success resets the counter.
    tokio::time::sleep(Duration::from_secs(wait) + Duration::from_millis(200)).await;
    assert_eq!(
        app.sign_in("victim@example.org", PASSWORD)
            .await
            .status()
            .as_u16(),
        200
    );
    for _ in 0..2 {
        problem(app.sign_in("victim@example.org", "wrong again!").await, 401).await;
    }
    assert_eq!(
        app.sign_in("victim@example.org", PASSWORD)
            .await
            .status()
            .as_u16(),
        200
    );

    // Past the limit the lockout doubles.
    for _ in 0..3 {
        let status = app
            .sign_in("victim@example.org", "wrong guess!")
            .await
            .status()
            .as_u16();
        assert_eq!(status, 401);
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    problem(app.sign_in("victim@example.org", "wrong guess!").await, 401).await;
    let locked = app.sign_in("victim@example.org", PASSWORD).await;
    assert_eq!(locked.status().as_u16(), 429);
    assert!(retry_after(&locked) >= 2, "doubled lockout");
    app.finish().await;
}

async fn failed_sign_ins_are_throttled_per_client_ip(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.throttle.account_max_failures = 1000;
        s.throttle.ip_max_failures = 4;
        s.throttle.base_lockout_secs = 60;
    })
    .await
    else {
        return;
    };
    assert_eq!(
        app.sign_up("someone@example.org").await.status().as_u16(),
        201
    );
    // A credential-stuffing run: a different account each time, one address.
    for n in 0..4 {
        problem(
            app.sign_in(&format!("user{n}@example.org"), "guess").await,
            401,
        )
        .await;
    }
    let locked = app.sign_in("someone@example.org", PASSWORD).await;
    assert!(retry_after(&locked) > 30);
    problem(locked, 429).await;
    app.finish().await;
}
