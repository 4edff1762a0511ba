//! The auth-service's own database: schema `auth` on Postgres, or `<data_dir>/auth.db` (SQLite),
//! brought up to date with its migrations whenever it is opened.

use sea_orm::DatabaseConnection;

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
