use std::time::Duration;

use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::error::ApiError;
use crate::startup::AppState;

/// The longest a follower may hold a request open.
const MAX_WAIT_SECS: u64 = 30;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    since: Option<String>,
    /// Seconds to wait for a new entry when there is none (long-poll); 0 answers at once.
    wait: Option<u64>,
}

/// `GET /api/auth/revocations?since=<cursor>&wait=<seconds>`: the revocation feed.
/// It lists session and user ids only (no tokens, no personal data).
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
