use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The revocation feed: an append-only log whose id is the followers' cursor.
        manager
            .create_table(
                Table::create()
                    .table(Revocations::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Revocations::Id))
                    // `session` (subject = session id) or `user` (subject = user id).
                    .col(string_len(Revocations::Kind, 16))
                    .col(uuid(Revocations::Subject))
                    .col(timestamp_with_time_zone_null(Revocations::NotBefore))
                    .col(timestamp_with_time_zone(Revocations::CreatedAt))
                    // When every token the entry concerns has expired: then it can go.
                    .col(timestamp_with_time_zone(Revocations::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_revocations_expires_at")
                    .table(Revocations::Table)
                    .col(Revocations::ExpiresAt)
                    .to_owned(),
            )
            .await?;

        // Failed sign-ins per throttling key (`account:<email>` or `ip:<address>`).
        manager
            .create_table(
                Table::create()
                    .table(SignInFailures::Table)
                    .if_not_exists()
                    .col(string_len(SignInFailures::Key, 400).primary_key())
                    .col(integer(SignInFailures::Failures))
                    .col(timestamp_with_time_zone(SignInFailures::WindowStartedAt))
                    .col(timestamp_with_time_zone_null(SignInFailures::LockedUntil))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(SignInFailures::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(Revocations::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Revocations {
    Table,
    Id,
    Kind,
    Subject,
    NotBefore,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum SignInFailures {
    Table,
    Key,
    Failures,
    WindowStartedAt,
    LockedUntil,
}
