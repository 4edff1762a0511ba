//! The one source of "now" for stored timestamps.

use chrono::{DateTime, Utc};

/// Now, truncated to the microsecond (Postgres' precision), so a timestamp reads back exactly
/// as written on both backends.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}
