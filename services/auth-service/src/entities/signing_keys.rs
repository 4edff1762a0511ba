use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    pub algorithm: String,
    /// `next`, `current` or `retired` (see `SigningKeyState`).
    pub state: String,
    /// The public half as a JWK (RFC 7517) JSON object.
    pub public_jwk: String,
    /// base64(nonce || XChaCha20-Poly1305 ciphertext) of the PKCS#8 private key.
    pub private_key_encrypted: String,
    pub created_at: DateTimeUtc,
    pub activated_at: Option<DateTimeUtc>,
    pub retired_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
