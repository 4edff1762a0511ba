//! Following a revocation feed over real HTTP: a fake issuer implements the feed contract
//! (snapshot without `since`, long polls woken by a `Notify`, unknown cursors answered with a
//! reset, expired entries left out of snapshots) and the verifier is checked against it.

use service_runtime::testing::eventually;
use std::net::TcpListener;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{HttpResponse, web};
use auth_core::{TokenError, TrustedIssuer, Verifier, VerifierConfig};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio::time::Instant;
use uuid::Uuid;

use crate::support::*;

const FEED_PATH: &str = "/api/auth/revocations";

#[derive(Default)]
struct FeedLog {
    /// Bumped by `forget`: cursors from an earlier epoch are unknown, as after a restart.
    epoch: u64,
    seq: u64,
    /// (seq, sid, expires_at)
    sessions: Vec<(u64, String, i64)>,
    /// (seq, sub, not_before, expires_at)
    users: Vec<(u64, String, i64, i64)>,
    requests: usize,
    /// Requests being held open right now as long polls (waiting for something new).
    held: usize,
    jwks: String,
    /// Misbehave: answer every poll at once, as a server without long polling would.
    ignore_wait: bool,
}

impl FeedLog {
    fn cursor(&self) -> String {
        format!("{}.{}", self.epoch, self.seq)
    }

    /// The sequence number a cursor stands for, if this server still knows it.
    fn known(&self, cursor: &str) -> Option<u64> {
        let (epoch, seq) = cursor.split_once('.')?;
        let (epoch, seq): (u64, u64) = (epoch.parse().ok()?, seq.parse().ok()?);
        (epoch == self.epoch && seq <= self.seq).then_some(seq)
    }

    /// Entries after `after`; a snapshot (after = None) leaves out expired ones.
    fn page(&self, after: Option<u64>) -> Value {
        let now = now();
        let newer = |seq: u64, expires_at: i64| match after {
            Some(after) => seq > after,
            None => expires_at >= now,
        };
        let sessions: Vec<Value> = self
            .sessions
            .iter()
            .filter(|(seq, _, expires_at)| newer(*seq, *expires_at))
            .map(|(_, sid, expires_at)| json!({"sid": sid, "expires_at": expires_at}))
            .collect();
        let users: Vec<Value> = self
            .users
            .iter()
            .filter(|(seq, _, _, expires_at)| newer(*seq, *expires_at))
            .map(|(_, sub, not_before, expires_at)| {
                json!({"sub": sub, "not_before": not_before, "expires_at": expires_at})
            })
            .collect();
        json!({"cursor": self.cursor(), "reset": after.is_none(), "sessions": sessions, "users": users})
    }
}

struct FeedShared {
    log: Mutex<FeedLog>,
    changed: Notify,
}

/// Also used by `verified_token_cache` to revoke tokens it has cached.
pub(crate) struct FakeFeed {
    base: String,
    shared: Arc<FeedShared>,
    handle: ServerHandle,
}

#[derive(Deserialize)]
struct FeedQuery {
    since: Option<String>,
    wait: Option<u64>,
}

/// Counts one request in `FeedLog::held` from when it starts waiting until its handler ends
/// (it answers, or the client goes away and the handler is dropped).
struct Held(web::Data<FeedShared>);

impl Drop for Held {
    fn drop(&mut self) {
        // No unwrap: a panic while already panicking would abort the whole test binary.
        let mut log = self.0.log.lock().unwrap_or_else(PoisonError::into_inner);
        log.held -= 1;
    }
}

