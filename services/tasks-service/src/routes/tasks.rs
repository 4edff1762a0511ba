//! The task routes (docs/architecture.md, "HTTP contract"). Each parses its input, checks the scope, calls one
//! repository function with the caller's `UserId`, and renders the result.

use actix_web::http::header::{ETAG, LOCATION};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use auth_core::AuthUser;
use auth_core::scopes::{TASKS_READ, TASKS_WRITE};
use chrono::{DateTime, Utc};
use http_problem::openapi as problems;
use http_problem::{InvalidField, Json};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::{Description, Priority, TaskTitle, UserId};
use crate::entities::tasks as task_entity;
use crate::listing::{ListParams, ListQuery};
use crate::routes::ApiError;
use crate::routes::AppState;
use crate::routes::api_doc::TAG_TASKS;
use crate::routes::conditional::{etag, is_not_modified, write_precondition};
use crate::task_store::{self, NewTask, TaskChanges, Written};

/// A task, as every route answers it.
#[derive(Serialize, ToSchema)]
#[schema(as = Task)]
pub struct TaskView {
    id: Uuid,
    /// 1–200 characters, trimmed.
    #[schema(example = "Buy milk")]
    title: String,
    /// At most 10,000 characters.
    description: Option<String>,
    completed: bool,
    /// When `completed` last became true; null while not completed.
    completed_at: Option<DateTime<Utc>>,
    due_at: Option<DateTime<Utc>>,
    priority: Priority,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Bumped by every change; the `ETag` is this number in quotes.
    #[schema(example = 1)]
    version: i32,
}

impl TryFrom<task_entity::Model> for TaskView {
    type Error = ApiError;

    fn try_from(task: task_entity::Model) -> Result<Self, ApiError> {
        // Rows are input too: a priority we never write means the data was changed outside.
        let priority = Priority::from_rank(task.priority).ok_or_else(|| {
            ApiError::Unexpected(anyhow::anyhow!(
                "task {} has an unknown priority {:?}",
                task.id,
                task.priority
            ))
        })?;
        Ok(Self {
            id: task.id,
            title: task.title,
            description: task.description,
            completed: task.completed,
            completed_at: task.completed_at,
            due_at: task.due_at,
            priority,
            created_at: task.created_at,
            updated_at: task.updated_at,
            version: task.version,
        })
    }
}

/// One page of the caller's tasks.
#[derive(Serialize, ToSchema)]
pub struct TaskPage {
    items: Vec<TaskView>,
    /// Pass it back as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
}

/// A new task; unknown fields are refused (400).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTask {
    /// 1–200 characters after trimming.
    #[schema(example = "Buy milk")]
    title: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    due_at: Option<DateTime<Utc>>,
    #[serde(default)]
    priority: Option<Priority>,
}

/// A JSON merge patch (RFC 7396): an absent field is left alone, `null` clears `description`
/// or `due_at` and resets `priority`; `title` and `completed` cannot be null. Unknown fields
/// are refused (400).
#[derive(Deserialize, ToSchema)]
#[schema(as = TaskPatch)]
#[serde(deny_unknown_fields)]
pub struct UpdateTask {
    #[serde(default, deserialize_with = "present")]
    title: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    due_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "present")]
    priority: Option<Option<Priority>>,
    #[serde(default, deserialize_with = "present")]
    completed: Option<Option<bool>>,
}

/// Marks a field as present (even when `null`), so `null` differs from absent.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

fn require_scope(user: &AuthUser, scope: &'static str) -> Result<UserId, ApiError> {
    user.require_scope(scope)?;
    Ok(UserId(user.user_id))
}

/// A malformed id cannot name a task: it is a 404 like any other missing task.
fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::TaskNotFound)
}

fn with_etag(mut response: actix_web::HttpResponseBuilder, task: TaskView) -> HttpResponse {
    response
        .insert_header((ETAG, etag(task.version)))
        .json(task)
}

