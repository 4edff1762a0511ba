//! `auth-service clients …`: the confidential OAuth clients (services using
//! client_credentials).

use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::Serialize;

use super::{Format, or_dash, print_json};
use crate::config::Settings;
use crate::database;
use crate::domain::ScopeSet;
use crate::oauth::clients;

/// A client as `clients list` shows it (never its secret's hash).
#[derive(Serialize)]
struct ClientRow {
    client_id: String,
    name: String,
    scopes: String,
    /// `null`: the default audience (`AUTH__TOKENS__AUDIENCE`).
    audience: Option<String>,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

pub async fn create(
    settings: &Settings,
    name: &str,
    scope: &str,
    audience: Option<&str>,
) -> anyhow::Result<()> {
    // Parsed before the database opens: a typo fails fast.
    let scopes = ScopeSet::parse(scope)?;
    let db = database::open(settings).await?;
    let created = clients::create(&db, name, scopes, audience).await?;
    println!("client_id:     {}", created.client_id);
    println!("client_secret: {}", created.secret.expose_secret());
    println!("scopes:        {}", created.scopes);
    if let Some(audience) = &created.audience {
        println!("audience:      {audience}");
    }
    println!("the secret is shown only now and cannot be recovered: store it safely");
    Ok(())
}

pub async fn list(settings: &Settings, format: Format) -> anyhow::Result<()> {
    let db = database::open(settings).await?;
    let rows: Vec<ClientRow> = clients::list(&db)
        .await?
        .into_iter()
        .map(|client| ClientRow {
            client_id: client.client_id,
            name: client.name,
            scopes: client.scopes,
            audience: client.audience,
            created_at: client.created_at,
            revoked_at: client.revoked_at,
        })
        .collect();
    if format == Format::Json {
        return print_json(&rows);
    }
    println!(
        "{:<40} {:<24} {:<36} {:<16} {:<32} revoked",
        "client_id", "name", "scopes", "audience", "created"
    );
    for client in rows {
        println!(
            "{:<40} {:<24} {:<36} {:<16} {:<32} {}",
            client.client_id,
            client.name,
            client.scopes,
            client.audience.as_deref().unwrap_or("(default)"),
            client.created_at.to_rfc3339(),
            or_dash(client.revoked_at)
        );
    }
    Ok(())
}

pub async fn revoke(settings: &Settings, client_id: &str) -> anyhow::Result<()> {
    let db = database::open(settings).await?;
    if !clients::revoke(&db, client_id).await? {
        anyhow::bail!("no active client {client_id}");
    }
    println!("revoked {client_id}");
    Ok(())
}

pub async fn enable(settings: &Settings, client_id: &str) -> anyhow::Result<()> {
    let db = database::open(settings).await?;
    if !clients::enable(&db, client_id).await? {
        anyhow::bail!("no revoked client {client_id}");
    }
    println!("enabled {client_id}");
    Ok(())
}

pub async fn rotate_secret(settings: &Settings, client_id: &str) -> anyhow::Result<()> {
    let db = database::open(settings).await?;
    let Some(secret) = clients::rotate_secret(&db, client_id).await? else {
        anyhow::bail!("no active client {client_id}");
    };
    println!("client_id:     {client_id}");
    println!("client_secret: {}", secret.expose_secret());
    println!("the old secret no longer works; the new one is shown only now");
    Ok(())
}

pub async fn delete(settings: &Settings, client_id: &str) -> anyhow::Result<()> {
    let db = database::open(settings).await?;
    if !clients::delete(&db, client_id).await? {
        anyhow::bail!("no client {client_id}");
    }
    println!("deleted {client_id}");
    Ok(())
}
