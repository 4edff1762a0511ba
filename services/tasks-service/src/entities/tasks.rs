use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    /// UUIDv7, so ids of one user's tasks rarely collide in index pages; the tie-breaker of
    /// every list sort.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    pub completed_at: Option<DateTimeUtc>,
    pub due_at: Option<DateTimeUtc>,
    /// 1 low, 2 medium, 3 high (see `Priority`): a number so that it sorts by meaning.
    pub priority: i16,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Bumped on every change; the ETag of the task.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
