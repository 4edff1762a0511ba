use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use auth_core::{RevocationStatus, Verifier};
use http_problem::Problem;
use serde_json::json;

use crate::startup::AppState;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready when the database answers and the primary issuer's keys are loaded. The revocation
/// feed is reported but does not decide readiness: while it is down, tokens are still checked
/// against the revocations already known and expire within minutes anyway, and taking every
/// replica out of service because the auth-service is briefly away would be worse.
pub async fn readyz(state: web::Data<AppState>, verifier: web::Data<Verifier>) -> HttpResponse {
    let database = service_database::ping(&state.db).await;
    let keys = verifier.has_keys();
    if database && keys {
        return HttpResponse::Ok().json(json!({
            "status": "ready",
            "checks": {
                "database": "ok",
                "issuer_keys": "ok",
                "revocation_feed": revocation_feed_check(&verifier.revocation_status()),
            },
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

/// `ok`, `unreachable: <why>`, `connecting` (no answer yet) or `disabled`.
fn revocation_feed_check(status: &RevocationStatus) -> String {
    match (status.following, status.healthy, &status.last_error) {
        (false, _, _) => "disabled".into(),
        (true, true, _) => "ok".into(),
        (true, false, Some(error)) => format!("unreachable: {error}"),
        (true, false, None) => "connecting".into(),
    }
}
