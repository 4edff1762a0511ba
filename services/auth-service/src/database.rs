//! The auth-service's own database: schema `auth` on Postgres, or `<data_dir>/auth.db` (SQLite),
//! brought up to date with its migrations whenever it is opened.

use sea_orm::{DatabaseConnection, DbBackend};

use crate::config::Settings;

pub async fn open(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    service_database::open::<auth_migration::Migrator>(
        settings.database.url.clone(),
        settings.database.max_connections,
        "auth",
        &settings.data_dir,
    )
    .await
}

/// Pooled connections checked out right now (`/metrics`): how close requests are to waiting
/// for one.
pub fn pool_in_use(db: &DatabaseConnection) -> u64 {
    let (size, idle) = match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    };
    u64::from(size).saturating_sub(idle as u64)
}
