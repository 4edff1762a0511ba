//! `GET /metrics`: Prometheus text exposition of what an operator must see. So far the
//! account-deletion outbox (a growing `undelivered` or oldest age means the tasks-service is
//! not receiving purges), the revocation feed's held long-polls (about one per validator
//! replica following the feed) and the database pool's connections in use. A scrape does
//! bounded work whatever the tables hold: counts stop at `account_deletion::METRICS_COUNT_CAP`,
//! the oldest record is one index entry, the long-polls and the pool are in-memory counters.

use actix_web::{HttpResponse, get, web};
use std::fmt::Write;

use super::{ApiError, AppState};

/// Prometheus metrics.
#[utoipa::path(
    tag = service_runtime::health::TAG,
    responses(
        (status = 200, description = "Prometheus text format 0.0.4",
         content((String = "text/plain"))),
        (status = 500, response = http_problem::openapi::InternalError),
    ),
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let stats = crate::account_deletion::outbox_stats(&state.db).await?;
    let mut body = String::new();
    for (name, help, value) in [
        (
            "taskgate_purge_outbox_undelivered",
            "Account deletions whose tasks the tasks-service has not purged yet (counted up to 10000).",
            stats.undelivered.to_string(),
        ),
        (
            "taskgate_purge_outbox_delivered",
            "Account deletions delivered to the tasks-service, records still kept (counted up to 10000).",
            stats.delivered.to_string(),
        ),
        (
            "taskgate_purge_outbox_failed_attempts",
            "Failed delivery attempts of the undelivered account deletions counted.",
            stats.failed_attempts.to_string(),
        ),
        (
            "taskgate_purge_outbox_oldest_undelivered_seconds",
            "Age of the oldest undelivered account deletion (0 when none waits).",
            stats.oldest_undelivered_secs.to_string(),
        ),
        (
            "taskgate_revocation_feed_waiting_polls",
            "Revocation-feed long-polls held open on this replica now.",
            state.revocations.waiting().to_string(),
        ),
        (
            "taskgate_database_pool_connections_in_use",
            "Pooled database connections checked out on this replica now.",
            crate::database::pool_in_use(&state.db).to_string(),
        ),
    ] {
        // Writing to a String cannot fail.
        let _ = writeln!(
            body,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body))
}
