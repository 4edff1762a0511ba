//! Migrations of the tasks-service's tables (schema `tasks` on Postgres, its own file on SQLite).
//! Frozen once released: they use the schema DSL and never import the service's entities.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_tasks;
mod m20261125_000002_list_indexes;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_tasks::Migration),
            Box::new(m20261125_000002_list_indexes::Migration),
        ]
    }
}
