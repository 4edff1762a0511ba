//! The signing keys in use, shared by every request and by the housekeeping worker that
//! reloads them when they change (here or on another replica).

use std::sync::{Arc, RwLock};

use sea_orm::DatabaseConnection;

use super::master_key::MasterKey;
use super::signing_keys::{KeyRing, load};

/// The ring in use, swapped whole when the keys change.
pub struct KeyStore {
    ring: RwLock<Arc<KeyRing>>,
}

impl KeyStore {
    pub fn new(ring: KeyRing) -> Self {
        Self {
            ring: RwLock::new(Arc::new(ring)),
        }
    }

    pub fn current(&self) -> Arc<KeyRing> {
        Arc::clone(
            &self
                .ring
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    /// Reloads from the database; true if the signer or the published set changed.
    pub async fn reload(
        &self,
        db: &DatabaseConnection,
        master: &MasterKey,
    ) -> anyhow::Result<bool> {
        let fresh = load(db, master).await?;
        let old = self.current();
        let changed = fresh.signer.kid != old.signer.kid || fresh.jwks_json != old.jwks_json;
        if changed {
            *self
                .ring
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(fresh);
        }
        Ok(changed)
    }
}
