//! `auth-service outbox list`: account deletions and their delivery to the tasks-service.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{Format, or_dash, print_json};
use crate::account_deletion;
use crate::config::Settings;
use crate::database;

#[derive(Serialize)]
struct OutboxRow {
    user_id: Uuid,
    created_at: DateTime<Utc>,
    /// Failed deliveries so far.
    attempts: i32,
    next_attempt_at: DateTime<Utc>,
    /// `null` until the tasks-service has purged the user's tasks.
    delivered_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
}

/// The newest `limit` records.
pub async fn list(settings: &Settings, limit: u64, format: Format) -> anyhow::Result<()> {
    let db = database::open(settings).await?;
    let rows: Vec<OutboxRow> = account_deletion::list_outbox(&db, limit)
        .await?
        .into_iter()
        .map(|record| OutboxRow {
            user_id: record.user_id,
            created_at: record.created_at,
            attempts: record.attempts,
            next_attempt_at: record.next_attempt_at,
            delivered_at: record.delivered_at,
            last_error: record.last_error,
        })
        .collect();
    if format == Format::Json {
        return print_json(&rows);
    }
    println!(
        "{:<36} {:<32} {:>8} {:<32} {:<32} last error",
        "user_id", "created", "attempts", "next attempt", "delivered"
    );
    for record in rows {
        println!(
            "{:<36} {:<32} {:>8} {:<32} {:<32} {}",
            record.user_id,
            record.created_at.to_rfc3339(),
            record.attempts,
            record.next_attempt_at.to_rfc3339(),
            or_dash(record.delivered_at),
            record.last_error.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}
