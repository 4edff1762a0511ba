//! The revocation feed as validators use it (docs/architecture.md, "Revocation feed"): only
//! with a `revocations:read` service token, paged snapshots, a cap on held long-polls, and
//! thousands of idle long-polls costing the database nothing.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use service_database::testing::Backend;
use service_database::{on_both_backends, on_postgres_only};
use service_runtime::testing::{eventually, gauge};

use crate::helpers::{PASSWORD, TestApp, problem_of};

on_both_backends!(
    the_feed_needs_a_service_token_with_revocations_read,
    a_paged_snapshot_holds_every_entry,
    past_the_cap_a_long_poll_gets_503_with_retry_after,
    two_thousand_idle_long_polls_leave_the_pool_and_sign_in_alone,
    a_long_poll_wakes_for_an_account_deletion,
    a_sign_out_whose_feed_entry_fails_leaves_the_session_live,
);

on_postgres_only!(another_replicas_revocation_wakes_long_polls_even_after_the_listener_drops);

const WAITING: &str = "taskgate_revocation_feed_waiting_polls";
const POOL_IN_USE: &str = "taskgate_database_pool_connections_in_use";

/// Signs up `count` users and signs each out: `count` session entries. Their session ids.
async fn signed_out_sessions(app: &TestApp, count: usize) -> BTreeSet<String> {
    let mut sids = BTreeSet::new();
    for n in 0..count {
        let tokens: Value = app
            .sign_up(&format!("paged{n}@example.org"))
            .await
            .json()
            .await
            .unwrap();
        let access = tokens["access_token"].as_str().unwrap();
        let sid = auth_core::unverified::claims(access)["sid"]
            .as_str()
            .unwrap()
            .to_owned();
        sign_out(app, access).await;
        sids.insert(sid);
    }
    sids
}

async fn sign_out(app: &TestApp, access: &str) {
    let response = app
        .client
        .post(app.url("/api/auth/sign-out"))
        .bearer_auth(access)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
}

fn sessions_of(page: &Value) -> Vec<String> {
    page["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["sid"].as_str().unwrap().to_owned())
        .collect()
}

/// Starts a long-poll (`wait` 30 s) from `cursor` in the background; its answer.
fn long_poll(
    app: &TestApp,
    client: &reqwest::Client,
    token: &str,
    cursor: &str,
) -> tokio::task::JoinHandle<reqwest::Response> {
    let request = client
        .get(app.url(&format!("/api/auth/revocations?since={cursor}&wait=30")))
        .bearer_auth(token);
    tokio::spawn(async move { request.send().await.unwrap() })
}

/// The cursor at the head of the log right now.
async fn head(app: &TestApp) -> String {
    let page: Value = app.get_feed("").await.json().await.unwrap();
    assert_eq!(page["more"], false);
    page["cursor"].as_str().unwrap().to_owned()
}

async fn the_feed_needs_a_service_token_with_revocations_read(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let feed = app.url("/api/auth/revocations");

    let anonymous = app.client.get(&feed).send().await.unwrap();
    problem_of(anonymous, 401, "missing-token").await;
    let forged = app.get_authed("/api/auth/revocations", "not.a.token").await;
    problem_of(forged, 401, "invalid-token").await;

    // A user's token is not a service's, and a service without the scope may not read it.
    let user: Value = app
        .sign_up("reader@example.org")
        .await
        .json()
        .await
        .unwrap();
    let user_token = user["access_token"].as_str().unwrap();
    let as_user = app.get_authed("/api/auth/revocations", user_token).await;
    problem_of(as_user, 403, "insufficient-scope").await;
    let purger = app.service_token("tasks:purge tokens:introspect").await;
    let without_scope = app.get_authed("/api/auth/revocations", &purger).await;
    let body = problem_of(without_scope, 403, "insufficient-scope").await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("revocations:read"),
        "{body}"
    );

    let allowed = app.get_feed("").await;
    assert_eq!(allowed.status().as_u16(), 200);
    let page: Value = allowed.json().await.unwrap();
    assert_eq!(page["reset"], true);
}

async fn a_paged_snapshot_holds_every_entry(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let revoked = signed_out_sessions(&app, 5).await;

    let mut pages = Vec::new();
    let mut page: Value = app.get_feed("?limit=2").await.json().await.unwrap();
    assert_eq!(
        page["reset"], true,
        "the first page replaces what a follower holds"
    );
    loop {
        assert!(sessions_of(&page).len() <= 2, "{page}");
        pages.push(page.clone());
        if page["more"] == false {
            break;
        }
        assert!(pages.len() < 10, "the pages never end: {pages:?}");
        let cursor = page["cursor"].as_str().unwrap();
        page = app
            .get_feed(&format!("?since={cursor}&limit=2"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(page["reset"], false, "later pages add to the first");
    }
    assert_eq!(pages.len(), 3, "5 entries, 2 a page: {pages:?}");
    let seen: Vec<String> = pages.iter().flat_map(sessions_of).collect();
    assert_eq!(seen.len(), revoked.len(), "no entry twice: {seen:?}");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), revoked);
    // The last page's cursor is the head: nothing more after it.
    let last = pages.last().unwrap()["cursor"].as_str().unwrap().to_owned();
    assert_eq!(last, head(&app).await);

    for limit in ["0", "1001", "many"] {
        let response = app.get_feed(&format!("?limit={limit}")).await;
        let status = response.status().as_u16();
        assert!(matches!(status, 400 | 422), "limit={limit}: {status}");
    }
}

