//! `GET /api/auth/revocations`: the revocation feed validators follow (docs/architecture.md,
//! "Revocation feed").

use std::time::Duration;

use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpResponse, get, web};
use auth_core::ServiceClient;
use auth_core::scopes::REVOCATIONS_READ;
use http_problem::openapi as problems;
use serde::Deserialize;
use service_runtime::shutdown::Draining;
use utoipa::IntoParams;

use super::api_doc::TAG_SESSIONS;
use super::{ApiError, AppState};
use crate::sessions::revocation_log::{FeedPage, MAX_ENTRIES_PER_ANSWER};

/// The longest a follower may hold a request open.
const MAX_WAIT_SECS: u64 = 30;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The `cursor` of the previous answer; without it the answer is a snapshot (its first
    /// page: the rest follows from its `cursor` while `more` is true).
    since: Option<String>,
    /// Seconds to wait for a new entry when there is none (long-poll); 0 answers at once.
    #[param(maximum = 30)]
    wait: Option<u64>,
    /// The most entries one answer holds (1–1000, default 1000); `more: true` says there are
    /// more after its `cursor`.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
}

/// The revocation feed.
///
/// Revoked session ids and per-user cut-offs, each until every token it concerns has
/// expired; paged (`limit`, `more`), long-polls with `since` and `wait`. For validators: a
/// service token (client_credentials) with the `revocations:read` scope. Each replica holds at
/// most `AUTH__REVOCATION_FEED__MAX_LONG_POLLS` long-polls; past that, 503 with `Retry-After`.
/// When the service starts shutting down, long-polls answer at once (nothing new).
#[utoipa::path(
    tag = TAG_SESSIONS,
    operation_id = "revocation_feed",
    security(("bearer" = [])),
    params(FeedQuery),
    responses(
        (status = 200, description = "Entries after `since` (or a snapshot, `reset: true`)",
            body = FeedPage, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, response = problems::BadRequest),
        (status = 401, response = problems::Unauthorized),
        (status = 403, response = problems::Forbidden),
        (status = 500, response = problems::InternalError),
        (status = 503, response = problems::ServiceUnavailable),
    ),
)]
#[get("/revocations")]
pub async fn feed(
    state: web::Data<AppState>,
    client: ServiceClient,
    query: web::Query<FeedQuery>,
    draining: web::Data<Draining>,
) -> Result<HttpResponse, ApiError> {
    client.require_scope(REVOCATIONS_READ)?;
    let query = query.into_inner();
    let limit = query.limit.unwrap_or(MAX_ENTRIES_PER_ANSWER);
    if !(1..=MAX_ENTRIES_PER_ANSWER).contains(&limit) {
        return Err(http_problem::InvalidField::new(
            "limit",
            format!("must be between 1 and {MAX_ENTRIES_PER_ANSWER}"),
        )
        .into());
    }
    let wait = Duration::from_secs(query.wait.unwrap_or(0).min(MAX_WAIT_SECS));
    // Held until the answer is sent (or the client goes away).
    let _held = if wait.is_zero() {
        None
    } else {
        Some(
            state
                .revocations
                .hold_long_poll()
                .ok_or(ApiError::FeedBusy)?,
        )
    };
    let page = state
        .revocations
        .read(
            &state.db,
            query.since.as_deref(),
            wait,
            limit,
            draining.started(),
        )
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .json(page))
}
