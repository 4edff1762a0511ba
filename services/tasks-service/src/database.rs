//! The tasks-service's own database: schema `tasks` on Postgres, or `<data_dir>/tasks.db` (SQLite),
//! brought up to date with its migrations whenever it is opened.

use sea_orm::DatabaseConnection;

use crate::config::Settings;

pub async fn open(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    service_database::open::<tasks_migration::Migrator>(
        settings.database.url.clone(),
        settings.database.max_connections,
        "tasks",
        &settings.data_dir,
    )
    .await
}
