//! Refresh tokens: opaque 256-bit random values, stored only as their SHA-256, used once, and
//! replaced by a successor in the same session on every refresh. A used one presented again
//! is refused; outside a short grace it is taken for theft and ends its session (RFC 9700
//! §4.14.2).

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    TransactionSession, TransactionTrait,
};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::revocation_log::RevocationLog;
use super::{IssuedRefreshToken, is_live};
use crate::clock::Clock;
use crate::entities::{refresh_tokens, sessions};
use crate::tokens::opaque_secret;

/// Longer presented values are refused before any hashing or database query.
const MAX_TOKEN_BYTES: usize = 128;

/// What became of a presented refresh token that did not rotate.
#[derive(Debug, PartialEq, Eq)]
pub enum RotateRefused {
    /// Unknown, malformed or expired, or its session is over.
    Invalid,
    /// Used within the reuse grace and its successor not used yet (two tabs refreshing at
    /// once): refused, the session lives.
    UsedWithinGrace,
    /// Already used, outside the grace (or at a negative time difference), or its successor
    /// already used: a sign of theft (RFC 9700 §4.14.2). Its session has been revoked.
    Reused,
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

impl From<sea_orm::DbErr> for RotateError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Unexpected(err.into())
    }
}

/// How a refresh is judged: a token used less than `reuse_grace` ago is a double-submit, not a
/// replay. "Ago" is by `clock`, which tests move forward to let the grace pass.
pub struct ReusePolicy<'a> {
    pub reuse_grace: Duration,
    pub clock: &'a Clock,
}

/// Consumes `presented` and issues its successor in the same session. Exactly one of two
/// concurrent calls with the same token wins: the database decides, by a conditional update
/// that is the transaction's first statement (so SQLite takes its write lock up front).
pub async fn rotate<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    log: &RevocationLog,
    presented: &SecretString,
    policy: &ReusePolicy<'_>,
) -> Result<IssuedRefreshToken, RotateError> {
    let raw = presented.expose_secret();
    if raw.is_empty() || raw.len() > MAX_TOKEN_BYTES {
        return Err(RotateRefused::Invalid.into());
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
        return Err(refuse_unclaimed(db, log, &hash, policy).await?.into());
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
    let token = issue(&txn, &session, now).await?;
    txn.commit().await.context("committing a refresh")?;
    Ok(IssuedRefreshToken { session, token })
}

/// Why the conditional update claimed nothing: unknown token, or one already used. A token
/// used within the reuse grace is a concurrent double-submit (two tabs sharing the refresh
/// cookie): refused, but the session lives on. Used earlier than that, it is a replay, and the
/// whole family (the session) is revoked, as RFC 9700 §4.14.2 prescribes.
async fn refuse_unclaimed<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    log: &RevocationLog,
    hash: &str,
    policy: &ReusePolicy<'_>,
) -> anyhow::Result<RotateRefused> {
    let row = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(hash))
        .one(db)
        .await
        .context("looking up a refresh token")?;
    let Some((token_id, session_id, used_at)) =
        row.and_then(|row| Some((row.id, row.session_id, row.used_at?)))
    else {
        return Ok(RotateRefused::Invalid);
    };
    // A negative difference (this replica's clock behind the one that used the token) proves
    // nothing about timing, so it counts as outside the grace.
    let since_use = policy.clock.now() - used_at;
    let within_grace = since_use >= Duration::zero() && since_use < policy.reuse_grace;
    if within_grace && !successor_used(db, token_id, session_id, used_at).await? {
        return Ok(RotateRefused::UsedWithinGrace);
    }
    let revoked = super::revoke(db, log, session_id).await?;
    tracing::warn!(
        %session_id,
        newly_revoked = revoked,
        "a used refresh token was presented again: session revoked"
    );
    Ok(RotateRefused::Reused)
}

/// Whether the token issued when a token was used at `used_at` has itself been used. The
/// rotation gives the successor `created_at = used_at` (one `now`), and every later token of
/// the session descends from it, so any used token created at or after `used_at` means the
/// successor was used: someone holding it is already refreshing, and the late presenter of
/// the old token is not a second tab of the same client.
async fn successor_used<C: ConnectionTrait>(
    db: &C,
    token_id: Uuid,
    session_id: Uuid,
    used_at: DateTime<Utc>,
) -> anyhow::Result<bool> {
    Ok(refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::SessionId.eq(session_id))
        .filter(refresh_tokens::Column::Id.ne(token_id))
        .filter(refresh_tokens::Column::CreatedAt.gte(used_at))
        .filter(refresh_tokens::Column::UsedAt.is_not_null())
        .one(db)
        .await
        .context("looking for a used successor")?
        .is_some())
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
pub async fn inspect<C: ConnectionTrait>(
    db: &C,
    presented: &SecretString,
) -> anyhow::Result<Option<RefreshTokenStatus>> {
    let raw = presented.expose_secret();
    if raw.is_empty() || raw.len() > MAX_TOKEN_BYTES {
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

/// A new refresh token for `session`, valid as long as the session.
pub(super) async fn issue<C: ConnectionTrait>(
    db: &C,
    session: &sessions::Model,
    now: DateTime<Utc>,
) -> anyhow::Result<SecretString> {
    let token = opaque_secret::generate();
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
    opaque_secret::sha256_hex(token)
}
