//! The master key encrypts private signing keys at rest (docs/architecture.md, "Databases").
//! Production must supply it; development generates one under the data folder and says so
//! loudly.

use std::path::Path;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretSlice, SecretString};

use crate::config::{RunEnv, Settings};

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const DEV_KEY_FILE: &str = "master.key";

pub struct MasterKey(SecretSlice<u8>);

impl MasterKey {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        match (&settings.keys.master_key, settings.env) {
            (Some(encoded), _) => Self::decode(encoded)
                .context("AUTH__KEYS__MASTER_KEY must be 32 bytes, base64-encoded"),
            (None, RunEnv::Production) => anyhow::bail!(
                "AUTH__KEYS__MASTER_KEY is required when AUTH__ENV=production \
                 (32 random bytes, base64: `openssl rand -base64 32`)"
            ),
            (None, RunEnv::Development) => Self::development(&settings.data_dir),
        }
    }

    fn decode(encoded: &SecretString) -> anyhow::Result<Self> {
        let bytes = STANDARD.decode(encoded.expose_secret().trim())?;
        anyhow::ensure!(
            bytes.len() == KEY_LEN,
            "expected {KEY_LEN} bytes, got {}",
            bytes.len()
        );
        Ok(Self(SecretSlice::from(bytes)))
    }

    /// Reads `<data_dir>/master.key`, creating it on first start.
    fn development(data_dir: &Path) -> anyhow::Result<Self> {
        let path = data_dir.join(DEV_KEY_FILE);
        if let Ok(existing) = std::fs::read_to_string(&path) {
            return Self::decode(&SecretString::from(existing))
                .with_context(|| format!("{} is not a valid master key", path.display()));
        }
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating {}", data_dir.display()))?;
        let key: [u8; KEY_LEN] = rand::random();
        write_private_file(&path, &STANDARD.encode(key))?;
        tracing::warn!(
            path = %path.display(),
            "DEVELOPMENT ONLY: generated a master key on disk to encrypt signing keys. \
             Set AUTH__KEYS__MASTER_KEY (and AUTH__ENV=production) for any real deployment."
        );
        Ok(Self(SecretSlice::from(key.to_vec())))
    }

    #[cfg(test)]
    pub fn random() -> Self {
        let key: [u8; KEY_LEN] = rand::random();
        Self(SecretSlice::from(key.to_vec()))
    }

    fn cipher(&self) -> anyhow::Result<XChaCha20Poly1305> {
        XChaCha20Poly1305::new_from_slice(self.0.expose_secret())
            .map_err(|_| anyhow::anyhow!("master key has the wrong length"))
    }

    /// Encrypts `plaintext`, binding it to `context` (the key id) so a ciphertext moved to
    /// another row does not decrypt.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> anyhow::Result<String> {
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let nonce = XNonce::from_slice(&nonce_bytes);
        let ciphertext = self
            .cipher()?
            .encrypt(
                nonce,
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("encrypting a signing key"))?;
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&ciphertext);
        Ok(STANDARD.encode(out))
    }

    pub fn open(&self, sealed: &str, context: &str) -> anyhow::Result<SecretSlice<u8>> {
        let bytes = STANDARD
            .decode(sealed)
            .context("sealed key is not base64")?;
        anyhow::ensure!(bytes.len() > NONCE_LEN, "sealed key is too short");
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plaintext = self
            .cipher()?
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| {
                anyhow::anyhow!(
                    "cannot decrypt signing key {context}: wrong AUTH__KEYS__MASTER_KEY?"
                )
            })?;
        Ok(SecretSlice::from(plaintext))
    }
}

fn write_private_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_context_binding() {
        let key = MasterKey::random();
        let sealed = key.seal(b"private", "kid-1").unwrap();
        assert_eq!(
            key.open(&sealed, "kid-1").unwrap().expose_secret(),
            b"private"
        );
        // Another key id, or another master key: the AEAD tag does not verify.
        assert_eq!(
            key.open(&sealed, "kid-2").err().unwrap().to_string(),
            "cannot decrypt signing key kid-2: wrong AUTH__KEYS__MASTER_KEY?"
        );
        assert_eq!(
            MasterKey::random()
                .open(&sealed, "kid-1")
                .err()
                .unwrap()
                .to_string(),
            "cannot decrypt signing key kid-1: wrong AUTH__KEYS__MASTER_KEY?"
        );
    }

    #[test]
    fn production_without_master_key_names_the_setting() {
        let settings = Settings {
            env: RunEnv::Production,
            ..Settings::default()
        };
        let err = MasterKey::from_settings(&settings)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("AUTH__KEYS__MASTER_KEY"), "{err}");
    }
}
