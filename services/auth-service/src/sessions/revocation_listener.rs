//! The one listener per replica that wakes every waiting long-poll of the revocation feed
//! (docs/architecture.md, "Revocation feed"). Waiters never read the table while they wait:
//! the listener reads the new entries once per wake and publishes them, and a follower at the
//! head of the log is answered from that.
//!
//! What wakes the listener: a commit on this replica ([`super::revocation_log::RevocationLog::commit`]),
//! and on Postgres every replica's commit, through `LISTEN`/`NOTIFY` (the notification is
//! sent inside the writing transaction, so Postgres delivers it only if and when that commits).
//! When the listening connection drops, it reconnects and wakes the reader once, which reads
//! whatever was written meanwhile: nobody misses an entry.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sea_orm::sqlx::postgres::{PgListener, PgPoolOptions};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::{Notify, watch};

use crate::entities::revocations;

/// The Postgres channel every replica listens on.
pub(super) const CHANNEL: &str = "taskgate_revocations";
/// The listener reads at most this many entries at a time (it reads on until it has all).
/// How long the listener waits for a wake-up before it reads the log anyway.
const SAFETY_READ_INTERVAL: Duration = Duration::from_secs(5);
const BATCH: u64 = 1000;
const FIRST_RETRY: Duration = Duration::from_millis(250);
const MAX_RETRY: Duration = Duration::from_secs(30);

/// What the listener read last: the entries after `after`, up to and including `newest` (the
/// newest entry in the log when it read).
#[derive(Debug)]
pub(super) struct Tail {
    pub after: i64,
    pub newest: i64,
    pub rows: Vec<revocations::Model>,
}

/// Shared by the log (writers poke `wake`, waiters watch `tail`) and the listener.
pub(super) struct News {
    /// `None` until the listener's first read.
    pub tail: watch::Sender<Option<Arc<Tail>>>,
    /// One stored permit: wakes that arrive while the listener reads coalesce into one more read.
    pub wake: Notify,
}

impl Default for News {
    fn default() -> Self {
        Self {
            tail: watch::channel(None).0,
            wake: Notify::new(),
        }
    }
}

/// The listener of one replica; [`crate::workers::Workers`] runs it.
pub struct RevocationListener {
    pub(super) db: DatabaseConnection,
    pub(super) news: Arc<News>,
}

impl RevocationListener {
    /// Reads after every wake, for as long as it runs; on Postgres a second task listens for
    /// other replicas' commits.
    pub async fn run(self) {
        let listening = service_database::is_postgres(&self.db)
            .then(|| tokio::spawn(listen_for_commits(self.db.clone(), Arc::clone(&self.news))));
        // Aborts the listening task when this one is aborted (the server stopping).
        let _listening = listening.map(AbortOnDrop);
        let mut seen: Option<i64> = None;
        let mut retry = FIRST_RETRY;
        loop {
            match read_news(&self.db, &self.news, &mut seen).await {
                Ok(()) => {
                    if retry != FIRST_RETRY {
                        tracing::info!("the revocation listener reads the log again");
                    }
                    retry = FIRST_RETRY;
                    // Woken by a commit (ours, or another replica's NOTIFY); and now and then
                    // regardless, one `MAX(id)` per replica, in case a notification was lost
                    // (a pooler in transaction mode, say): never a read per waiter.
                    let _ =
                        tokio::time::timeout(SAFETY_READ_INTERVAL, self.news.wake.notified()).await;
                }
                Err(error) => {
                    if retry == FIRST_RETRY {
                        tracing::warn!(error = ?error, "the revocation listener cannot read the \
                            log; retrying (long-polls wait until it can)");
                    }
                    tokio::time::sleep(retry).await;
                    retry = (retry * 2).min(MAX_RETRY);
                }
            }
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Reads what was written after `seen` and publishes it (nothing new: nobody is woken).
async fn read_news(
    db: &DatabaseConnection,
    news: &News,
    seen: &mut Option<i64>,
) -> anyhow::Result<()> {
    let newest = super::revocation_log::newest_id(db).await?;
    let after = match *seen {
        // A log that lost its history (a restored or recreated database) starts again.
        Some(after) if after <= newest => after,
        _ => {
            news.tail.send_replace(Some(Arc::new(Tail {
                after: newest,
                newest,
                rows: Vec::new(),
            })));
            *seen = Some(newest);
            return Ok(());
        }
    };
    let mut after = after;
    while after < newest {
        let rows = revocations::Entity::find()
            .filter(revocations::Column::Id.gt(after))
            .order_by_asc(revocations::Column::Id)
            .limit(BATCH)
            .all(db)
            .await
            .context("reading new revocations")?;
        // Nothing left between them (pruned): the log is read up to `newest` all the same.
        let last = rows.last().map_or(newest, |row| row.id);
        news.tail.send_replace(Some(Arc::new(Tail {
            after,
            newest: last,
            rows,
        })));
        after = last;
        *seen = Some(last);
    }
    Ok(())
}

/// Postgres: `LISTEN` on a connection of its own (outside the service's pool, so the pool is
/// never short of it) and wake the reader on every notification, and once after every
/// (re)connect.
async fn listen_for_commits(db: DatabaseConnection, news: Arc<News>) {
    let options = (*db.get_postgres_connection_pool().connect_options()).clone();
    let own_pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_lazy_with(options);
    let mut retry = FIRST_RETRY;
    loop {
        let mut listener = match listen(&own_pool).await {
            Ok(listener) => listener,
            Err(error) => {
                if retry == FIRST_RETRY {
                    tracing::warn!(error = %error, "cannot LISTEN for revocations; retrying \
                        (other replicas' revocations wait until then)");
                }
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(MAX_RETRY);
                continue;
            }
        };
        retry = FIRST_RETRY;
        // Whatever was committed while nobody listened is read now.
        news.wake.notify_one();
        loop {
            match listener.try_recv().await {
                Ok(Some(_)) => news.wake.notify_one(),
                Ok(None) => {
                    // sqlx reconnected (and listens again); notifications sent meanwhile are lost,
                    // so read the log once.
                    tracing::info!("the revocation LISTEN connection dropped and reconnected");
                    news.wake.notify_one();
                }
                Err(error) => {
                    tracing::warn!(error = %error, "the revocation LISTEN connection failed; \
                        reconnecting");
                    break;
                }
            }
        }
    }
}

async fn listen(pool: &sea_orm::sqlx::PgPool) -> Result<PgListener, sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}
