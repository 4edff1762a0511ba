use actix_web::web;

mod health;
mod oauth;
mod revocations;
mod sessions;
mod sign_in;
mod tokens;
mod well_known;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/.well-known/jwks.json", web::get().to(well_known::jwks))
        .route(
            "/.well-known/openid-configuration",
            web::get().to(well_known::openid_configuration),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            web::get().to(well_known::openid_configuration),
        )
        .route("/oauth/token", web::post().to(oauth::token))
        .route("/oauth/revoke", web::post().to(oauth::revoke))
        .route("/oauth/introspect", web::post().to(oauth::introspect))
        .service(
            web::scope("/api/auth")
                .route("/sign-up", web::post().to(sign_in::sign_up))
                .route("/sign-in", web::post().to(sign_in::sign_in))
                .route("/refresh", web::post().to(tokens::refresh))
                .route("/me", web::get().to(tokens::me))
                .route("/sign-out", web::post().to(sessions::sign_out))
                .route("/sessions", web::get().to(sessions::list))
                .route("/sessions/{id}", web::delete().to(sessions::revoke))
                .route("/password", web::post().to(sessions::change_password))
                .route("/revocations", web::get().to(revocations::feed)),
        );
}

/// Runs CPU-heavy work (argon2) on the blocking pool, keeping the request's span.
pub(crate) async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, crate::error::ApiError> {
    use tracing::Instrument;
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(work))
        .instrument(tracing::Span::current())
        .await
        .map_err(|e| anyhow::anyhow!("blocking task failed: {e}").into())
}
