//! Postgres query plans of every list shape: each reads one user's rows through an index whose
//! condition is `user_id = …`, never a sequential scan of everyone's tasks. The statements are
//! the ones the service runs (`task_store::list_statement`), not hand-written copies.
//!
//! `million_task_plans` (ignored by default, ~1 minute) prints the plans with run times on
//! 1,000,000 tasks across 10,000 users; its output is kept in docs/query-plans.md:
//! `cargo test -p tasks-service --test api million_task_plans -- --ignored --nocapture`

use chrono::{TimeZone, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryTrait, Statement};
use service_database::on_postgres_only;
use service_database::testing::Backend;
use tasks_service::domain::{Priority, UserId};
use tasks_service::listing::{Filters, ListQuery, Position, Sort, SortKey};
use tasks_service::task_store::list_statement;
use uuid::Uuid;

use crate::helpers::TestApp;

/// Users numbered 1..=users, each with `per_user` tasks of every kind the filters select.
async fn seed(db: &DatabaseConnection, users: u32, per_user: u32) {
    db.execute_unprepared(&format!(
        "INSERT INTO tasks (id, user_id, title, description, completed, completed_at, due_at,
                            priority, created_at, updated_at, version)
         SELECT gen_random_uuid(),
                ('00000000-0000-4000-8000-' || lpad(u::text, 12, '0'))::uuid,
                'task ' || t || ' of user ' || u,
                CASE WHEN t % 3 = 0 THEN 'remember the milk ' || t END,
                t % 4 = 0,
                CASE WHEN t % 4 = 0 THEN now() END,
                CASE WHEN t % 2 = 0 THEN now() + t * interval '1 hour' END,
                1 + t % 3,
                now() - (u * 1000 + t) * interval '1 second',
                now(),
                1
         FROM generate_series(1, {users}) u, generate_series(1, {per_user}) t"
    ))
    .await
    .unwrap();
    db.execute_unprepared("ANALYZE tasks").await.unwrap();
}

fn user(n: u32) -> UserId {
    UserId(Uuid::parse_str(&format!("00000000-0000-4000-8000-{n:012}")).unwrap())
}

/// Every sort, first page and a later page, with no filter and with each kind of filter.
fn list_shapes() -> Vec<(String, ListQuery)> {
    let at = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
    let filter_sets = [
        ("no filter", Filters::default()),
        (
            "completed=false",
            Filters {
                completed: Some(false),
                ..Filters::default()
            },
        ),
        (
            "priority=high",
            Filters {
                priority: Some(Priority::High),
                ..Filters::default()
            },
        ),
        (
            "due window",
            Filters {
                due_after: Some(at),
                due_before: Some(at + chrono::Duration::days(30)),
                ..Filters::default()
            },
        ),
        (
            "q=milk",
            Filters {
                text: Some("milk".into()),
                ..Filters::default()
            },
        ),
    ];
    let mut shapes = Vec::new();
    for sort in Sort::NAMES {
        let sort = Sort::parse(sort).unwrap();
        let key = match sort.as_string().trim_start_matches('-') {
            "created_at" | "due_at" => SortKey::Time(at),
            "priority" => SortKey::Rank(2),
            _ => SortKey::Text("task 5".into()),
        };
        for (name, filters) in &filter_sets {
            for after in [None, Some(key.clone())] {
                let label = format!(
                    "sort={} {name}{}",
                    sort.as_string(),
                    if after.is_some() {
                        " after a cursor"
                    } else {
                        ""
                    }
                );
                let after = after.map(|key| Position {
                    key,
                    id: Uuid::now_v7(),
                });
                shapes.push((
                    label,
                    ListQuery {
                        filters: filters.clone(),
                        sort,
                        limit: 50,
                        after,
                    },
                ));
            }
        }
    }
    // An undated position under the due-date sorts.
    for sort in ["due_at", "-due_at"] {
        shapes.push((
            format!("sort={sort} after an undated cursor"),
            ListQuery {
                filters: Filters::default(),
                sort: Sort::parse(sort).unwrap(),
                limit: 50,
                after: Some(Position {
                    key: SortKey::NoTime,
                    id: Uuid::now_v7(),
                }),
            },
        ));
    }
    shapes
}

async fn explain(
    db: &DatabaseConnection,
    options: &str,
    owner: UserId,
    query: &ListQuery,
) -> String {
    let sql = list_statement(owner, query)
        .build(DbBackend::Postgres)
        .to_string();
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("EXPLAIN ({options}) {sql}"),
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|row| row.try_get::<String>("", "QUERY PLAN").unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

on_postgres_only!(every_list_shape_reads_only_its_owners_rows);

async fn every_list_shape_reads_only_its_owners_rows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = app.tasks_db().await;
    seed(&db, 2_000, 30).await;
    for (label, query) in list_shapes() {
        let plan = explain(&db, "COSTS OFF", user(42), &query).await;
        assert!(!plan.contains("Seq Scan"), "{label}:\n{plan}");
        let index_conditions: Vec<&str> = plan
            .lines()
            .filter(|line| line.contains("Index Cond:"))
            .collect();
        assert!(
            !index_conditions.is_empty()
                && index_conditions.iter().all(|c| c.contains("user_id = ")),
            "{label} does not narrow by user in the index:\n{plan}"
        );
    }
    let _ = db.close().await;
}

#[tokio::test]
#[ignore = "about a minute: seeds 1,000,000 tasks; run by hand for docs/query-plans.md"]
async fn million_task_plans() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let db = app.tasks_db().await;
    let started = std::time::Instant::now();
    seed(&db, 10_000, 100).await;
    println!("seeded 1,000,000 tasks in {:.1?}", started.elapsed());
    for (label, query) in list_shapes() {
        let plan = explain(&db, "ANALYZE, BUFFERS, COSTS OFF", user(4_242), &query).await;
        assert!(!plan.contains("Seq Scan"), "{label}:\n{plan}");
        println!("### {label}\n```\n{plan}\n```\n");
    }
    let _ = db.close().await;
}
