//! Log lines. Our spans never record tokens, passwords or cookies (handlers use `skip_all`).

use tracing_subscriber::EnvFilter;

/// A server: log lines on stdout, filtered by `RUST_LOG` (default `info`).
pub fn init_for_server() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
}

/// A command-line tool: stdout holds only the command's results, so log lines go to stderr,
/// and only warnings unless `RUST_LOG` asks for more.
pub fn init_for_cli() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Integration tests: the services' log lines, shown only with `TEST_LOG=1` (filtered by
/// `RUST_LOG`, default `info`). Safe to call from every test; the first call wins.
pub fn init_for_tests() {
    if std::env::var("TEST_LOG").as_deref() != Ok("1") {
        return;
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}
