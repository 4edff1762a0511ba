//! `auth-service keys list` and `keys rotate`.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use serde::Serialize;

use super::{Format, or_dash, print_json};
use crate::config::Settings;
use crate::database;
use crate::tokens::master_key::MasterKey;
use crate::tokens::rotation::{self, RotateWhen, RotationOutcome};
use crate::tokens::signing_keys;

/// A key as `keys list` shows it (never its private half).
#[derive(Serialize)]
struct KeyRow {
    kid: String,
    state: String,
    algorithm: String,
    created_at: DateTime<Utc>,
    activated_at: Option<DateTime<Utc>>,
    retired_at: Option<DateTime<Utc>>,
}

/// The database and master key, with the first keys created if the service never ran (so
/// `rotate` always has a `next` key to promote).
async fn open(settings: &Settings) -> anyhow::Result<(DatabaseConnection, MasterKey)> {
    let master = MasterKey::from_settings(settings)?;
    let db = database::open(settings).await?;
    signing_keys::load_or_create(&db, &master).await?;
    Ok((db, master))
}

pub async fn list(settings: &Settings, format: Format) -> anyhow::Result<()> {
    let (db, _) = open(settings).await?;
    let rows: Vec<KeyRow> = rotation::list(&db)
        .await?
        .into_iter()
        .map(|key| KeyRow {
            kid: key.kid,
            state: key.state.to_string(),
            algorithm: key.algorithm,
            created_at: key.created_at,
            activated_at: key.activated_at,
            retired_at: key.retired_at,
        })
        .collect();
    if format == Format::Json {
        return print_json(&rows);
    }
    println!(
        "{:<44} {:<8} {:<7} {:<32} {:<32} retired",
        "kid", "state", "alg", "created", "activated"
    );
    for key in rows {
        println!(
            "{:<44} {:<8} {:<7} {:<32} {:<32} {}",
            key.kid,
            key.state,
            key.algorithm,
            key.created_at.to_rfc3339(),
            or_dash(key.activated_at),
            or_dash(key.retired_at)
        );
    }
    Ok(())
}

/// `keys rotate`: now (`--force`: even if the `next` key is new), or with `--if-due` only when
/// the current key has signed for `AUTH__KEYS__ROTATION_INTERVAL_SECS`.
pub async fn rotate(settings: &Settings, if_due: bool, force: bool) -> anyhow::Result<()> {
    let when = match (if_due, force) {
        (true, _) => RotateWhen::Due(chrono::Duration::seconds(i64::try_from(
            settings.keys.rotation_interval_secs,
        )?)),
        (false, true) => RotateWhen::Forced,
        (false, false) => RotateWhen::Now,
    };
    let (db, master) = open(settings).await?;
    match rotation::rotate(&db, &master, when).await? {
        RotationOutcome::Rotated {
            retired,
            current,
            next,
        } => {
            println!(
                "rotated: current {current}, next {next}, retired {}",
                retired.join(", ")
            );
            println!(
                "running replicas pick the new key up within AUTH__KEYS__RELOAD_INTERVAL_SECS"
            );
        }
        RotationOutcome::NotDue => {
            println!(
                "not rotated: the current key is younger than AUTH__KEYS__ROTATION_INTERVAL_SECS"
            )
        }
        RotationOutcome::NextKeyTooNew { published_at } => anyhow::bail!(
            "the next key was published at {} (less than {} minutes ago); validators may not \
             have fetched it yet. Wait, or pass --force",
            published_at.to_rfc3339(),
            rotation::MIN_NEXT_KEY_AGE.num_minutes()
        ),
    }
    Ok(())
}