async fn feed(shared: web::Data<FeedShared>, query: web::Query<FeedQuery>) -> HttpResponse {
    let deadline = Instant::now() + Duration::from_secs(query.wait.unwrap_or(0).min(30));
    shared.log.lock().unwrap().requests += 1;
    let mut held: Option<Held> = None;
    loop {
        // Registered before looking, so a change between the look and the wait is not lost.
        let changed = shared.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        {
            let mut log = shared.log.lock().unwrap();
            let after = query.since.as_deref().and_then(|cursor| log.known(cursor));
            let page = log.page(after);
            let empty = page["sessions"].as_array().unwrap().is_empty()
                && page["users"].as_array().unwrap().is_empty();
            if after.is_none() || !empty || log.ignore_wait || Instant::now() >= deadline {
                // `log` is dropped before `held`, whose drop takes the lock again.
                return HttpResponse::Ok().json(page);
            }
            if held.is_none() {
                log.held += 1;
                held = Some(Held(shared.clone()));
            }
        }
        let _ = tokio::time::timeout_at(deadline, changed).await;
    }
}

async fn jwks_endpoint(shared: web::Data<FeedShared>) -> HttpResponse {
    let body = shared.log.lock().unwrap().jwks.clone();
    HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        .body(body)
}

impl FakeFeed {
    pub(crate) async fn start(keys: &[&TestKey]) -> FakeFeed {
        FakeFeed::start_on(TcpListener::bind("127.0.0.1:0").unwrap(), keys).await
    }

