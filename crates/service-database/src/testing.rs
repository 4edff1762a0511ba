//! Throwaway databases for integration tests: a fresh Postgres database (both services'
//! schemas inside it, as in production) or a fresh folder of SQLite files, removed afterwards.
//!
//! Postgres is at `TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`).
//! `make test` sets `TASKGATE_SKIP_POSTGRES=1` only when no server answers and `CI` is not
//! `true`; otherwise a Postgres test that cannot reach its server fails.

use std::path::PathBuf;

use sea_orm::{ConnectionTrait, Database};
use secrecy::SecretString;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestDatabase {
    backend: Backend,
    /// Postgres: the database name. SQLite: unused.
    name: String,
    /// Scratch folder: SQLite files and anything else a test app writes (master key).
    dir: PathBuf,
}

fn admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn server_url(database: &str) -> String {
    let admin = admin_url();
    let base = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(base, _)| base);
    format!("{base}/{database}")
}

impl TestDatabase {
    /// `None` when this backend's tests are to be skipped (Postgres with
    /// `TASKGATE_SKIP_POSTGRES=1`); the caller returns early.
    pub async fn create(backend: Backend) -> Option<Self> {
        let id = Uuid::now_v7().simple().to_string();
        let dir = std::env::temp_dir().join(format!("taskgate-test-{id}"));
        if let Err(e) = std::fs::create_dir_all(&dir) {
            panic!("creating {}: {e}", dir.display());
        }
        let name = format!("taskgate_test_{id}");
        if backend == Backend::Postgres {
            if std::env::var("TASKGATE_SKIP_POSTGRES").as_deref() == Ok("1") {
                eprintln!("SKIPPED: Postgres test (TASKGATE_SKIP_POSTGRES=1)");
                return None;
            }
            let admin = match Database::connect(admin_url()).await {
                Ok(db) => db,
                Err(e) => panic!(
                    "Postgres is unreachable at {} ({e}); start it, or set TASKGATE_SKIP_POSTGRES=1 outside CI",
                    admin_url()
                ),
            };
            if let Err(e) = admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
            {
                panic!("creating test database {name}: {e}");
            }
            let _ = admin.close().await;
        }
        Some(Self { backend, name, dir })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The database URL a service should use. On Postgres both services share one database
    /// (each in its own schema); on SQLite each gets its own file.
    pub fn url_for(&self, service: &str) -> SecretString {
        match self.backend {
            Backend::Postgres => SecretString::from(server_url(&self.name)),
            Backend::Sqlite => SecretString::from(format!(
                "sqlite://{}?mode=rwc",
                self.dir.join(format!("{service}.db")).display()
            )),
        }
    }

    /// A scratch folder removed with the database.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// Drops the database (closing other sessions to it) and removes the scratch folder.
    pub async fn destroy(self) {
        if self.backend == Backend::Postgres
            && let Ok(admin) = Database::connect(admin_url()).await
        {
            let _ = admin
                .execute_unprepared(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
                .await;
            let _ = admin.close().await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `async fn $name(Backend)` once per backend, as the tests `$name::sqlite` and
/// `$name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use $crate::testing::Backend;
            #[tokio::test]
            async fn sqlite() {
                super::$name(Backend::Sqlite).await;
            }
            #[tokio::test]
            async fn postgres() {
                super::$name(Backend::Postgres).await;
            }
        }
    )*};
}
