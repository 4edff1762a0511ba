use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    /// UUIDv7: sorts by creation time, which the list query relies on.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    pub completed_at: Option<DateTimeUtc>,
    pub due_at: Option<DateTimeUtc>,
    /// `low`, `medium` or `high` (see `Priority`).
    pub priority: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Bumped on every change; the ETag of the task.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
