use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use auth_core::Verifier;
use http_problem::Problem;
use serde_json::json;

use crate::startup::AppState;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready when the database answers and the issuer's keys are loaded.
pub async fn readyz(state: web::Data<AppState>, verifier: web::Data<Verifier>) -> HttpResponse {
    let database = service_database::ping(&state.db).await;
    let keys = verifier.has_keys();
    if database && keys {
        return HttpResponse::Ok().json(json!({
            "status": "ready",
            "checks": { "database": "ok", "issuer_keys": "ok" },
        }));
    }
    let mut missing = Vec::new();
    if !database {
        missing.push("the database is unreachable");
    }
    if !keys {
        missing.push("the issuer's signing keys have not been loaded yet");
    }
    Problem::new(StatusCode::SERVICE_UNAVAILABLE, "not-ready", "Not ready")
        .with_detail(missing.join("; "))
        .to_response()
}