async fn past_the_cap_a_long_poll_gets_503_with_retry_after(backend: Backend) {
    let app = TestApp::spawn_with(backend, |settings| {
        settings.revocation_feed.max_long_polls = 2;
    })
    .await;
    let token = app.feed_token().await.to_owned();
    let cursor = head(&app).await;
    let polls: Vec<_> = (0..2)
        .map(|_| long_poll(&app, &app.client, &token, &cursor))
        .collect();
    eventually(Duration::from_secs(10), "two long-polls held", async || {
        gauge(&app.address, WAITING).await == 2.0
    })
    .await;

    let turned_away = app.get_feed(&format!("?since={cursor}&wait=30")).await;
    assert_eq!(
        turned_away
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok()),
        Some("5")
    );
    problem_of(turned_away, 503, "feed-busy").await;
    // A poll that does not wait is not held: it is answered as ever.
    let at_once = app.get_feed(&format!("?since={cursor}")).await;
    assert_eq!(at_once.status().as_u16(), 200);

    // A revocation answers the held polls, which frees their places.
    let revoked = signed_out_sessions(&app, 1).await;
    for poll in polls {
        let page: Value = poll.await.unwrap().json().await.unwrap();
        assert_eq!(
            sessions_of(&page).into_iter().collect::<BTreeSet<_>>(),
            revoked
        );
    }
    eventually(Duration::from_secs(10), "the places freed", async || {
        gauge(&app.address, WAITING).await == 0.0
    })
    .await;
    let cursor = head(&app).await;
    let again = long_poll(&app, &app.client, &token, &cursor);
    eventually(
        Duration::from_secs(10),
        "a new long-poll held",
        async || gauge(&app.address, WAITING).await == 1.0,
    )
    .await;
    again.abort();
}

/// How many idle long-polls the load tests hold (the figure).
const IDLE_POLLS: usize = 2000;

/// Holds `IDLE_POLLS` long-polls at the head of the feed, each on its own connection; returns
/// them once the service counts them all.
async fn hold_idle_polls(app: &TestApp) -> Vec<tokio::task::JoinHandle<reqwest::Response>> {
    let token = app.feed_token().await.to_owned();
    let cursor = head(app).await;
    // One client: a connection per request in flight (HTTP/1.1 never shares one).
    let client = reqwest::Client::new();
    let mut polls = Vec::with_capacity(IDLE_POLLS);
    // In batches, so the listen backlog never overflows.
    for batch in 0..IDLE_POLLS / 250 {
        polls.extend((0..250).map(|_| long_poll(app, &client, &token, &cursor)));
        let held = ((batch + 1) * 250) as f64;
        eventually(Duration::from_secs(60), "the long-polls held", async || {
            gauge(&app.address, WAITING).await == held
        })
        .await;
    }
    polls
}

async fn two_thousand_idle_long_polls_leave_the_pool_and_sign_in_alone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user: Value = app.sign_up("busy@example.org").await.json().await.unwrap();
    let polls = hold_idle_polls(&app).await;

    // None of them holds a database connection: the pool (5 in tests) is free for sign-ins.
    assert!(
        gauge(&app.address, POOL_IN_USE).await < f64::from(app.settings.database.max_connections),
        "the pool is taken"
    );
    for _ in 0..10 {
        let response = app.sign_in("busy@example.org", PASSWORD).await;
        assert_eq!(response.status().as_u16(), 200);
    }
    assert_eq!(gauge(&app.address, WAITING).await, IDLE_POLLS as f64);

    // One revocation wakes every one of them, with the entry (read once, by the listener).
    let access = user["access_token"].as_str().unwrap();
    let sid = auth_core::unverified::claims(access)["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    sign_out(&app, access).await;
    for poll in polls {
        let response = poll.await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let page: Value = response.json().await.unwrap();
        assert_eq!(sessions_of(&page), std::slice::from_ref(&sid));
    }
    assert_eq!(gauge(&app.address, WAITING).await, 0.0);
}

