//! The auth-service's signing keys (docs/architecture.md, "Key rotation"): Ed25519 key pairs
//! generated here, private halves sealed with the master key in `auth.signing_keys`, public
//! halves published as the JWKS. A key moves `next` → `current` → `retired`; exactly one is
//! `current`.

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use super::master_key::MasterKey;
use crate::entities::signing_keys;
pub use crate::entities::signing_keys::SigningKeyState;

/// The key that signs now, ready to use.
pub struct SigningKey {
    pub kid: String,
    pub algorithm: Algorithm,
    pub encoding_key: EncodingKey,
}

/// What the service needs from its keys at run time: the signer and the published set.
pub struct KeyRing {
    pub signer: SigningKey,
    pub jwks: JwkSet,
    /// The JWKS document as served (kept as JSON so it is rendered once, not per request).
    pub jwks_json: serde_json::Value,
}

/// PKCS#8 v1 prefix for an Ed25519 private key (RFC 8410 §7); the 32-byte seed follows.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// Makes sure a `current` and a `next` key exist (generating them on first start), then
/// loads the ring. The `next` key is published from now on, so that by the time a rotation
/// makes it sign, every validator's cached JWKS already holds it.
pub async fn load_or_create(
    db: &DatabaseConnection,
    master: &MasterKey,
) -> anyhow::Result<KeyRing> {
    for state in [SigningKeyState::Current, SigningKeyState::Next] {
        let exists = signing_keys::Entity::find()
            .filter(signing_keys::Column::State.eq(state))
            .one(db)
            .await
            .context("reading signing keys")?
            .is_some();
        if !exists {
            let kid = insert_new_key(db, master, state).await?;
            tracing::info!(%kid, %state, "generated a signing key");
        }
    }
    load(db, master).await
}

/// Loads the current signer and every published public key.
pub async fn load(db: &DatabaseConnection, master: &MasterKey) -> anyhow::Result<KeyRing> {
    let rows = signing_keys::Entity::find()
        .order_by_desc(signing_keys::Column::CreatedAt)
        .all(db)
        .await
        .context("reading signing keys")?;
    // If two replicas raced on first start there may be two `current` rows: the most recently
    // activated wins deterministically on every replica, and both stay published.
    let current = rows
        .iter()
        .filter(|row| row.state == SigningKeyState::Current)
        .max_by_key(|row| (row.activated_at, row.created_at))
        .context("no current signing key")?;
    anyhow::ensure!(
        current.algorithm == "EdDSA",
        "unsupported key algorithm {}",
        current.algorithm
    );
    let pkcs8 = master.open(&current.private_key_encrypted, &current.kid)?;
    let signer = SigningKey {
        kid: current.kid.clone(),
        algorithm: Algorithm::EdDSA,
        encoding_key: EncodingKey::from_ed_der(pkcs8.expose_secret()),
    };
    // Published: the current key first, then the next and the retired ones.
    let mut published: Vec<&signing_keys::Model> = vec![current];
    published.extend(rows.iter().filter(|row| row.kid != current.kid));
    let keys = published
        .iter()
        .map(|row| serde_json::from_str::<serde_json::Value>(&row.public_jwk))
        .collect::<Result<Vec<_>, _>>()
        .context("a stored public JWK is not JSON")?;
    let jwks_json = serde_json::json!({ "keys": keys });
    let jwks: JwkSet = serde_json::from_value(jwks_json.clone())
        .context("the stored public keys are not a JWKS")?;
    Ok(KeyRing {
        signer,
        jwks,
        jwks_json,
    })
}

pub(crate) async fn insert_new_key<C: ConnectionTrait>(
    db: &C,
    master: &MasterKey,
    state: SigningKeyState,
) -> anyhow::Result<String> {
    let seed: [u8; 32] = rand::random();
    let public = ed25519_dalek::SigningKey::from_bytes(&seed)
        .verifying_key()
        .to_bytes();
    let x = URL_SAFE_NO_PAD.encode(public);
    let kid = jwk_thumbprint(&x);
    let jwk = serde_json::json!({
        "kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig",
    });
    let mut pkcs8 = ED25519_PKCS8_PREFIX.to_vec();
    pkcs8.extend_from_slice(&seed);
    let sealed = master.seal(&pkcs8, &kid)?;
    let now = crate::clock::now();
    signing_keys::ActiveModel {
        kid: Set(kid.clone()),
        algorithm: Set("EdDSA".into()),
        state: Set(state),
        public_jwk: Set(jwk.to_string()),
        private_key_encrypted: Set(sealed),
        created_at: Set(now),
        activated_at: Set((state == SigningKeyState::Current).then_some(now)),
        retired_at: Set(None),
    }
    .insert(db)
    .await
    .context("storing a new signing key")?;
    Ok(kid)
}

/// RFC 7638 JWK thumbprint of an Ed25519 public key: a stable, collision-free `kid`.
fn jwk_thumbprint(x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_matches_rfc_8037_example() {
        // RFC 8037 Appendix A.3.
        assert_eq!(
            jwk_thumbprint("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }
}
