//! Routes for other services, never for users: each needs a service's client_credentials
//! token (`auth_core::ServiceClient`) with its own scope; a user token gets 403.

use actix_web::{HttpResponse, delete, web};
use auth_core::ServiceClient;
use auth_core::scopes::TASKS_PURGE;
use http_problem::openapi as problems;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::UserId;
use crate::routes::ApiError;
use crate::routes::AppState;
use crate::routes::api_doc::TAG_INTERNAL;
use crate::task_store;

#[derive(Serialize, ToSchema)]
pub struct Purged {
    user_id: Uuid,
    /// Tasks deleted by this call (0 when they were already gone).
    deleted: u64,
}

/// Delete every task of a user.
///
/// Called by the auth-service when an account is deleted. Idempotent: repeating it deletes
/// nothing more and answers 200 again.
#[utoipa::path(
    tag = TAG_INTERNAL,
    operation_id = "purge_user_tasks",
    security(("bearer" = [])),
    params(("user_id" = Uuid, Path, description = "The auth-service's id of the user")),
    responses(
        (status = 200, description = "The user's tasks are gone", body = Purged),
        (status = 401, response = problems::Unauthorized),
        (status = 403, response = problems::Forbidden),
        (status = 404, response = problems::NotFound),
        (status = 500, response = problems::InternalError),
    ),
)]
#[delete("/users/{user_id}/tasks")]
#[tracing::instrument(skip_all, fields(client_id = %client.client_id, user_id = %user_id))]
pub async fn purge_user_tasks(
    state: web::Data<AppState>,
    client: ServiceClient,
    user_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    client.require_scope(TASKS_PURGE)?;
    // Not a UUID: no user can have it, so there is nothing to purge.
    let user_id = Uuid::parse_str(&user_id).map_err(|_| ApiError::TaskNotFound)?;
    let deleted = task_store::purge_user(&state.db, UserId(user_id)).await?;
    tracing::info!(deleted, "purged a user's tasks");
    Ok(HttpResponse::Ok().json(Purged { user_id, deleted }))
}
