//! auth-service integration tests: the real app on a random port, against a fresh database,
//! each scenario on SQLite and on Postgres.

mod helpers;

/// Runs `async fn $name(Backend)` once per backend, as `$name::sqlite` and `$name::postgres`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use service_database::testing::Backend;
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

mod accounts;
mod keys;
mod oauth;
mod rotation;
mod sessions;
mod throttling;
