//! Signing-key rotation (ARCHITECTURE §3): `next` → `current` → `retired` → deleted.
//!
//! A rotation promotes the published `next` key to `current`, retires the old `current`, and
//! publishes a fresh `next`. Because the promoted key was in the JWKS since the previous
//! rotation, validators with a cached JWKS never meet an unknown `kid`; a retired key stays
//! published until every token it signed has expired. Rotations run in one transaction,
//! serialised across replicas (a Postgres advisory lock; SQLite's single writer), and the
//! scheduled one re-checks inside the lock whether it is still due, so two replicas rotate once.

use std::sync::{Arc, RwLock};

use anyhow::Context;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};

use crate::entities::signing_keys;
use crate::master_key::MasterKey;
use crate::signing_keys::{KeyRing, SigningKeyState, insert_new_key, load};

/// Arbitrary, fixed: the Postgres advisory lock id that serialises rotations.
const ROTATION_LOCK_ID: i64 = 0x7461_736b_6b65_7973; // "taskkeys"

#[derive(Debug, PartialEq, Eq)]
pub enum RotationOutcome {
    Rotated {
        retired: Vec<String>,
        current: String,
        next: String,
    },
    /// The current key is younger than the rotation interval (another replica rotated).
    NotDue,
}

/// Rotates now (`min_age` = `None`), or only if the current key has signed for at least
/// `min_age` (the schedule).
pub async fn rotate(
    db: &DatabaseConnection,
    master: &MasterKey,
    min_age: Option<chrono::Duration>,
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
            .filter(signing_keys::Column::State.eq(SigningKeyState::Next.as_str()))
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
        .filter(|row| row.state == SigningKeyState::Current.as_str())
        .collect();
    if let Some(min_age) = min_age {
        let newest_activation = currents.iter().filter_map(|row| row.activated_at).max();
        if newest_activation.is_some_and(|at| at + min_age > now) {
            txn.rollback().await.context("ending a rotation")?;
            return Ok(RotationOutcome::NotDue);
        }
    }
    let next = rows
        .iter()
        .find(|row| row.state == SigningKeyState::Next.as_str())
        .context("no `next` signing key to promote (start the service once to create one)")?;

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
        .col_expr(signing_keys::Column::State, Expr::value(state.as_str()))
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
        .filter(signing_keys::Column::State.eq(SigningKeyState::Retired.as_str()))
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

pub async fn list(db: &DatabaseConnection) -> anyhow::Result<Vec<signing_keys::Model>> {
    signing_keys::Entity::find()
        .order_by_asc(signing_keys::Column::CreatedAt)
        .all(db)
        .await
        .context("listing signing keys")
}

/// The ring in use, swapped whole when the keys change (here or on another replica).
pub struct KeyStore {
    ring: RwLock<Arc<KeyRing>>,
}

impl KeyStore {
    pub fn new(ring: KeyRing) -> Self {
        Self {
            ring: RwLock::new(Arc::new(ring)),
        }
    }

    pub fn current(&self) -> Arc<KeyRing> {
        Arc::clone(
            &self
                .ring
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    /// Reloads from the database; true if the signer or the published set changed.
    pub async fn reload(
        &self,
        db: &DatabaseConnection,
        master: &MasterKey,
    ) -> anyhow::Result<bool> {
        let fresh = load(db, master).await?;
        let old = self.current();
        let changed = fresh.signer.kid != old.signer.kid || fresh.jwks_json != old.jwks_json;
        if changed {
            *self
                .ring
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(fresh);
        }
        Ok(changed)
    }
}
