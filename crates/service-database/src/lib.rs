//! Both services open their database the same way (docs/architecture.md, "Databases"): a
//! Postgres URL puts the service's tables in its own schema; no URL means the embedded default,
//! one SQLite file per service. Each service then runs its own migrations. This crate is that
//! one shared rule.
#![deny(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};
use sea_orm_migration::MigratorTrait;
use secrecy::{ExposeSecret, SecretString};

mod availability;

pub use availability::is_unavailable;

/// How long a request waits for a pooled connection (or for a new one to open) before it is
/// answered 503: an unreachable database must not hold requests (docs/operations.md,
/// "Outages").
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(1500);

/// Opens `service`'s database (at `url`: its schema `service` on Postgres; no URL: its SQLite
/// file under `data_dir`) with a pool of `max_connections`, and runs its pending migrations
/// `M`.
pub async fn open<M: MigratorTrait>(
    url: Option<SecretString>,
    max_connections: u32,
    service: &str,
    data_dir: &Path,
) -> anyhow::Result<DatabaseConnection> {
    let target = DatabaseTarget::choose(url, service, data_dir)?;
    tracing::info!(database = %target.describe(), "opening the database");
    let db = connect(&target, max_connections).await?;
    migrate::<M>(&db).await?;
    Ok(db)
}

/// Where a service keeps its data.
#[derive(Debug, Clone)]
pub enum DatabaseTarget {
    /// A `postgres://` URL; the service's tables live in `schema`.
    Postgres { url: SecretString, schema: String },
    /// The embedded default: one SQLite file, created if missing.
    Sqlite { path: PathBuf },
}

impl DatabaseTarget {
    /// `url` wins when given (on Postgres the tables live in the schema named after the
    /// service); otherwise the SQLite file `<data_dir>/<service>.db`.
    pub fn choose(
        url: Option<SecretString>,
        service: &str,
        data_dir: &Path,
    ) -> anyhow::Result<Self> {
        match url {
            Some(url) => {
                let raw = url.expose_secret();
                if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
                    Ok(Self::Postgres {
                        url,
                        schema: service.to_owned(),
                    })
                } else if let Some(path) = raw.strip_prefix("sqlite://") {
                    let path = path.split('?').next().unwrap_or(path);
                    Ok(Self::Sqlite {
                        path: PathBuf::from(path),
                    })
                } else {
                    anyhow::bail!(
                        "the database URL must start with postgres://, postgresql:// or sqlite://"
                    )
                }
            }
            None => Ok(Self::Sqlite {
                path: data_dir.join(format!("{service}.db")),
            }),
        }
    }

    /// A description safe for logs (no credentials).
    pub fn describe(&self) -> String {
        match self {
            Self::Postgres { url, schema } => {
                let host = url
                    .expose_secret()
                    .rsplit('@')
                    .next()
                    .unwrap_or("postgres")
                    .split('?')
                    .next()
                    .unwrap_or("postgres");
                format!("postgres {host} (schema {schema})")
            }
            Self::Sqlite { path } => format!("sqlite {}", path.display()),
        }
    }
}

/// Opens the pool and makes sure the service's schema exists. Migrations are separate
/// ([`migrate`]) so `<service> migrate` can run them alone.
pub async fn connect(
    target: &DatabaseTarget,
    max_connections: u32,
) -> anyhow::Result<DatabaseConnection> {
    let (url, schema) = match target {
        DatabaseTarget::Postgres { url, schema } => (url.expose_secret().to_owned(), Some(schema)),
        DatabaseTarget::Sqlite { path } => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating the data folder {}", dir.display()))?;
            }
            (format!("sqlite://{}?mode=rwc", path.display()), None)
        }
    };
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(ACQUIRE_TIMEOUT)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .sqlx_logging(false);
    if let Some(schema) = schema {
        // Every pooled connection resolves unqualified table names in the service's schema
        // only, so the two services can share one database without seeing each other.
        options.set_schema_search_path(schema.clone());
    }
    let db = Database::connect(options)
        .await
        .with_context(|| format!("connecting to {}", target.describe()))?;
    if let Some(schema) = schema {
        ensure_schema(&db, schema).await?;
    }
    Ok(db)
}

async fn ensure_schema(db: &DatabaseConnection, schema: &str) -> anyhow::Result<()> {
    // The schema name comes from code, never from input; still, refuse anything but a plain
    // identifier since it is spliced into DDL.
    anyhow::ensure!(
        !schema.is_empty() && schema.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
        "invalid schema name {schema:?}"
    );
    db.execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
        .await
        .with_context(|| format!("creating schema {schema}"))?;
    Ok(())
}

/// Runs the service's pending migrations.
pub async fn migrate<M: MigratorTrait>(db: &DatabaseConnection) -> anyhow::Result<()> {
    M::up(db, None).await.context("running migrations")?;
    Ok(())
}

/// `SELECT 1` for readiness probes.
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}

/// True for Postgres connections (some statements differ, e.g. row locking).
pub fn is_postgres(db: &DatabaseConnection) -> bool {
    db.get_database_backend() == DbBackend::Postgres
}

#[cfg(feature = "test-support")]
pub mod testing;
#[cfg(feature = "test-support")]
mod throwaway_cluster;
