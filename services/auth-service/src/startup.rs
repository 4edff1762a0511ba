//! Builds the whole service from its settings: the binary and the tests start the same app.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use auth_core::{Verifier, VerifierConfig};
use sea_orm::DatabaseConnection;
use service_database::DatabaseTarget;
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt;

use crate::access_token::AccessTokenIssuer;
use crate::config::Settings;
use crate::key_rotation::{self, KeyStore};
use crate::master_key::MasterKey;
use crate::password_hasher::PasswordHasher;
use crate::revocations::RevocationLog;
use crate::signing_keys;
use crate::throttle::SignInThrottle;
use http_problem::{json_error_handler, query_error_handler};

/// Everything a handler needs, shared by all workers.
pub struct AppState {
    pub db: DatabaseConnection,
    pub hasher: PasswordHasher,
    pub keys: KeyStore,
    pub master: MasterKey,
    pub tokens: AccessTokenIssuer,
    pub session_ttl: chrono::Duration,
    pub secure_cookies: bool,
    pub revocations: RevocationLog,
    /// See `sessions::rotate`.
    pub refresh_reuse_grace: chrono::Duration,
    pub throttle: SignInThrottle,
}

pub struct Application {
    port: u16,
    issuer: String,
    server: Server,
}

impl Application {
    /// Binds the port, opens the database, runs migrations, loads (or creates) the signing key.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        settings.validate()?;
        let listener = TcpListener::bind((settings.http.host.as_str(), settings.http.port))
            .with_context(|| format!("binding {}:{}", settings.http.host, settings.http.port))?;
        let port = listener.local_addr()?.port();
        let issuer = settings
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}:{port}", settings.http.host))
            .trim_end_matches('/')
            .to_owned();

        // The master key first: a production misconfiguration stops start-up before any I/O.
        let master = MasterKey::from_settings(&settings)?;
        let db = open_database(&settings).await?;
        let keys = KeyStore::new(signing_keys::load_or_create(&db, &master).await?);
        for client in &settings.clients {
            crate::oauth_clients::upsert_declared(&db, client).await?;
        }
        let hasher = PasswordHasher::new(settings.passwords.max_concurrent_hashes)
            .await
            .context("starting the password hasher")?;

        let tokens = AccessTokenIssuer {
            issuer: issuer.clone(),
            audience: settings.tokens.audience.clone(),
            ttl_secs: i64::try_from(settings.tokens.access_ttl_secs)?,
            service_ttl_secs: i64::try_from(settings.tokens.service_ttl_secs)?,
        };
        // /me verifies our own tokens with the same rules as every other validator.
        let verifier = Verifier::from_jwks(
            VerifierConfig::new(issuer.clone(), settings.tokens.audience.clone()),
            keys.current().jwks.clone(),
        );
        let state = web::Data::new(AppState {
            db,
            hasher,
            keys,
            master,
            tokens,
            session_ttl: chrono::Duration::seconds(i64::try_from(
                settings.tokens.session_ttl_secs,
            )?),
            secure_cookies: settings.secure_cookies(),
            // Entries outlive the tokens they concern by the validators' maximum leeway.
            throttle: SignInThrottle::new(settings.throttle.clone()),
            refresh_reuse_grace: chrono::Duration::seconds(i64::try_from(
                settings.tokens.refresh_reuse_grace_secs,
            )?),
            revocations: RevocationLog::new(i64::try_from(settings.tokens.access_ttl_secs)?, 300),
        });
        let verifier = web::Data::new(verifier);
        spawn_housekeeping(state.clone(), verifier.clone(), &settings)?;
        spawn_purge_delivery(state.clone(), &settings)?;
        let json_config = web::JsonConfig::default()
            .limit(16 * 1024)
            .error_handler(json_error_handler);

        let query_config = web::QueryConfig::default().error_handler(query_error_handler);

        let server = HttpServer::new(move || {
            App::new()
                .wrap(http_problem::RequestIdHeader)
                .wrap(TracingLogger::default())
                .app_data(json_config.clone())
                .app_data(query_config.clone())
                .app_data(state.clone())
                .app_data(verifier.clone())
                // Routes and their OpenAPI paths are collected together; the finished document
                // is then served at /openapi.json (which documents itself).
                .into_utoipa_app()
                .openapi(crate::routes::api_doc::base_document())
                .configure(crate::routes::configure)
                .openapi_service(http_problem::openapi::openapi_json_service)
                .into_app()
                .default_service(web::to(http_problem::not_found))
        })
        .listen(listener)?
        .run();
        tracing::info!(%issuer, port, "auth-service listening");
        Ok(Self {
            port,
            issuer,
            server,
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

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Opens the configured database and brings its schema up to date.
pub async fn open_database(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let target = DatabaseTarget::choose(
        settings.database.url.clone(),
        "auth",
        &settings.data_dir,
        "auth",
    )?;
    tracing::info!(database = %target.describe(), "opening the database");
    let db = service_database::connect(&target, settings.database.max_connections).await?;
    service_database::migrate::<auth_migration::Migrator>(&db).await?;
    Ok(db)
}

/// Every `reload_interval`: follow key changes made by another replica (or the CLI), rotate
/// when due, delete keys retired long enough, forget expired revocations. The task ends with
/// the server (it holds only weak references).
/// Delivers account deletions to the tasks-service (`purge_delivery`) while the app lives.
fn spawn_purge_delivery(state: web::Data<AppState>, settings: &Settings) -> anyhow::Result<()> {
    let purge = &settings.purge;
    let (Some(url), Some(client_id), Some(secret)) =
        (&purge.tasks_url, &purge.client_id, &purge.client_secret)
    else {
        tracing::warn!(
            "AUTH__PURGE__TASKS_URL is not set: deleted accounts' tasks wait in the outbox \
             (`auth-service outbox list`) until it is"
        );
        return Ok(());
    };
    let delivery = crate::purge_delivery::PurgeDelivery::new(
        url,
        client_id.clone(),
        secret.clone(),
        std::time::Duration::from_millis(purge.retry_base_ms),
        std::time::Duration::from_secs(purge.retry_max_secs),
    )?;
    let period = std::time::Duration::from_millis(purge.poll_interval_ms);
    let state = Arc::downgrade(&state.into_inner());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(state) = state.upgrade() else {
                break;
            };
            if let Err(error) = delivery.deliver_due(&state).await {
                tracing::warn!(error = ?error, "purge delivery round failed; retrying");
            }
        }
    });
    Ok(())
}

