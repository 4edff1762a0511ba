//! Following one issuer's revocation feed in the background: a snapshot first, then long polls
//! back to back, so a revocation reaches the in-memory set within one round trip. When the feed
//! is unreachable the follower retries with capped backoff, keeps checking against what it
//! already knows, and reports it through [`RevocationStatus`] and one log line per outage.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch};

use crate::clock::unix_now;
use crate::config::FeedClient;
use crate::http_fetch::FetchError;
use crate::revocation_feed::RevocationFeed;
use crate::revocation_set::RevocationSet;
use crate::scopes::REVOCATIONS_READ;
use crate::service_token::ServiceToken;

const FIRST_RETRY_DELAY: Duration = Duration::from_millis(250);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);
/// Start-up waits this long at most for the first snapshot (all its pages), so tokens revoked before we started
/// are refused from the first request, without an unreachable feed holding up start-up.
const FIRST_SNAPSHOT_WAIT: Duration = Duration::from_secs(5);
/// The least time between polls that brought nothing new (or a reset): an issuer that answers
/// at once instead of holding the poll must not turn the loop into a busy loop.
const MIN_QUIET_POLL_INTERVAL: Duration = Duration::from_millis(250);

/// How the revocation feed is doing, for readiness checks and operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationStatus {
    /// A revocation feed is configured for the (primary) issuer.
    pub following: bool,
    /// The last poll succeeded. `true` when not following: there is nothing to be behind on.
    /// Tokens are still accepted while unhealthy (revocation is a best-effort extra layer on
    /// top of short token lifetimes), checked against the revocations already known.
    pub healthy: bool,
    /// Why the last poll failed, while it is failing; safe to show operators.
    pub last_error: Option<String>,
    /// Seconds since the last successful poll; `None` if none has succeeded yet.
    pub secs_since_last_success: Option<u64>,
}

impl RevocationStatus {
    pub(crate) fn not_following() -> RevocationStatus {
        RevocationStatus {
            following: false,
            healthy: true,
            last_error: None,
            secs_since_last_success: None,
        }
    }
}

/// Owns the background task: dropping the follower (with its `Verifier`) stops it at once, even
/// in the middle of a long poll.
pub(crate) struct RevocationFollower {
    shared: Arc<Shared>,
    _stop: oneshot::Sender<()>,
}

struct Shared {
    set: RwLock<RevocationSet>,
    health: Mutex<Health>,
    /// The verifier's leeway: revocations must outlive the tokens they concern by as much.
    grace_secs: i64,
}

#[derive(Default)]
struct Health {
    last_success: Option<Instant>,
    last_error: Option<String>,
}

impl RevocationFollower {
    /// Spawns the follower on the current tokio runtime and waits briefly for the snapshot.
    pub(crate) async fn start(
        feed_url: &str,
        client: Option<FeedClient>,
        leeway: Duration,
    ) -> RevocationFollower {
        let shared = Arc::new(Shared {
            set: RwLock::new(RevocationSet::default()),
            health: Mutex::new(Health::default()),
            grace_secs: i64::try_from(leeway.as_secs()).unwrap_or(i64::MAX),
        });
        let (stop, stopped) = oneshot::channel();
        let (first_done, mut first_done_rx) = watch::channel(false);
        let feed = RevocationFeed::new(feed_url);
        let token = client.map(|client| ServiceToken::new(client, REVOCATIONS_READ));
        tokio::spawn(follow(
            Arc::clone(&shared),
            feed,
            token,
            stopped,
            first_done,
        ));
        // Err means the first attempt is still running or the task ended; both are fine here.
        let _ =
            tokio::time::timeout(FIRST_SNAPSHOT_WAIT, first_done_rx.wait_for(|done| *done)).await;
        RevocationFollower {
            shared,
            _stop: stop,
        }
    }

    pub(crate) fn is_revoked(&self, sid: Option<&str>, sub: &str, iat: i64) -> bool {
        self.shared
            .set
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .is_revoked(sid, sub, iat, unix_now(), self.shared.grace_secs)
    }

    pub(crate) fn status(&self) -> RevocationStatus {
        let health = self
            .shared
            .health
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        RevocationStatus {
            following: true,
            healthy: health.last_success.is_some() && health.last_error.is_none(),
            last_error: health.last_error.clone(),
            secs_since_last_success: health.last_success.map(|at| at.elapsed().as_secs()),
        }
    }
}

impl Shared {
    fn record(&self, result: Result<(), String>) {
        let mut health = self
            .health
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match result {
            Ok(()) => {
                health.last_success = Some(Instant::now());
                health.last_error = None;
            }
            Err(message) => health.last_error = Some(message),
        }
    }
}

/// One poll with a service token when a client is configured (asking for a fresh one when
/// the feed refuses it).
async fn poll(
    feed: &RevocationFeed,
    token: &mut Option<ServiceToken>,
    since: Option<&str>,
) -> Result<crate::revocation_feed::FeedPage, FetchError> {
    let bearer = match token {
        Some(token) => Some(token.bearer().await?),
        None => None,
    };
    let result = feed.poll(since, bearer.as_deref()).await;
    if let (Err(FetchError::Status(status)), Some(token)) = (&result, token)
        && *status == reqwest::StatusCode::UNAUTHORIZED
    {
        token.forget();
    }
    result
}

