//! The revocation log behind `GET /api/auth/revocations` (docs/architecture.md, "Revocation
//! feed"): revoked session ids and per-user "not before" cut-offs, each kept until every
//! access token it concerns has expired. Validators follow it (long-poll) and refuse those tokens in memory, so a sign-out
//! takes effect everywhere within about a second without a call per request.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionSession, TransactionTrait,
};
use serde::Serialize;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::entities::revocations;

/// Arbitrary, fixed: the Postgres advisory lock that orders appends to the log.
const APPEND_LOCK_ID: i64 = 0x7461_736b_7265_766b; // "taskrevk"
const KIND_SESSION: &str = "session";
const KIND_USER: &str = "user";
/// An answer holds at most this many entries; a follower asks again for the rest.
const MAX_ENTRIES_PER_ANSWER: u64 = 1000;
/// How often a waiting long-poll re-reads the log, for entries written by another replica
/// (this process's own writes wake it at once).
const CROSS_REPLICA_POLL: Duration = Duration::from_millis(500);

/// Writes entries and wakes the long-polls waiting for them.
pub struct RevocationLog {
    wake: Notify,
    /// How long an entry must live: the longest access token lifetime plus validator leeway.
    entry_ttl: chrono::Duration,
    /// Long-polls waiting for an entry right now (`/metrics`).
    waiting: AtomicUsize,
}

#[derive(Debug, Serialize, PartialEq, utoipa::ToSchema)]
pub struct FeedPage {
    /// Pass it back as `since` to get only newer entries.
    pub cursor: String,
    /// True when this is a full snapshot: replace what you hold instead of adding to it.
    pub reset: bool,
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

impl RevocationLog {
    /// A log whose entries outlive the tokens they concern (at most `access_ttl_secs` old) by
    /// the largest leeway any validator may allow.
    pub fn new(access_ttl_secs: u64) -> Self {
        let secs = access_ttl_secs.saturating_add(auth_core::MAX_LEEWAY_SECS);
        Self {
            wake: Notify::new(),
            entry_ttl: chrono::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX)),
            waiting: AtomicUsize::new(0),
        }
    }

    /// How many long-polls are waiting for a new entry now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    pub async fn record_session<C: ConnectionTrait + TransactionTrait>(
        &self,
        db: &C,
        session_id: Uuid,
    ) -> anyhow::Result<()> {
        self.insert(db, KIND_SESSION, session_id, None).await
    }

    /// Every token of `user_id` issued before now is refused (account deletion).
    pub async fn record_user_cutoff<C: ConnectionTrait + TransactionTrait>(
        &self,
        db: &C,
        user_id: Uuid,
    ) -> anyhow::Result<()> {
        // `iat` has whole seconds: round up so a token issued earlier in this second is covered.
        let now = crate::clock::now();
        let not_before = DateTime::from_timestamp(now.timestamp() + 1, 0).unwrap_or(now);
        self.insert(db, KIND_USER, user_id, Some(not_before)).await
    }

    /// On Postgres, ids come from a sequence when the insert runs but become visible when its
    /// transaction commits, so a follower at cursor N could see N+2 before N+1 commits and
    /// skip it. A transaction-scoped advisory lock makes entries commit in id order.
    async fn insert<C: ConnectionTrait + TransactionTrait>(
        &self,
        db: &C,
        kind: &str,
        subject: Uuid,
        not_before: Option<DateTime<Utc>>,
    ) -> anyhow::Result<()> {
        let txn = db.begin().await.context("starting a revocation")?;
        if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
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
        .insert(&txn)
        .await
        .context("recording a revocation")?;
        txn.commit().await.context("committing a revocation")?;
        self.wake.notify_waiters();
        Ok(())
    }

    /// Entries after `since` (or everything live, with `reset`, when `since` is absent or not
    /// a cursor this log knows), waiting up to `wait` for the first one to arrive.
    pub async fn read<C: ConnectionTrait>(
        &self,
        db: &C,
        since: Option<&str>,
        wait: Duration,
    ) -> anyhow::Result<FeedPage> {
        let newest = newest_id(db).await?;
        let since = since
            .and_then(|raw| raw.parse::<i64>().ok())
            .filter(|&id| id >= 0 && id <= newest);
        let Some(since) = since else {
            return snapshot(db, newest).await;
        };
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Registered before reading, so a write between the read and the wait still wakes us.
            let woken = self.wake.notified();
            let page = entries_after(db, since).await?;
            let now = tokio::time::Instant::now();
            if !page.sessions.is_empty() || !page.users.is_empty() || now >= deadline {
                return Ok(page);
            }
            let nap = CROSS_REPLICA_POLL.min(deadline - now);
            let _waiting = Waiting::count(&self.waiting);
            let _ = tokio::time::timeout(nap, woken).await;
        }
    }
}

/// Counts one waiting long-poll for as long as it lives (dropped when the wait ends, or when
/// the client goes away and the request is cancelled).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn count(waiting: &'a AtomicUsize) -> Self {
        waiting.fetch_add(1, Ordering::Relaxed);
        Self(waiting)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
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

async fn newest_id<C: ConnectionTrait>(db: &C) -> anyhow::Result<i64> {
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

async fn snapshot<C: ConnectionTrait>(db: &C, newest: i64) -> anyhow::Result<FeedPage> {
    let rows = revocations::Entity::find()
        .filter(revocations::Column::Id.lte(newest))
        .order_by_asc(revocations::Column::Id)
        .all(db)
        .await
        .context("reading revocations")?;
    Ok(page(rows, newest, true))
}

async fn entries_after<C: ConnectionTrait>(db: &C, since: i64) -> anyhow::Result<FeedPage> {
    let rows = revocations::Entity::find()
        .filter(revocations::Column::Id.gt(since))
        .order_by_asc(revocations::Column::Id)
        .limit(MAX_ENTRIES_PER_ANSWER)
        .all(db)
        .await
        .context("reading revocations")?;
    let cursor = rows.last().map_or(since, |row| row.id);
    Ok(page(rows, cursor, false))
}

fn page(rows: Vec<revocations::Model>, cursor: i64, reset: bool) -> FeedPage {
    let now = Utc::now();
    let mut page = FeedPage {
        cursor: cursor.to_string(),
        reset,
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
