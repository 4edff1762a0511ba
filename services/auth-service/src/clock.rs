//! "Now" for stored timestamps and for rules that depend on elapsed time.
//!
//! [`now`] is the system time. A [`Clock`] is handed to the parts whose rules wait for time
//! to pass (sign-in lockouts, the refresh-token reuse grace), so tests can move it forward
//! instead of sleeping; in the service it is the system time too.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};

/// Now, truncated to the microsecond (Postgres' precision), so a timestamp reads back exactly
/// as written on both backends.
pub fn now() -> DateTime<Utc> {
    truncate(Utc::now())
}

fn truncate(time: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(time.timestamp_micros()).unwrap_or(time)
}

/// The system time, plus however far [`Clock::advance`] has moved it. Clones share one
/// offset, so advancing the app's clock moves it for every part that holds it.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    ahead_micros: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        let ahead = chrono::Duration::microseconds(self.ahead_micros.load(Ordering::Relaxed));
        truncate(Utc::now() + ahead)
    }

    /// Moves this clock by `by` (tests: a lockout or grace period passes at once; a negative
    /// `by` plays a replica whose clock is behind).
    pub fn advance(&self, by: chrono::Duration) {
        let micros = by.num_microseconds().unwrap_or(i64::MAX);
        self.ahead_micros.fetch_add(micros, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_a_clone_moves_every_clone() {
        let clock = Clock::default();
        let shared = clock.clone();
        let before = clock.now();
        shared.advance(chrono::Duration::minutes(10));
        let moved = clock.now() - before;
        assert!(moved >= chrono::Duration::minutes(10), "{moved}");
        assert!(moved < chrono::Duration::minutes(11), "{moved}");
    }
}
