use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Confidential OAuth clients (service-to-service calls, RFC 6749 §4.4).
        manager
            .create_table(
                Table::create()
                    .table(OauthClients::Table)
                    .if_not_exists()
                    .col(string_len(OauthClients::ClientId, 64).primary_key())
                    .col(string_len(OauthClients::Name, 200))
                    // SHA-256 of the 256-bit random secret, hex: the secret itself is never stored.
                    .col(string_len(OauthClients::SecretHash, 64))
                    // Space-separated scopes the client may ask for.
                    .col(string_len(OauthClients::Scopes, 400))
                    .col(timestamp_with_time_zone(OauthClients::CreatedAt))
                    .col(timestamp_with_time_zone_null(OauthClients::RevokedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(OauthClients::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum OauthClients {
    Table,
    ClientId,
    Name,
    SecretHash,
    Scopes,
    CreatedAt,
    RevokedAt,
}
