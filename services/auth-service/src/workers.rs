//! The background loops, apart from the HTTP wiring: each gets exactly what it uses and runs
//! until the [`Workers`] holding it is dropped (when the server stops).
//! - Housekeeping, every `AUTH__KEYS__RELOAD_INTERVAL_SECS`: rotate the signing key when due,
//!   delete keys retired long enough, follow key changes made by another replica or the CLI,
//!   forget expired revocations, prune rows past their retention (a bounded batch per pass,
//!   [`crate::retention`]).
//! - Purge delivery, every `AUTH__PURGE__POLL_INTERVAL_MS`: deliver due account deletions to
//!   the tasks-service ([`crate::account_deletion::delivery`]).
//! - The revocation listener: reads the log once per wake and wakes the feed's long-polls
//!   ([`crate::sessions::revocation_listener`]).

use std::sync::Arc;
use std::time::Duration;

use auth_core::Verifier;
use sea_orm::DatabaseConnection;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use crate::account_deletion::delivery::PurgeDelivery;
use crate::retention::{self, Retention};
use crate::sessions::revocation_listener::RevocationListener;
use crate::sessions::revocation_log;
use crate::tokens::key_store::KeyStore;
use crate::tokens::master_key::MasterKey;
use crate::tokens::rotation::{self, RotateWhen};

/// Running loops; dropping this stops them.
#[derive(Default)]
pub struct Workers(Vec<JoinHandle<()>>);

impl Drop for Workers {
    fn drop(&mut self) {
        for worker in &self.0 {
            worker.abort();
        }
    }
}

impl Workers {
    /// Runs `housekeeping` every `period`, the first run one period from now (start-up has
    /// just loaded the keys).
    pub fn start_housekeeping(&mut self, housekeeping: Housekeeping, period: Duration) {
        self.0.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(Instant::now() + period, period);
            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(error) = housekeeping.run_once().await {
                    tracing::warn!(error = ?error, "housekeeping failed; retrying next period");
                }
            }
        }));
    }

    /// Wakes the revocation feed's long-polls when entries are written (here or, on Postgres,
    /// by any replica).
    pub fn start_revocation_listener(&mut self, listener: RevocationListener) {
        self.0.push(tokio::spawn(listener.run()));
    }

    /// Delivers due account deletions every `period`.
    pub fn start_purge_delivery(&mut self, delivery: PurgeDelivery, period: Duration) {
        self.0.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(error) = delivery.deliver_due().await {
                    tracing::warn!(error = ?error, "purge delivery round failed; retrying");
                }
            }
        }));
    }
}

/// What housekeeping touches: the keys (in the database and in use), the service's own
/// verifier (for `/me` and `/oauth/*`), and the revocation log.
pub struct Housekeeping {
    pub db: DatabaseConnection,
    pub master: MasterKey,
    pub keys: Arc<KeyStore>,
    pub verifier: Verifier,
    /// How long a key signs before the schedule rotates it.
    pub rotation_interval: chrono::Duration,
    /// How long a retired key stays published: the longest token lifetime plus the largest
    /// leeway a validator may allow.
    pub retired_for: chrono::Duration,
    pub retention: Retention,
}

impl Housekeeping {
    async fn run_once(&self) -> anyhow::Result<()> {
        rotation::rotate(
            &self.db,
            &self.master,
            RotateWhen::Due(self.rotation_interval),
        )
        .await?;
        rotation::delete_retired_before(&self.db, crate::clock::now() - self.retired_for).await?;
        if self.keys.reload(&self.db, &self.master).await? {
            let ring = self.keys.current();
            self.verifier.replace_keys(ring.jwks.clone());
            tracing::info!(kid = %ring.signer.kid, "signing keys reloaded");
        }
        revocation_log::prune(&self.db).await?;
        let pruned = retention::prune_once(&self.db, &self.retention, crate::clock::now()).await?;
        if pruned.total() > 0 {
            tracing::info!(?pruned, "pruned rows past their retention");
        }
        Ok(())
    }
}
