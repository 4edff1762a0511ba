//! The measured requests, and the closed-loop workers that send them for a fixed time.
//!
//! Each worker owns one keep-alive connection and a fixed share of the users: worker `w` of
//! `C` takes users `w, w + C, w + 2C, ...` in turn, so consecutive requests carry different
//! users' tokens and no two workers ever use the same user's refresh token at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::{Method, StatusCode};
use serde::Serialize;
use tokio::task::JoinSet;

use crate::http::{Connection, Target, TransportError};
use crate::stats::Stats;
use crate::users::{self, TokenResponse, User};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// GET /api/tasks?limit=20 (each user has at least 20 tasks).
    List,
    /// POST /api/tasks.
    Create,
    /// PATCH /api/tasks/{id} of one of the user's tasks.
    Update,
    /// GET /api/tasks/{id} with a token whose signature does not verify: must be 401.
    BadToken,
    /// POST /api/auth/sign-in (argon2 verification).
    SignIn,
    /// POST /api/auth/refresh with the user's latest refresh token.
    Refresh,
}

impl Kind {
    pub fn title(self) -> &'static str {
        match self {
            Self::List => "list 20 tasks",
            Self::Create => "create task",
            Self::Update => "update task",
            Self::BadToken => "get task, bad token (401)",
            Self::SignIn => "sign-in",
            Self::Refresh => "refresh",
        }
    }

    fn on_auth_service(self) -> bool {
        matches!(self, Self::SignIn | Self::Refresh)
    }
}

/// One kind of request at one concurrency; a run has one group, or several at once.
#[derive(Clone, Debug)]
pub struct Group {
    pub kind: Kind,
    pub concurrency: usize,
}

pub struct Targets {
    pub auth: Target,
    pub tasks: Target,
    pub timeout: Duration,
}

/// How one request went.
enum Outcome {
    Ok,
    /// An answer, but not the expected one.
    Unexpected(String),
    NoAnswer(TransportError),
}

/// Runs the groups together: `warmup` unrecorded, then `measure` recorded. Returns one
/// `Stats` per group, in order. Requests that *start* in the measured window are recorded.
pub async fn run(
    groups: &[Group],
    users: &Arc<[User]>,
    targets: &Targets,
    record_from: Instant,
    end: Instant,
) -> Vec<Stats> {
    let mut handles = Vec::with_capacity(groups.len());
    for group in groups {
        let mut workers = JoinSet::new();
        let concurrency = effective_concurrency(group, users.len());
        for worker in 0..concurrency {
            let target = if group.kind.on_auth_service() {
                targets.auth.clone()
            } else {
                targets.tasks.clone()
            };
            let mut connection = Connection::new(target, targets.timeout);
            let users = Arc::clone(users);
            let kind = group.kind;
            workers.spawn(async move {
                let mine = users_of(worker, concurrency, users.len());
                let mut stats = Stats::new();
                let mut turn = 0usize;
                while Instant::now() < end && !mine.is_empty() {
                    let user = &users[mine[turn % mine.len()]];
                    // Cycle through each user's tasks as the worker comes back to the user.
                    let round = turn / mine.len();
                    let started = Instant::now();
                    let outcome = send(kind, &mut connection, user, round).await;
                    if started >= record_from {
                        match outcome {
                            Outcome::Ok => stats.record_response(started.elapsed(), None),
                            Outcome::Unexpected(what) => {
                                stats.record_response(started.elapsed(), Some(what))
                            }
                            Outcome::NoAnswer(error) => stats.record_failure(error.label()),
                        }
                    }
                    turn += 1;
                }
                stats
            });
        }
        handles.push(workers);
    }
    let mut results = Vec::with_capacity(groups.len());
    for mut workers in handles {
        let mut total = Stats::new();
        while let Some(joined) = workers.join_next().await {
            match joined {
                Ok(stats) => total.merge(&stats),
                Err(_) => total.record_failure("worker panicked"),
            }
        }
        results.push(total);
    }
    results
}

/// More refresh workers than users would have two workers share a user's refresh token (a
/// reuse, which revokes the session); other kinds wrap around harmlessly, so only refresh
/// is capped. With fewer users than workers, the extra workers of other kinds reuse users.
pub fn effective_concurrency(group: &Group, users: usize) -> usize {
    let concurrency = group.concurrency.max(1);
    if group.kind == Kind::Refresh {
        concurrency.min(users.max(1))
    } else {
        concurrency
    }
}

