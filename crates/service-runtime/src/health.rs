//! `GET /healthz` (alive) for every service, and the answer of a `/readyz` that is not ready.
//! What "ready" means differs per service, so each writes its own `/readyz`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get};
use http_problem::Problem;
use serde::Serialize;
use utoipa::ToSchema;

/// The OpenAPI tag of the health routes.
pub const TAG: &str = "health";

#[derive(Serialize, ToSchema)]
pub struct Liveness {
    #[schema(example = "ok")]
    status: &'static str,
}

/// Alive: the process answers HTTP.
#[utoipa::path(
    tag = TAG,
    responses((status = 200, description = "The process is alive", body = Liveness)),
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Liveness { status: "ok" })
}

/// Why `/readyz` says 503 once the drain has started ([`crate::shutdown`]).
pub const DRAINING: &str = "the service is shutting down";

/// 503 problem+json naming what is missing (`reasons` joined with "; ").
pub fn not_ready(reasons: &[&str]) -> HttpResponse {
    Problem::new(StatusCode::SERVICE_UNAVAILABLE, "not-ready", "Not ready")
        .with_detail(reasons.join("; "))
        .to_response()
}
