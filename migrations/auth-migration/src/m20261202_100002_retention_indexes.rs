use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (index, table, columns): what the housekeeping prune looks rows up by, so each bounded
/// batch finds its rows without scanning the table; the outbox's also gives `/metrics` its
/// oldest undelivered record in one entry.
const INDEXES: [(&str, &str, &[&str]); 5] = [
    (
        "idx_sign_in_failures_window",
        "sign_in_failures",
        &["window_started_at"],
    ),
    ("idx_refresh_tokens_used", "refresh_tokens", &["used_at"]),
    ("idx_sessions_revoked", "sessions", &["revoked_at"]),
    ("idx_sessions_expires", "sessions", &["expires_at"]),
    (
        "idx_purge_outbox_delivered",
        "purge_outbox",
        &["delivered_at", "created_at"],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, columns) in INDEXES {
            let mut index = Index::create();
            index.name(name).table(Alias::new(table));
            for column in columns {
                index.col(Alias::new(*column));
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in INDEXES {
            manager
                .drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
