//! The revocation log behind `GET /api/auth/revocations` (docs/architecture.md, "Revocation
//! feed"): revoked session ids and per-user "not before" cut-offs, each kept until every
//! access token it concerns has expired. Validators follow it (long-poll) and refuse those tokens in memory, so a sign-out
//! takes effect everywhere within about a second without a call per request.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionSession,
};
use serde::Serialize;
use uuid::Uuid;

use super::revocation_listener::{CHANNEL, News, RevocationListener, Tail};
use crate::entities::revocations;

/// Arbitrary, fixed: the Postgres advisory lock that orders appends to the log.
const APPEND_LOCK_ID: i64 = 0x7461_736b_7265_766b; // "taskrevk"
const KIND_SESSION: &str = "session";
const KIND_USER: &str = "user";
/// An answer holds at most this many entries (and by default this many); a follower asks
/// again at once for the rest (`more`).
pub const MAX_ENTRIES_PER_ANSWER: u64 = 1000;

/// Writes entries, and answers the feed: snapshots, increments and long-polls.
pub struct RevocationLog {
    /// How long an entry must live: the longest access token lifetime plus validator leeway.
    entry_ttl: chrono::Duration,
    /// What the replica's one listener read last, and its wake-up.
    news: Arc<News>,
    /// Long-polls held open right now (`/metrics`), at most `max_long_polls`.
    long_polls: AtomicUsize,
    max_long_polls: usize,
}

#[derive(Debug, Serialize, PartialEq, utoipa::ToSchema)]
pub struct FeedPage {
    /// Pass it back as `since` to get only newer entries.
    pub cursor: String,
    /// True when this is a full snapshot (or its first page): replace what you hold instead
    /// of adding to it.
    pub reset: bool,
    /// True when the answer stopped at the page limit: ask again at once with `since` =
    /// `cursor` for the rest (the next pages of a snapshot arrive this way, `reset: false`).
    pub more: bool,
    pub sessions: Vec<SessionEntry>,
    pub users: Vec<UserEntry>,
}

/// Tokens of this session are refused until `expires_at` (Unix seconds).
#[derive(Debug, Serialize, PartialEq, utoipa::ToSchema)]
pub struct SessionEntry {
    pub sid: Uuid,
    pub expires_at: i64,
}

/// Tokens of this user issued before `not_before` (Unix seconds) are refused until
/// `expires_at`.
#[derive(Debug, Serialize, PartialEq, utoipa::ToSchema)]
pub struct UserEntry {
    pub sub: Uuid,
    pub not_before: i64,
    pub expires_at: i64,
}

/// One long-poll's place under the cap, given back when the request ends (answered, or
/// cancelled because the client went away).
pub struct LongPoll<'a>(&'a AtomicUsize);

