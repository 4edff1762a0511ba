//! Builds the whole service from its settings: the binary and the tests start the same app.

use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::web;
use anyhow::Context;
use auth_core::{Verifier, VerifierConfig};
use service_runtime::cors::{CorsPolicy, origin_of_url};
use service_runtime::http_server::{self, HttpApi, Started};
use service_runtime::shutdown::Shutdown;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::account_deletion::delivery::{PurgeDelivery, PurgeTarget};
use crate::accounts::password_hasher::PasswordHasher;
use crate::accounts::sign_in_throttle::SignInThrottle;
use crate::accounts::sign_up_throttle::SignUpThrottle;
use crate::clock::Clock;
use crate::config::Settings;
use crate::retention::Retention;
use crate::routes::AppState;
use crate::sessions::revocation_log::RevocationLog;
use crate::tokens::access_token::AccessTokenIssuer;
use crate::tokens::key_store::KeyStore;
use crate::tokens::master_key::MasterKey;
use crate::tokens::signing_keys;
use crate::workers::{Housekeeping, Workers};

/// Request bodies are small JSON documents (credentials, a name) and OAuth forms: larger ones
/// are 413 on every route (`service_runtime::request_limits`).
const MAX_BODY_BYTES: usize = 16 * 1024;

pub struct Application {
    port: u16,
    issuer: String,
    server: Server,
    shutdown: Shutdown,
    workers: Workers,
    clock: Clock,
}

impl Application {
    /// Binds the port, opens the database, runs migrations, loads (or creates) the signing key,
    /// and starts the background workers.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        settings.validate()?;
        if let Some(warning) = settings.exposure_warning() {
            tracing::warn!("{warning}");
        }
        let listener = http_server::bind(&settings.http.host, settings.http.port)?;
        let port = listener.local_addr()?.port();
        let issuer = settings
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}:{port}", settings.http.host))
            .trim_end_matches('/')
            .to_owned();

        // The master key first: a production misconfiguration stops start-up before any I/O.
        let master = MasterKey::from_settings(&settings)?;
        let db = crate::database::open(&settings).await?;
        let keys = Arc::new(KeyStore::new(
            signing_keys::load_or_create(&db, &master).await?,
        ));
        for client in &settings.clients {
            crate::oauth::clients::upsert_declared(&db, client).await?;
        }
        let hasher = PasswordHasher::new(settings.passwords.hasher_limits())
            .await
            .context("starting the password hasher")?;
        // Built now, so the first sign-up does not pay for it.
        let common_passwords = crate::domain::common_passwords::load();
        tracing::debug!(common_passwords, "common password list loaded");
        let tokens = AccessTokenIssuer {
            issuer: issuer.clone(),
            audience: settings.tokens.audience.clone(),
            ttl_secs: i64::try_from(settings.tokens.access_ttl_secs)?,
            service_ttl_secs: i64::try_from(settings.tokens.service_ttl_secs)?,
        };
        // /me and /oauth/* verify our own tokens with the same rules as every other validator.
        let verifier = Verifier::from_jwks(
            VerifierConfig::new(issuer.clone(), settings.tokens.audience.clone()),
            keys.current().jwks.clone(),
        );
        let clock = Clock::default();
        let allowed_origins = settings.allowed_origins()?;
        // The cookie may be used from our own pages and from the listed origins.
        let cookie_origins = allowed_origins.with(origin_of_url(&issuer)?);

        let mut workers = Workers::default();
        let revocations = RevocationLog::new(
            settings.tokens.access_ttl_secs,
            settings.revocation_feed.max_long_polls,
        );
        workers.start_revocation_listener(revocations.listener(db.clone()));
        workers.start_housekeeping(
            Housekeeping {
                db: db.clone(),
                master,
                keys: Arc::clone(&keys),
                verifier: verifier.clone(),
                rotation_interval: seconds(settings.keys.rotation_interval_secs)?,
                retired_for: seconds(settings.tokens.access_ttl_secs + auth_core::MAX_LEEWAY_SECS)?,
                retention: Retention {
                    keep: seconds(settings.retention.keep_secs)?,
                    batch_size: settings.retention.batch_size,
                },
            },
            Duration::from_secs(settings.keys.reload_interval_secs),
        );
        match purge_target(&settings) {
            Some(target) => workers.start_purge_delivery(
                PurgeDelivery::new(db.clone(), Arc::clone(&keys), tokens.clone(), target)?,
                Duration::from_millis(settings.purge.poll_interval_ms),
            ),
            None => tracing::warn!(
                "AUTH__PURGE__TASKS_URL is not set: deleted accounts' tasks wait in the outbox \
                 (`auth-service outbox list`) until it is"
            ),
        }

        let state = web::Data::new(AppState {
            db,
            hasher,
            keys,
            tokens,
            session_ttl: seconds(settings.tokens.session_ttl_secs)?,
            secure_cookies: settings.secure_cookies(),
            revocations,
            refresh_reuse_grace: seconds(settings.tokens.refresh_reuse_grace_secs)?,
            throttle: SignInThrottle::new(settings.throttle.clone(), clock.clone()),
            sign_up_throttle: SignUpThrottle::new(&settings.throttle, clock.clone())?,
            proxies: settings.trusted_proxies()?,
            clock: clock.clone(),
            cookie_origins,
        });
        let verifier = web::Data::new(verifier);
        let Started { server, shutdown } = http_server::start(
            listener,
            HttpApi {
                openapi: crate::routes::api_doc::base_document(),
                routes: move |cfg: &mut ServiceConfig| {
                    cfg.app_data(state.clone()).app_data(verifier.clone());
                    crate::routes::configure(cfg);
                },
                body_limit_bytes: MAX_BODY_BYTES,
                // With credentials: the listed origins' pages send the refresh cookie.
                cors: CorsPolicy {
                    origins: allowed_origins,
                    allow_credentials: true,
                },
                drain: settings.http.drain_times(),
            },
        )?;
        tracing::info!(%issuer, port, "auth-service listening");
        Ok(Self {
            port,
            issuer,
            server,
            shutdown,
            workers,
            clock,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `iss` of the tokens this instance signs.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Stops the server (tests use it to take an issuer offline).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Drains and stops the server (`main` on SIGTERM; tests directly).
    pub fn shutdown(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// The clock its time rules go by (sign-in lockouts, the refresh reuse grace); tests
    /// advance it instead of sleeping.
    pub fn clock(&self) -> Clock {
        self.clock.clone()
    }

    /// Serves until the server is stopped; the background workers stop with it.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Self {
            server, workers, ..
        } = self;
        let served = server.await;
        drop(workers);
        served
    }
}

/// Where account deletions go, when `AUTH__PURGE__TASKS_URL` is set (`validate` has checked
/// that the client is set with it).
fn purge_target(settings: &Settings) -> Option<PurgeTarget> {
    let purge = &settings.purge;
    Some(PurgeTarget {
        tasks_url: purge.tasks_url.clone()?,
        client_id: purge.client_id.clone()?,
        client_secret: purge.client_secret.clone()?,
        retry_base: Duration::from_millis(purge.retry_base_ms),
        retry_max: Duration::from_secs(purge.retry_max_secs),
    })
}

fn seconds(secs: u64) -> anyhow::Result<chrono::Duration> {
    Ok(chrono::Duration::seconds(i64::try_from(secs)?))
}
