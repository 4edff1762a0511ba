use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use service_runtime::health::{DRAINING, not_ready};
use service_runtime::shutdown::Draining;
use utoipa::ToSchema;

use super::AppState;

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    #[schema(example = "ready")]
    status: &'static str,
    checks: ReadinessChecks,
}

#[derive(Serialize, ToSchema)]
pub struct ReadinessChecks {
    #[schema(example = "ok")]
    database: &'static str,
    #[schema(example = "ok")]
    signing_key: &'static str,
}

/// Ready to serve.
///
/// Ready when the database answers (the signing key is loaded before the server starts) and
/// the service is not shutting down.
#[utoipa::path(
    tag = service_runtime::health::TAG,
    responses(
        (status = 200, description = "Ready to serve", body = Readiness),
        (status = 503, response = http_problem::openapi::ServiceUnavailable),
    ),
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>, draining: web::Data<Draining>) -> HttpResponse {
    if draining.is_draining() {
        return not_ready(&[DRAINING]);
    }
    if service_database::ping(&state.db).await {
        HttpResponse::Ok().json(Readiness {
            status: "ready",
            checks: ReadinessChecks {
                database: "ok",
                signing_key: "ok",
            },
        })
    } else {
        not_ready(&["the database is unreachable"])
    }
}
