//! Password hashing with argon2id at OWASP's recommended minimum (m = 19 MiB, t = 2, p = 1),
//! with a bound on how much of the machine it may take.
//!
//! Each hash costs tens of milliseconds of CPU and 19 MiB of memory. Run unbounded on the
//! blocking pool, a burst of 64 sign-ins means 64 threads hashing at once: they crowd every
//! other request off the CPU, and glibc keeps each thread's freed 19 MiB, so memory grows into
//! gigabytes. So at most `max_concurrent` hashes run at a time, and each running hash uses one
//! of `max_concurrent` work areas allocated once and reused.
//!
//! The rest wait their turn in a bounded queue: at most `max_queued` wait, each for at most
//! `max_wait`. A request past either bound is refused with [`HashError::Busy`] (503) without
//! hashing, so a flood cannot pile up requests that each hold a connection, memory and a
//! database row counter while they wait, and a client learns at once that it should retry.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;
use tokio::sync::{Semaphore, TryAcquireError};

use crate::domain::Password;

/// The largest `m` (KiB) a stored hash may ask for: more means the row was not written by us,
/// and honouring it would let one row allocate unbounded memory.
const MAX_STORED_M_COST: u32 = 256 * 1024;
const SALT_BYTES: usize = 16;
const OUTPUT_BYTES: usize = 32;

/// How many hashes run at once, and how many may wait and for how long.
#[derive(Debug, Clone, Copy)]
pub struct HasherLimits {
    pub max_concurrent: usize,
    pub max_queued: usize,
    pub max_wait: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The queue is full or the wait ran out: nothing was hashed. Retry after `retry_after`.
    #[error("too many passwords are being checked; retry in {} s", retry_after.as_secs())]
    Busy { retry_after: Duration },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

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
    /// Requests waiting for a permit now.
    waiting: AtomicUsize,
    max_queued: usize,
    max_wait: Duration,
    /// Work areas of `params.block_count()` blocks, one per permit, allocated on first use.
    work_areas: Mutex<Vec<Vec<Block>>>,
}

impl PasswordHasher {
    /// A hasher running at most `limits.max_concurrent` (at least 1) hashes at a time.
    pub async fn new(limits: HasherLimits) -> anyhow::Result<Self> {
        let params = Params::new(19 * 1024, 2, 1, Some(OUTPUT_BYTES))
            .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        let max_concurrent = limits.max_concurrent.max(1);
        let mut hasher = Self {
            inner: Arc::new(Inner {
                params,
                dummy_hash: String::new(),
                permits: Semaphore::new(max_concurrent),
                waiting: AtomicUsize::new(0),
                max_queued: limits.max_queued,
                max_wait: limits.max_wait,
                work_areas: Mutex::new(Vec::with_capacity(max_concurrent)),
            }),
        };
        let random: [u8; 24] = rand::random();
        let dummy = hex(&random);
        let dummy_hash = hasher
            .run(move |inner, area| inner.hash(&dummy, area))
            .await
            .map_err(|e| anyhow::anyhow!("the first hash: {e}"))??;
        match Arc::get_mut(&mut hasher.inner) {
            Some(inner) => inner.dummy_hash = dummy_hash,
            None => anyhow::bail!("the password hasher was shared before it was ready"),
        }
        Ok(hasher)
    }

    /// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) of `password`.
    pub async fn hash(&self, password: Password) -> Result<String, HashError> {
        Ok(self
            .run(move |inner, area| inner.hash(password.expose(), area))
            .await??)
    }

    /// Whether `password` matches `stored`. Without a stored hash (no such user) it verifies
    /// against the dummy hash and answers false: the same work, so the same time.
    pub async fn verify(
        &self,
        password: secrecy::SecretString,
        stored: Option<String>,
    ) -> Result<bool, HashError> {
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
    ) -> Result<T, HashError> {
        use tracing::Instrument;
        let _permit = self.inner.permit().await?;
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
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}").into())
    }
}

/// Takes back a place in the queue when its waiter stops waiting (served, timed out, or its
/// request dropped).
struct QueuePlace<'a>(&'a AtomicUsize);

impl Drop for QueuePlace<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Inner {
    /// A permit at once if one is free; else a place in the queue, if one is free, and a
    /// permit within `max_wait`; else `Busy`.
    async fn permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>, HashError> {
        let closed = || HashError::Unexpected(anyhow::anyhow!("the password hasher is closed"));
        match self.permits.try_acquire() {
            Ok(permit) => return Ok(permit),
            Err(TryAcquireError::Closed) => return Err(closed()),
            Err(TryAcquireError::NoPermits) => {}
        }
        let busy = HashError::Busy {
            retry_after: Duration::from_secs(self.max_wait.as_secs().max(1)),
        };
        let queued = self
            .waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max_queued).then_some(n + 1)
            });
        if queued.is_err() {
            tracing::warn!(max_queued = self.max_queued, "password hash queue full");
            return Err(busy);
        }
        let _place = QueuePlace(&self.waiting);
        match tokio::time::timeout(self.max_wait, self.permits.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) => Err(closed()),
            Err(_) => {
                tracing::warn!("a password hash waited too long in the queue");
                Err(busy)
            }
        }
    }

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
        let email = crate::domain::Email::parse("someone@example.org").unwrap();
        Password::parse(SecretString::from(s.to_owned()), &email).unwrap()
    }

    fn limits(max_concurrent: usize) -> HasherLimits {
        HasherLimits {
            max_concurrent,
            max_queued: 32,
            max_wait: Duration::from_secs(60),
        }
    }

    #[tokio::test]
    async fn hash_and_verify() {
        let hasher = PasswordHasher::new(limits(2)).await.unwrap();
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
        let hasher = PasswordHasher::new(limits(1)).await.unwrap();
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
        let hasher = PasswordHasher::new(limits(2)).await.unwrap();
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

    /// Past the queue's length, or its wait, a request is refused at once without hashing.
    #[tokio::test]
    async fn a_full_queue_or_a_long_wait_is_busy() {
        let hasher = PasswordHasher::new(HasherLimits {
            max_concurrent: 1,
            max_queued: 1,
            max_wait: Duration::from_millis(300),
        })
        .await
        .unwrap();
        // Hold the only permit, as a running hash would.
        let running = hasher.inner.permits.acquire().await.unwrap();
        let queued = tokio::spawn({
            let hasher = hasher.clone();
            async move { hasher.hash(password("waits in the queue")).await }
        });
        while hasher.inner.waiting.load(Ordering::Acquire) == 0 {
            tokio::task::yield_now().await;
        }
        let overflow = hasher.hash(password("finds the queue full")).await;
        assert!(
            matches!(overflow, Err(HashError::Busy { retry_after }) if retry_after.as_secs() == 1),
            "{overflow:?}"
        );
        let timed_out = queued.await.unwrap();
        assert!(
            matches!(timed_out, Err(HashError::Busy { .. })),
            "{timed_out:?}"
        );
        assert_eq!(hasher.inner.waiting.load(Ordering::Acquire), 0);
        drop(running);
        assert!(hasher.hash(password("runs once it is free")).await.is_ok());
    }
}
