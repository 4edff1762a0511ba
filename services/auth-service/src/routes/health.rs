use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use http_problem::Problem;
use serde_json::json;

use crate::startup::AppState;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready when the database answers (the signing key is loaded before the server starts).
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if service_database::ping(&state.db).await {
        HttpResponse::Ok().json(json!({
            "status": "ready",
            "checks": { "database": "ok", "signing_key": "ok" },
        }))
    } else {
        Problem::new(StatusCode::SERVICE_UNAVAILABLE, "not-ready", "Not ready")
            .with_detail("the database is unreachable")
            .to_response()
    }
}