impl Drop for LongPoll<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl RevocationLog {
    /// A log whose entries outlive the tokens they concern (at most `access_ttl_secs` old) by
    /// the largest leeway any validator may allow, holding at most `max_long_polls` at once.
    pub fn new(access_ttl_secs: u64, max_long_polls: usize) -> Self {
        let secs = access_ttl_secs.saturating_add(auth_core::MAX_LEEWAY_SECS);
        Self {
            entry_ttl: chrono::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX)),
            news: Arc::new(News::default()),
            long_polls: AtomicUsize::new(0),
            max_long_polls,
        }
    }

    /// The replica's listener, which the workers run: until it runs, long-polls read the
    /// table themselves once and then wait for their deadline.
    pub fn listener(&self, db: DatabaseConnection) -> RevocationListener {
        RevocationListener {
            db,
            news: Arc::clone(&self.news),
        }
    }

    /// How many long-polls are held open now.
    pub fn waiting(&self) -> usize {
        self.long_polls.load(Ordering::Relaxed)
    }

    /// A place for one more long-poll, or `None` when `max_long_polls` are held already.
    pub fn hold_long_poll(&self) -> Option<LongPoll<'_>> {
        self.long_polls
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
                (held < self.max_long_polls).then_some(held + 1)
            })
            .ok()
            .map(|_| LongPoll(&self.long_polls))
    }

    /// Records a session's end in `txn` (a transaction: the entry commits with the change it
    /// announces, or not at all). Commit `txn` with [`Self::commit`].
    pub async fn record_session<T: ConnectionTrait + TransactionSession>(
        &self,
        txn: &T,
        session_id: Uuid,
    ) -> anyhow::Result<()> {
        self.insert(txn, KIND_SESSION, session_id, None).await
    }

    /// Every token of `user_id` issued before now is refused (account deletion). Commit
    /// `txn` with [`Self::commit`].
    pub async fn record_user_cutoff<T: ConnectionTrait + TransactionSession>(
        &self,
        txn: &T,
        user_id: Uuid,
    ) -> anyhow::Result<()> {
        // `iat` has whole seconds: round up so a token issued earlier in this second is covered.
        let now = crate::clock::now();
        let not_before = DateTime::from_timestamp(now.timestamp() + 1, 0).unwrap_or(now);
        self.insert(txn, KIND_USER, user_id, Some(not_before)).await
    }

    /// Commits `txn`, which recorded entries, and only then wakes this replica's listener:
    /// woken before the commit, it would read the log without them and sleep until its next
    /// safety read. (On Postgres the `NOTIFY` sent in the transaction wakes every replica when
    /// it commits; this saves the round trip, and is the only wake-up on SQLite.) `what`
    /// names the change in the error.
    pub async fn commit<T: TransactionSession>(&self, txn: T, what: &str) -> anyhow::Result<()> {
        txn.commit()
            .await
            .with_context(|| format!("committing {what}"))?;
        self.news.wake.notify_one();
        Ok(())
    }

    /// On Postgres, ids come from a sequence when the insert runs but become visible when its
    /// transaction commits, so a follower at cursor N could see N+2 before N+1 commits and
    /// skip it. A transaction-scoped advisory lock makes entries commit in id order.
    async fn insert<T: ConnectionTrait + TransactionSession>(
        &self,
        txn: &T,
        kind: &str,
        subject: Uuid,
        not_before: Option<DateTime<Utc>>,
    ) -> anyhow::Result<()> {
        let postgres = txn.get_database_backend() == sea_orm::DbBackend::Postgres;
        if postgres {
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({APPEND_LOCK_ID})"))
                .await
                .context("ordering revocations")?;
        }
        let now = crate::clock::now();
        revocations::ActiveModel {
            kind: Set(kind.to_owned()),
            subject: Set(subject),
            not_before: Set(not_before),
            created_at: Set(now),
            expires_at: Set(now + self.entry_ttl),
            ..Default::default()
        }
        .insert(txn)
        .await
        .context("recording a revocation")?;
        if postgres {
            // Delivered to every listening replica when (and only if) the transaction commits.
            txn.execute_unprepared(&format!("SELECT pg_notify('{CHANNEL}', '')"))
                .await
                .context("announcing a revocation")?;
        }
        Ok(())
    }

    /// Entries after `since` (or everything live, with `reset`, when `since` is absent or not
    /// a cursor this log knows), at most `limit`, waiting up to `wait` for the first one to
    /// arrive, or until `stop` resolves (the server drains), whichever is first. While it
    /// waits it holds no database connection and reads nothing: the listener's read wakes it,
    /// and a follower that was at the head is answered from that.
    pub async fn read<C: ConnectionTrait>(
        &self,
        db: &C,
        since: Option<&str>,
        wait: Duration,
        limit: u64,
        stop: impl Future<Output = ()>,
    ) -> anyhow::Result<FeedPage> {
        let limit = limit.clamp(1, MAX_ENTRIES_PER_ANSWER);
        let deadline = tokio::time::Instant::now() + wait;
        // Subscribed before reading, so news published after the read still wakes us.
        let mut news = self.news.tail.subscribe();
        let known = news.borrow_and_update().clone();
        let since = since
            .and_then(|raw| raw.parse::<i64>().ok())
            .filter(|&id| id >= 0);
        let since = match (since, known) {
            (None, _) => return snapshot(db, limit).await,
            // At the head the listener knows: nothing to read.
            (Some(since), Some(tail)) if since == tail.newest => since,
            (Some(since), _) => {
                if since > newest_id(db).await? {
                    return snapshot(db, limit).await;
                }
                let page = entries_after(db, since, limit).await?;
                if page.cursor != since.to_string() {
                    return Ok(page);
                }
                since
            }
        };
        tokio::pin!(stop);
        loop {
            let woken = tokio::select! {
                // News first: a page with entries is never dropped for the drain's empty one.
                biased;
                woken = tokio::time::timeout_at(deadline, news.changed()) => woken,
                () = &mut stop => return Ok(page(Vec::new(), since, false, false)),
            };
            if !matches!(woken, Ok(Ok(()))) {
                // The deadline (or the listener is gone): nothing new.
                return Ok(page(Vec::new(), since, false, false));
            }
            let Some(tail) = news.borrow_and_update().clone() else {
                continue;
            };
            if tail.newest <= since {
                continue;
            }
            if tail.after <= since {
                return Ok(from_tail(&tail, since, limit));
            }
            // Further behind than the listener's last read: one read of our own.
            return entries_after(db, since, limit).await;
        }
    }
}

/// Deletes entries whose tokens have all expired.
pub async fn prune<C: ConnectionTrait>(db: &C) -> anyhow::Result<u64> {
    let result = revocations::Entity::delete_many()
        .filter(revocations::Column::ExpiresAt.lt(crate::clock::now()))
        .exec(db)
        .await
        .context("pruning revocations")?;
    Ok(result.rows_affected)
}

