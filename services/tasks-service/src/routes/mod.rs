//! Every HTTP route of the tasks-service, and what only HTTP needs: the shared state, the
//! client-facing errors, conditional requests. A route is registered with `.service(handler)`
//! on a utoipa-actix-web `ServiceConfig`, which only accepts handlers carrying
//! `#[utoipa::path]`: registering a route and documenting it in `/openapi.json` are the same
//! line (tests/api/openapi.rs checks the rest against docs/architecture.md, "HTTP contract",
//! and the running app).

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

pub mod api_doc;
mod api_error;
mod app_state;
pub mod conditional;
mod health;
mod internal;
mod tasks;

pub use api_error::ApiError;
pub use app_state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(service_runtime::health::healthz)
        .service(health::readyz)
        .service(
            scope::scope("/api/tasks")
                .service(tasks::list_tasks)
                .service(tasks::create_task)
                .service(tasks::get_task)
                .service(tasks::update_task)
                .service(tasks::delete_task),
        )
        .service(scope::scope("/internal").service(internal::purge_user_tasks));
}
