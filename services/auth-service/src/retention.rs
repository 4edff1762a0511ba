//! Pruning (docs/operations.md, "Retention"): rows that no rule reads any more are deleted
//! once they are older than `AUTH__RETENTION__KEEP_SECS`, by the housekeeping worker. Each
//! pass deletes at most `AUTH__RETENTION__BATCH_SIZE` rows of each kind (one
//! `DELETE … WHERE key IN (SELECT key … LIMIT n)` each, which SQLite and Postgres both run),
//! so a large backlog is worked off over several passes instead of one long lock.

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};

use crate::entities::{purge_outbox, refresh_tokens, sessions, sign_in_failures};

/// How long ended rows are kept, and how many of each kind one pass deletes.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub keep: Duration,
    pub batch_size: u64,
}

/// What one pass deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    /// Sign-in failure counters whose window and lockout both ended before the cut-off.
    pub sign_in_failures: u64,
    /// Refresh tokens used before the cut-off.
    pub used_refresh_tokens: u64,
    /// Sessions revoked or expired before the cut-off (their refresh tokens go with them).
    pub ended_sessions: u64,
    /// Account deletions delivered to the tasks-service before the cut-off.
    pub delivered_purges: u64,
}

impl Pruned {
    pub fn total(&self) -> u64 {
        self.sign_in_failures
            + self.used_refresh_tokens
            + self.ended_sessions
            + self.delivered_purges
    }
}

/// One bounded pass: deletes what ended before `now - keep`, at most `batch_size` rows of
/// each kind (ended sessions: revoked ones and expired ones, a batch each).
pub async fn prune_once<C: ConnectionTrait>(
    db: &C,
    retention: &Retention,
    now: DateTime<Utc>,
) -> anyhow::Result<Pruned> {
    let cutoff = now - retention.keep;
    let batch = retention.batch_size;

    let sign_in_failures = sign_in_failures::Entity::delete_many()
        .filter(
            sign_in_failures::Column::Key.in_subquery(keys_where(
                sign_in_failures::Entity,
                sign_in_failures::Column::Key,
                Condition::all()
                    .add(sign_in_failures::Column::WindowStartedAt.lt(cutoff))
                    .add(
                        Condition::any()
                            .add(sign_in_failures::Column::LockedUntil.is_null())
                            .add(sign_in_failures::Column::LockedUntil.lt(cutoff)),
                    ),
                batch,
            )),
        )
        .exec(db)
        .await
        .context("pruning sign-in failure counters")?
        .rows_affected;

    // Used tokens first: an ended session then takes only its last, unused token along.
    let used_refresh_tokens = refresh_tokens::Entity::delete_many()
        .filter(refresh_tokens::Column::Id.in_subquery(keys_where(
            refresh_tokens::Entity,
            refresh_tokens::Column::Id,
            Condition::all().add(refresh_tokens::Column::UsedAt.lt(cutoff)),
            batch,
        )))
        .exec(db)
        .await
        .context("pruning used refresh tokens")?
        .rows_affected;

    let mut ended_sessions = 0;
    for ended in [
        sessions::Column::RevokedAt.lt(cutoff),
        sessions::Column::ExpiresAt.lt(cutoff),
    ] {
        ended_sessions += sessions::Entity::delete_many()
            .filter(sessions::Column::Id.in_subquery(keys_where(
                sessions::Entity,
                sessions::Column::Id,
                Condition::all().add(ended),
                batch,
            )))
            .exec(db)
            .await
            .context("pruning ended sessions")?
            .rows_affected;
    }

    let delivered_purges = purge_outbox::Entity::delete_many()
        .filter(purge_outbox::Column::Id.in_subquery(keys_where(
            purge_outbox::Entity,
            purge_outbox::Column::Id,
            Condition::all().add(purge_outbox::Column::DeliveredAt.lt(cutoff)),
            batch,
        )))
        .exec(db)
        .await
        .context("pruning delivered purges")?
        .rows_affected;

    Ok(Pruned {
        sign_in_failures,
        used_refresh_tokens,
        ended_sessions,
        delivered_purges,
    })
}

/// `SELECT key FROM entity WHERE condition LIMIT batch`: the keys one delete may take.
fn keys_where<E: EntityTrait, K: ColumnTrait>(
    entity: E,
    key: K,
    condition: Condition,
    batch: u64,
) -> SelectStatement {
    Query::select()
        .column(key)
        .from(entity)
        .cond_where(condition)
        .limit(batch)
        .to_owned()
}
