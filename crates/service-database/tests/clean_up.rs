//! A test that panics still cleans up: its database and scratch folder go when the panic
//! unwinds past the `TestDatabase`.

use sea_orm::{ConnectionTrait, Database, Statement};
use service_database::on_both_backends;
use service_database::testing::{Backend, TestDatabase, admin_url};

on_both_backends!(a_panicking_test_leaves_nothing_behind);

async fn a_panicking_test_leaves_nothing_behind(backend: Backend) {
    let (made, left) = std::sync::mpsc::channel();
    // The "test" runs on a thread of its own and panics while its database exists.
    let outcome = std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let db = TestDatabase::create(backend).await;
            made.send((db.name().to_owned(), db.dir().to_path_buf()))
                .unwrap();
            panic!("a deliberately failing test");
        })
    })
    .join();
    assert!(outcome.is_err(), "the test thread panicked");
    let (name, dir) = left.recv().unwrap();

    assert!(!dir.exists(), "{} is left behind", dir.display());
    if backend == Backend::Postgres {
        let admin = Database::connect(admin_url()).await.unwrap();
        let rows = admin
            .query_all_raw(Statement::from_sql_and_values(
                sea_orm::DbBackend::Postgres,
                "SELECT datname FROM pg_database WHERE datname = $1",
                [name.clone().into()],
            ))
            .await
            .unwrap();
        assert!(rows.is_empty(), "database {name} is left behind");
        let _ = admin.close().await;
    }
}