/// The users worker `worker` of `concurrency` takes turns with.
fn users_of(worker: usize, concurrency: usize, users: usize) -> Vec<usize> {
    if worker < users {
        (worker..users).step_by(concurrency).collect()
    } else if users > 0 {
        vec![worker % users]
    } else {
        Vec::new()
    }
}

async fn send(kind: Kind, connection: &mut Connection, user: &User, round: usize) -> Outcome {
    let task_id = || {
        user.task_ids
            .get(round % user.task_ids.len().max(1))
            .map_or("missing", String::as_str)
    };
    match kind {
        Kind::List => {
            let response = connection
                .send(
                    Method::GET,
                    "/api/tasks?limit=20",
                    Some(&user.access_token),
                    None,
                )
                .await;
            expect(response, StatusCode::OK)
        }
        Kind::Create => {
            let body = json(&serde_json::json!({"title": "load test task", "priority": "medium"}));
            let response = connection
                .send(
                    Method::POST,
                    "/api/tasks",
                    Some(&user.access_token),
                    Some(body),
                )
                .await;
            expect(response, StatusCode::CREATED)
        }
        Kind::Update => {
            let path = format!("/api/tasks/{}", task_id());
            let body = json(&serde_json::json!({"completed": round.is_multiple_of(2)}));
            let response = connection
                .send(Method::PATCH, &path, Some(&user.access_token), Some(body))
                .await;
            expect(response, StatusCode::OK)
        }
        Kind::BadToken => {
            let path = format!("/api/tasks/{}", task_id());
            let response = connection
                .send(Method::GET, &path, Some(&user.bad_token), None)
                .await;
            expect(response, StatusCode::UNAUTHORIZED)
        }
        Kind::SignIn => {
            let body = json(&SignIn {
                email: &user.email,
                password: users::PASSWORD,
            });
            let response = connection
                .send(Method::POST, "/api/auth/sign-in", None, Some(body))
                .await;
            expect(response, StatusCode::OK)
        }
        Kind::Refresh => refresh(connection, user).await,
    }
}

/// Uses the user's latest refresh token and keeps its successor. The lock is never held
/// across the request: the worker owning this user is the only one that gets here for it.
async fn refresh(connection: &mut Connection, user: &User) -> Outcome {
    let presented = match user.refresh_token.lock() {
        Ok(token) => token.clone(),
        Err(_) => return Outcome::Unexpected("refresh token lock poisoned".into()),
    };
    let body = json(&serde_json::json!({"refresh_token": presented}));
    let response = match connection
        .send(Method::POST, "/api/auth/refresh", None, Some(body))
        .await
    {
        Ok(response) => response,
        Err(error) => return Outcome::NoAnswer(error),
    };
    if response.status != StatusCode::OK {
        return Outcome::Unexpected(format!("status {}", response.status.as_u16()));
    }
    match serde_json::from_slice::<TokenResponse>(&response.body) {
        Ok(issued) => match user.refresh_token.lock() {
            Ok(mut token) => {
                *token = issued.refresh_token;
                Outcome::Ok
            }
            Err(_) => Outcome::Unexpected("refresh token lock poisoned".into()),
        },
        Err(_) => Outcome::Unexpected("unreadable token response".into()),
    }
}

#[derive(Serialize)]
struct SignIn<'a> {
    email: &'a str,
    password: &'a str,
}

fn json(value: &impl Serialize) -> Bytes {
    // Serialising these plain structs cannot fail; an empty body would show up as 400s.
    Bytes::from(serde_json::to_vec(value).unwrap_or_default())
}

fn expect(
    response: Result<crate::http::Response, TransportError>,
    expected: StatusCode,
) -> Outcome {
    match response {
        Ok(response) if response.status == expected => Outcome::Ok,
        Ok(response) => Outcome::Unexpected(format!("status {}", response.status.as_u16())),
        Err(error) => Outcome::NoAnswer(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_never_has_more_workers_than_users() {
        let refresh = Group {
            kind: Kind::Refresh,
            concurrency: 64,
        };
        assert_eq!(effective_concurrency(&refresh, 10), 10);
        assert_eq!(effective_concurrency(&refresh, 1000), 64);
        let list = Group {
            kind: Kind::List,
            concurrency: 256,
        };
        assert_eq!(effective_concurrency(&list, 10), 256);
    }

    #[test]
    fn workers_share_users_without_overlap() {
        assert_eq!(users_of(1, 4, 10), vec![1, 5, 9]);
        assert_eq!(users_of(3, 4, 10), vec![3, 7]);
        // More workers than users: the extra ones wrap around.
        assert_eq!(users_of(12, 16, 10), vec![2]);
        assert!(users_of(0, 4, 0).is_empty());
    }
}
