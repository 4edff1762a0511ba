//! Every HTTP route of the auth-service, and what only HTTP needs: the shared state, the
//! client-facing errors, the session extractor, the refresh cookie. Nothing outside `routes`
//! imports from here.
//!
//! A route is registered with `.service(handler)` on a utoipa-actix-web `ServiceConfig`, which
//! only accepts handlers carrying `#[utoipa::path]`: registering a route and documenting it in
//! `/openapi.json` are the same line, so the spec cannot miss a route (tests/api/openapi.rs
//! checks the rest: the table of docs/architecture.md, "HTTP contract", and that every
//! documented operation answers).

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

pub mod api_doc;
mod api_error;
mod app_state;
mod client_info;
mod cookie_mode;
mod health;
mod live_session;
mod metrics;
mod my_account;
mod my_sessions;
mod oauth;
mod refresh;
mod refresh_cookie;
mod revocation_feed;
mod sign_in;
mod well_known;

pub use api_error::ApiError;
pub use app_state::AppState;
pub use live_session::LiveSession;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(service_runtime::health::healthz)
        .service(health::readyz)
        .service(metrics::metrics)
        .service(well_known::jwks)
        .service(well_known::openid_configuration)
        .service(well_known::oauth_authorization_server)
        .service(oauth::token::token)
        .service(oauth::revoke::revoke)
        .service(oauth::introspect::introspect)
        .service(
            scope::scope("/api/auth")
                .service(sign_in::sign_up)
                .service(sign_in::sign_in)
                .service(refresh::refresh)
                .service(my_account::me)
                .service(my_sessions::sign_out)
                .service(my_sessions::list)
                .service(my_sessions::revoke)
                .service(my_account::change_password)
                .service(my_account::delete_account)
                .service(revocation_feed::feed),
        );
}
