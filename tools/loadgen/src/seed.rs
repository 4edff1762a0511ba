//! Creates the benchmark's data through the public API: users by sign-up, then their tasks.
//! Unlike the measured scenarios, a failure here stops the run: the numbers would mean nothing
//! without the data.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use hyper::{Method, StatusCode};
use tokio::task::JoinSet;

use crate::http::{Connection, Response, Target};
use crate::users::{self, CreatedTask, TokenResponse, User};

pub struct SeedPlan {
    pub users: usize,
    pub tasks_per_user: usize,
    /// argon2 is deliberately slow and CPU-bound: more sign-ups in flight than cores only
    /// queue up on the auth-service's blocking pool (and each holds 19 MiB while it hashes).
    pub signup_concurrency: usize,
    pub task_concurrency: usize,
    pub timeout: Duration,
}

pub async fn seed(auth: &Target, tasks: &Target, plan: &SeedPlan) -> anyhow::Result<Vec<User>> {
    let started = Instant::now();
    let tokens = sign_up_all(auth, plan).await?;
    eprintln!(
        "seed: {} users signed up in {:.1} s",
        tokens.len(),
        started.elapsed().as_secs_f64()
    );
    if let Some(first) = tokens.first() {
        eprintln!(
            "seed: access tokens live {} s; the whole run must end before they expire",
            first.expires_in
        );
    }
    let started = Instant::now();
    let task_ids = create_all_tasks(tasks, plan, &tokens).await?;
    eprintln!(
        "seed: {} tasks created in {:.1} s",
        plan.users * plan.tasks_per_user,
        started.elapsed().as_secs_f64()
    );
    Ok(tokens
        .into_iter()
        .zip(task_ids)
        .enumerate()
        .map(|(index, (token, task_ids))| User {
            email: users::email(index),
            bad_token: users::tamper(&token.access_token),
            access_token: token.access_token,
            refresh_token: std::sync::Mutex::new(token.refresh_token),
            task_ids,
        })
        .collect())
}

async fn sign_up_all(auth: &Target, plan: &SeedPlan) -> anyhow::Result<Vec<TokenResponse>> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = JoinSet::new();
    for _ in 0..plan.signup_concurrency.max(1) {
        let next = Arc::clone(&next);
        let mut connection = Connection::new(auth.clone(), plan.timeout);
        let total = plan.users;
        workers.spawn(async move {
            let mut done = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= total {
                    return anyhow::Ok(done);
                }
                let body =
                    serde_json::json!({"email": users::email(index), "password": users::PASSWORD});
                let response = call(
                    &mut connection,
                    Method::POST,
                    "/api/auth/sign-up",
                    None,
                    &body,
                )
                .await?;
                let token: TokenResponse = expect_json(response, StatusCode::CREATED)
                    .with_context(|| format!("signing up user {index}"))?;
                if (index + 1).is_multiple_of(100) {
                    eprintln!("seed: {} users signed up", index + 1);
                }
                done.push((index, token));
            }
        });
    }
    let mut tokens: Vec<Option<TokenResponse>> = (0..plan.users).map(|_| None).collect();
    while let Some(joined) = workers.join_next().await {
        for (index, token) in joined.context("a sign-up worker panicked")?? {
            tokens[index] = Some(token);
        }
    }
    tokens
        .into_iter()
        .enumerate()
        .map(|(index, token)| token.with_context(|| format!("user {index} was not signed up")))
        .collect()
}

async fn create_all_tasks(
    tasks: &Target,
    plan: &SeedPlan,
    tokens: &[TokenResponse],
) -> anyhow::Result<Vec<Vec<String>>> {
    let concurrency = plan.task_concurrency.clamp(1, tokens.len().max(1));
    let access: Arc<[String]> = tokens.iter().map(|t| t.access_token.clone()).collect();
    let mut workers = JoinSet::new();
    for worker in 0..concurrency {
        let access = Arc::clone(&access);
        let mut connection = Connection::new(tasks.clone(), plan.timeout);
        let per_user = plan.tasks_per_user;
        workers.spawn(async move {
            let mut done = Vec::new();
            // Worker w creates the tasks of users w, w + C, w + 2C, ...
            for index in (worker..access.len()).step_by(concurrency) {
                let mut ids = Vec::with_capacity(per_user);
                for n in 0..per_user {
                    let priority = ["low", "medium", "high"][n % 3];
                    let body = serde_json::json!({"title": format!("seed task {n}"), "priority": priority});
                    let response = call(
                        &mut connection,
                        Method::POST,
                        "/api/tasks",
                        Some(&access[index]),
                        &body,
                    )
                    .await?;
                    let task: CreatedTask = expect_json(response, StatusCode::CREATED)
                        .with_context(|| format!("creating a task for user {index}"))?;
                    ids.push(task.id);
                }
                done.push((index, ids));
            }
            anyhow::Ok(done)
        });
    }
    let mut all: Vec<Vec<String>> = vec![Vec::new(); tokens.len()];
    while let Some(joined) = workers.join_next().await {
        for (index, ids) in joined.context("a task-seeding worker panicked")?? {
            all[index] = ids;
        }
    }
    Ok(all)
}

async fn call(
    connection: &mut Connection,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: &serde_json::Value,
) -> anyhow::Result<Response> {
    let json = Bytes::from(serde_json::to_vec(body)?);
    connection
        .send(method, path, token, Some(json))
        .await
        .map_err(|e| anyhow::anyhow!("{path}: {}", e.label()))
}

fn expect_json<T: serde::de::DeserializeOwned>(
    response: Response,
    expected: StatusCode,
) -> anyhow::Result<T> {
    anyhow::ensure!(
        response.status == expected,
        "expected {expected}, got {}: {}",
        response.status,
        String::from_utf8_lossy(&response.body[..response.body.len().min(300)])
    );
    serde_json::from_slice(&response.body).context("unexpected response body")
}
