//! Deleting an account (docs/architecture.md, "Account deletion and the purge outbox"). The
//! user's tasks live in the tasks-service's database, which no transaction of ours can reach,
//! so the deletion writes an outbox record in the same transaction that deletes the user:
//! either both happen or neither, and [`delivery`] then tells the tasks-service (retrying
//! until it succeeds, even across restarts).
//!
//! A task written with the deleted user's access token can still commit after the purge: its
//! request verified the token before the revocation cut-off reached the tasks-service. So each
//! deletion also records a *final sweep*, the same purge once more, due when every access
//! token the user held has expired even under the widest leeway a validator may allow
//! ([`final_sweep_delay`]). After it, no write for the user can exist or arrive.

use anyhow::Context;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use crate::entities::{purge_outbox, users};
use crate::sessions::revocation_log::RevocationLog;

pub mod delivery;

/// When the final sweep falls due after a deletion: an access token's lifetime, plus the most
/// leeway any validator accepts (`auth_core::MAX_LEEWAY_SECS`), plus a minute for a request
/// that verified its token just in time to finish writing.
pub fn final_sweep_delay(access_ttl_secs: i64) -> chrono::Duration {
    let leeway = i64::try_from(auth_core::MAX_LEEWAY_SECS).unwrap_or(i64::MAX);
    chrono::Duration::seconds(access_ttl_secs.saturating_add(leeway).saturating_add(60))
}

/// In one transaction: the outbox records (the purge, due now, and its final sweep, due after
/// `final_sweep_after`), a revocation cut-off for every token the user holds (the feed
/// carries it to every validator), and the user row (sessions and refresh tokens go with it,
/// by cascade). False if there was no such user.
pub async fn delete_account<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    revocations: &RevocationLog,
    user_id: Uuid,
    final_sweep_after: chrono::Duration,
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
    for due in [now, now + final_sweep_after] {
        // A record takes effect at `created_at`: the final sweep is, to the delivery and to
        // the counts below, nothing until it falls due.
        purge_outbox::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            created_at: Set(due),
            attempts: Set(0),
            next_attempt_at: Set(due),
            last_error: Set(None),
            delivered_at: Set(None),
        }
        .insert(&txn)
        .await
        .context("writing the purge outbox records")?;
    }
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

/// Undelivered records in effect (not a final sweep still to fall due), for tests and metrics.
pub async fn undelivered<C: ConnectionTrait>(db: &C) -> anyhow::Result<u64> {
    use sea_orm::PaginatorTrait;
    purge_outbox::Entity::find()
        .filter(purge_outbox::Column::DeliveredAt.is_null())
        .filter(purge_outbox::Column::CreatedAt.lte(crate::clock::now()))
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
        .filter(purge_outbox::Column::CreatedAt.lte(crate::clock::now()))
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
