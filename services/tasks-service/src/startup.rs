//! Builds the whole service from its settings: the binary and the tests start the same app.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use auth_core::{Verifier, VerifierConfig};
use sea_orm::DatabaseConnection;
use service_database::DatabaseTarget;
use tracing_actix_web::TracingLogger;

use crate::config::Settings;
use crate::error::{json_error_handler, query_error_handler};

pub struct AppState {
    pub db: DatabaseConnection,
}

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds the port, opens the database, runs migrations and starts following the issuer's
    /// keys. An issuer that is not up yet is not fatal: `/readyz` says so until it is.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        settings.validate()?;
        let listener = TcpListener::bind((settings.http.host.as_str(), settings.http.port))
            .with_context(|| format!("binding {}:{}", settings.http.host, settings.http.port))?;
        let port = listener.local_addr()?.port();

        let db = open_database(&settings).await?;
        let mut verifier_config = VerifierConfig::new(
            settings.auth.issuer_url.trim_end_matches('/'),
            settings.auth.audience.clone(),
        );
        verifier_config.jwks_url = settings.auth.jwks_url.clone();
        verifier_config.leeway = Duration::from_secs(settings.auth.leeway_secs);
        let verifier = web::Data::new(Verifier::connect(verifier_config).await);

        let state = web::Data::new(AppState { db });
        let json_config = web::JsonConfig::default()
            .limit(64 * 1024)
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
                .configure(crate::routes::configure)
                .default_service(web::to(http_problem::not_found))
        })
        .listen(listener)?
        .run();
        tracing::info!(port, issuer = %settings.auth.issuer_url, "tasks-service listening");
        Ok(Self { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

pub async fn open_database(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let target = DatabaseTarget::choose(
        settings.database.url.clone(),
        "tasks",
        &settings.data_dir,
        "tasks",
    )?;
    tracing::info!(database = %target.describe(), "opening the database");
    let db = service_database::connect(&target, settings.database.max_connections).await?;
    service_database::migrate::<tasks_migration::Migrator>(&db).await?;
    Ok(db)
}
