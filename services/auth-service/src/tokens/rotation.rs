//! Signing-key rotation (docs/architecture.md, "Key rotation"): `next` → `current` →
//! `retired` → deleted.
//!
//! A rotation promotes the published `next` key to `current`, retires the old `current`, and
//! publishes a fresh `next`. Because the promoted key was in the JWKS since the previous
//! rotation, validators with a cached JWKS never meet an unknown `kid`; a retired key stays
//! published until every token it signed has expired. Rotations run in one transaction,
//! serialised across replicas (a Postgres advisory lock; SQLite's single writer), and every
//! rule (due yet? is the `next` key old enough?) is checked inside the lock, so two replicas
//! or two cron jobs rotate once.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};

use super::master_key::MasterKey;
use super::signing_keys::{SigningKeyState, insert_new_key};
use crate::entities::signing_keys;

/// Arbitrary, fixed: the Postgres advisory lock id that serialises rotations.
pub const ROTATION_LOCK_ID: i64 = 0x7461_736b_6b65_7973; // "taskkeys"

/// Validators refresh their JWKS every five minutes: a `next` key published more recently than
/// this may be missing from their caches, so an operator's rotation waits for it (or is
/// forced). A scheduled rotation's `next` key is one rotation interval (an hour at least) old.
pub const MIN_NEXT_KEY_AGE: chrono::Duration = chrono::Duration::minutes(10);

/// When to rotate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotateWhen {
    /// The schedule (and `keys rotate --if-due`): only if the current key has signed for at
    /// least this long.
    Due(chrono::Duration),
    /// An operator's `keys rotate`: now, unless the `next` key is younger than
    /// [`MIN_NEXT_KEY_AGE`].
    Now,
    /// `keys rotate --force`: now, however young the `next` key.
    Forced,
}

#[derive(Debug, PartialEq, Eq)]
pub enum RotationOutcome {
    Rotated {
        retired: Vec<String>,
        current: String,
        next: String,
    },
    /// The current key is younger than the rotation interval (another replica rotated).
    NotDue,
    /// The `next` key was published at `published_at`, less than [`MIN_NEXT_KEY_AGE`] ago.
    NextKeyTooNew { published_at: DateTime<Utc> },
}

pub async fn rotate(
    db: &DatabaseConnection,
    master: &MasterKey,
    when: RotateWhen,
) -> anyhow::Result<RotationOutcome> {
    let txn = db.begin().await.context("starting a rotation")?;
    if service_database::is_postgres(db) {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({ROTATION_LOCK_ID})"))
            .await
            .context("taking the rotation lock")?;
    } else {
        // A write first, so SQLite takes its write lock before we read.
        signing_keys::Entity::update_many()
            .col_expr(
                signing_keys::Column::State,
                Expr::col(signing_keys::Column::State),
            )
            .filter(signing_keys::Column::State.eq(SigningKeyState::Next))
            .exec(&txn)
            .await
            .context("taking the rotation lock")?;
    }
    let now = crate::clock::now();
    let rows = signing_keys::Entity::find()
        .order_by_asc(signing_keys::Column::CreatedAt)
        .all(&txn)
        .await
        .context("reading signing keys")?;
    let currents: Vec<&signing_keys::Model> = rows
        .iter()
        .filter(|row| row.state == SigningKeyState::Current)
        .collect();
    let next = rows
        .iter()
        .find(|row| row.state == SigningKeyState::Next)
        .context("no `next` signing key to promote (start the service once to create one)")?;
    let refusal = match when {
        RotateWhen::Due(min_age) => currents
            .iter()
            .filter_map(|row| row.activated_at)
            .max()
            .is_some_and(|activated| activated + min_age > now)
            .then_some(RotationOutcome::NotDue),
        RotateWhen::Now => {
            (next.created_at + MIN_NEXT_KEY_AGE > now).then_some(RotationOutcome::NextKeyTooNew {
                published_at: next.created_at,
            })
        }
        RotateWhen::Forced => None,
    };
    if let Some(refusal) = refusal {
        txn.rollback().await.context("ending a rotation")?;
        return Ok(refusal);
    }

    set_state(&txn, &next.kid, SigningKeyState::Current, now).await?;
    let mut retired = Vec::new();
    for current in currents {
        set_state(&txn, &current.kid, SigningKeyState::Retired, now).await?;
        retired.push(current.kid.clone());
    }
    let new_next = insert_new_key(&txn, master, SigningKeyState::Next).await?;
    txn.commit().await.context("committing a rotation")?;
    tracing::info!(current = %next.kid, next = %new_next, ?retired, "rotated the signing key");
    Ok(RotationOutcome::Rotated {
        retired,
        current: next.kid.clone(),
        next: new_next,
    })
}

async fn set_state<C: ConnectionTrait>(
    db: &C,
    kid: &str,
    state: SigningKeyState,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let mut update = signing_keys::Entity::update_many()
        .col_expr(signing_keys::Column::State, Expr::value(state))
        .filter(signing_keys::Column::Kid.eq(kid));
    update = match state {
        SigningKeyState::Current => {
            update.col_expr(signing_keys::Column::ActivatedAt, Expr::value(now))
        }
        SigningKeyState::Retired => {
            update.col_expr(signing_keys::Column::RetiredAt, Expr::value(now))
        }
        SigningKeyState::Next => update,
    };
    update.exec(db).await.context("changing a key's state")?;
    Ok(())
}

/// Deletes retired keys that retired before `cutoff` (when every token they signed, plus
/// validators' leeway, has expired).
pub async fn delete_retired_before(
    db: &DatabaseConnection,
    cutoff: DateTime<Utc>,
) -> anyhow::Result<u64> {
    let retired = signing_keys::Entity::find()
        .filter(signing_keys::Column::State.eq(SigningKeyState::Retired))
        .all(db)
        .await
        .context("reading retired keys")?;
    let mut deleted = 0;
    for key in retired
        .into_iter()
        .filter(|k| k.retired_at.is_some_and(|at| at < cutoff))
    {
        signing_keys::Entity::delete_by_id(key.kid.clone())
            .exec(db)
            .await
            .context("deleting a retired key")?;
        tracing::info!(kid = %key.kid, "deleted a retired signing key");
        deleted += 1;
    }
    Ok(deleted)
}

/// Every key, oldest first (`auth-service keys list`).
pub async fn list(db: &DatabaseConnection) -> anyhow::Result<Vec<signing_keys::Model>> {
    signing_keys::Entity::find()
        .order_by_asc(signing_keys::Column::CreatedAt)
        .all(db)
        .await
        .context("listing signing keys")
}
