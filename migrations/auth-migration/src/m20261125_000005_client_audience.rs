use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The `aud` of a client's tokens: the service it calls. Null: the default audience.
        manager
            .alter_table(
                Table::alter()
                    .table(OauthClients::Table)
                    .add_column(string_len_null(OauthClients::Audience, 200))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(OauthClients::Table)
                    .drop_column(OauthClients::Audience)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum OauthClients {
    Table,
    Audience,
}
