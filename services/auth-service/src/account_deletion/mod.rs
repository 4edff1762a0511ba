//! Deleting an account (docs/architecture.md, "Account deletion and the purge outbox"). The
//! user's tasks live in the tasks-service's database, which no transaction of ours can reach,
//! so the deletion writes an outbox record in the same transaction that deletes the user:
//! either both happen or neither, and [`delivery`] then tells the tasks-service (retrying
//! until it succeeds, even across restarts).

use anyhow::Context;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use crate::entities::{purge_outbox, users};
use crate::sessions::revocation_log::RevocationLog;

pub mod delivery;

/// In one transaction: the outbox record, a revocation cut-off for every token the user holds
/// (the feed carries it to every validator), and the user row (sessions and refresh tokens go
/// with it, by cascade). False if there was no such user.
pub async fn delete_account<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    revocations: &RevocationLog,
    user_id: Uuid,
) -> anyhow::Result<bool> {
    let txn = db.begin().await.context("starting an account deletion")?;
    let deleted = users::Entity::delete_by_id(user_id)
        .exec(&txn)
        .await
        .context("deleting the user")?;
    if deleted.rows_affected == 0 {
        return Ok(false);
    }
    let now = crate::clock::now();
    purge_outbox::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        created_at: Set(now),
        attempts: Set(0),
        next_attempt_at: Set(now),
        last_error: Set(None),
        delivered_at: Set(None),
    }
    .insert(&txn)
    .await
    .context("writing the purge outbox record")?;
    revocations.record_user_cutoff(&txn, user_id).await?;
    txn.commit()
        .await
        .context("committing an account deletion")?;
    // Only now: woken before the commit, the listener would read the log without the cut-off.
    revocations.committed();
    tracing::info!(%user_id, "deleted an account");
    Ok(true)
}

/// The outbox, newest first (`auth-service outbox list`).
pub async fn list_outbox<C: ConnectionTrait>(
    db: &C,
    limit: u64,
) -> anyhow::Result<Vec<purge_outbox::Model>> {
    purge_outbox::Entity::find()
        .order_by_desc(purge_outbox::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await
        .context("listing the purge outbox")
}

/// Undelivered records, for tests and metrics.
pub async fn undelivered<C: ConnectionTrait>(db: &C) -> anyhow::Result<u64> {
    use sea_orm::PaginatorTrait;
    purge_outbox::Entity::find()
        .filter(purge_outbox::Column::DeliveredAt.is_null())
        .count(db)
        .await
        .context("counting undelivered purges")
}

/// The outbox at a glance, for `/metrics`.
pub struct OutboxStats {
    pub undelivered: u64,
    pub delivered: u64,
    /// Failed delivery attempts of the records still kept.
    pub failed_attempts: i64,
    /// Age of the oldest undelivered record; 0 when none waits.
    pub oldest_undelivered_secs: i64,
}

pub async fn outbox_stats<C: ConnectionTrait>(db: &C) -> anyhow::Result<OutboxStats> {
    use sea_orm::PaginatorTrait;
    let undelivered = undelivered(db).await?;
    let delivered = purge_outbox::Entity::find()
        .filter(purge_outbox::Column::DeliveredAt.is_not_null())
        .count(db)
        .await
        .context("counting delivered purges")?;
    let failed_attempts: Option<i64> = purge_outbox::Entity::find()
        .select_only()
        .column_as(purge_outbox::Column::Attempts.sum(), "total")
        .into_tuple()
        .one(db)
        .await
        .context("summing purge attempts")?
        .flatten();
    let oldest = purge_outbox::Entity::find()
        .filter(purge_outbox::Column::DeliveredAt.is_null())
        .order_by_asc(purge_outbox::Column::CreatedAt)
        .one(db)
        .await
        .context("finding the oldest undelivered purge")?;
    let oldest_undelivered_secs = oldest.map_or(0, |record| {
        (crate::clock::now() - record.created_at)
            .num_seconds()
            .max(0)
    });
    Ok(OutboxStats {
        undelivered,
        delivered,
        failed_attempts: failed_attempts.unwrap_or(0),
        oldest_undelivered_secs,
    })
}
