//! The cached key set and the rules for refreshing it: a background refresh on a timer, a
//! single-flight re-fetch when a token names an unknown `kid` (at most once per
//! `min_refetch_interval`), and never replacing good keys with an empty or broken set, so the
//! cache keeps serving while the issuer is down.

use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use crate::http_fetch::FetchError;
use crate::jwks_fetch::{FetchFailure, JwksFetcher};
use crate::keys::{KeyOrigin, KeySet};

/// First retry delay after a failed refresh; doubles up to [`MAX_RETRY_DELAY`] (or the refresh
/// interval, if that is shorter), so an issuer that starts after us is picked up quickly without
/// being hammered while it is down.
const FIRST_RETRY_DELAY: Duration = Duration::from_secs(1);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(60);
/// Guards against a zero or tiny configured interval turning the task into a busy loop.
const MIN_REFRESH_INTERVAL: Duration = Duration::from_millis(100);

pub(crate) struct KeyCache {
    /// Readers clone the `Arc` and drop the lock at once; writers swap in a whole new set.
    keys: RwLock<Arc<KeySet>>,
    remote: Option<RemoteSource>,
}

struct RemoteSource {
    fetcher: JwksFetcher,
    /// Held for the whole fetch: concurrent callers queue behind one fetch instead of
    /// starting their own (single flight).
    state: tokio::sync::Mutex<FetchState>,
    min_refetch_interval: Duration,
}

#[derive(Default)]
struct FetchState {
    last_attempt: Option<Instant>,
    discovered_url: Option<String>,
}

impl KeyCache {
    pub(crate) fn fixed(keys: KeySet) -> KeyCache {
        KeyCache {
            keys: RwLock::new(Arc::new(keys)),
            remote: None,
        }
    }

    pub(crate) fn remote(fetcher: JwksFetcher, min_refetch_interval: Duration) -> KeyCache {
        KeyCache {
            keys: RwLock::new(Arc::new(KeySet::default())),
            remote: Some(RemoteSource {
                fetcher,
                state: tokio::sync::Mutex::new(FetchState::default()),
                min_refetch_interval,
            }),
        }
    }

    pub(crate) fn current(&self) -> Arc<KeySet> {
        // A poisoned lock only means a writer panicked mid-swap of an `Arc`; the value inside
        // is still a complete key set, so keep serving it.
        Arc::clone(
            &self
                .keys
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    pub(crate) fn replace(&self, keys: KeySet) {
        *self
            .keys
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(keys);
    }

    /// Fetches now (waiting for any fetch in progress first). Returns whether usable keys
    /// were loaded; failures are logged here and the cached keys are kept.
    pub(crate) async fn refresh(&self) -> bool {
        let Some(remote) = &self.remote else {
            return false;
        };
        let mut state = remote.state.lock().await;
        self.fetch_locked(remote, &mut state).await
    }

    /// Called when a token names a `kid` we do not have. Re-fetches only if nobody else did
    /// within `min_refetch_interval`, so a flood of tokens with random kids costs at most one
    /// request per interval. Returns the key set to look in afterwards.
    pub(crate) async fn refetch_for_unknown_kid(&self, kid: &str) -> Arc<KeySet> {
        let Some(remote) = &self.remote else {
            return self.current();
        };
        let mut state = remote.state.lock().await;
        // While we waited for the lock another caller may have fetched the key already.
        let keys = self.current();
        if keys.get(kid).is_some() {
            return keys;
        }
        let recently = state
            .last_attempt
            .is_some_and(|at| at.elapsed() < remote.min_refetch_interval);
        if recently {
            return keys;
        }
        tracing::debug!("token names an unknown key id; re-fetching the JWKS");
        self.fetch_locked(remote, &mut state).await;
        self.current()
    }

    async fn fetch_locked(&self, remote: &RemoteSource, state: &mut FetchState) -> bool {
        state.last_attempt = Some(Instant::now());
        let result = remote.fetcher.fetch(&mut state.discovered_url).await;
        let failure = match result {
            Ok((url, set)) => {
                let keys = KeySet::from_jwks(&set, KeyOrigin::Remote);
                if !keys.is_empty() {
                    tracing::debug!(keys = keys.len(), "JWKS refreshed");
                    self.replace(keys);
                    return true;
                }
                FetchFailure {
                    url,
                    error: FetchError::NoUsableKeys,
                }
            }
            Err(failure) => failure,
        };
        let cached = self.current().len();
        tracing::warn!(
            url = %failure.url,
            error = %failure.error,
            cached_keys = cached,
            "JWKS fetch failed; keeping the cached keys"
        );
        false
    }
}

/// Refreshes the cache every `interval`, retrying failures with capped exponential backoff.
/// The task holds only a weak reference, so it ends once every `Verifier` is dropped.
pub(crate) fn spawn_refresh(cache: Weak<KeyCache>, interval: Duration, last_ok: bool) {
    let interval = interval.max(MIN_REFRESH_INTERVAL);
    let max_retry = MAX_RETRY_DELAY.min(interval);
    tokio::spawn(async move {
        let mut retry = FIRST_RETRY_DELAY.min(max_retry);
        let mut delay = if last_ok { interval } else { retry };
        loop {
            tokio::time::sleep(delay).await;
            let Some(cache) = cache.upgrade() else {
                break;
            };
            if cache.refresh().await {
                retry = FIRST_RETRY_DELAY.min(max_retry);
                delay = interval;
            } else {
                delay = retry;
                retry = (retry * 2).min(max_retry);
            }
        }
    });
}
