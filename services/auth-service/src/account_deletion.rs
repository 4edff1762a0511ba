//! Deleting an account. The user's tasks live in the tasks-service's database, which no
//! transaction of ours can reach, so the deletion writes an outbox record in the same
//! transaction that deletes the user: either both happen or neither, and `purge_delivery`
//! then tells the tasks-service (retrying until it succeeds, even across restarts).

use anyhow::Context;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use crate::entities::{purge_outbox, users};
use crate::revocations::RevocationLog;

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
