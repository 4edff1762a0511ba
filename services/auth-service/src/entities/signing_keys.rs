use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    pub algorithm: String,
    pub state: SigningKeyState,
    /// The public half as a JWK (RFC 7517) JSON object.
    pub public_jwk: String,
    /// base64(nonce || XChaCha20-Poly1305 ciphertext) of the PKCS#8 private key.
    pub private_key_encrypted: String,
    pub created_at: DateTimeUtc,
    pub activated_at: Option<DateTimeUtc>,
    pub retired_at: Option<DateTimeUtc>,
}

/// Where a key is in its life (docs/architecture.md, "Key rotation"); stored as its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum SigningKeyState {
    /// Published in the JWKS, not yet signing: validators learn it before they meet it.
    #[sea_orm(string_value = "next")]
    Next,
    /// The one key that signs.
    #[sea_orm(string_value = "current")]
    Current,
    /// No longer signing; published until every token it signed has expired.
    #[sea_orm(string_value = "retired")]
    Retired,
}

impl std::fmt::Display for SigningKeyState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Next => "next",
            Self::Current => "current",
            Self::Retired => "retired",
        })
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
