//! Confidential OAuth clients: services that get their own access tokens with the
//! client_credentials grant (RFC 6749 §4.4) and may revoke and introspect tokens. Created and
//! revoked with `auth-service clients …`; the secret is a 256-bit random value shown once and
//! stored only as its SHA-256.

use anyhow::Context;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::domain::ScopeSet;
use crate::entities::oauth_clients;
use crate::tokens::opaque_secret;

/// Client ids are `svc-<UUIDv7>`: the prefix keeps a service token's `sub` from ever parsing
/// as a user id (a UUID), so no validator can take a service for a user.
pub const CLIENT_ID_PREFIX: &str = "svc-";
const MAX_NAME_CHARS: usize = 200;
const MAX_AUDIENCE_CHARS: usize = 200;
/// Longer presented values are refused before any hashing or database query.
const MAX_CLIENT_ID_BYTES: usize = 64;
const MAX_SECRET_BYTES: usize = 256;

/// A new client and its secret, which exists nowhere else: show it once.
pub struct CreatedClient {
    pub client_id: String,
    pub secret: SecretString,
    pub scopes: ScopeSet,
    pub audience: Option<String>,
}

/// A client whose id and secret checked out and that is not revoked.
#[derive(Debug, Clone)]
pub struct AuthenticatedClient {
    pub client_id: String,
    /// What the client may be granted.
    pub scopes: ScopeSet,
    /// The `aud` of its tokens; `None`: the default audience.
    pub audience: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the client name must be 1 to {MAX_NAME_CHARS} characters, without control characters")]
    InvalidName,
    #[error("the audience must be 1 to {MAX_AUDIENCE_CHARS} printable ASCII characters")]
    InvalidAudience,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Registers a client allowed `scopes` whose tokens name `audience` (default: the service's
/// token audience) (the CLI's `clients create`).
pub async fn create<C: ConnectionTrait>(
    db: &C,
    name: &str,
    scopes: ScopeSet,
    audience: Option<&str>,
) -> Result<CreatedClient, ClientError> {
    let audience = audience.map(str::trim);
    if audience.is_some_and(|aud| {
        aud.is_empty()
            || aud.len() > MAX_AUDIENCE_CHARS
            || !aud.chars().all(|c| c.is_ascii_graphic())
    }) {
        return Err(ClientError::InvalidAudience);
    }
    let audience = audience.map(str::to_owned);
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(ClientError::InvalidName);
    }
    let client_id = format!("{CLIENT_ID_PREFIX}{}", Uuid::now_v7());
    let secret = opaque_secret::generate();
    oauth_clients::ActiveModel {
        client_id: Set(client_id.clone()),
        name: Set(name.to_owned()),
        secret_hash: Set(opaque_secret::sha256_hex(secret.expose_secret())),
        scopes: Set(scopes.to_string()),
        audience: Set(audience.clone()),
        created_at: Set(crate::clock::now()),
        revoked_at: Set(None),
    }
    .insert(db)
    .await
    .context("inserting an OAuth client")?;
    tracing::info!(%client_id, %scopes, "created an OAuth client");
    Ok(CreatedClient {
        client_id,
        secret,
        scopes,
        audience,
    })
}

/// Every client, revoked ones included, oldest first.
pub async fn list<C: ConnectionTrait>(db: &C) -> anyhow::Result<Vec<oauth_clients::Model>> {
    oauth_clients::Entity::find()
        .order_by_asc(oauth_clients::Column::CreatedAt)
        .all(db)
        .await
        .context("listing OAuth clients")
}

/// Revokes a client: it can no longer authenticate (so it gets no new tokens). True if it
/// existed and was active until now.
pub async fn revoke<C: ConnectionTrait>(db: &C, client_id: &str) -> anyhow::Result<bool> {
    let updated = oauth_clients::Entity::update_many()
        .col_expr(
            oauth_clients::Column::RevokedAt,
            Expr::value(crate::clock::now()),
        )
        .filter(oauth_clients::Column::ClientId.eq(client_id))
        .filter(oauth_clients::Column::RevokedAt.is_null())
        .exec(db)
        .await
        .context("revoking an OAuth client")?;
    if updated.rows_affected == 1 {
        tracing::info!(%client_id, "revoked an OAuth client");
    }
    Ok(updated.rows_affected == 1)
}

/// Re-enables a revoked client: it can authenticate again, with the secret it had. True if
/// it existed and was revoked until now.
pub async fn enable<C: ConnectionTrait>(db: &C, client_id: &str) -> anyhow::Result<bool> {
    let updated = oauth_clients::Entity::update_many()
        .col_expr(
            oauth_clients::Column::RevokedAt,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .filter(oauth_clients::Column::ClientId.eq(client_id))
        .filter(oauth_clients::Column::RevokedAt.is_not_null())
        .exec(db)
        .await
        .context("re-enabling an OAuth client")?;
    if updated.rows_affected == 1 {
        tracing::info!(%client_id, "re-enabled an OAuth client");
    }
    Ok(updated.rows_affected == 1)
}

/// Gives an active client a new secret (shown once, stored as its SHA-256); the old one stops
/// working at once. `None` if there is no such active client. Tokens already issued stay
/// valid until they expire (5–15 minutes), like after `revoke`.
pub async fn rotate_secret<C: ConnectionTrait>(
    db: &C,
    client_id: &str,
) -> anyhow::Result<Option<SecretString>> {
    let secret = opaque_secret::generate();
    let updated = oauth_clients::Entity::update_many()
        .col_expr(
            oauth_clients::Column::SecretHash,
            Expr::value(opaque_secret::sha256_hex(secret.expose_secret())),
        )
        .filter(oauth_clients::Column::ClientId.eq(client_id))
        .filter(oauth_clients::Column::RevokedAt.is_null())
        .exec(db)
        .await
        .context("rotating an OAuth client's secret")?;
    if updated.rows_affected != 1 {
        return Ok(None);
    }
    tracing::info!(%client_id, "rotated an OAuth client's secret");
    Ok(Some(secret))
}

/// Removes a client, revoked or not, from the database. True if it existed.
pub async fn delete<C: ConnectionTrait>(db: &C, client_id: &str) -> anyhow::Result<bool> {
    let deleted = oauth_clients::Entity::delete_many()
        .filter(oauth_clients::Column::ClientId.eq(client_id))
        .exec(db)
        .await
        .context("deleting an OAuth client")?;
    if deleted.rows_affected == 1 {
        tracing::info!(%client_id, "deleted an OAuth client");
    }
    Ok(deleted.rows_affected == 1)
}

/// Creates or updates a client declared in configuration, so that the database says what the
/// deployment says: its name, scopes, audience and secret. A revocation is an operator's
/// decision the configuration knows nothing of, so it survives: a revoked client stays
/// revoked across restarts until `clients enable` (see [`enable`]).
pub async fn upsert_declared<C: ConnectionTrait>(
    db: &C,
    declared: &crate::config::DeclaredClient,
) -> anyhow::Result<()> {
    let client_id = declared.client_id.as_str();
    anyhow::ensure!(
        is_well_formed_id(client_id),
        "declared client {client_id}: the id must be svc-<uuid>"
    );
    let scopes = ScopeSet::parse(&declared.scopes)
        .with_context(|| format!("declared client {client_id}: scopes"))?;
    let secret = declared
        .secret
        .as_ref()
        .with_context(|| format!("declared client {client_id}: no secret"))?;
    let existing = find(db, client_id).await?;
    let is_new = existing.is_none();
    let mut client: oauth_clients::ActiveModel = match existing {
        Some(model) => model.into(),
        None => oauth_clients::ActiveModel {
            client_id: Set(client_id.to_owned()),
            created_at: Set(crate::clock::now()),
            revoked_at: Set(None),
            ..Default::default()
        },
    };
    client.name = Set(declared.name.trim().to_owned());
    client.secret_hash = Set(opaque_secret::sha256_hex(secret.expose_secret()));
    client.scopes = Set(scopes.to_string());
    client.audience = Set(declared.audience.clone());
    if is_new {
        client
            .insert(db)
            .await
            .context("inserting a declared client")?;
    } else {
        client
            .update(db)
            .await
            .context("updating a declared client")?;
    }
    tracing::info!(%client_id, %scopes, "declared OAuth client is up to date");
    Ok(())
}

/// The audiences clients have of their own (`clients create --audience`), each once.
pub async fn audiences<C: ConnectionTrait>(db: &C) -> anyhow::Result<Vec<String>> {
    let audiences: Vec<Option<String>> = oauth_clients::Entity::find()
        .select_only()
        .column(oauth_clients::Column::Audience)
        .distinct()
        .filter(oauth_clients::Column::Audience.is_not_null())
        .into_tuple()
        .all(db)
        .await
        .context("listing client audiences")?;
    Ok(audiences.into_iter().flatten().collect())
}

/// Whether `client_id` names a client that is not revoked.
pub async fn is_active<C: ConnectionTrait>(db: &C, client_id: &str) -> anyhow::Result<bool> {
    Ok(find(db, client_id)
        .await?
        .is_some_and(|client| client.revoked_at.is_none()))
}

/// Checks a client id and secret. `None` for an unknown or revoked client and a wrong secret
/// alike; the secret's hash is compared in constant time (and against a dummy when the client
/// is unknown, so the work done is the same).
pub async fn authenticate<C: ConnectionTrait>(
    db: &C,
    client_id: &str,
    secret: &SecretString,
) -> anyhow::Result<Option<AuthenticatedClient>> {
    let secret = secret.expose_secret();
    if client_id.len() > MAX_CLIENT_ID_BYTES || secret.is_empty() || secret.len() > MAX_SECRET_BYTES
    {
        return Ok(None);
    }
    let client = find(db, client_id).await?;
    let presented = opaque_secret::sha256_hex(secret);
    let stored = client
        .as_ref()
        .map_or(DUMMY_HASH, |client| client.secret_hash.as_str());
    let secret_matches: bool = presented.as_bytes().ct_eq(stored.as_bytes()).into();
    let Some(client) = client.filter(|c| secret_matches && c.revoked_at.is_none()) else {
        return Ok(None);
    };
    let scopes = ScopeSet::parse(&client.scopes)
        .with_context(|| format!("the stored scopes of client {}", client.client_id))?;
    Ok(Some(AuthenticatedClient {
        client_id: client.client_id,
        scopes,
        audience: client.audience,
    }))
}

/// Not the hash of anything: compared against when the client id is unknown.
const DUMMY_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

async fn find<C: ConnectionTrait>(
    db: &C,
    client_id: &str,
) -> anyhow::Result<Option<oauth_clients::Model>> {
    // Only ids we could have issued (`svc-<uuid>`) reach the database: arbitrary bytes
    // (a NUL, say) would otherwise become a database error, i.e. a 500.
    if !is_well_formed_id(client_id) {
        return Ok(None);
    }
    oauth_clients::Entity::find_by_id(client_id.to_owned())
        .one(db)
        .await
        .context("looking up an OAuth client")
}

/// An id we could have issued: `svc-<uuid>`.
fn is_well_formed_id(client_id: &str) -> bool {
    client_id.len() <= MAX_CLIENT_ID_BYTES
        && client_id
            .strip_prefix(CLIENT_ID_PREFIX)
            .is_some_and(|id| uuid::Uuid::parse_str(id).is_ok())
}
