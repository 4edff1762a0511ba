//! tasks-service integration tests: a real auth-service and a real tasks-service, in-process on
//! random ports, the tasks-service trusting only the auth-service's published keys. Each
//! scenario runs on SQLite and on Postgres.

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

mod authentication;
mod compat;
mod crud;
mod isolation;
mod lifecycle;
