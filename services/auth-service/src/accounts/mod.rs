//! Accounts and their passwords: users (created, looked up by normalised email or id), the
//! argon2id hasher, the sign-in and sign-up throttles, and the throttled password check that sign-in and
//! sensitive changes share.

use anyhow::Context;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, SqlErr,
};
use uuid::Uuid;

use crate::domain::Email;
use crate::entities::users;

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

pub async fn set_password_hash<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    password_hash: String,
) -> anyhow::Result<()> {
    users::Entity::update_many()
        .col_expr(
            users::Column::PasswordHash,
            sea_orm::sea_query::Expr::value(password_hash),
        )
        .col_expr(
            users::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(crate::clock::now()),
        )
        .filter(users::Column::Id.eq(id))
        .exec(db)
        .await
        .context("storing a password hash")?;
    Ok(())
}