pub(super) async fn newest_id<C: ConnectionTrait>(db: &C) -> anyhow::Result<i64> {
    let newest: Option<i64> = revocations::Entity::find()
        .select_only()
        .column_as(revocations::Column::Id.max(), "newest")
        .into_tuple()
        .one(db)
        .await
        .context("reading the newest revocation")?
        .flatten();
    Ok(newest.unwrap_or(0))
}

/// The first `limit` live entries; the rest follow as increments from its cursor.
async fn snapshot<C: ConnectionTrait>(db: &C, limit: u64) -> anyhow::Result<FeedPage> {
    let newest = newest_id(db).await?;
    let mut rows = revocations::Entity::find()
        .filter(revocations::Column::Id.lte(newest))
        .filter(revocations::Column::ExpiresAt.gt(Utc::now()))
        .order_by_asc(revocations::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await
        .context("reading revocations")?;
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let cursor = match rows.last() {
        Some(last) if more => last.id,
        _ => newest,
    };
    Ok(page(rows, cursor, true, more))
}

async fn entries_after<C: ConnectionTrait>(
    db: &C,
    since: i64,
    limit: u64,
) -> anyhow::Result<FeedPage> {
    let rows = revocations::Entity::find()
        .filter(revocations::Column::Id.gt(since))
        .order_by_asc(revocations::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await
        .context("reading revocations")?;
    Ok(increment(rows, since, since, limit))
}

/// The listener's rows after `since`: everything up to `tail.newest` is in them.
fn from_tail(tail: &Tail, since: i64, limit: u64) -> FeedPage {
    let rows = tail
        .rows
        .iter()
        .filter(|row| row.id > since)
        .take(usize::try_from(limit + 1).unwrap_or(usize::MAX))
        .cloned()
        .collect();
    increment(rows, since, tail.newest, limit)
}

/// Up to `limit + 1` rows after `since`, ordered by id: at most `limit` of them, and `more`
/// if there was one beyond. Without more, the log is read up to `read_up_to` at least.
fn increment(
    mut rows: Vec<revocations::Model>,
    since: i64,
    read_up_to: i64,
    limit: u64,
) -> FeedPage {
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let last = rows.last().map_or(since, |row| row.id);
    let cursor = if more { last } else { last.max(read_up_to) };
    page(rows, cursor, false, more)
}

fn page(rows: Vec<revocations::Model>, cursor: i64, reset: bool, more: bool) -> FeedPage {
    let now = Utc::now();
    let mut page = FeedPage {
        cursor: cursor.to_string(),
        reset,
        more,
        sessions: Vec::new(),
        users: Vec::new(),
    };
    for row in rows.into_iter().filter(|row| row.expires_at > now) {
        match (row.kind.as_str(), row.not_before) {
            (KIND_SESSION, _) => page.sessions.push(SessionEntry {
                sid: row.subject,
                expires_at: row.expires_at.timestamp(),
            }),
            (KIND_USER, Some(not_before)) => page.users.push(UserEntry {
                sub: row.subject,
                not_before: not_before.timestamp(),
                expires_at: row.expires_at.timestamp(),
            }),
            (kind, _) => tracing::error!(id = row.id, kind, "skipping a malformed revocation row"),
        }
    }
    page
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::sync::{Arc, Mutex};

    use sea_orm::{DbErr, TransactionSession};

    use super::RevocationLog;

    /// A transaction whose commit takes a turn of the scheduler, then notes that it is done.
    struct SlowCommit(Arc<Mutex<Vec<&'static str>>>);

    // The trait is an `async_trait`; this is its expansion, without the crate.
    type Answer<'a> = Pin<Box<dyn Future<Output = Result<(), DbErr>> + Send + 'a>>;

    impl TransactionSession for SlowCommit {
        fn commit<'a>(self) -> Answer<'a>
        where
            Self: 'a,
        {
            Box::pin(async move {
                tokio::task::yield_now().await;
                self.0.lock().unwrap().push("committed");
                Ok(())
            })
        }

        fn rollback<'a>(self) -> Answer<'a>
        where
            Self: 'a,
        {
            Box::pin(async { Ok(()) })
        }
    }

    /// Woken before the commit, the listener would read the log without the new entries and
    /// sleep until its safety read (seconds; on SQLite no `NOTIFY` comes to its rescue).
    #[tokio::test]
    async fn the_listener_is_woken_only_after_the_commit() {
        let log = RevocationLog::new(300, 10);
        let events = Arc::new(Mutex::new(Vec::new()));
        let listener = async {
            log.news.wake.notified().await;
            events.lock().unwrap().push("woken");
        };
        let commit = log.commit(SlowCommit(Arc::clone(&events)), "a test");
        let (committed, ()) = tokio::join!(commit, listener);
        committed.unwrap();
        assert_eq!(*events.lock().unwrap(), ["committed", "woken"]);
    }
}
