//! The task repository. Every function takes the owner's `UserId` and filters by it, so a
//! task of another user is indistinguishable from a missing one.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, NullOrdering};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, QueryFilter,
    QueryOrder, QuerySelect, Select, Set,
};
use uuid::Uuid;

use crate::domain::task_fields::to_microseconds;
use crate::domain::{Description, Priority, TaskTitle, UserId};
use crate::entities::tasks::{self, Column};
use crate::listing::{Filters, ListQuery, Position, Sort, SortField, SortKey};

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

pub struct Page {
    pub items: Vec<tasks::Model>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Position>,
}

/// What the client's `If-Match` asks of the task's current version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// No `If-Match`: any version.
    None,
    /// `If-Match: *`: any version of an existing task.
    Exists,
    /// `If-Match` with entity tags: one of these versions (empty: none can match).
    Versions(Vec<i32>),
}

impl Precondition {
    fn allows(&self, version: i32) -> bool {
        match self {
            Self::None | Self::Exists => true,
            Self::Versions(versions) => versions.contains(&version),
        }
    }
}

/// The result of a conditional write.
#[derive(Debug)]
pub enum Written<T> {
    Done(T),
    /// Missing, or not the owner's.
    NotFound,
    /// The task exists but its version is not one the client named.
    PreconditionFailed,
}

/// A write that lost a race to another one re-reads and tries again; this bounds the loop.
const WRITE_ATTEMPTS: usize = 8;

fn now() -> DateTime<Utc> {
    to_microseconds(Utc::now())
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
        due_at: Set(new.due_at.map(to_microseconds)),
        priority: Set(new.priority.rank()),
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
        .filter(Column::UserId.eq(owner.0))
        .one(db)
        .await
        .context("reading a task")
}

/// One page of the owner's tasks. Keyset pagination: the page starts strictly after the
/// previous page's last (sort key, id), so rows inserted or deleted meanwhile never shift it,
/// and each sort is an index range scan on `(user_id, <sort key>, id)` however deep the page.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    owner: UserId,
    query: &ListQuery,
) -> anyhow::Result<Page> {
    let mut items = list_statement(owner, query)
        .all(db)
        .await
        .context("listing tasks")?;
    let has_more = items.len() as u64 > query.limit;
    items.truncate(usize::try_from(query.limit).unwrap_or(usize::MAX));
    let next = has_more
        .then(|| items.last().map(|last| position_of(query.sort, last)))
        .flatten();
    Ok(Page { items, next })
}

/// The list query, one row more than a page (to know whether another page follows). Public so
/// the query-plan test can `EXPLAIN` exactly what the service runs.
pub fn list_statement(owner: UserId, query: &ListQuery) -> Select<tasks::Entity> {
    let mut select = tasks::Entity::find()
        .filter(Column::UserId.eq(owner.0))
        .filter(filter_condition(&query.filters));
    if let Some(after) = &query.after {
        select = select.filter(after_condition(query.sort, after));
    }
    let column = sort_column(query.sort.field);
    let order = if query.sort.descending {
        Order::Desc
    } else {
        Order::Asc
    };
    select = match query.sort.field {
        // Tasks without a due date count as due last of all: after every date ascending,
        // before every date descending. This is Postgres' own NULL order, so the index serves
        // both directions; SQLite is told explicitly.
        SortField::DueAt => {
            let nulls = if query.sort.descending {
                NullOrdering::First
            } else {
                NullOrdering::Last
            };
            select.order_by_with_nulls(column, order.clone(), nulls)
        }
        _ => select.order_by(column, order.clone()),
    };
    select
        .order_by(Column::Id, order)
        .limit(query.limit.saturating_add(1))
}

fn sort_column(field: SortField) -> Column {
    match field {
        SortField::CreatedAt => Column::CreatedAt,
        SortField::DueAt => Column::DueAt,
        SortField::Priority => Column::Priority,
        SortField::Title => Column::Title,
    }
}

fn position_of(sort: Sort, task: &tasks::Model) -> Position {
    let key = match sort.field {
        SortField::CreatedAt => SortKey::Time(task.created_at),
        SortField::DueAt => task.due_at.map_or(SortKey::NoTime, SortKey::Time),
        SortField::Priority => SortKey::Rank(task.priority),
        SortField::Title => SortKey::Text(task.title.clone()),
    };
    Position { key, id: task.id }
}

