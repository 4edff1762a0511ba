use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tasks::Table)
                    .if_not_exists()
                    .col(pk_uuid(Tasks::Id))
                    // The owner, as the auth-service's user id: no foreign key across schemas.
                    .col(uuid(Tasks::UserId))
                    .col(string_len(Tasks::Title, 200))
                    .col(text_null(Tasks::Description))
                    .col(boolean(Tasks::Completed).default(false))
                    .col(timestamp_with_time_zone_null(Tasks::CompletedAt))
                    .col(timestamp_with_time_zone_null(Tasks::DueAt))
                    .col(string_len(Tasks::Priority, 8))
                    .col(timestamp_with_time_zone(Tasks::CreatedAt))
                    .col(timestamp_with_time_zone(Tasks::UpdatedAt))
                    .col(integer(Tasks::Version).default(1))
                    .to_owned(),
            )
            .await?;
        // Every query is "this user's tasks, newest first, after a cursor": (user_id, id)
        // serves it as an index range scan, since UUIDv7 ids sort by creation time.
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
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Tasks::Table).if_exists().to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Id,
    UserId,
    Title,
    Description,
    Completed,
    CompletedAt,
    DueAt,
    Priority,
    CreatedAt,
    UpdatedAt,
    Version,
}