fn spawn_housekeeping(
    state: web::Data<AppState>,
    verifier: web::Data<Verifier>,
    settings: &Settings,
) -> anyhow::Result<()> {
    let period = std::time::Duration::from_secs(settings.keys.reload_interval_secs);
    let rotation_interval =
        chrono::Duration::seconds(i64::try_from(settings.keys.rotation_interval_secs)?);
    // A retired key is deleted once the longest-lived token it signed has expired, plus the
    // largest leeway a validator may allow.
    let retired_for =
        chrono::Duration::seconds(i64::try_from(settings.tokens.access_ttl_secs)? + 300);
    let state = Arc::downgrade(&state.into_inner());
    let verifier = Arc::downgrade(&verifier.into_inner());
    tokio::spawn(async move {
        // The first run is one period away: start-up has just loaded the keys.
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let (Some(state), Some(verifier)) = (state.upgrade(), verifier.upgrade()) else {
                break;
            };
            if let Err(error) =
                housekeeping(&state, &verifier, rotation_interval, retired_for).await
            {
                tracing::warn!(error = ?error, "housekeeping failed; retrying next period");
            }
        }
    });
    Ok(())
}

async fn housekeeping(
    state: &AppState,
    verifier: &Verifier,
    rotation_interval: chrono::Duration,
    retired_for: chrono::Duration,
) -> anyhow::Result<()> {
    key_rotation::rotate(&state.db, &state.master, Some(rotation_interval)).await?;
    key_rotation::delete_retired_before(&state.db, crate::clock::now() - retired_for).await?;
    if state.keys.reload(&state.db, &state.master).await? {
        verifier.replace_keys(state.keys.current().jwks.clone());
        tracing::info!(kid = %state.keys.current().signer.kid, "signing keys reloaded");
    }
    state.revocations.prune(&state.db).await?;
    Ok(())
}
