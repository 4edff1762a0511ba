//! The client address behind trusted proxies (`AUTH__HTTP__TRUSTED_PROXIES`): the sign-in
//! throttle counts the client a trusted proxy forwards, and nobody else's forwarding headers.
//! These tests' loopback peer plays the proxy.

use serde_json::{Value, json};
use service_database::on_both_backends;
use service_database::testing::Backend;

use crate::helpers::{PASSWORD, TestApp, problem_of};

on_both_backends!(
    through_a_trusted_proxy_failures_lock_only_the_forwarded_client,
    forged_forwarded_for_from_an_untrusted_peer_changes_nothing,
    ipv6_clients_are_counted_per_64,
    the_rfc_7239_header_when_configured,
);

const ATTACKER: &str = "203.0.113.7";
const NEIGHBOUR: &str = "198.51.100.2";

/// An app whose per-address limit is 4 failures, with the loopback peer as its proxy when
/// `trusted` is set.
async fn app(backend: Backend, trusted: &[&str]) -> TestApp {
    let trusted: Vec<String> = trusted.iter().map(|s| (*s).to_owned()).collect();
    TestApp::spawn_with(backend, move |s| {
        s.throttle.account_max_failures = 1000;
        s.throttle.ip_max_failures = 4;
        s.throttle.base_lockout_secs = 60;
        s.http.trusted_proxies = trusted;
    })
    .await
}

async fn sign_in_via(
    app: &TestApp,
    header: (&str, &str),
    email: &str,
    password: &str,
) -> reqwest::Response {
    app.client
        .post(app.url("/api/auth/sign-in"))
        .header(header.0, header.1)
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
}

fn xff(value: &str) -> (&'static str, &str) {
    ("x-forwarded-for", value)
}

/// A credential-stuffing run: `n` failures on different accounts with this header.
async fn stuff(app: &TestApp, header: (&str, &str), n: usize) {
    for attempt in 0..n {
        let response =
            sign_in_via(app, header, &format!("user{attempt}@example.org"), "guess").await;
        problem_of(response, 401, "invalid-credentials").await;
    }
}

async fn through_a_trusted_proxy_failures_lock_only_the_forwarded_client(backend: Backend) {
    let app = app(backend, &["127.0.0.1/32", "::1"]).await;
    assert_eq!(app.sign_up("second@example.org").await.status(), 201);

    // The attacker forges entries on the left; the proxy appends its real address.
    stuff(&app, xff(&format!("10.1.1.1, {NEIGHBOUR}, {ATTACKER}")), 4).await;
    let locked = sign_in_via(&app, xff(ATTACKER), "second@example.org", PASSWORD).await;
    problem_of(locked, 429, "throttled").await;

    // A second client behind the same proxy still signs in, and its session records its
    // own address.
    let response = sign_in_via(&app, xff(NEIGHBOUR), "second@example.org", PASSWORD).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let sessions: Value = app
        .get_authed("/api/auth/sessions", body["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    let ips: Vec<&Value> = sessions["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["ip"])
        .collect();
    assert!(ips.contains(&&json!(NEIGHBOUR)), "{sessions}");

    // Forging the neighbour's address on the left does not get the attacker out.
    let still_locked = sign_in_via(
        &app,
        xff(&format!("{NEIGHBOUR}, {ATTACKER}")),
        "second@example.org",
        PASSWORD,
    )
    .await;
    problem_of(still_locked, 429, "throttled").await;
}

async fn forged_forwarded_for_from_an_untrusted_peer_changes_nothing(backend: Backend) {
    // Proxies are configured, but the loopback peer is not one of them.
    let app = app(backend, &["10.0.0.0/8"]).await;
    assert_eq!(app.sign_up("second@example.org").await.status(), 201);
    // Each failure claims another address: all are counted on the peer.
    for n in 0..4 {
        let header = format!("192.0.2.{n}");
        stuff(&app, xff(&header), 1).await;
    }
    let locked = sign_in_via(&app, xff("192.0.2.200"), "second@example.org", PASSWORD).await;
    problem_of(locked, 429, "throttled").await;
    let forwarded = ("forwarded", "for=192.0.2.201");
    let locked = sign_in_via(&app, forwarded, "second@example.org", PASSWORD).await;
    problem_of(locked, 429, "throttled").await;
}

async fn ipv6_clients_are_counted_per_64(backend: Backend) {
    let app = app(backend, &["127.0.0.0/8"]).await;
    assert_eq!(app.sign_up("second@example.org").await.status(), 201);
    // One subscriber's /64, a new address for every guess.
    for n in 1..=4 {
        stuff(&app, xff(&format!("2001:db8:1:2::{n:x}")), 1).await;
    }
    let locked = sign_in_via(
        &app,
        xff("[2001:db8:1:2:ffff::1]:4711"),
        "second@example.org",
        PASSWORD,
    )
    .await;
    problem_of(locked, 429, "throttled").await;
    // The next /64 is someone else.
    let response = sign_in_via(&app, xff("2001:db8:1:3::1"), "second@example.org", PASSWORD).await;
    assert_eq!(response.status(), 200);
}

async fn the_rfc_7239_header_when_configured(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.throttle.account_max_failures = 1000;
        s.throttle.ip_max_failures = 4;
        s.throttle.base_lockout_secs = 60;
        s.http.trusted_proxies = vec!["127.0.0.1".into()];
        s.http.forwarded_header = auth_service::client_address::ForwardedHeader::Forwarded;
    })
    .await;
    assert_eq!(app.sign_up("second@example.org").await.status(), 201);
    let attacker = format!("for=192.0.2.9, for=\"{ATTACKER}:4711\";proto=https");
    stuff(&app, ("forwarded", &attacker), 4).await;
    let locked = sign_in_via(
        &app,
        ("forwarded", &format!("for={ATTACKER}")),
        "second@example.org",
        PASSWORD,
    )
    .await;
    problem_of(locked, 429, "throttled").await;
    // X-Forwarded-For is not read in this mode: it cannot name another client.
    let still = app
        .client
        .post(app.url("/api/auth/sign-in"))
        .header("forwarded", format!("for={ATTACKER}"))
        .header("x-forwarded-for", NEIGHBOUR)
        .json(&json!({ "email": "second@example.org", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    problem_of(still, 429, "throttled").await;
    let neighbour = sign_in_via(
        &app,
        ("forwarded", &format!("for={NEIGHBOUR}")),
        "second@example.org",
        PASSWORD,
    )
    .await;
    assert_eq!(neighbour.status(), 200);
}