/// An account deletion's cut-off reaches a long-poll waiting for it (its wake-up comes after
/// the deletion commits).
async fn a_long_poll_wakes_for_an_account_deletion(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user: Value = app
        .sign_up("leaving@example.org")
        .await
        .json()
        .await
        .unwrap();
    let access = user["access_token"].as_str().unwrap();
    let token = app.feed_token().await.to_owned();
    let cursor = head(&app).await;
    let poll = long_poll(&app, &app.client, &token, &cursor);
    eventually(Duration::from_secs(10), "the long-poll held", async || {
        gauge(&app.address, WAITING).await == 1.0
    })
    .await;
    let deleted = app
        .client
        .delete(app.url("/api/auth/account"))
        .bearer_auth(access)
        .json(&json!({ "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 204);
    let page: Value = poll.await.unwrap().json().await.unwrap();
    assert_eq!(page["users"][0]["sub"], user["user"]["id"], "{page}");
}

/// On Postgres every replica's listener hears every commit (`LISTEN`/`NOTIFY`): a sign-out
/// served by one replica answers a long-poll held by another. When the listening connection
/// is killed, the listener reconnects and reads the log once, so the next sign-out (made
/// while it may still be reconnecting) reaches the long-poll all the same.
async fn another_replicas_revocation_wakes_long_polls_even_after_the_listener_drops(
    backend: Backend,
) {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn(backend).await;
    let other = app.replica().await;
    let token = app.feed_token().await.to_owned();
    for round in 0..2 {
        if round == 1 {
            let (db, _) = app.key_admin().await;
            let killed = db
                .query_all_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
                ))
                .await
                .unwrap();
            assert_eq!(killed.len(), 2, "one listener per replica");
            let _ = db.close().await;
        }
        let user: Value = app
            .sign_up(&format!("replicated{round}@example.org"))
            .await
            .json()
            .await
            .unwrap();
        let access = user["access_token"].as_str().unwrap();
        let cursor = head(&app).await;
        let poll = long_poll(&app, &app.client, &token, &cursor);
        eventually(Duration::from_secs(10), "the long-poll held", async || {
            gauge(&app.address, WAITING).await == 1.0
        })
        .await;
        let signed_out = app
            .client
            .post(format!("{other}/api/auth/sign-out"))
            .bearer_auth(access)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(signed_out.status().as_u16(), 204);
        let page: Value = poll.await.unwrap().json().await.unwrap();
        let sid = auth_core::unverified::claims(access)["sid"].clone();
        assert_eq!(page["sessions"][0]["sid"], sid, "round {round}: {page}");
    }
}

/// A session's end and its feed entry are one transaction: when the entry cannot be written
/// (a trigger refuses it here), the session is not ended either, so a retried sign-out still
/// reaches the validators. Were they two, the first sign-out would end the session without a
/// feed entry and the retry would be refused: validators would accept its tokens until expiry.
async fn a_sign_out_whose_feed_entry_fails_leaves_the_session_live(backend: Backend) {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn(backend).await;
    let user: Value = app.sign_up("retry@example.org").await.json().await.unwrap();
    let access = user["access_token"].as_str().unwrap();
    let sid = auth_core::unverified::claims(access)["sid"]
        .as_str()
        .unwrap()
        .to_owned();

    let (db, _) = app.key_admin().await;
    let refuse = match backend {
        Backend::Sqlite => vec![
            "CREATE TRIGGER refuse_revocations BEFORE INSERT ON revocations \
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
        ],
        Backend::Postgres => vec![
            "CREATE FUNCTION refuse_revocations() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$",
            "CREATE TRIGGER refuse_revocations BEFORE INSERT ON revocations \
             FOR EACH ROW EXECUTE FUNCTION refuse_revocations()",
        ],
    };
    for statement in refuse {
        db.execute_unprepared(statement).await.unwrap();
    }
    let failed = app
        .client
        .post(app.url("/api/auth/sign-out"))
        .bearer_auth(access)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    problem_of(failed, 500, "internal-error").await;
    let allow = match backend {
        Backend::Sqlite => "DROP TRIGGER refuse_revocations",
        Backend::Postgres => "DROP TRIGGER refuse_revocations ON revocations",
    };
    db.execute_unprepared(allow).await.unwrap();
    let _ = db.close().await;

    // The session lives on, so the retry ends it and the feed carries it.
    sign_out(&app, access).await;
    let page: Value = app.get_feed("").await.json().await.unwrap();
    assert_eq!(sessions_of(&page), [sid]);
}

/// Measures, and asserts nothing about time: sign-in latency (p50, p99 over 100 sign-ins)
/// with no long-poll held and with 2,000 held. Run it with
/// `cargo test -p auth-service --test api measure_sign_in -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "a measurement, not a test: prints figures"]
async fn measure_sign_in_latency_with_idle_long_polls() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let app = TestApp::spawn(backend).await;
        app.sign_up("measured@example.org").await;
        let quiet = sign_in_latencies(&app).await;
        let polls = hold_idle_polls(&app).await;
        let held = gauge(&app.address, WAITING).await;
        let busy = sign_in_latencies(&app).await;
        println!(
            "{backend:?}: sign-in p50/p99 {:?}/{:?} with no long-poll, {:?}/{:?} with {held} held",
            quiet.0, quiet.1, busy.0, busy.1
        );
        for poll in polls {
            poll.abort();
        }
    }
}

/// p50 and p99 of 100 sign-ins one after another.
async fn sign_in_latencies(app: &TestApp) -> (Duration, Duration) {
    let mut took = Vec::with_capacity(100);
    for _ in 0..100 {
        let started = Instant::now();
        let response = app.sign_in("measured@example.org", PASSWORD).await;
        assert_eq!(response.status().as_u16(), 200);
        took.push(started.elapsed());
    }
    took.sort();
    (took[49], took[98])
}
