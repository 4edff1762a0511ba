use sea_orm::entity::prelude::*;

/// One account deletion whose tasks the tasks-service must purge: written with the deletion,
/// delivered (and retried) by `account_deletion::delivery`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "purge_outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// When the record takes effect: the deletion's time, or for a deletion's final sweep
    /// the time it falls due (`account_deletion`).
    pub created_at: DateTimeUtc,
    /// Failed deliveries so far.
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// Why the last attempt failed (never a token or secret).
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
