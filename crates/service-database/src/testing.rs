//! Throwaway databases for integration tests: a fresh Postgres database (both services'
//! schemas inside it, as in production) or a fresh folder of SQLite files. Each is removed
//! when its [`TestDatabase`] is dropped, so a test that panics cleans up too.
//!
//! Postgres is at `TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`);
//! a Postgres test that cannot reach it fails. `make test` decides before running anything
//! whether the Postgres tests run: without a server (and without `CI=true`) it leaves them out
//! by name (`::postgres`) and lists them as skipped.

use std::path::PathBuf;

pub use crate::throwaway_cluster::ThrowawayCluster;

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

/// The server the Postgres tests use (the same default as `scripts/test.sh` probes).
pub fn admin_url() -> String {
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
    /// A new, empty database on `backend`. Also turns on the services' log lines when
    /// `TEST_LOG=1`.
    pub async fn create(backend: Backend) -> Self {
        service_runtime::telemetry::init_for_tests();
        let id = Uuid::now_v7().simple().to_string();
        let dir = std::env::temp_dir().join(format!("taskgate-test-{id}"));
        if let Err(e) = std::fs::create_dir_all(&dir) {
            panic!("creating {}: {e}", dir.display());
        }
        let name = format!("taskgate_test_{id}");
        if backend == Backend::Postgres {
            let admin = match Database::connect(admin_url()).await {
                Ok(db) => db,
                Err(e) => panic!(
                    "Postgres is unreachable at {} ({e}): start it, or run `make test`, which \
                     leaves the Postgres tests out when no server answers (outside CI)",
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
        Self { backend, name, dir }
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

    /// The Postgres database's name (`taskgate_test_…`); on SQLite, unused.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDatabase {
    /// Drops the Postgres database (closing the test apps' connections to it) and removes the
    /// scratch folder. `Drop` cannot await, and the test's own runtime may be unwinding, so
    /// the drop runs on a thread of its own with a runtime of its own, and is waited for.
    fn drop(&mut self) {
        if self.backend == Backend::Postgres {
            let name = self.name.clone();
            let dropped = std::thread::spawn(move || drop_postgres_database(&name)).join();
            if let Ok(Err(e)) | Err(e) =
                dropped.map_err(|_| "the clean-up thread panicked".to_owned())
            {
                eprintln!("test database {} was not dropped: {e}", self.name);
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn drop_postgres_database(name: &str) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let admin = Database::connect(admin_url())
            .await
            .map_err(|e| e.to_string())?;
        let dropped = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .map_err(|e| e.to_string());
        let _ = admin.close().await;
        dropped.map(|_| ())
    })
}

/// Runs `async fn $name(Backend)` once per backend, as the tests `$name::sqlite` and
/// `$name::postgres` (the `::postgres` suffix is how `make test` finds the Postgres tests).
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

/// Runs `async fn $name(Backend)` on Postgres only, as the test `$name::postgres`.
#[macro_export]
macro_rules! on_postgres_only {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use $crate::testing::Backend;
            #[tokio::test]
            async fn postgres() {
                super::$name(Backend::Postgres).await;
            }
        }
    )*};
}
