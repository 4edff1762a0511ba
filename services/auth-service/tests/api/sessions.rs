use std::time::{Duration, Instant};

use auth_core::unverified::claims;
use serde_json::{Value, json};
use service_database::on_both_backends;
use service_database::testing::Backend;
use service_runtime::testing::{eventually, gauge};

use crate::helpers::{PASSWORD, TestApp, problem, problem_of};

on_both_backends!(
    sign_out_ends_the_session,
    sessions_are_listed_and_revoked_individually,
    password_change_revokes_every_other_session,
    sign_ins_racing_a_password_change_leave_no_session_alive,
    with_no_grace_a_reused_refresh_token_revokes_its_family,
    reuse_after_the_default_grace_revokes_the_session,
    reuse_within_the_default_grace_keeps_the_session,
    reuse_within_the_grace_after_the_successor_was_used_revokes_the_session,
    reuse_at_a_negative_time_since_use_revokes_the_session,
    concurrent_refreshes_of_one_token_have_one_winner,
    the_revocation_feed_long_polls,
);

async fn post_authed(app: &TestApp, path: &str, token: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn refresh(app: &TestApp, refresh_token: &str) -> reqwest::Response {
    app.post_json(
        "/api/auth/refresh",
        &json!({ "refresh_token": refresh_token }),
    )
    .await
}

fn field<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name].as_str().unwrap()
}

async fn feed(app: &TestApp, query: &str) -> Value {
    let response = app.get_feed(query).await;
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

/// The session id (`sid`) a user token carries.
fn sid_of(access_token: &str) -> String {
    claims(access_token)["sid"].as_str().unwrap().to_owned()
}

fn feed_has_session(page: &Value, sid: &str) -> bool {
    page["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["sid"] == sid)
}

async fn sign_out_ends_the_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens: Value = app.sign_up("out@example.org").await.json().await.unwrap();
    let access = field(&tokens, "access_token");

    let response = post_authed(&app, "/api/auth/sign-out", access, &json!({})).await;
    assert_eq!(response.status().as_u16(), 204);
    let cleared = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cleared.contains("taskgate_refresh=") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );

    problem_of(
        refresh(&app, field(&tokens, "refresh_token")).await,
        401,
        "invalid-refresh-token",
    )
    .await;
    problem_of(
        app.get_authed("/api/auth/me", access).await,
        401,
        "session-revoked",
    )
    .await;
    problem_of(
        post_authed(&app, "/api/auth/sign-out", access, &json!({})).await,
        401,
        "session-revoked",
    )
    .await;
    let snapshot = feed(&app, "").await;
    assert_eq!(snapshot["reset"], true);
    assert!(feed_has_session(&snapshot, &sid_of(access)));
}