/// List the caller's tasks.
///
/// Filtered, sorted and paged by keyset: `next_cursor` continues exactly after the last task of
/// this page, however tasks are added or removed meanwhile.
#[utoipa::path(
    tag = TAG_TASKS,
    operation_id = "list_tasks",
    security(("bearer" = [])),
    params(ListParams),
    responses(
        (status = 200, description = "One page of tasks", body = TaskPage),
        (status = 400, response = problems::BadRequest),
        (status = 401, response = problems::Unauthorized),
        (status = 403, response = problems::Forbidden),
        (status = 500, response = problems::InternalError),
    ),
)]
#[get("")]
pub async fn list_tasks(
    state: web::Data<AppState>,
    user: AuthUser,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let owner = require_scope(&user, TASKS_READ)?;
    let (filters, sort, limit) = params
        .parse()
        .map_err(|invalid| ApiError::InvalidParameter {
            name: invalid.name,
            message: invalid.message,
        })?;
    let after = match params.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(raw) => Some(state.cursor_key.decode(raw, sort, &filters).map_err(|e| {
            ApiError::InvalidParameter {
                name: "cursor",
                message: e.to_string(),
            }
        })?),
    };
    let query = ListQuery {
        filters,
        sort,
        limit,
        after,
    };
    let page = task_store::list(&state.db, owner, &query).await?;
    let next_cursor = page
        .next
        .map(|position| state.cursor_key.encode(sort, &query.filters, &position));
    let items = page
        .items
        .into_iter()
        .map(TaskView::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(TaskPage { items, next_cursor }))
}

/// Create a task.
#[utoipa::path(
    tag = TAG_TASKS,
    operation_id = "create_task",
    security(("bearer" = [])),
    request_body = CreateTask,
    responses(
        (status = 201, description = "Created", body = TaskView, headers(
            ("Location" = String, description = "`/api/tasks/{id}`"),
            ("ETag" = String, description = "`\"1\"`"),
        )),
        (status = 400, response = problems::BadRequest),
        (status = 401, response = problems::Unauthorized),
        (status = 403, response = problems::Forbidden),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableEntity),
        (status = 500, response = problems::InternalError),
    ),
)]
#[post("")]
pub async fn create_task(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<CreateTask>,
) -> Result<HttpResponse, ApiError> {
    let owner = require_scope(&user, TASKS_WRITE)?;
    let body = body.into_inner();
    let new = NewTask {
        title: TaskTitle::parse(&body.title).map_err(|e| InvalidField::new("title", e))?,
        description: Description::parse(body.description.as_deref())
            .map_err(|e| InvalidField::new("description", e))?,
        due_at: body.due_at,
        priority: body.priority.unwrap_or_default(),
    };
    let task = TaskView::try_from(task_store::create(&state.db, owner, new).await?)?;
    let mut response = HttpResponse::Created();
    response.insert_header((LOCATION, format!("/api/tasks/{}", task.id)));
    Ok(with_etag(response, task))
}

/// Read a task.
#[utoipa::path(
    tag = TAG_TASKS,
    operation_id = "get_task",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The task's id"),
        ("If-None-Match" = Option<String>, Header, description = "ETags the client holds; 304 if one is current"),
    ),
    responses(
        (status = 200, description = "The task", body = TaskView, headers(("ETag" = String))),
        (status = 304, description = "Not modified: the `If-None-Match` version is current", headers(("ETag" = String))),
        (status = 400, response = problems::BadRequest),
        (status = 401, response = problems::Unauthorized),
        (status = 403, response = problems::Forbidden),
        (status = 404, response = problems::NotFound),
        (status = 500, response = problems::InternalError),
    ),
)]
#[get("/{id}")]
pub async fn get_task(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let owner = require_scope(&user, TASKS_READ)?;
    let id = parse_id(&id)?;
    let task = task_store::find(&state.db, owner, id)
        .await?
        .ok_or(ApiError::TaskNotFound)?;
    if is_not_modified(&request, task.version)? {
        return Ok(HttpResponse::NotModified()
            .insert_header((ETAG, etag(task.version)))
            .finish());
    }
    Ok(with_etag(HttpResponse::Ok(), TaskView::try_from(task)?))
}