/// The follower loop. Polls back to back while the feed answers; on failure waits 250 ms,
/// doubling to 30 s. Logs once when an outage starts and once when it ends.
async fn follow(
    shared: Arc<Shared>,
    feed: RevocationFeed,
    mut token: Option<ServiceToken>,
    mut stop: oneshot::Receiver<()>,
    first_done: watch::Sender<bool>,
) {
    let mut cursor: Option<String> = None;
    // A snapshot whose pages are still arriving (see `apply`).
    let mut snapshot: Option<RevocationSet> = None;
    let mut retry = FIRST_RETRY_DELAY;
    let mut failing = false;
    loop {
        let started = Instant::now();
        let result = tokio::select! {
            _ = &mut stop => return,
            result = poll(&feed, &mut token, cursor.as_deref()) => result,
        };
        let mut caught_up = true;
        let pause = match result {
            Ok(page) => {
                let first = cursor.is_none();
                // After the first snapshot page the long polls start at once, and so does the
                // next page of a cut answer. Anything else (nothing new, or a reset of a
                // cursor we held) is paced, so a server that ignores `wait` or `since` cannot
                // turn this into a busy loop.
                let poll_again_now = first || page.more || (!page.reset && !page.is_empty());
                caught_up = !page.more;
                // Without a cursor the answer is a snapshot whatever `reset` says.
                let reset = page.reset || first;
                apply(&shared, &page, reset, &mut snapshot);
                cursor = Some(page.cursor);
                shared.record(Ok(()));
                if failing {
                    tracing::info!(url = %feed.url(), "revocation feed reachable again");
                    failing = false;
                }
                retry = FIRST_RETRY_DELAY;
                if poll_again_now {
                    Duration::ZERO
                } else {
                    MIN_QUIET_POLL_INTERVAL.saturating_sub(started.elapsed())
                }
            }
            Err(error) => {
                let message = error.to_string();
                if !failing {
                    tracing::warn!(
                        url = %feed.url(),
                        error = %message,
                        "revocation feed unreachable; retrying with backoff, and meanwhile \
                         checking tokens against the revocations already known"
                    );
                    failing = true;
                }
                // A client error on a long poll may mean the server rejects our cursor: start
                // over with a snapshot rather than repeating the same request forever.
                // (401 and 403 are about the token, not the cursor.)
                if matches!(error, FetchError::Status(status) if status.is_client_error()
                    && status != reqwest::StatusCode::UNAUTHORIZED
                    && status != reqwest::StatusCode::FORBIDDEN)
                {
                    cursor = None;
                }
                shared.record(Err(message));
                let pause = retry;
                retry = (retry * 2).min(MAX_RETRY_DELAY);
                pause
            }
        };
        // Start-up waits for the whole snapshot, or for the first failure.
        if caught_up {
            first_done.send_replace(true);
        }
        if !pause.is_zero() {
            tokio::select! {
                _ = &mut stop => return,
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }
}

/// Extends the set with an increment, or builds a snapshot (which may come in several pages)
/// aside in `snapshot` and puts it in place of the set once its last page is in: the set never
/// shrinks to a snapshot's first page while the rest is on its way. Then drops what has expired.
fn apply(
    shared: &Shared,
    page: &crate::revocation_feed::FeedPage,
    reset: bool,
    snapshot: &mut Option<RevocationSet>,
) {
    if reset {
        *snapshot = Some(RevocationSet::default());
    }
    let skipped = match snapshot.as_mut() {
        Some(building) => page.merge_into(building),
        None => page.merge_into(&mut shared.set.write().unwrap_or_else(|p| p.into_inner())),
    };
    if skipped > 0 {
        tracing::debug!(
            skipped,
            "revocation feed entries without a UUID id were ignored"
        );
    }
    if page.more && snapshot.is_some() {
        return;
    }
    let mut set = shared
        .set
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(complete) = snapshot.take() {
        *set = complete;
    }
    set.prune(unix_now(), shared.grace_secs);
    tracing::debug!(reset, entries = set.len(), "revocation set updated");
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn page(json: serde_json::Value) -> crate::revocation_feed::FeedPage {
        serde_json::from_value(json).unwrap()
    }

    fn revoked(shared: &Shared, sid: &str) -> bool {
        let set = shared.set.read().unwrap();
        set.is_revoked(Some(sid), "user", 0, unix_now(), 0)
    }

    /// A snapshot cut into pages replaces the set only with its last page: meanwhile, what
    /// was known stays known (a session revoked on page 2 was never accepted in between).
    #[test]
    fn a_paged_snapshot_replaces_the_set_only_when_complete() {
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let expires_at = unix_now() + 600;
        let session =
            |sid: Uuid| serde_json::json!({"sid": sid.to_string(), "expires_at": expires_at});
        let shared = Shared {
            set: RwLock::default(),
            health: Mutex::default(),
            grace_secs: 0,
        };
        let mut snapshot = None;
        let increment =
            page(serde_json::json!({"cursor": "1", "sessions": [session(a), session(b)]}));
        apply(&shared, &increment, false, &mut snapshot);

        let first = page(
            serde_json::json!({"cursor": "2", "reset": true, "more": true, "sessions": [session(c)]}),
        );
        apply(&shared, &first, true, &mut snapshot);
        assert!(revoked(&shared, &a.to_string()) && revoked(&shared, &b.to_string()));

        let last = page(serde_json::json!({"cursor": "3", "sessions": [session(b)]}));
        apply(&shared, &last, false, &mut snapshot);
        // The snapshot is the truth now: a is no longer listed, b and c are.
        assert!(!revoked(&shared, &a.to_string()));
        assert!(revoked(&shared, &b.to_string()) && revoked(&shared, &c.to_string()));
        assert!(snapshot.is_none());
    }
}
