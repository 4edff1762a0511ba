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
use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
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
    revocations.commit(txn, "an account deletion").await?;
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

/// Undelivered records in effect (not a final sweep still to fall due), all of them counted
/// (tests; `/metrics` uses the capped count).
pub async fn undelivered<C: ConnectionTrait>(db: &C) -> anyhow::Result<u64> {
    use sea_orm::PaginatorTrait;
    purge_outbox::Entity::find()
        .filter(purge_outbox::Column::DeliveredAt.is_null())
        .filter(purge_outbox::Column::CreatedAt.lte(crate::clock::now()))
        .count(db)
        .await
        .context("counting undelivered purges")
}

/// `/metrics` counts stop at this many records, so a scrape reads at most this much of the
/// outbox's index however large a backlog grows (a gauge at the cap means "at least").
pub const METRICS_COUNT_CAP: u64 = 10_000;

/// The outbox at a glance, for `/metrics`: every figure is read with bounded work.
pub struct OutboxStats {
    /// Undelivered records, counted up to [`METRICS_COUNT_CAP`].
    pub undelivered: u64,
    /// Delivered records still kept (until `AUTH__RETENTION__KEEP_SECS`), up to the cap.
    pub delivered: u64,
    /// Failed delivery attempts of the undelivered records counted.
    pub failed_attempts: i64,
    /// Age of the oldest undelivered record; 0 when none waits.
    pub oldest_undelivered_secs: i64,
}

pub async fn outbox_stats<C: ConnectionTrait>(db: &C) -> anyhow::Result<OutboxStats> {
    let (undelivered, failed_attempts) = capped_count(db, false).await?;
    let (delivered, _) = capped_count(db, true).await?;
    // The (delivered_at, created_at) index answers this with one entry.
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
        failed_attempts,
        oldest_undelivered_secs,
    })
}

/// How many records are (un)delivered, and their failed attempts, looking at no more than
/// [`METRICS_COUNT_CAP`] of them: `SELECT COUNT(*), SUM(attempts) FROM (… LIMIT cap)`.
async fn capped_count<C: ConnectionTrait>(db: &C, delivered: bool) -> anyhow::Result<(u64, i64)> {
    let which = if delivered {
        purge_outbox::Column::DeliveredAt.is_not_null()
    } else {
        purge_outbox::Column::DeliveredAt.is_null()
    };
    let records = Query::select()
        .column(purge_outbox::Column::Attempts)
        .from(purge_outbox::Entity)
        .and_where(which)
        // In effect only: a final sweep still to fall due is not waiting yet.
        .and_where(purge_outbox::Column::CreatedAt.lte(crate::clock::now()))
        .limit(METRICS_COUNT_CAP)
        .to_owned();
    let count = Query::select()
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("records"))
        .expr_as(
            Expr::cust("COALESCE(SUM(attempts), 0)"),
            Alias::new("attempts"),
        )
        .from_subquery(records, Alias::new("capped"))
        .to_owned();
    let row = db
        .query_one_raw(db.get_database_backend().build(&count))
        .await
        .context("counting purge outbox records")?
        .context("a count returned no row")?;
    let records: i64 = row.try_get("", "records").context("reading a count")?;
    let attempts: i64 = row.try_get("", "attempts").context("reading a sum")?;
    Ok((u64::try_from(records).unwrap_or(0), attempts))
}