fn filter_condition(filters: &Filters) -> Condition {
    let mut condition = Condition::all();
    if let Some(completed) = filters.completed {
        condition = condition.add(Column::Completed.eq(completed));
    }
    if let Some(priority) = filters.priority {
        condition = condition.add(Column::Priority.eq(priority.rank()));
    }
    if let Some(before) = filters.due_before {
        condition = condition.add(Column::DueAt.lt(before));
    }
    if let Some(after) = filters.due_after {
        condition = condition.add(Column::DueAt.gte(after));
    }
    if let Some(text) = &filters.text {
        // `lower(x) LIKE '%text%'` on both backends, with the text's own `%`, `_` and `\`
        // escaped so they match literally. (SQLite's lower() folds ASCII only.)
        let pattern = format!(
            "%{}%",
            text.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let contains = |column: Column| {
            Expr::expr(Func::lower(Expr::col(column)))
                .like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        condition = condition.add(
            Condition::any()
                .add(contains(Column::Title))
                .add(contains(Column::Description)),
        );
    }
    condition
}

/// Rows strictly after `after` in the sort's order (ties broken by id in the same direction).
fn after_condition(sort: Sort, after: &Position) -> Condition {
    let column = sort_column(sort.field);
    let beyond = |value: Expr| {
        let row = Expr::tuple([Expr::col(column), Expr::col(Column::Id)]);
        let position = Expr::tuple([value, Expr::val(after.id)]);
        if sort.descending {
            row.lt(position)
        } else {
            row.gt(position)
        }
    };
    match (&after.key, sort.descending) {
        (SortKey::Time(at), descending) if sort.field == SortField::DueAt => {
            let dated_beyond = beyond(Expr::val(*at));
            if descending {
                // Undated tasks came first and are behind us.
                Condition::all().add(dated_beyond)
            } else {
                // Undated tasks come after every dated one.
                Condition::any()
                    .add(dated_beyond)
                    .add(Column::DueAt.is_null())
            }
        }
        (SortKey::NoTime, descending) => {
            let undated_beyond = Condition::all()
                .add(Column::DueAt.is_null())
                .add(if descending {
                    Column::Id.lt(after.id)
                } else {
                    Column::Id.gt(after.id)
                });
            if descending {
                Condition::any()
                    .add(undated_beyond)
                    .add(Column::DueAt.is_not_null())
            } else {
                undated_beyond
            }
        }
        (SortKey::Time(at), _) => Condition::all().add(beyond(Expr::val(*at))),
        (SortKey::Rank(rank), _) => Condition::all().add(beyond(Expr::val(*rank))),
        (SortKey::Text(text), _) => Condition::all().add(beyond(Expr::val(text.clone()))),
    }
}

/// The task as `changes` would leave it, or `None` if they change nothing.
fn apply(changes: &TaskChanges, task: &tasks::Model, now: DateTime<Utc>) -> Option<tasks::Model> {
    let mut next = task.clone();
    if let Some(title) = &changes.title {
        next.title = title.clone().into_inner();
    }
    if let Some(description) = &changes.description {
        next.description = description.clone().into_inner();
    }
    if let Some(due_at) = changes.due_at {
        next.due_at = due_at.map(to_microseconds);
    }
    if let Some(priority) = changes.priority {
        next.priority = priority.rank();
    }
    if let Some(completed) = changes.completed
        && completed != task.completed
    {
        next.completed = completed;
        next.completed_at = completed.then_some(now);
    }
    if next == *task {
        return None;
    }
    next.updated_at = now;
    next.version = task.version.saturating_add(1);
    Some(next)
}

/// Applies `changes` if the task's version satisfies `precondition`. The write only lands on
/// the version it was computed from (`WHERE version = …`), so two concurrent updates can never
/// silently overwrite each other: the loser re-reads and re-applies, or fails its `If-Match`.
/// A patch that changes nothing leaves the task (and its version) alone.
pub async fn update<C: ConnectionTrait>(
    db: &C,
    owner: UserId,
    id: Uuid,
    changes: TaskChanges,
    precondition: &Precondition,
) -> anyhow::Result<Written<tasks::Model>> {
    for _ in 0..WRITE_ATTEMPTS {
        let Some(task) = find(db, owner, id).await? else {
            return Ok(Written::NotFound);
        };
        if !precondition.allows(task.version) {
            return Ok(Written::PreconditionFailed);
        }
        let Some(next) = apply(&changes, &task, now()) else {
            return Ok(Written::Done(task));
        };
        let result = tasks::Entity::update_many()
            .col_expr(Column::Title, Expr::val(next.title.clone()))
            .col_expr(Column::Description, Expr::val(next.description.clone()))
            .col_expr(Column::DueAt, Expr::val(next.due_at))
            .col_expr(Column::Priority, Expr::val(next.priority))
            .col_expr(Column::Completed, Expr::val(next.completed))
            .col_expr(Column::CompletedAt, Expr::val(next.completed_at))
            .col_expr(Column::UpdatedAt, Expr::val(next.updated_at))
            .col_expr(Column::Version, Expr::val(next.version))
            .filter(Column::Id.eq(id))
            .filter(Column::UserId.eq(owner.0))
            .filter(Column::Version.eq(task.version))
            .exec(db)
            .await
            .context("updating a task")?;
        if result.rows_affected == 1 {
            return Ok(Written::Done(next));
        }
    }
    anyhow::bail!("task {id} kept changing during {WRITE_ATTEMPTS} update attempts")
}

/// Deletes the task if its version satisfies `precondition`.
pub async fn delete<C: ConnectionTrait>(
    db: &C,
    owner: UserId,
    id: Uuid,
    precondition: &Precondition,
) -> anyhow::Result<Written<()>> {
    for _ in 0..WRITE_ATTEMPTS {
        let mut delete = tasks::Entity::delete_many()
            .filter(Column::Id.eq(id))
            .filter(Column::UserId.eq(owner.0));
        if *precondition != Precondition::None {
            let Some(task) = find(db, owner, id).await? else {
                return Ok(Written::NotFound);
            };
            if !precondition.allows(task.version) {
                return Ok(Written::PreconditionFailed);
            }
            delete = delete.filter(Column::Version.eq(task.version));
        }
        let result = delete.exec(db).await.context("deleting a task")?;
        if result.rows_affected > 0 {
            return Ok(Written::Done(()));
        }
        if *precondition == Precondition::None {
            return Ok(Written::NotFound);
        }
    }
    anyhow::bail!("task {id} kept changing during {WRITE_ATTEMPTS} delete attempts")
}

/// Deletes every task of `owner` (account deletion, on a service's request); how many there
/// were. Idempotent: a second call finds none.
pub async fn purge_user<C: ConnectionTrait>(db: &C, owner: UserId) -> anyhow::Result<u64> {
    let result = tasks::Entity::delete_many()
        .filter(Column::UserId.eq(owner.0))
        .exec(db)
        .await
        .context("purging a user's tasks")?;
    Ok(result.rows_affected)
}