async fn sessions_are_listed_and_revoked_individually(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first: Value = app.sign_up("many@example.org").await.json().await.unwrap();
    let second: Value = app
        .sign_in("many@example.org", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let third: Value = app
        .sign_in("many@example.org", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let other: Value = app.sign_up("other@example.org").await.json().await.unwrap();
    let access = field(&third, "access_token");

    let list: Value = app
        .get_authed("/api/auth/sessions", access)
        .await
        .json()
        .await
        .unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items.iter().filter(|s| s["current"] == true).count(), 1);
    assert_eq!(items[0]["id"], sid_of(access), "newest first");
    for key in [
        "created_at",
        "last_used_at",
        "expires_at",
        "user_agent",
        "ip",
    ] {
        assert!(items[0].get(key).is_some(), "{key} missing");
    }

    let second_sid = sid_of(field(&second, "access_token"));
    let delete = |sid: String| {
        let request = app
            .client
            .delete(app.url(&format!("/api/auth/sessions/{sid}")))
            .bearer_auth(access);
        async move { request.send().await.unwrap() }
    };
    assert_eq!(delete(second_sid.clone()).await.status().as_u16(), 204);
    // Already revoked, another user's, or no session id at all: the same 404.
    for sid in [
        second_sid.clone(),
        sid_of(field(&other, "access_token")),
        "not-a-uuid".into(),
    ] {
        let body = problem(delete(sid.clone()).await, 404).await;
        assert_eq!(body["detail"], "no such session", "{sid}");
    }

    problem_of(
        refresh(&app, field(&second, "refresh_token")).await,
        401,
        "invalid-refresh-token",
    )
    .await;
    assert_eq!(
        refresh(&app, field(&first, "refresh_token"))
            .await
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        refresh(&app, field(&other, "refresh_token"))
            .await
            .status()
            .as_u16(),
        200
    );
    let list: Value = app
        .get_authed("/api/auth/sessions", access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
}

async fn password_change_revokes_every_other_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let elsewhere: Value = app.sign_up("pw@example.org").await.json().await.unwrap();
    let here: Value = app
        .sign_in("pw@example.org", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let access = field(&here, "access_token");
    let new_password = "a brand new passphrase";

    let wrong = post_authed(
        &app,
        "/api/auth/password",
        access,
        &json!({ "current_password": "not my password", "new_password": new_password }),
    )
    .await;
    assert_eq!(
        problem(wrong, 422).await["errors"][0]["field"],
        "current_password"
    );
    let weak = post_authed(
        &app,
        "/api/auth/password",
        access,
        &json!({ "current_password": PASSWORD, "new_password": "short" }),
    )
    .await;
    let body = problem(weak, 422).await;
    assert_eq!(body["errors"][0]["field"], "new_password");
    assert_eq!(
        body["errors"][0]["message"],
        "password must be at least 8 characters"
    );

    let changed = post_authed(
        &app,
        "/api/auth/password",
        access,
        &json!({ "current_password": PASSWORD, "new_password": new_password }),
    )
    .await;
    assert_eq!(changed.status().as_u16(), 204);

    problem_of(
        refresh(&app, field(&elsewhere, "refresh_token")).await,
        401,
        "invalid-refresh-token",
    )
    .await;
    problem_of(
        app.get_authed("/api/auth/me", field(&elsewhere, "access_token"))
            .await,
        401,
        "session-revoked",
    )
    .await;
    assert!(feed_has_session(
        &feed(&app, "").await,
        &sid_of(field(&elsewhere, "access_token"))
    ));
    assert_eq!(
        app.get_authed("/api/auth/me", access)
            .await
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        refresh(&app, field(&here, "refresh_token"))
            .await
            .status()
            .as_u16(),
        200
    );
    problem_of(
        app.sign_in("pw@example.org", PASSWORD).await,
        401,
        "invalid-credentials",
    )
    .await;
    assert_eq!(
        app.sign_in("pw@example.org", new_password)
            .await
            .status()
            .as_u16(),
        200
    );
}

/// Sign-ins with the old password, running while the password changes: each either commits
/// its session before the change (which then revokes it) or finds the credential epoch moved
/// and answers 401. None is left alive afterwards, whatever the interleaving.
async fn sign_ins_racing_a_password_change_leave_no_session_alive(backend: Backend) {
    const RACERS: usize = 32;
    let app = TestApp::spawn_with(backend, |s| {
        // Racers that lose answer 401, counted as failures: no lockout may hide the race.
        s.throttle.account_max_failures = 1000;
        s.throttle.ip_max_failures = 1000;
    })
    .await;
    let email = "racing@example.org";
    let owner: Value = app.sign_up(email).await.json().await.unwrap();
    let access = field(&owner, "access_token").to_owned();

    // Sign-ins arrive one every few milliseconds, before, during and after the change, so
    // some read the old hash while the change is still hashing the new one.
    let sign_in = |url: String| {
        tokio::spawn(async move {
            let response = reqwest::Client::new()
                .post(url)
                .json(&json!({ "email": email, "password": PASSWORD }))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        })
    };
    let mut racers = Vec::new();
    let mut change = None;
    for n in 0..RACERS {
        racers.push(sign_in(app.url("/api/auth/sign-in")));
        if n == 3 {
            let request = reqwest::Client::new()
                .post(app.url("/api/auth/password"))
                .bearer_auth(&access)
                .json(&json!({
                    "current_password": PASSWORD,
                    "new_password": "a brand new passphrase",
                }));
            change = Some(tokio::spawn(async move { request.send().await.unwrap() }));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let changed = change.unwrap().await.unwrap();
    assert_eq!(changed.status().as_u16(), 204);

    let mut signed_in = Vec::new();
    for racer in racers {
        let (status, body) = racer.await.unwrap();
        match status {
            200 => signed_in.push(body),
            401 => assert_eq!(
                body["type"], "urn:taskgate:problem:invalid-credentials",
                "{body}"
            ),
            other => panic!("a racing sign-in answered {other}: {body}"),
        }
    }
    for body in &signed_in {
        problem_of(
            refresh(&app, field(body, "refresh_token")).await,
            401,
            "invalid-refresh-token",
        )
        .await;
    }
    let list: Value = app
        .get_authed("/api/auth/sessions", &access)
        .await
        .json()
        .await
        .unwrap();
    let live: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|session| session["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        live,
        [sid_of(&access)],
        "only the changer's own session lives"
    );
}

/// The token response of a sign-up, and of the refresh that used its refresh token.
async fn signed_up_and_refreshed(app: &TestApp, email: &str) -> (Value, Value) {
    let first: Value = app.sign_up(email).await.json().await.unwrap();
    let second: Value = refresh(app, field(&first, "refresh_token"))
        .await
        .json()
        .await
        .unwrap();
    (first, second)
}

/// A reuse ended the session begun by `first`: the successor `second` refresh token and its
/// access token die with it, and the feed names the session.
async fn assert_session_ended(app: &TestApp, first: &Value, second: &Value) {
    problem_of(
        refresh(app, field(second, "refresh_token")).await,
        401,
        "invalid-refresh-token",
    )
    .await;
    problem_of(
        app.get_authed("/api/auth/me", field(second, "access_token"))
            .await,
        401,
        "session-revoked",
    )
    .await;
    assert!(feed_has_session(
        &feed(app, "").await,
        &sid_of(field(first, "access_token"))
    ));
}

async fn with_no_grace_a_reused_refresh_token_revokes_its_family(backend: Backend) {
    // No grace period, so the replay right below counts as one.
    let app = TestApp::spawn_with(backend, |s| s.tokens.refresh_reuse_grace_secs = 0).await;
    let (first, second) = signed_up_and_refreshed(&app, "reuse@example.org").await;
    let stolen = field(&first, "refresh_token");

    // The thief (or the victim) presents the used token: the whole family dies.
    problem_of(refresh(&app, stolen).await, 401, "invalid-refresh-token").await;
    assert_session_ended(&app, &first, &second).await;
}

/// At the default grace (2 s): a used refresh token presented once the grace has passed is a
/// replay, and ends the session with every token of it.
async fn reuse_after_the_default_grace_revokes_the_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(app.settings.tokens.refresh_reuse_grace_secs, 2);
    let (first, second) = signed_up_and_refreshed(&app, "late@example.org").await;
    let used = field(&first, "refresh_token");

    app.clock.advance(chrono::Duration::seconds(3));
    problem_of(refresh(&app, used).await, 401, "invalid-refresh-token").await;
    assert_session_ended(&app, &first, &second).await;
}

/// Within the grace, but the successor has already been used (refreshed with): whoever
/// presents the old token is not a second tab of that client, so the session ends.
async fn reuse_within_the_grace_after_the_successor_was_used_revokes_the_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (first, second) = signed_up_and_refreshed(&app, "successor@example.org").await;
    let third: Value = refresh(&app, field(&second, "refresh_token"))
        .await
        .json()
        .await
        .unwrap();

    problem_of(
        refresh(&app, field(&first, "refresh_token")).await,
        401,
        "invalid-refresh-token",
    )
    .await;
    assert_session_ended(&app, &first, &third).await;
}

/// The replica judging the reuse has a clock behind the one that used the token: a negative
/// time since use is outside the grace, not inside it.
async fn reuse_at_a_negative_time_since_use_revokes_the_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (first, second) = signed_up_and_refreshed(&app, "skewed@example.org").await;

    app.clock.advance(chrono::Duration::seconds(-1));
    problem_of(
        refresh(&app, field(&first, "refresh_token")).await,
        401,
        "invalid-refresh-token",
    )
    .await;
    assert_session_ended(&app, &first, &second).await;
}

/// At the default grace: the same token presented again at once (two tabs refreshing
/// together) is refused, but the session and the winner's successor live on.
async fn reuse_within_the_default_grace_keeps_the_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (first, second) = signed_up_and_refreshed(&app, "tabs@example.org").await;
    let used = field(&first, "refresh_token");

    app.clock.advance(chrono::Duration::seconds(1));
    problem_of(refresh(&app, used).await, 401, "invalid-refresh-token").await;
    assert_eq!(
        app.get_authed("/api/auth/me", field(&second, "access_token"))
            .await
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        refresh(&app, field(&second, "refresh_token"))
            .await
            .status()
            .as_u16(),
        200
    );
    assert!(!feed_has_session(
        &feed(&app, "").await,
        &sid_of(field(&first, "access_token"))
    ));
}

