//! Password hashing with argon2id at OWASP's recommended minimum (m = 19 MiB, t = 2, p = 1),
//! with a bound on how much of the machine it may take.
//!
//! Each hash costs tens of milliseconds of CPU and 19 MiB of memory. Run unbounded on the
//! blocking pool, a burst of 64 sign-ins means 64 threads hashing at once: they crowd every
//! other request off the CPU, and glibc keeps each thread's freed 19 MiB, so memory grows into
//! gigabytes. So at most `max_concurrent` hashes run at a time (the rest wait their turn), and
//! each running hash uses one of `max_concurrent` work areas allocated once and reused.

use std::sync::{Arc, Mutex};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use crate::domain::Password;

/// The largest `m` (KiB) a stored hash may ask for: more means the row was not written by us,
/// and honouring it would let one row allocate unbounded memory.
const MAX_STORED_M_COST: u32 = 256 * 1024;
const SALT_BYTES: usize = 16;
const OUTPUT_BYTES: usize = 32;

#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    /// A real hash of a random password: sign-in for an unknown email verifies against it so
    /// it costs the same time as a wrong password and reveals nothing.
    dummy_hash: String,
    permits: Semaphore,
    /// Work areas of `params.block_count()` blocks, one per permit, allocated on first use.
    work_areas: Mutex<Vec<Vec<Block>>>,
}

impl PasswordHasher {
    /// A hasher running at most `max_concurrent` (at least 1) hashes at a time.
    pub async fn new(max_concurrent: usize) -> anyhow::Result<Self> {
        let params = Params::new(19 * 1024, 2, 1, Some(OUTPUT_BYTES))
            .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        let max_concurrent = max_concurrent.max(1);
        let mut hasher = Self {
            inner: Arc::new(Inner {
                params,
                dummy_hash: String::new(),
                permits: Semaphore::new(max_concurrent),
                work_areas: Mutex::new(Vec::with_capacity(max_concurrent)),
            }),
        };
        let random: [u8; 24] = rand::random();
        let dummy = hex(&random);
        let dummy_hash = hasher
            .run(move |inner, area| inner.hash(&dummy, area))
            .await??;
        match Arc::get_mut(&mut hasher.inner) {
            Some(inner) => inner.dummy_hash = dummy_hash,
            None => anyhow::bail!("the password hasher was shared before it was ready"),
        }
        Ok(hasher)
    }

    /// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) of `password`.
    pub async fn hash(&self, password: Password) -> anyhow::Result<String> {
        self.run(move |inner, area| inner.hash(password.expose(), area))
            .await?
    }

    /// Whether `password` matches `stored`. Without a stored hash (no such user) it verifies
    /// against the dummy hash and answers false: the same work, so the same time.
    pub async fn verify(
        &self,
        password: secrecy::SecretString,
        stored: Option<String>,
    ) -> anyhow::Result<bool> {
        use secrecy::ExposeSecret;
        self.run(move |inner, area| {
            let known = stored.is_some();
            let target = stored.as_deref().unwrap_or(&inner.dummy_hash);
            inner.verify(password.expose_secret(), target, area) && known
        })
        .await
    }

    /// Runs `work` with a permit and a work area, on the blocking pool, in the caller's span.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Inner, &mut Vec<Block>) -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        use tracing::Instrument;
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|_| anyhow::anyhow!("the password hasher is closed"))?;
        let inner = Arc::clone(&self.inner);
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            span.in_scope(|| {
                let mut area = inner.take_work_area();
                let result = work(&inner, &mut area);
                inner.return_work_area(area);
                result
            })
        })
        .instrument(tracing::Span::current())
        .await
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
    }
}

impl Inner {
    fn take_work_area(&self) -> Vec<Block> {
        let reused = self
            .work_areas
            .lock()
            .ok()
            .and_then(|mut areas| areas.pop());
        reused.unwrap_or_else(|| vec![Block::default(); self.params.block_count()])
    }

    fn return_work_area(&self, area: Vec<Block>) {
        // Only areas of the standard size are kept; a larger one (an old hash's parameters)
        // is freed.
        if area.len() == self.params.block_count()
            && let Ok(mut areas) = self.work_areas.lock()
        {
            areas.push(area);
        }
    }

