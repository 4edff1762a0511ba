//! Sessions and their refresh tokens. A refresh token is an opaque 256-bit random value that
//! is stored only as its SHA-256, used once, and replaced by a new one on every refresh; the
//! session's expiry is absolute, so refreshing never extends it.

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    TransactionSession, TransactionTrait,
};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::entities::{refresh_tokens, sessions};
use crate::error::ApiError;

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

/// Consumes `presented` and issues its successor in the same session. Exactly one of two
/// concurrent calls with the same token wins: the database decides, by a conditional update.
pub async fn rotate<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    presented: &SecretString,
) -> Result<IssuedRefreshToken, ApiError> {
    let raw = presented.expose_secret();
    if raw.is_empty() || raw.len() > 128 {
        return Err(ApiError::InvalidRefreshToken);
    }
    let hash = hash_token(raw);
    let now = crate::clock::now();
    let txn = db.begin().await.context("starting a transaction")?;
    let row = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(&hash))
        .one(&txn)
        .await
        .context("looking up a refresh token")?
        .ok_or(ApiError::InvalidRefreshToken)?;
    if row.used_at.is_some() || row.expires_at <= now {
        return Err(ApiError::InvalidRefreshToken);
    }
    let claimed = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::UsedAt, Expr::value(now))
        .filter(refresh_tokens::Column::Id.eq(row.id))
        .filter(refresh_tokens::Column::UsedAt.is_null())
        .exec(&txn)
        .await
        .context("consuming a refresh token")?;
    if claimed.rows_affected != 1 {
        return Err(ApiError::InvalidRefreshToken);
    }
    let session = sessions::Entity::find_by_id(row.session_id)
        .one(&txn)
        .await
        .context("looking up a session")?
        .filter(|session| is_live(session, now))
        .ok_or(ApiError::InvalidRefreshToken)?;
    let mut touched: sessions::ActiveModel = session.into();
    touched.last_used_at = Set(now);
    let session = touched.update(&txn).await.context("touching a session")?;
    let token = insert_refresh_token(&txn, &session, now).await?;
    txn.commit().await.context("committing a refresh")?;
    Ok(IssuedRefreshToken { session, token })
}

fn is_live(session: &sessions::Model, now: DateTime<Utc>) -> bool {
    session.revoked_at.is_none() && session.expires_at > now
}

async fn insert_refresh_token<C: ConnectionTrait>(
    db: &C,
    session: &sessions::Model,
    now: DateTime<Utc>,
) -> anyhow::Result<SecretString> {
    let bytes: [u8; 32] = rand::random();
    let token = URL_SAFE_NO_PAD.encode(bytes);
    refresh_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        session_id: Set(session.id),
        token_hash: Set(hash_token(&token)),
        created_at: Set(now),
        expires_at: Set(session.expires_at),
        used_at: Set(None),
    }
    .insert(db)
    .await
    .context("inserting a refresh token")?;
    Ok(SecretString::from(token))
}

/// The token has 256 bits of entropy, so a plain SHA-256 is enough to make the stored value
/// useless to a reader of the database (no salt or slow hash needed, unlike passwords).
fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
