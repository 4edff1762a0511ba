use actix_web::{HttpResponse, get, web};
use auth_core::{RevocationStatus, Verifier};
use serde::Serialize;
use service_runtime::health::{DRAINING, not_ready};
use service_runtime::shutdown::Draining;
use utoipa::ToSchema;

use crate::routes::AppState;

#[derive(Serialize, ToSchema)]
#[schema(as = TasksReadiness)]
pub struct Readiness {
    #[schema(example = "ready")]
    status: &'static str,
    checks: ReadinessChecks,
}

#[derive(Serialize, ToSchema)]
#[schema(as = TasksReadinessChecks)]
pub struct ReadinessChecks {
    #[schema(example = "ok")]
    database: &'static str,
    #[schema(example = "ok")]
    issuer_keys: &'static str,
    /// `ok`, `connecting`, `unreachable: <why>` or `disabled`; informational only.
    #[schema(example = "ok")]
    revocation_feed: String,
}

/// Ready to serve.
///
/// Ready when the database answers, the primary issuer's keys are loaded and the service is not
/// shutting down. The revocation
/// feed is reported but does not decide readiness: while it is down, tokens are still checked
/// against the revocations already known and expire within minutes anyway, and taking every
/// replica out of service because the auth-service is briefly away would be worse.
#[utoipa::path(
    tag = service_runtime::health::TAG,
    responses(
        (status = 200, description = "Ready to serve", body = Readiness),
        (status = 503, response = http_problem::openapi::ServiceUnavailable),
    ),
)]
#[get("/readyz")]
pub async fn readyz(
    state: web::Data<AppState>,
    verifier: web::Data<Verifier>,
    draining: web::Data<Draining>,
) -> HttpResponse {
    if draining.is_draining() {
        return not_ready(&[DRAINING]);
    }
    let database = service_database::ping(&state.db).await;
    let keys = verifier.has_keys();
    if database && keys {
        return HttpResponse::Ok().json(Readiness {
            status: "ready",
            checks: ReadinessChecks {
                database: "ok",
                issuer_keys: "ok",
                revocation_feed: revocation_feed_check(&verifier.revocation_status()),
            },
        });
    }
    let mut missing = Vec::new();
    if !database {
        missing.push("the database is unreachable");
    }
    if !keys {
        missing.push("the issuer's signing keys have not been loaded yet");
    }
    not_ready(&missing)
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
