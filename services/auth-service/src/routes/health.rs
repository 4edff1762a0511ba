use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use http_problem::Problem;
use serde::Serialize;
use utoipa::ToSchema;

use crate::routes::api_doc::TAG_HEALTH;
use crate::startup::AppState;

#[derive(Serialize, ToSchema)]
pub struct Liveness {
    #[schema(example = "ok")]
    status: &'static str,
}

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

/// Alive: the process answers HTTP.
#[utoipa::path(
    tag = TAG_HEALTH,
    responses((status = 200, description = "The process is alive", body = Liveness)),
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Liveness { status: "ok" })
}

/// Ready to serve.
///
/// Ready when the database answers (the signing key is loaded before the server starts).
#[utoipa::path(
    tag = TAG_HEALTH,
    responses(
        (status = 200, description = "Ready to serve", body = Readiness),
        (status = 503, response = http_problem::openapi::ServiceUnavailable),
    ),
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if service_database::ping(&state.db).await {
        HttpResponse::Ok().json(Readiness {
            status: "ready",
            checks: ReadinessChecks {
                database: "ok",
                signing_key: "ok",
            },
        })
    } else {
        Problem::new(StatusCode::SERVICE_UNAVAILABLE, "not-ready", "Not ready")
            .with_detail("the database is unreachable")
            .to_response()
    }
}
