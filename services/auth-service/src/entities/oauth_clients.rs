use sea_orm::entity::prelude::*;

/// A confidential OAuth client: a service that obtains its own access tokens with the
/// client_credentials grant and may call the revocation and introspection endpoints.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub client_id: String,
    pub name: String,
    /// Hex SHA-256 of the secret; the secret itself is shown once, at creation, and never stored.
    pub secret_hash: String,
    /// Space-separated scopes the client may be granted (see `domain::ScopeSet`).
    pub scopes: String,
    /// The `aud` of its tokens (the service it calls); `None`: the default audience.
    pub audience: Option<String>,
    pub created_at: DateTimeUtc,
    /// Set once: a revoked client can no longer authenticate.
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
