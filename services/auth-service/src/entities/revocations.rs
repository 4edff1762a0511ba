use sea_orm::entity::prelude::*;

/// One entry of the revocation feed; `id` is the followers' cursor.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "revocations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `session` or `user`.
    pub kind: String,
    /// The session id or the user id.
    pub subject: Uuid,
    /// For `user` entries: tokens issued before this are refused.
    pub not_before: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
