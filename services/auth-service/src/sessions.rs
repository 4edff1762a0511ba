//! Sessions and their refresh tokens. A refresh token is an opaque 256-bit random value that
//! is stored only as its SHA-256, used once, and replaced by a new one on every refresh; the
//! session's expiry is absolute, so refreshing never extends it.

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    TransactionSession, TransactionTrait,
};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::entities::{refresh_tokens, sessions};
use crate::error::ApiError;
use crate::revocations::RevocationLog;

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

pub async fn start_session<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    ttl: Duration,
    client: ClientInfo,
) -> anyhow::Result<IssuedRefreshToken> {
    let now = crate::clock::now();
    let session = sessions::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        created_at: Set(now),
        last_used_at: Set(now),
        expires_at: Set(now + ttl),
        revoked_at: Set(None),
        user_agent: Set(client.user_agent),
        ip: Set(client.ip),
    }
    .insert(db)
    .await
    .context("inserting a session")?;
    let token = insert_refresh_token(db, &session, now).await?;
    Ok(IssuedRefreshToken { session, token })
}

/// What became of a presented refresh token that did not rotate.
#[derive(Debug, PartialEq, Eq)]
pub enum RotateRefused {
    /// Unknown, malformed or expired, or its session is over.
    Invalid,
    /// Already used: a sign of theft (RFC 9700 §4.14.2). Its session has been revoked.
    Reused,
}

/// Consumes `presented` and issues its successor in the same session. Exactly one of two
/// concurrent calls with the same token wins: the database decides, by a conditional update
/// that is the transaction's first statement (so SQLite takes its write lock up front).
pub async fn rotate<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    log: &RevocationLog,
    presented: &SecretString,
    reuse_grace: Duration,
) -> Result<IssuedRefreshToken, RotateError> {
    let raw = presented.expose_secret();
    if raw.is_empty() || raw.len() > 128 {
        return Err(RotateError::Refused(RotateRefused::Invalid));
    }
    let hash = hash_token(raw);
    let now = crate::clock::now();
    let txn = db.begin().await.context("starting a transaction")?;
    let claimed = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::UsedAt, Expr::value(now))
        .filter(refresh_tokens::Column::TokenHash.eq(&hash))
        .filter(refresh_tokens::Column::UsedAt.is_null())
        .exec(&txn)
        .await
        .context("consuming a refresh token")?;
    if claimed.rows_affected != 1 {
        txn.rollback().await.context("rolling back a refresh")?;
        return Err(refuse_unclaimed(db, log, &hash, reuse_grace).await?.into());
    }
    let row = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(&hash))
        .one(&txn)
        .await
        .context("reading a refresh token")?
        .context("a consumed refresh token vanished")?;
    let session = sessions::Entity::find_by_id(row.session_id)
        .one(&txn)
        .await
        .context("looking up a session")?
        .filter(|session| row.expires_at > now && is_live(session, now));
    let Some(session) = session else {
        txn.rollback().await.context("rolling back a refresh")?;
        return Err(RotateRefused::Invalid.into());
    };
    let mut touched: sessions::ActiveModel = session.into();
    touched.last_used_at = Set(now);
    let session = touched.update(&txn).await.context("touching a session")?;
    let token = insert_refresh_token(&txn, &session, now).await?;
    txn.commit().await.context("committing a refresh")?;
    Ok(IssuedRefreshToken { session, token })
}

/// Why the conditional update claimed nothing: unknown token, or one already used. A token
/// used within `reuse_grace` is a concurrent double-submit (two tabs sharing the refresh
/// cookie): refused, but the session lives on. Used earlier than that, it is a replay, and the
/// whole family (the session) is revoked, as RFC 9700 §4.14.2 prescribes.
async fn refuse_unclaimed<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    log: &RevocationLog,
    hash: &str,
    reuse_grace: Duration,
) -> anyhow::Result<RotateRefused> {
    let row = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(hash))
        .one(db)
        .await
        .context("looking up a refresh token")?;
    match row {
        Some(row)
            if row
                .used_at
                .is_some_and(|used| crate::clock::now() - used < reuse_grace) =>
        {
            Ok(RotateRefused::Invalid)
        }
        Some(row) if row.used_at.is_some() => {
            let revoked = revoke(db, log, row.session_id).await?;
            tracing::warn!(
                session_id = %row.session_id,
                newly_revoked = revoked,
                "a used refresh token was presented again: session revoked"
            );
            Ok(RotateRefused::Reused)
        }
        _ => Ok(RotateRefused::Invalid),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error("refresh refused: {0:?}")]
    Refused(RotateRefused),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<RotateRefused> for RotateError {
    fn from(refused: RotateRefused) -> Self {
        Self::Refused(refused)
    }
}

impl From<RotateError> for ApiError {
    fn from(err: RotateError) -> Self {
        match err {
            RotateError::Refused(_) => ApiError::InvalidRefreshToken,
            RotateError::Unexpected(e) => ApiError::Unexpected(e),
        }
    }
}

impl From<sea_orm::DbErr> for RotateError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Unexpected(err.into())
    }
}

/// Revokes a session: its refresh tokens stop working at once, and the revocation feed tells
/// every validator to refuse its access tokens. True if it was live until now.
pub async fn revoke<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    log: &RevocationLog,
    session_id: Uuid,
) -> anyhow::Result<bool> {
    let now = crate::clock::now();
    let updated = sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, Expr::value(now))
        .filter(sessions::Column::Id.eq(session_id))
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(db)
        .await
        .context("revoking a session")?;
    if updated.rows_affected == 0 {
        return Ok(false);
    }
    log.record_session(db, session_id).await?;
    Ok(true)
}

/// A presented refresh token as it stands, looked up without consuming it (introspection and
/// revocation, RFC 7662 / RFC 7009).
#[derive(Debug)]
pub struct RefreshTokenStatus {
    pub session: sessions::Model,
    pub expires_at: DateTime<Utc>,
    /// Unused, unexpired, and its session live: a refresh with it would succeed now.
    pub active: bool,
}

/// `None` for a token this service never issued (or whose session is gone).
pub async fn inspect_refresh_token<C: ConnectionTrait>(
    db: &C,
    presented: &SecretString,
) -> anyhow::Result<Option<RefreshTokenStatus>> {
    let raw = presented.expose_secret();
    if raw.is_empty() || raw.len() > 128 {
        return Ok(None);
    }
    let Some(row) = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(hash_token(raw)))
        .one(db)
        .await
        .context("looking up a refresh token")?
    else {
        return Ok(None);
    };
    let Some(session) = sessions::Entity::find_by_id(row.session_id)
        .one(db)
        .await
        .context("looking up a session")?
    else {
        return Ok(None);
    };
    let now = crate::clock::now();
    let active = row.used_at.is_none() && row.expires_at > now && is_live(&session, now);
    Ok(Some(RefreshTokenStatus {
        session,
        expires_at: row.expires_at,
        active,
    }))
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

async fn insert_refresh_token<C: ConnectionTrait>(
    db: &C,
    session: &sessions::Model,
    now: DateTime<Utc>,
) -> anyhow::Result<SecretString> {
    let token = crate::opaque_secret::generate();
    refresh_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        session_id: Set(session.id),
        token_hash: Set(hash_token(token.expose_secret())),
        created_at: Set(now),
        expires_at: Set(session.expires_at),
        used_at: Set(None),
    }
    .insert(db)
    .await
    .context("inserting a refresh token")?;
    Ok(token)
}

fn hash_token(token: &str) -> String {
    crate::opaque_secret::sha256_hex(token)
}
