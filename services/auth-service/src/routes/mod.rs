//! Every HTTP route of the auth-service. A route is registered with `.service(handler)` on a
//! utoipa-actix-web `ServiceConfig`, which only accepts handlers carrying `#[utoipa::path]`:
//! registering a route and documenting it in `/openapi.json` are the same line, so the spec
//! cannot miss a route (tests/api/openapi.rs checks the rest: ARCHITECTURE §4's table, and that
//! every documented operation answers).

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

pub mod api_doc;
mod health;
mod metrics;
mod oauth;
mod revocations;
mod sessions;
mod sign_in;
mod tokens;
mod well_known;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
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
                .service(tokens::refresh)
                .service(tokens::me)
                .service(sessions::sign_out)
                .service(sessions::list)
                .service(sessions::revoke)
                .service(sessions::change_password)
                .service(sessions::delete_account)
                .service(revocations::feed),
        );
}
