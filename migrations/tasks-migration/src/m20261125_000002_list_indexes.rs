//! Issue 4: lists sorted by `created_at`, `due_at`, `priority` or `title`, each served by an
//! index that starts with `user_id`, so a list query only ever reads its owner's rows.
//! Priority becomes a number (1 low, 2 medium, 3 high) so that it sorts by meaning, not by
//! spelling ("high" < "low" < "medium").

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The four sort keys; each index ends with `id`, the tie-breaker of every sort.
const SORT_INDEXES: [(&str, Tasks); 4] = [
    ("idx_tasks_user_created", Tasks::CreatedAt),
    ("idx_tasks_user_due", Tasks::DueAt),
    ("idx_tasks_user_priority", Tasks::Priority),
    ("idx_tasks_user_title", Tasks::Title),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction on SQLite too (sea-orm only uses one on Postgres by default): the
    /// steps must run in order on one connection, and a failure must leave nothing half done.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one change per ALTER TABLE, so each step is its own statement.
        manager
            .alter_table(
                Table::alter()
                    .table(Tasks::Table)
                    .add_column(
                        ColumnDef::new(Tasks::PriorityRank)
                            .small_integer()
                            .not_null()
                            .default(2),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE tasks SET priority_rank = \
                 CASE priority WHEN 'low' THEN 1 WHEN 'high' THEN 3 ELSE 2 END",
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tasks::Table)
                    .drop_column(Tasks::Priority)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tasks::Table)
                    .rename_column(Tasks::PriorityRank, Tasks::Priority)
                    .to_owned(),
            )
            .await?;

        manager
            .drop_index(
                Index::drop()
                    .name("idx_tasks_user_id")
                    .table(Tasks::Table)
                    .to_owned(),
            )
            .await?;
        for (name, column) in SORT_INDEXES {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Tasks::Table)
                        .col(Tasks::UserId)
                        .col(column)
                        .col(Tasks::Id)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in SORT_INDEXES {
            manager
                .drop_index(Index::drop().name(name).table(Tasks::Table).to_owned())
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_tasks_user_id")
                    .table(Tasks::Table)
                    .col(Tasks::UserId)
                    .col(Tasks::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tasks::Table)
                    .rename_column(Tasks::Priority, Tasks::PriorityRank)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tasks::Table)
                    .add_column(
                        ColumnDef::new(Tasks::Priority)
                            .string_len(8)
                            .not_null()
                            .default("medium"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE tasks SET priority = \
                 CASE priority_rank WHEN 1 THEN 'low' WHEN 3 THEN 'high' ELSE 'medium' END",
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tasks::Table)
                    .drop_column(Tasks::PriorityRank)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Tasks {
    Table,
    Id,
    UserId,
    Title,
    DueAt,
    Priority,
    PriorityRank,
    CreatedAt,
}
