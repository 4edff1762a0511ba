//! Migrations of the auth-service's tables (schema `auth` on Postgres, its own file on SQLite).
//! Frozen once released: they use the schema DSL and never import the service's entities.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_users_sessions_keys;
mod m20261125_000002_revocations_throttling;
mod m20261125_000003_oauth_clients;
mod m20261125_000004_purge_outbox;
mod m20261125_000005_client_audience;
mod m20261202_100001_credential_epoch;
mod m20261202_100002_retention_indexes;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_users_sessions_keys::Migration),
            Box::new(m20261125_000002_revocations_throttling::Migration),
            Box::new(m20261125_000003_oauth_clients::Migration),
            Box::new(m20261125_000004_purge_outbox::Migration),
            Box::new(m20261125_000005_client_audience::Migration),
            Box::new(m20261202_100001_credential_epoch::Migration),
            Box::new(m20261202_100002_retention_indexes::Migration),
        ]
    }
}
