//! `GET /api/auth/revocations`: the revocation feed validators follow (docs/architecture.md,
//! "Revocation feed").

use std::time::Duration;

use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::api_doc::TAG_SESSIONS;
use super::{ApiError, AppState};
use crate::sessions::revocation_log::FeedPage;

/// The longest a follower may hold a request open.
const MAX_WAIT_SECS: u64 = 30;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The `cursor` of the previous answer; without it the answer is a full snapshot.
    since: Option<String>,
    /// Seconds to wait for a new entry when there is none (long-poll); 0 answers at once.
    #[param(maximum = 30)]
    wait: Option<u64>,
}

/// The revocation feed.
///
/// Revoked session ids and per-user cut-offs, each until every token it concerns has
/// expired; long-polls with `since` and `wait`. It lists ids only (no tokens, no personal data), so it is public.
#[utoipa::path(
    tag = TAG_SESSIONS,
    operation_id = "revocation_feed",
    params(FeedQuery),
    responses(
        (status = 200, description = "Entries after `since` (or a snapshot, `reset: true`)",
            body = FeedPage, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, response = http_problem::openapi::BadRequest),
        (status = 500, response = http_problem::openapi::InternalError),
    ),
)]
#[get("/revocations")]
pub async fn feed(
    state: web::Data<AppState>,
    query: web::Query<FeedQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let wait = Duration::from_secs(query.wait.unwrap_or(0).min(MAX_WAIT_SECS));
    let page = state
        .revocations
        .read(&state.db, query.since.as_deref(), wait)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .json(page))
}
