//! Delivers account deletions to the tasks-service: for each due record of the purge outbox,
//! `DELETE {tasks_url}/internal/users/{user_id}/tasks` with a client_credentials token of the
//! configured client (scope `tasks:purge`). A failure is retried with exponential back-off and
//! jitter until it succeeds; the purge is idempotent, so a delivery repeated after a crash
//! between the call and the bookkeeping is harmless.
//!
//! Several replicas may run this at once: on Postgres each record is claimed with
//! `FOR UPDATE SKIP LOCKED` and kept locked while it is being delivered, so one replica at a
//! time works on it. (SQLite is one process's embedded database: one worker.)

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use auth_core::scopes::TASKS_PURGE;
use rand::Rng;
use sea_orm::sea_query::{LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use secrecy::{ExposeSecret, SecretString};

use crate::domain::ScopeSet;
use crate::entities::purge_outbox;
use crate::oauth::clients;
use crate::tokens::access_token::AccessTokenIssuer;
use crate::tokens::key_store::KeyStore;

/// Records delivered per round; the rest wait for the next round.
const BATCH: usize = 20;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The delivery worker's round: the outbox's database, the keys and issuer that mint its
/// service token, and its target.
pub struct PurgeDelivery {
    db: DatabaseConnection,
    keys: Arc<KeyStore>,
    tokens: AccessTokenIssuer,
    tasks_url: String,
    client_id: String,
    client_secret: SecretString,
    retry_base: Duration,
    retry_max: Duration,
    http: reqwest::Client,
}

/// Where and as whom to deliver, and how to retry (`AUTH__PURGE__…`).
pub struct PurgeTarget {
    pub tasks_url: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub retry_base: Duration,
    pub retry_max: Duration,
}

impl PurgeDelivery {
    pub fn new(
        db: DatabaseConnection,
        keys: Arc<KeyStore>,
        tokens: AccessTokenIssuer,
        target: PurgeTarget,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .context("building the purge HTTP client")?;
        Ok(Self {
            db,
            keys,
            tokens,
            tasks_url: target.tasks_url.trim_end_matches('/').to_owned(),
            client_id: target.client_id,
            client_secret: target.client_secret,
            retry_base: target.retry_base,
            retry_max: target.retry_max,
            http,
        })
    }

    /// Delivers the records that are due; how many were delivered this round.
    pub async fn deliver_due(&self) -> anyhow::Result<usize> {
        let mut delivered = 0;
        for _ in 0..BATCH {
            match self.deliver_one().await? {
                None => break,
                Some(true) => delivered += 1,
                Some(false) => {}
            }
        }
        Ok(delivered)
    }

    /// Claims one due record and tries it: `None` when nothing is due, else whether it went.
    async fn deliver_one(&self) -> anyhow::Result<Option<bool>> {
        let txn = self.db.begin().await.context("starting a purge delivery")?;
        let now = crate::clock::now();
        let mut due = purge_outbox::Entity::find()
            .filter(purge_outbox::Column::DeliveredAt.is_null())
            .filter(purge_outbox::Column::NextAttemptAt.lte(now))
            .order_by_asc(purge_outbox::Column::NextAttemptAt)
            .limit(1);
        if txn.get_database_backend() == DbBackend::Postgres {
            due = due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let Some(record) = due.one(&txn).await.context("claiming a purge")? else {
            txn.commit().await.context("ending a purge claim")?;
            return Ok(None);
        };
        let outcome = self.send(record.user_id).await;
        let attempts = record.attempts;
        let mut update: purge_outbox::ActiveModel = record.into();
        let done = match &outcome {
            Ok(deleted) => {
                tracing::info!(user_id = %update.user_id.as_ref(), deleted, "purge delivered");
                update.delivered_at = Set(Some(crate::clock::now()));
                update.last_error = Set(None);
                true
            }
            Err(error) => {
                let retry_in = self.backoff(attempts);
                tracing::warn!(
                    user_id = %update.user_id.as_ref(),
                    attempts = attempts + 1,
                    retry_in_ms = retry_in.as_millis() as u64,
                    error = %error,
                    "purge delivery failed; will retry"
                );
                update.attempts = Set(attempts.saturating_add(1));
                update.next_attempt_at = Set(crate::clock::now()
                    + chrono::Duration::from_std(retry_in).unwrap_or(chrono::Duration::MAX));
                update.last_error = Set(Some(format!("{error:#}").chars().take(500).collect()));
                false
            }
        };
        update
            .update(&txn)
            .await
            .context("recording a purge attempt")?;
        txn.commit().await.context("committing a purge attempt")?;
        Ok(Some(done))
    }

    /// Exponential back-off with jitter: `base × 2^attempts`, capped, then a random point in
    /// its upper half (so many failed records do not retry in lockstep).
    fn backoff(&self, attempts: i32) -> Duration {
        let exponent = u32::try_from(attempts).unwrap_or(0).min(20);
        let ceiling = self
            .retry_base
            .saturating_mul(1u32 << exponent)
            .min(self.retry_max);
        let half = ceiling / 2;
        let jitter_ms = rand::rng().random_range(0..=u64::try_from(half.as_millis()).unwrap_or(0));
        half + Duration::from_millis(jitter_ms)
    }

    /// One purge call; the number of tasks the tasks-service deleted.
    async fn send(&self, user_id: uuid::Uuid) -> anyhow::Result<u64> {
        let token = self.token().await?;
        let response = self
            .http
            .delete(format!("{}/internal/users/{user_id}/tasks", self.tasks_url))
            .bearer_auth(token.expose_secret())
            .send()
            .await
            .context("calling the tasks-service")?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            anyhow::bail!(
                "the tasks-service answered {status}: {}",
                body.chars().take(200).collect::<String>()
            );
        }
        let body: serde_json::Value = response
            .json()
            .await
            .context("reading the tasks-service's answer")?;
        Ok(body["deleted"].as_u64().unwrap_or(0))
    }

    /// A fresh service token for the configured client, as `/oauth/token` would issue it: the
    /// client must exist, be active, know this secret and be allowed `tasks:purge`.
    async fn token(&self) -> anyhow::Result<SecretString> {
        let client = clients::authenticate(&self.db, &self.client_id, &self.client_secret)
            .await?
            .with_context(|| {
                format!(
                    "the purge client {} does not authenticate (unknown, revoked or wrong secret)",
                    self.client_id
                )
            })?;
        let scopes = ScopeSet::parse(TASKS_PURGE)?;
        anyhow::ensure!(
            scopes.is_subset_of(&client.scopes),
            "the purge client {} is not allowed {TASKS_PURGE}",
            self.client_id
        );
        let token = self.tokens.mint_service(
            &self.keys.current().signer,
            &client.client_id,
            scopes,
            client.audience.as_deref(),
        )?;
        Ok(SecretString::from(token))
    }
}