async fn concurrent_refreshes_of_one_token_have_one_winner(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens: Value = app.sign_up("race@example.org").await.json().await.unwrap();
    let token = field(&tokens, "refresh_token").to_owned();

    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let request = app
                .client
                .post(app.url("/api/auth/refresh"))
                .json(&json!({ "refresh_token": token }));
            tokio::spawn(async move {
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                (status, response.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut results = Vec::new();
    for attempt in attempts {
        results.push(attempt.await.unwrap());
    }
    let statuses: Vec<u16> = results.iter().map(|(status, _)| *status).collect();
    assert_eq!(
        statuses.iter().filter(|&&s| s == 200).count(),
        1,
        "{statuses:?}"
    );
    // Every loser is refused as a used refresh token, not for any other reason.
    for (status, body) in &results {
        if *status != 200 {
            assert_eq!(
                (*status, body["type"].as_str()),
                (401, Some("urn:taskgate:problem:invalid-refresh-token")),
                "{body}"
            );
        }
    }

    // The losers were a double-submit (inside the reuse grace), not a replay: the winner's
    // session lives on, as two browser tabs refreshing at once need.
    let (_, winner) = results.iter().find(|(status, _)| *status == 200).unwrap();
    let next = refresh(&app, field(winner, "refresh_token")).await;
    assert_eq!(next.status().as_u16(), 200);
}

async fn the_revocation_feed_long_polls(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens: Value = app.sign_up("feed@example.org").await.json().await.unwrap();
    let access = field(&tokens, "access_token").to_owned();

    let snapshot = feed(&app, "").await;
    assert_eq!(snapshot["reset"], true);
    let cursor = field(&snapshot, "cursor").to_owned();
    // An unknown cursor is answered with a full snapshot.
    assert_eq!(feed(&app, "?since=999999").await["reset"], true);
    assert_eq!(feed(&app, "?since=garbage").await["reset"], true);
    // Nothing new and no wait: an empty answer at once, with the same cursor.
    let empty = feed(&app, &format!("?since={cursor}")).await;
    assert_eq!(empty["reset"], false);
    assert_eq!(empty["cursor"], cursor.as_str());
    assert!(empty["sessions"].as_array().unwrap().is_empty());

    let started = Instant::now();
    let poll = {
        let url = app.url(&format!("/api/auth/revocations?since={cursor}&wait=20"));
        let client = app.client.clone();
        let token = app.feed_token().await.to_owned();
        tokio::spawn(async move {
            client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    };
    // The sign-out comes only once the poll is waiting for it.
    eventually(
        Duration::from_secs(10),
        "the long-poll waiting",
        async || gauge(&app.address, "taskgate_revocation_feed_waiting_polls").await == 1.0,
    )
    .await;
    assert_eq!(
        post_authed(&app, "/api/auth/sign-out", &access, &json!({}))
            .await
            .status()
            .as_u16(),
        204
    );
    let page = poll.await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the long-poll woke on the revocation"
    );
    assert_eq!(page["reset"], false);
    assert!(feed_has_session(&page, &sid_of(&access)));
    assert_ne!(page["cursor"], cursor.as_str());

    let bad = app.get_feed("?bogus=1").await;
    let body = problem_of(bad, 400, "bad-request").await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("bogus"), "{detail}");
}