    async fn start_on(listener: TcpListener, keys: &[&TestKey]) -> FakeFeed {
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(FeedShared {
            log: Mutex::new(FeedLog {
                jwks: jwks(keys).to_string(),
                ..FeedLog::default()
            }),
            changed: Notify::new(),
        });
        let data = web::Data::from(Arc::clone(&shared));
        let handle = serve(listener, 2, move |cfg| {
            cfg.app_data(data.clone())
                .route(FEED_PATH, web::get().to(feed))
                .route("/.well-known/jwks.json", web::get().to(jwks_endpoint));
        });
        FakeFeed {
            base,
            shared,
            handle,
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("{}{FEED_PATH}", self.base)
    }

    fn change(&self, edit: impl FnOnce(&mut FeedLog)) {
        edit(&mut self.shared.log.lock().unwrap());
        self.shared.changed.notify_waiters();
    }

    pub(crate) fn revoke_session(&self, sid: &str, expires_at: i64) {
        self.change(|log| {
            log.seq += 1;
            let seq = log.seq;
            log.sessions.push((seq, sid.to_owned(), expires_at));
        });
    }

    pub(crate) fn cut_off_user(&self, sub: &str, not_before: i64) {
        self.change(|log| {
            log.seq += 1;
            let seq = log.seq;
            log.users
                .push((seq, sub.to_owned(), not_before, now() + 900));
        });
    }

    /// Loses all history (a restart with an empty store): old cursors become unknown.
    fn forget(&self) {
        self.change(|log| {
            log.epoch += 1;
            log.seq = 0;
            log.sessions.clear();
            log.users.clear();
        });
    }

    fn requests(&self) -> usize {
        self.shared.log.lock().unwrap().requests
    }

    fn held(&self) -> usize {
        self.shared.log.lock().unwrap().held
    }

    /// Waits until the follower's long poll is being held open here: it has applied everything
    /// sent so far and is waiting for what comes next.
    async fn long_poll_held(&self) {
        eventually(
            Duration::from_secs(2),
            "the follower's long poll is held",
            async || self.held() == 1,
        )
        .await;
    }

    pub(crate) async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

fn feed_config(feed_url: &str) -> VerifierConfig {
    let mut config = config();
    config.revocation_feed_url = Some(feed_url.to_owned());
    config
}

pub(crate) async fn following(feed_url: &str, key: &TestKey) -> Verifier {
    Verifier::connect_trusted(vec![TrustedIssuer::fixed_keys(
        feed_config(feed_url),
        jwk_set(&[key]),
    )])
    .await
    .unwrap()
}

pub(crate) async fn is_revoked(verifier: &Verifier, token: &str) -> bool {
    match verifier.verify(token).await {
        Ok(_) => false,
        Err(TokenError::Revoked) => true,
        Err(other) => panic!("refused for another reason: {other}"),
    }
}

pub(crate) fn sid_of(claims: &Value) -> String {
    claims["sid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_revoked_session_is_refused_within_moments_without_per_request_calls() {
    let key = TestKey::generate("k1");
    let feed = FakeFeed::start(&[&key]).await;
    // Through `TrustedIssuer::jwks`: keys from the JWKS URL, revocations from the feed.
    let mut config = feed_config(&feed.url());
    config.jwks_url = Some(format!("{}/.well-known/jwks.json", feed.base));
    let verifier = jwks_verifier(config).await;
    let status = verifier.revocation_status();
    assert!(status.following && status.healthy, "{status:?}");
    assert_eq!(status.last_error, None);

    let (doomed, spared) = (claims(), claims());
    let (doomed_token, spared_token) = (key.sign(&doomed), key.sign(&spared));
    assert!(!is_revoked(&verifier, &doomed_token).await);
    // The follower has settled into its long poll, so the revocation wakes it.
    feed.long_poll_held().await;

    feed.revoke_session(&sid_of(&doomed), now() + 900);
    let took = eventually(Duration::from_secs(1), "revocation seen", async || {
        is_revoked(&verifier, &doomed_token).await
    })
    .await;
    println!("revocation reached the verifier after {took:?}");
    assert!(!is_revoked(&verifier, &spared_token).await);

    // Verification itself never asks the feed. Counted once the follower is back in a long
    // poll (the one that brought the revocation has ended, so a held poll is the next one).
    feed.long_poll_held().await;
    let before = feed.requests();
    for _ in 0..50 {
        verifier
            .verify(&spared_token)
            .await
            .expect("the spared token is accepted");
        assert!(is_revoked(&verifier, &doomed_token).await);
    }
    assert_eq!(feed.requests(), before);
    assert_eq!(
        feed.held(),
        1,
        "the long poll is still the only request open"
    );
    feed.stop().await;
}

#[tokio::test]
async fn a_user_cutoff_refuses_tokens_issued_before_it() {
    let key = TestKey::generate("k1");
    let feed = FakeFeed::start(&[&key]).await;
    let verifier = following(&feed.url(), &key).await;
    let user = Uuid::now_v7().to_string();
    let issued_at = |iat: i64| {
        let claims = with(claims(), "sub", json!(user));
        key.sign(&with(with(claims, "iat", json!(iat)), "nbf", json!(iat)))
    };
    let cutoff = now() - 10;
    let (before, at, after) = (issued_at(cutoff - 20), issued_at(cutoff), issued_at(now()));
    let someone_else = key.sign(&with(
        with(claims(), "iat", json!(cutoff - 20)),
        "nbf",
        json!(cutoff - 20),
    ));

    feed.cut_off_user(&user, cutoff);
    eventually(Duration::from_secs(1), "cut-off seen", async || {
        is_revoked(&verifier, &before).await
    })
    .await;
    // Only iat < not_before is revoked: a token issued at the cut-off second survives (the
    // issuer sets the cut-off after the last token it means to revoke).
    assert!(!is_revoked(&verifier, &at).await);
    assert!(!is_revoked(&verifier, &after).await);
    assert!(!is_revoked(&verifier, &someone_else).await);
    feed.stop().await;
}

#[tokio::test]
async fn the_first_snapshot_is_loaded_before_connect_returns() {
    let key = TestKey::generate("k1");
    let feed = FakeFeed::start(&[&key]).await;
    let revoked = claims();
    feed.revoke_session(&sid_of(&revoked), now() + 900);
    let verifier = following(&feed.url(), &key).await;
    assert!(is_revoked(&verifier, &key.sign(&revoked)).await);
    feed.stop().await;
}

#[tokio::test]
async fn a_reset_replaces_the_whole_set() {
    let key = TestKey::generate("k1");
    let feed = FakeFeed::start(&[&key]).await;
    let (first, second) = (claims(), claims());
    let (first_token, second_token) = (key.sign(&first), key.sign(&second));
    feed.revoke_session(&sid_of(&first), now() + 900);
    let verifier = following(&feed.url(), &key).await;
    assert!(is_revoked(&verifier, &first_token).await);

    // The issuer lost its history and now knows only the second revocation: the pending long
    // poll's cursor is unknown, so it gets a reset snapshot and the first entry is gone.
    feed.forget();
    feed.revoke_session(&sid_of(&second), now() + 900);
    eventually(Duration::from_secs(2), "reset applied", async || {
        is_revoked(&verifier, &second_token).await && !is_revoked(&verifier, &first_token).await
    })
    .await;
    feed.stop().await;
}

#[tokio::test]
async fn entries_past_their_expiry_are_dropped() {
    let key = TestKey::generate("k1");
    let feed = FakeFeed::start(&[&key]).await;
    let verifier = following(&feed.url(), &key).await;
    let (stale, live) = (claims(), claims());
    // Expired beyond the 60 s leeway: every token it could concern is already refused as
    // expired, so it no longer counts (a real issuer would not send it; the follower copes).
    feed.revoke_session(&sid_of(&stale), now() - 120);
    feed.revoke_session(&sid_of(&live), now() + 900);
    eventually(Duration::from_secs(1), "live entry seen", async || {
        is_revoked(&verifier, &key.sign(&live)).await
    })
    .await;
    assert!(!is_revoked(&verifier, &key.sign(&stale)).await);
    feed.stop().await;
}

#[tokio::test]
async fn an_unreachable_feed_is_reported_then_recovered_from() {
    let key = TestKey::generate("k1");
    // Reserve a port, then free it so nothing is listening when we connect.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}{FEED_PATH}");
    let verifier = following(&url, &key).await;
    let status = verifier.revocation_status();
    assert!(status.following && !status.healthy, "{status:?}");
    assert_eq!(status.secs_since_last_success, None);
    let error = status.last_error.unwrap();
    assert!(error.contains("Connection refused"), "{error}");
    // Best effort: tokens are still accepted while the feed is down.
    let revoked = claims();
    let token = key.sign(&revoked);
    verifier
        .verify(&token)
        .await
        .expect("accepted while the feed is down");

    let feed = FakeFeed::start_on(TcpListener::bind(("127.0.0.1", port)).unwrap(), &[&key]).await;
    feed.revoke_session(&sid_of(&revoked), now() + 900);
    // Backoff starts at 250 ms and doubles, so a few seconds at most.
    eventually(Duration::from_secs(8), "recovered", async || {
        verifier.revocation_status().healthy
    })
    .await;
    let status = verifier.revocation_status();
    assert_eq!(status.last_error, None);
    assert_eq!(status.secs_since_last_success, Some(0));
    eventually(
        Duration::from_secs(1),
        "revocation after recovery",
        async || is_revoked(&verifier, &token).await,
    )
    .await;

    // Losing the feed again is noticed (the open long poll fails), and what is known stays.
    feed.stop().await;
    eventually(Duration::from_secs(5), "outage noticed", async || {
        !verifier.revocation_status().healthy
    })
    .await;
    assert!(is_revoked(&verifier, &token).await);
}

#[tokio::test]
async fn a_feed_that_does_not_hold_polls_is_not_hammered() {
    let key = TestKey::generate("k1");
    let feed = FakeFeed::start(&[&key]).await;
    feed.change(|log| log.ignore_wait = true);
    let verifier = following(&feed.url(), &key).await;
    let before = feed.requests();
    // On purpose: the polls are counted over a fixed one-second window.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let polls = feed.requests() - before;
    // Paced at one poll per 250 ms: the first long poll starts right after the snapshot, the
    // next ones 250 ms apart, so a live follower makes 3 to 5 here (the first may already be
    // counted in `before`). At least 2 leaves a whole interval of slack for a loaded machine,
    // while a follower that stopped polling (or never started) makes 0.
    assert!(polls <= 5, "{polls} polls in one second");
    assert!(
        polls >= 2,
        "only {polls} polls in one second: the follower is not following"
    );
    assert!(verifier.revocation_status().healthy);
    feed.stop().await;
}

#[tokio::test]
async fn without_a_feed_nothing_is_followed() {
    let key = TestKey::generate("k1");
    let status = fixed_verifier(&[&key]).revocation_status();
    assert!(!status.following && status.healthy, "{status:?}");
}
