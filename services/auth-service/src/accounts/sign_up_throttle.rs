//! Sign-up throttling per client address: at most `sign_ups_per_address` attempts per
//! `sign_up_window_secs` (a fixed window). Every attempt that reaches the hasher counts, so
//! one client can neither fill the database with accounts nor keep the hasher busy. Kept in
//! the sign-in counters' table (keys `sign-up:<address>`), so every replica sees the same
//! counts.

use std::net::IpAddr;
use std::time::Duration;

use sea_orm::ConnectionTrait;

use super::sign_in_throttle::{ceil_secs, count_attempt, take_back};
use crate::client_address::throttle_key;
use crate::clock::Clock;
use crate::config::ThrottleSettings;

pub struct SignUpThrottle {
    limit: u32,
    window: chrono::Duration,
    clock: Clock,
}

impl SignUpThrottle {
    pub fn new(settings: &ThrottleSettings, clock: Clock) -> anyhow::Result<Self> {
        Ok(Self {
            limit: settings.sign_ups_per_address,
            window: chrono::Duration::seconds(i64::try_from(settings.sign_up_window_secs)?),
            clock,
        })
    }

    /// Counts a sign-up from `ip`; `Err(retry_after)` (until the window ends) past the limit.
    pub async fn admit<C: ConnectionTrait>(
        &self,
        db: &C,
        ip: IpAddr,
    ) -> anyhow::Result<Result<(), Duration>> {
        let now = self.clock.now();
        let row = count_attempt(db, &key(ip), now, self.window).await?;
        if u32::try_from(row.failures).unwrap_or(u32::MAX) <= self.limit {
            return Ok(Ok(()));
        }
        tracing::warn!(attempts = row.failures, "sign-up throttled");
        Ok(Err(ceil_secs(row.window_started_at + self.window - now)))
    }

    /// Takes back the attempt of a sign-up that was admitted but never hashed (the hasher was
    /// busy), so a client retrying through an overload does not use up its window, as sign-in
    /// does (`SignInThrottle::record_unchecked`).
    pub async fn record_unchecked<C: ConnectionTrait>(
        &self,
        db: &C,
        ip: IpAddr,
    ) -> anyhow::Result<()> {
        take_back(db, &key(ip)).await
    }
}

fn key(ip: IpAddr) -> String {
    format!("sign-up:{}", throttle_key(ip))
}
