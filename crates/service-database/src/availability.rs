//! Telling "the database cannot be reached right now" from every other database error, so a
//! service can answer 503 with `Retry-After` (the client may simply try again) instead of a
//! 500 (a bug of ours), and recover without a restart when the database is back: the pool
//! drops broken connections and opens new ones by itself.

use sea_orm::sqlx;
use sea_orm::{DbErr, RuntimeErr};

/// Whether `error` (anywhere in its chain of causes) is the database being unreachable: no
/// connection could be had from the pool in time, a connection broke, or the server is
/// shutting down or starting up.
pub fn is_unavailable(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<DbErr>())
        .any(db_err_is_unavailable)
}

fn db_err_is_unavailable(error: &DbErr) -> bool {
    match error {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(runtime) | DbErr::Exec(runtime) | DbErr::Query(runtime) => match runtime {
            RuntimeErr::SqlxError(sqlx_error) => sqlx_is_unavailable(sqlx_error),
            _ => false,
        },
        _ => false,
    }
}

fn sqlx_is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // SQLSTATE class 08: connection exception; 57P01-57P03: the server is shutting down,
        // crashed, or cannot accept connections yet.
        sqlx::Error::Database(database) => database.code().is_some_and(|code| {
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sea_orm::ConnAcquireErr;

    use super::*;

    fn wrapped(error: DbErr) -> anyhow::Error {
        anyhow::Error::new(error)
            .context("loading a task")
            .context("listing tasks")
    }

    #[test]
    fn an_unreachable_database_is_told_from_other_errors() {
        let io = || std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        for unavailable in [
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            DbErr::Conn(RuntimeErr::SqlxError(Arc::new(sqlx::Error::Io(io())))),
            DbErr::Query(RuntimeErr::SqlxError(Arc::new(sqlx::Error::PoolTimedOut))),
            DbErr::Exec(RuntimeErr::SqlxError(Arc::new(sqlx::Error::Io(io())))),
        ] {
            assert!(is_unavailable(&wrapped(unavailable)));
        }
        for other in [
            DbErr::RecordNotFound("task".into()),
            DbErr::Query(RuntimeErr::SqlxError(Arc::new(sqlx::Error::RowNotFound))),
            DbErr::Custom("bug".into()),
        ] {
            assert!(!is_unavailable(&wrapped(other)));
        }
        assert!(!is_unavailable(&anyhow::anyhow!("not a database error")));
    }
}
