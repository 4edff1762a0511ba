//! Builds the whole service from its settings: the binary and the tests start the same app.

use actix_web::dev::Server;
use actix_web::web;
use anyhow::Context;
use auth_core::Verifier;
use secrecy::ExposeSecret;
use service_runtime::cors::CorsPolicy;
use service_runtime::http_server::{self, HttpApi, Started};
use service_runtime::shutdown::Shutdown;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::config::Settings;
use crate::cursor::CursorKey;
use crate::routes::AppState;

/// Bodies beyond this are refused with 413: a task is at most ~40 KiB of UTF-8.
const MAX_BODY_BYTES: usize = 64 * 1024;

pub struct Application {
    port: u16,
    server: Server,
    shutdown: Shutdown,
}

impl Application {
    /// Binds the port, opens the database, runs migrations and starts following the trusted
    /// issuers' keys and the primary issuer's revocation feed. An issuer that is not up yet is
    /// not fatal: `/readyz` says so until it is. An unsafe issuer list is.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        settings.validate()?;
        if let Some(warning) = settings.exposure_warning() {
            tracing::warn!("{warning}");
        }
        let listener = http_server::bind(&settings.http.host, settings.http.port)?;
        let port = listener.local_addr()?.port();

        let db = crate::database::open(&settings).await?;
        let verifier = web::Data::new(connect_verifier(&settings).await?);
        let state = web::Data::new(AppState {
            db,
            cursor_key: cursor_key(&settings),
            require_if_match: settings.api.require_if_match,
        });
        let Started { server, shutdown } = http_server::start(
            listener,
            HttpApi {
                openapi: crate::routes::api_doc::base_document(),
                routes: move |cfg: &mut ServiceConfig| {
                    cfg.app_data(state.clone()).app_data(verifier.clone());
                    crate::routes::configure(cfg);
                },
                // Any JSON media type is read, so `PATCH` takes `application/merge-patch+json`
                // (RFC 7396) as well as `application/json`.
                body_limit_bytes: MAX_BODY_BYTES,
                // Bearer tokens only: no credentials (cookies) across origins.
                cors: CorsPolicy {
                    origins: settings.allowed_origins()?,
                    allow_credentials: false,
                },
                drain: settings.http.drain_times(),
            },
        )?;
        tracing::info!(port, issuer = %settings.auth.issuer_url, "tasks-service listening");
        Ok(Self {
            port,
            server,
            shutdown,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Drains and stops the server (`main` on SIGTERM; tests directly).
    pub fn shutdown(&self) -> Shutdown {
        self.shutdown.clone()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The verifier for every trusted issuer; says in the log which ones (never their secrets).
async fn connect_verifier(settings: &Settings) -> anyhow::Result<Verifier> {
    let issuers = settings.auth.trusted_issuers();
    for issuer in &issuers {
        let config = issuer.config();
        if config.user_ids != auth_core::UserIdSource::Subject && config.default_scopes.is_empty() {
            tracing::warn!(
                issuer = %config.issuer,
                "no default_scopes for this issuer: its tokens without a `scope` claim get 403"
            );
        }
    }
    if settings.auth.revocation_feed_url().is_some() && settings.auth.feed_client().is_none() {
        tracing::warn!(
            "no TASKS__AUTH__FEED_CLIENT_ID / TASKS__AUTH__FEED_CLIENT_SECRET: the revocation \
             feed is read without a token, and our auth-service refuses that (create a client \
             with `auth-service clients create --scope revocations:read`)"
        );
    }
    let verifier = Verifier::connect_trusted(issuers)
        .await
        .context("configuring the trusted token issuers")?;
    for config in verifier.issuers() {
        tracing::info!(
            issuer = %config.issuer,
            audience = %config.audience,
            algorithms = ?config.algorithms,
            revocation_feed = config.revocation_feed_url.as_deref().unwrap_or("none"),
            feed_client = config
                .revocation_feed_client
                .as_ref()
                .map_or("none", |client| client.client_id.as_str()),
            verified_token_cache = config.verified_token_cache_size,
            "trusting access tokens from this issuer"
        );
    }
    Ok(verifier)
}

fn cursor_key(settings: &Settings) -> CursorKey {
    match &settings.api.cursor_secret {
        Some(secret) => CursorKey::new(secret.expose_secret().as_bytes()),
        None => {
            tracing::info!(
                "no TASKS__API__CURSOR_SECRET: list cursors are signed with a per-process key \
                 and do not survive a restart or cross replicas"
            );
            CursorKey::random()
        }
    }
}