    fn hash(&self, password: &str, area: &mut Vec<Block>) -> anyhow::Result<String> {
        let salt_bytes: [u8; SALT_BYTES] = rand::random();
        let mut output = [0u8; OUTPUT_BYTES];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
            .hash_password_into_with_memory(
                password.as_bytes(),
                &salt_bytes,
                &mut output,
                area.as_mut_slice(),
            )
            .map_err(|e| anyhow::anyhow!("hashing password: {e}"))?;
        let salt = SaltString::encode_b64(&salt_bytes)
            .map_err(|e| anyhow::anyhow!("encoding salt: {e}"))?;
        let phc = PasswordHash {
            algorithm: argon2::ARGON2ID_IDENT,
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params)
                .map_err(|e| anyhow::anyhow!("encoding argon2 parameters: {e}"))?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&output).map_err(|e| anyhow::anyhow!("hash output: {e}"))?),
        };
        Ok(phc.to_string())
    }

    /// Recomputes the hash with the stored salt and parameters and compares in constant time.
    /// A stored value we cannot read is logged (never its content) and does not match.
    fn verify(&self, password: &str, stored: &str, area: &mut Vec<Block>) -> bool {
        match self.try_verify(password, stored, area) {
            Ok(matches) => matches,
            Err(reason) => {
                tracing::error!(%reason, "a stored password hash could not be used");
                false
            }
        }
    }

    fn try_verify(
        &self,
        password: &str,
        stored: &str,
        area: &mut Vec<Block>,
    ) -> Result<bool, String> {
        let parsed = PasswordHash::new(stored).map_err(|e| format!("unparsable: {e}"))?;
        if parsed.algorithm != argon2::ARGON2ID_IDENT
            || parsed.version != Some(Version::V0x13.into())
        {
            return Err(format!("not argon2id v19 but {}", parsed.algorithm));
        }
        let params = Params::try_from(&parsed).map_err(|e| format!("parameters: {e}"))?;
        if params.m_cost() > MAX_STORED_M_COST {
            return Err(format!("m = {} KiB is above our limit", params.m_cost()));
        }
        let expected = parsed.hash.ok_or("no hash output")?;
        let mut salt_buffer = [0u8; 64];
        let salt = parsed
            .salt
            .ok_or("no salt")?
            .decode_b64(&mut salt_buffer)
            .map_err(|e| format!("salt: {e}"))?;
        if area.len() < params.block_count() {
            area.resize(params.block_count(), Block::default());
        }
        let mut output = vec![0u8; expected.len()];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt,
                &mut output,
                area.as_mut_slice(),
            )
            .map_err(|e| format!("hashing: {e}"))?;
        Ok(bool::from(expected.as_bytes().ct_eq(&output)))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
    use secrecy::SecretString;

    fn password(s: &str) -> Password {
        Password::parse(SecretString::from(s.to_owned())).unwrap()
    }

    #[tokio::test]
    async fn hash_and_verify() {
        let hasher = PasswordHasher::new(2).await.unwrap();
        let hash = hasher
            .hash(password("correct horse battery"))
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let secret = |s: &str| SecretString::from(s.to_owned());
        assert!(
            hasher
                .verify(secret("correct horse battery"), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify(secret("wrong horse battery"), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify(secret("correct horse battery"), None)
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify(secret("x"), Some("not a hash".into()))
                .await
                .unwrap()
        );
    }

    /// Our hashes are standard PHC strings: the argon2 crate's own verifier accepts them, and
    /// we accept the hashes it writes (as earlier versions of this service stored).
    #[tokio::test]
    async fn interoperates_with_the_reference_implementation() {
        let hasher = PasswordHasher::new(1).await.unwrap();
        let ours = hasher.hash(password("interoperable")).await.unwrap();
        let reference = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(19 * 1024, 2, 1, None).unwrap(),
        );
        let parsed = PasswordHash::new(&ours).unwrap();
        if let Err(e) = reference.verify_password(b"interoperable", &parsed) {
            panic!("the reference implementation refused our hash: {e}");
        }

        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let theirs = reference
            .hash_password(b"interoperable", &salt)
            .unwrap()
            .to_string();
        let secret = SecretString::from("interoperable".to_owned());
        assert!(hasher.verify(secret, Some(theirs)).await.unwrap());
    }

    #[tokio::test]
    async fn work_areas_are_reused_and_bounded() {
        let hasher = PasswordHasher::new(2).await.unwrap();
        let running: Vec<_> = (0..6)
            .map(|n| {
                let hasher = hasher.clone();
                tokio::spawn(async move { hasher.hash(password(&format!("password {n}"))).await })
            })
            .collect();
        for hash in running {
            let hash = hash.await.unwrap().expect("hashing a valid password");
            assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        }
        let areas = hasher.inner.work_areas.lock().unwrap().len();
        assert!((1..=2).contains(&areas), "{areas} work areas");
    }
}