/// Change a task (JSON merge patch).
#[utoipa::path(
    tag = TAG_TASKS,
    operation_id = "update_task",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The task's id"), ("If-Match" = Option<String>, Header, description = "`\"<version>\"` (or several, or `*`): change only that version; 412 otherwise")),
    request_body(content = UpdateTask, content_type = "application/merge-patch+json",
                 description = "Also accepted as `application/json`."),
    responses(
        (status = 200, description = "The task as changed", body = TaskView, headers(("ETag" = String))),
        (status = 400, response = problems::BadRequest),
        (status = 401, response = problems::Unauthorized),
        (status = 403, response = problems::Forbidden),
        (status = 404, response = problems::NotFound),
        (status = 412, response = problems::PreconditionFailed),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableEntity),
        (status = 428, response = problems::PreconditionRequired),
        (status = 500, response = problems::InternalError),
    ),
)]
#[patch("/{id}")]
pub async fn update_task(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: Json<UpdateTask>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let owner = require_scope(&user, TASKS_WRITE)?;
    let id = parse_id(&id)?;
    let precondition = write_precondition(&request, state.require_if_match)?;
    let changes = parse_changes(body.into_inner())?;
    let task = written(task_store::update(&state.db, owner, id, changes, &precondition).await?)?;
    Ok(with_etag(HttpResponse::Ok(), TaskView::try_from(task)?))
}

fn written<T>(outcome: Written<T>) -> Result<T, ApiError> {
    match outcome {
        Written::Done(value) => Ok(value),
        Written::NotFound => Err(ApiError::TaskNotFound),
        Written::PreconditionFailed => Err(ApiError::PreconditionFailed),
    }
}

fn parse_changes(body: UpdateTask) -> Result<TaskChanges, ApiError> {
    let title = match body.title {
        None => None,
        Some(None) => return Err(InvalidField::new("title", "title cannot be null").into()),
        Some(Some(raw)) => Some(TaskTitle::parse(&raw).map_err(|e| InvalidField::new("title", e))?),
    };
    let description = body
        .description
        .map(|d| Description::parse(d.as_deref()))
        .transpose()
        .map_err(|e| InvalidField::new("description", e))?;
    // Priority always has a value; clearing it (`null`) means the default.
    let priority = body.priority.map(Option::unwrap_or_default);
    let completed = match body.completed {
        None => None,
        Some(None) => {
            return Err(InvalidField::new("completed", "completed cannot be null").into());
        }
        Some(Some(done)) => Some(done),
    };
    Ok(TaskChanges {
        title,
        description,
        due_at: body.due_at,
        priority,
        completed,
    })
}

/// Delete a task.
#[utoipa::path(
    tag = TAG_TASKS,
    operation_id = "delete_task",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The task's id"), ("If-Match" = Option<String>, Header, description = "`\"<version>\"` (or several, or `*`): change only that version; 412 otherwise")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, response = problems::BadRequest),
        (status = 401, response = problems::Unauthorized),
        (status = 403, response = problems::Forbidden),
        (status = 404, response = problems::NotFound),
        (status = 412, response = problems::PreconditionFailed),
        (status = 428, response = problems::PreconditionRequired),
        (status = 500, response = problems::InternalError),
    ),
)]
#[delete("/{id}")]
pub async fn delete_task(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let owner = require_scope(&user, TASKS_WRITE)?;
    let id = parse_id(&id)?;
    let precondition = write_precondition(&request, state.require_if_match)?;
    written(task_store::delete(&state.db, owner, id, &precondition).await?)?;
    Ok(HttpResponse::NoContent().finish())
}
