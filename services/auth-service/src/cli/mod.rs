//! What the `auth-service` administrative commands do and print; `main.rs` only parses the
//! command line and calls these. Results go to stdout, as a table or, with `--json`, as one
//! JSON array for scripts; errors are returned, and `main` prints them as one line on stderr.

use serde::Serialize;

pub mod clients;
pub mod keys;
pub mod outbox;

/// How a list is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// One JSON array, for scripts.
    Json,
}

impl Format {
    pub fn json(json: bool) -> Self {
        if json { Self::Json } else { Self::Table }
    }
}

fn print_json<T: Serialize>(rows: &[T]) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(rows)?);
    Ok(())
}

/// An optional time as the tables show it.
fn or_dash(time: Option<chrono::DateTime<chrono::Utc>>) -> String {
    time.map_or("-".to_owned(), |t| t.to_rfc3339())
}
