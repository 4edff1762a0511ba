//! Sessions: one per sign-in, with an absolute expiry (refreshing never extends it), ended by
//! sign-out, a password change, a reused refresh token or account deletion. Each end is
//! written to the revocation log, which every validator follows (docs/architecture.md,
//! "Revocation feed").

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    TransactionSession, TransactionTrait,
};
use secrecy::SecretString;
use uuid::Uuid;

use crate::entities::{sessions, users};

pub mod refresh;
pub mod revocation_listener;
pub mod revocation_log;

use revocation_log::RevocationLog;

/// Where a sign-in came from, shown later in the session list.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// A freshly issued refresh token, with the session it belongs to.
pub struct IssuedRefreshToken {
    pub session: sessions::Model,
    pub token: SecretString,
}

/// Starts a session for `user` as it was read when its password was verified. `None` if the
/// password has changed since (its credential epoch moved): the sign-in lost a race with the
/// change and must fail like a wrong password.
pub async fn start_session<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    user: &users::Model,
    ttl: Duration,
    client: ClientInfo,
) -> anyhow::Result<Option<IssuedRefreshToken>> {
    let txn = db.begin().await.context("starting a session")?;
    // A no-op update of the user row, the transaction's first statement: it takes the row's
    // lock (SQLite: the write lock) and checks the epoch under it. So a password change
    // (`accounts::change_password`, which updates the same row first) either waits for this
    // session to commit and then revokes it, or has committed already and this inserts nothing.
    let current = users::Entity::update_many()
        .col_expr(
            users::Column::CredentialEpoch,
            Expr::col(users::Column::CredentialEpoch),
        )
        .filter(users::Column::Id.eq(user.id))
        .filter(users::Column::CredentialEpoch.eq(user.credential_epoch))
        .exec(&txn)
        .await
        .context("checking the credential epoch")?;
    if current.rows_affected != 1 {
        txn.rollback().await.context("rolling back a session")?;
        return Ok(None);
    }
    let now = crate::clock::now();
    let session = sessions::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        created_at: Set(now),
        last_used_at: Set(now),
        expires_at: Set(now + ttl),
        revoked_at: Set(None),
        user_agent: Set(client.user_agent),
        ip: Set(client.ip),
    }
    .insert(&txn)
    .await
    .context("inserting a session")?;
    let token = refresh::issue(&txn, &session, now).await?;
    txn.commit().await.context("committing a session")?;
    Ok(Some(IssuedRefreshToken { session, token }))
}

/// Revokes a session: its refresh tokens stop working at once, and the revocation feed tells
/// every validator to refuse its access tokens. True if it was live until now. The session's
/// end and its feed entry are one transaction: a session is never ended without validators
/// hearing of it (a failed write leaves it live, and the caller can try again). The feed's
/// listener is woken once it has committed.
pub async fn revoke<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    log: &RevocationLog,
    session_id: Uuid,
) -> anyhow::Result<bool> {
    let txn = db.begin().await.context("starting a session revocation")?;
    if !revoke_in(&txn, log, session_id).await? {
        return Ok(false);
    }
    log.commit(txn, "a session revocation").await?;
    Ok(true)
}

/// [`revoke`]'s writes inside the caller's transaction `txn` (a password change revokes
/// several sessions in its own). The caller commits with `RevocationLog::commit`, which then
/// wakes the feed's listener.
pub async fn revoke_in<C: ConnectionTrait + TransactionSession>(
    txn: &C,
    log: &RevocationLog,
    session_id: Uuid,
) -> anyhow::Result<bool> {
    let updated = sessions::Entity::update_many()
        .col_expr(
            sessions::Column::RevokedAt,
            Expr::value(crate::clock::now()),
        )
        .filter(sessions::Column::Id.eq(session_id))
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(txn)
        .await
        .context("revoking a session")?;
    if updated.rows_affected == 0 {
        return Ok(false);
    }
    log.record_session(txn, session_id).await?;
    Ok(true)
}

/// The user's live sessions, newest first.
pub async fn list_live<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
) -> anyhow::Result<Vec<sessions::Model>> {
    let now = crate::clock::now();
    let mut live: Vec<sessions::Model> = sessions::Entity::find()
        .filter(sessions::Column::UserId.eq(user_id))
        .filter(sessions::Column::RevokedAt.is_null())
        .all(db)
        .await
        .context("listing sessions")?
        .into_iter()
        .filter(|session| is_live(session, now))
        .collect();
    live.sort_by_key(|session| std::cmp::Reverse(session.created_at));
    Ok(live)
}

/// The session if it is the user's own and still live (revoked and expired ones are gone).
pub async fn find_live<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    session_id: Uuid,
) -> anyhow::Result<Option<sessions::Model>> {
    let now = crate::clock::now();
    Ok(sessions::Entity::find_by_id(session_id)
        .filter(sessions::Column::UserId.eq(user_id))
        .one(db)
        .await
        .context("looking up a session")?
        .filter(|session| is_live(session, now)))
}

fn is_live(session: &sessions::Model, now: DateTime<Utc>) -> bool {
    session.revoked_at.is_none() && session.expires_at > now
}
