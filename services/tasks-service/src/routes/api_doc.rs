//! The parts of the OpenAPI document no handler carries: title, tags, and the problem+json
//! pieces shared with the auth-service. The paths come from the handlers (`routes::configure`).

use utoipa::OpenApi as _;
use utoipa::openapi::OpenApi;

pub const TAG_TASKS: &str = "tasks";
pub const TAG_INTERNAL: &str = "internal";

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Taskgate tasks-service",
        description = "Each signed-in user's own tasks. Every task route needs an RFC 9068 access \
                       token from the auth-service (`Authorization: Bearer …`) with the scope \
                       `tasks:read` or `tasks:write`; another user's task is a 404, never a 403. \
                       Errors are RFC 9457 `application/problem+json`."
    ),
    tags(
        (name = TAG_TASKS, description = "The caller's tasks"),
        (name = TAG_INTERNAL, description = "For other services only: a client_credentials \
                                            token with the route's scope; user tokens get 403"),
        (name = service_runtime::health::TAG, description = "Liveness and readiness"),
    )
)]
struct TasksApiDoc;

/// The document the handlers' paths are added to.
pub fn base_document() -> OpenApi {
    let mut doc = TasksApiDoc::openapi();
    doc.merge(http_problem::openapi::shared_components());
    doc
}
