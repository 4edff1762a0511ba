use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Account deletion's outbox: written in the transaction that deletes the user, read by
        // the delivery worker that asks the tasks-service to purge the user's tasks.
        manager
            .create_table(
                Table::create()
                    .table(PurgeOutbox::Table)
                    .if_not_exists()
                    .col(pk_uuid(PurgeOutbox::Id))
                    // The deleted user's id; the user row itself is gone.
                    .col(uuid(PurgeOutbox::UserId))
                    .col(timestamp_with_time_zone(PurgeOutbox::CreatedAt))
                    .col(integer(PurgeOutbox::Attempts).default(0))
                    .col(timestamp_with_time_zone(PurgeOutbox::NextAttemptAt))
                    .col(text_null(PurgeOutbox::LastError))
                    .col(timestamp_with_time_zone_null(PurgeOutbox::DeliveredAt))
                    .to_owned(),
            )
            .await?;
        // The worker's question: undelivered records that are due.
        manager
            .create_index(
                Index::create()
                    .name("idx_purge_outbox_due")
                    .table(PurgeOutbox::Table)
                    .col(PurgeOutbox::DeliveredAt)
                    .col(PurgeOutbox::NextAttemptAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(PurgeOutbox::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum PurgeOutbox {
    Table,
    Id,
    UserId,
    CreatedAt,
    Attempts,
    NextAttemptAt,
    LastError,
    DeliveredAt,
}
