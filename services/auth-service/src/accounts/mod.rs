//! Accounts and their passwords: users (created, looked up by normalised email or id), the
//! argon2id hasher, the sign-in and sign-up throttles, and the throttled password check that sign-in and
//! sensitive changes share.

use anyhow::Context;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, SqlErr,
    TransactionTrait,
};
use uuid::Uuid;

use crate::domain::Email;
use crate::entities::users;
use crate::sessions;
use crate::sessions::revocation_log::RevocationLog;

pub mod password_check;
pub mod password_hasher;
pub mod sign_in_throttle;
pub mod sign_up_throttle;

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

pub async fn create_user<C: ConnectionTrait>(
    db: &C,
    email: &Email,
    name: Option<String>,
    password_hash: String,
) -> Result<users::Model, CreateUserError> {
    let now = crate::clock::now();
    let inserted = users::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email.as_str().to_owned()),
        name: Set(name),
        password_hash: Set(password_hash),
        created_at: Set(now),
        updated_at: Set(now),
        credential_epoch: Set(0),
    }
    .insert(db)
    .await;
    match inserted {
        Ok(user) => Ok(user),
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Err(CreateUserError::EmailTaken)
        }
        Err(err) => Err(anyhow::Error::new(err).context("inserting a user").into()),
    }
}

pub async fn find_by_email<C: ConnectionTrait>(
    db: &C,
    email: &Email,
) -> anyhow::Result<Option<users::Model>> {
    users::Entity::find()
        .filter(users::Column::Email.eq(email.as_str()))
        .one(db)
        .await
        .context("looking up a user by email")
}

pub async fn find_by_id<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> anyhow::Result<Option<users::Model>> {
    users::Entity::find_by_id(id)
        .one(db)
        .await
        .context("looking up a user by id")
}

/// Stores a new password hash and, in the same transaction, bumps the credential epoch and
/// revokes every session of the user but `keep` (the caller's). A sign-in racing it with the
/// old password either commits its session first (and it is revoked here) or finds the epoch
/// moved and starts none (`sessions::start_session`).
pub async fn change_password<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    revocations: &RevocationLog,
    id: Uuid,
    password_hash: String,
    keep: Uuid,
) -> anyhow::Result<()> {
    let txn = db.begin().await.context("starting a password change")?;
    // First statement: it takes the user row's lock (SQLite: the write lock) up front.
    users::Entity::update_many()
        .col_expr(users::Column::PasswordHash, Expr::value(password_hash))
        .col_expr(
            users::Column::CredentialEpoch,
            Expr::col(users::Column::CredentialEpoch).add(1),
        )
        .col_expr(users::Column::UpdatedAt, Expr::value(crate::clock::now()))
        .filter(users::Column::Id.eq(id))
        .exec(&txn)
        .await
        .context("storing a password hash")?;
    for session in sessions::list_live(&txn, id).await? {
        if session.id != keep {
            sessions::revoke_in(&txn, revocations, session.id).await?;
        }
    }
    revocations.commit(txn, "a password change").await?;
    Ok(())
}
