//! The task repository. Every function takes the owner's `UserId` and filters by it, so a
//! task of another user is indistinguishable from a missing one.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::cursor::Position;
use crate::domain::{Description, Priority, TaskTitle, UserId};
use crate::entities::tasks;

pub struct NewTask {
    pub title: TaskTitle,
    pub description: Description,
    pub due_at: Option<DateTime<Utc>>,
    pub priority: Priority,
}

/// A partial update: `None` leaves a field alone; `Some(None)` clears an optional one.
#[derive(Default)]
pub struct TaskChanges {
    pub title: Option<TaskTitle>,
    pub description: Option<Description>,
    pub due_at: Option<Option<DateTime<Utc>>>,
    pub priority: Option<Priority>,
    pub completed: Option<bool>,
}

pub struct ListQuery {
    pub limit: u64,
    pub after: Option<Position>,
}

pub struct Page {
    pub items: Vec<tasks::Model>,
    pub next: Option<Position>,
}

/// Timestamps are kept to the microsecond, Postgres' precision, so a value reads back
/// exactly as written on both backends.
fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

pub async fn create<C: ConnectionTrait>(
    db: &C,
    owner: UserId,
    new: NewTask,
) -> anyhow::Result<tasks::Model> {
    let now = now();
    tasks::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(owner.0),
        title: Set(new.title.into_inner()),
        description: Set(new.description.into_inner()),
        completed: Set(false),
        completed_at: Set(None),
        due_at: Set(new.due_at),
        priority: Set(new.priority.as_str().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(db)
    .await
    .context("inserting a task")
}

pub async fn find<C: ConnectionTrait>(
    db: &C,
    owner: UserId,
    id: Uuid,
) -> anyhow::Result<Option<tasks::Model>> {
    tasks::Entity::find_by_id(id)
        .filter(tasks::Column::UserId.eq(owner.0))
        .one(db)
        .await
        .context("reading a task")
}

/// Newest first. Keyset pagination on the UUIDv7 id: stable under inserts and deletes, and an
/// index range scan on (user_id, id) however deep the page.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    owner: UserId,
    query: ListQuery,
) -> anyhow::Result<Page> {
    let mut select = tasks::Entity::find().filter(tasks::Column::UserId.eq(owner.0));
    if let Some(after) = &query.after {
        select = select.filter(tasks::Column::Id.lt(after.last_id()));
    }
    let mut items = select
        .order_by_desc(tasks::Column::Id)
        .limit(query.limit + 1)
        .all(db)
        .await
        .context("listing tasks")?;
    let has_more = items.len() as u64 > query.limit;
    items.truncate(usize::try_from(query.limit).unwrap_or(usize::MAX));
    let next = has_more
        .then(|| items.last().map(|last| Position::after(last.id)))
        .flatten();
    Ok(Page { items, next })
}

/// Applies `changes`; `None` if the task is missing or not the owner's.
pub async fn update<C: ConnectionTrait>(
    db: &C,
    owner: UserId,
    id: Uuid,
    changes: TaskChanges,
) -> anyhow::Result<Option<tasks::Model>> {
    let Some(task) = find(db, owner, id).await? else {
        return Ok(None);
    };
    let now = now();
    let was_completed = task.completed;
    let version = task.version;
    let mut active: tasks::ActiveModel = task.into();
    if let Some(title) = changes.title {
        active.title = Set(title.into_inner());
    }
    if let Some(description) = changes.description {
        active.description = Set(description.into_inner());
    }
    if let Some(due_at) = changes.due_at {
        active.due_at = Set(due_at);
    }
    if let Some(priority) = changes.priority {
        active.priority = Set(priority.as_str().to_owned());
    }
    if let Some(completed) = changes.completed {
        active.completed = Set(completed);
        if completed != was_completed {
            active.completed_at = Set(completed.then_some(now));
        }
    }
    active.updated_at = Set(now);
    active.version = Set(version.saturating_add(1));
    let updated = active.update(db).await.context("updating a task")?;
    Ok(Some(updated))
}

/// True if a task was deleted.
pub async fn delete<C: ConnectionTrait>(db: &C, owner: UserId, id: Uuid) -> anyhow::Result<bool> {
    let result = tasks::Entity::delete_many()
        .filter(tasks::Column::Id.eq(id))
        .filter(tasks::Column::UserId.eq(owner.0))
        .exec(db)
        .await
        .context("deleting a task")?;
    Ok(result.rows_affected > 0)
}
