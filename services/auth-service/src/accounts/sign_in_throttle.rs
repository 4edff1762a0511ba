//! Sign-in throttling (per account and per client IP), kept in the database so every replica
//! sees the same counts. See `ThrottleSettings` for the rule.

use std::net::IpAddr;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use crate::client_address::throttle_key;
use crate::clock::Clock;
use crate::config::ThrottleSettings;
use crate::domain::Email;
use crate::entities::sign_in_failures;

/// The counters one sign-in attempt touches.
pub struct ThrottleKeys {
    account: String,
    ip: Option<String>,
}

impl ThrottleKeys {
    /// The account key is the normalised email when `email` parses as one, else a digest of
    /// the trimmed input (an invalid email is throttled like any other: throttling reveals no
    /// accounts). The address key is the client's address, an IPv6 one per /64.
    pub fn new(email: &str, ip: Option<IpAddr>) -> Self {
        let account = match Email::parse(email) {
            Ok(email) => format!("account:{email}"),
            // Not an email: a digest of the trimmed input, so any bytes (even NUL) are safe
            // to store and the key stays short.
            Err(_) => format!(
                "account-digest:{:x}",
                Sha256::digest(email.trim().as_bytes())
            ),
        };
        Self {
            account,
            ip: ip.map(|ip| format!("ip:{}", throttle_key(ip))),
        }
    }
}

pub struct SignInThrottle {
    settings: ThrottleSettings,
    /// Lockouts end by this clock.
    clock: Clock,
}

impl SignInThrottle {
    pub fn new(settings: ThrottleSettings, clock: Clock) -> Self {
        Self { settings, clock }
    }

    /// Counts this attempt *before* any password is hashed, so a burst of parallel guesses
    /// cannot all pass the check before the first failure is written. `Err(retry_after)` when
    /// a counter is locked or this attempt goes over the limit; such an attempt costs no
    /// hash. Over the limit, one attempt per lockout period is let through (the lockout is
    /// taken first, atomically, so concurrent ones are refused), and each doubles the next.
    pub async fn admit<C: ConnectionTrait>(
        &self,
        db: &C,
        keys: &ThrottleKeys,
    ) -> anyhow::Result<Result<(), Duration>> {
        // The IP first: a refused address does not touch the account's counter.
        for (key, limit) in self.keyed(keys) {
            if let Err(wait) = self.admit_one(db, key, limit).await? {
                return Ok(Err(wait));
            }
        }
        Ok(Ok(()))
    }

    /// A successful sign-in clears the account's counter and takes back this attempt from
    /// the IP's (the IP keeps any lockout it earned).
    pub async fn record_success<C: ConnectionTrait>(
        &self,
        db: &C,
        keys: &ThrottleKeys,
    ) -> anyhow::Result<()> {
        // Reset, not deleted: a concurrent attempt between its insert and its count
        // (`count`) must still find the row (deleting it made that attempt a 500). Unused
        // rows go with the retention pass (`crate::retention`).
        sign_in_failures::Entity::update_many()
            .col_expr(sign_in_failures::Column::Failures, Expr::value(0))
            .col_expr(
                sign_in_failures::Column::WindowStartedAt,
                Expr::value(self.clock.now()),
            )
            .col_expr(
                sign_in_failures::Column::LockedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(sign_in_failures::Column::Key.eq(keys.account.as_str()))
            .exec(db)
            .await
            .context("clearing sign-in failures")?;
        if let Some(ip) = &keys.ip {
            take_back(db, ip).await?;
        }
        Ok(())
    }

    /// An attempt that was counted but never checked (the hasher was too busy: 503) is taken
    /// back from both counters, so a client retrying through an overload is not locked out.
    pub async fn record_unchecked<C: ConnectionTrait>(
        &self,
        db: &C,
        keys: &ThrottleKeys,
    ) -> anyhow::Result<()> {
        take_back(db, &keys.account).await?;
        if let Some(ip) = &keys.ip {
            take_back(db, ip).await?;
        }
        Ok(())
    }

    fn keyed<'a>(&self, keys: &'a ThrottleKeys) -> Vec<(&'a str, u32)> {
        let mut keyed = Vec::with_capacity(2);
        if let Some(ip) = &keys.ip {
            keyed.push((ip.as_str(), self.settings.ip_max_failures));
        }
        keyed.push((keys.account.as_str(), self.settings.account_max_failures));
        keyed
    }

    async fn admit_one<C: ConnectionTrait>(
        &self,
        db: &C,
        key: &str,
        limit: u32,
    ) -> anyhow::Result<Result<(), Duration>> {
        let now = self.clock.now();
        let existing = sign_in_failures::Entity::find_by_id(key.to_owned())
            .one(db)
            .await
            .context("reading sign-in failures")?;
        if let Some(until) = existing
            .and_then(|row| row.locked_until)
            .filter(|t| *t > now)
        {
            return Ok(Err(ceil_secs(until - now)));
        }
        let window = chrono::Duration::seconds(i64::try_from(self.settings.window_secs)?);
        let row = count_attempt(db, key, now, window).await?;
        let attempts = u32::try_from(row.failures).unwrap_or(0);
        if attempts <= limit {
            return Ok(Ok(()));
        }
        let excess = attempts - limit - 1;
        let lockout = self.lockout(excess);
        // Take the next lockout atomically: only the request whose update lands proceeds.
        let mut take = sign_in_failures::Entity::update_many()
            .col_expr(
                sign_in_failures::Column::LockedUntil,
                Expr::value(now + lockout),
            )
            .filter(sign_in_failures::Column::Key.eq(key));
        take = match row.locked_until {
            None => take.filter(sign_in_failures::Column::LockedUntil.is_null()),
            Some(previous) => take.filter(sign_in_failures::Column::LockedUntil.eq(previous)),
        };
        let taken = take
            .exec(db)
            .await
            .context("locking sign-in")?
            .rows_affected
            == 1;
        tracing::warn!(
            kind = key.split(':').next().unwrap_or(""),
            attempts,
            "sign-in throttled"
        );
        match (row.locked_until, taken) {
            // The first time over the limit: lock, and this attempt is refused.
            (None, _) => Ok(Err(ceil_secs(lockout))),
            // A lockout has passed: this one attempt may try; the next lockout already holds.
            (Some(previous), true) if previous <= now => Ok(Ok(())),
            _ => Ok(Err(ceil_secs(lockout))),
        }
    }

    /// base · 2^excess, capped.
    fn lockout(&self, excess: u32) -> chrono::Duration {
        let factor = 1u64.checked_shl(excess.min(32)).unwrap_or(u64::MAX);
        let secs = self
            .settings
            .base_lockout_secs
            .saturating_mul(factor)
            .min(self.settings.max_lockout_secs);
        chrono::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX))
    }
}

/// Takes one attempt back from `key`'s counter (never below zero). The sign-up throttle
/// takes its attempts back the same way.
pub(super) async fn take_back<C: ConnectionTrait>(db: &C, key: &str) -> anyhow::Result<()> {
    sign_in_failures::Entity::update_many()
        .col_expr(
            sign_in_failures::Column::Failures,
            sea_orm::sea_query::ExprTrait::sub(Expr::col(sign_in_failures::Column::Failures), 1),
        )
        .filter(sign_in_failures::Column::Key.eq(key))
        .filter(sign_in_failures::Column::Failures.gt(0))
        .exec(db)
        .await
        .context("taking back an attempt")?;
    Ok(())
}

/// Adds one attempt to `key`'s counter (restarting it when its `window` has passed) and
/// returns the counter after it. The sign-up throttle counts in the same table.
pub(super) async fn count_attempt<C: ConnectionTrait>(
    db: &C,
    key: &str,
    now: DateTime<Utc>,
    window: chrono::Duration,
) -> anyhow::Result<sign_in_failures::Model> {
    sign_in_failures::Entity::insert(sign_in_failures::ActiveModel {
        key: Set(key.to_owned()),
        failures: Set(0),
        window_started_at: Set(now),
        locked_until: Set(None),
    })
    .on_conflict_do_nothing()
    .exec(db)
    .await
    .context("recording a sign-in attempt")?;
    sign_in_failures::Entity::update_many()
        .col_expr(sign_in_failures::Column::Failures, Expr::value(0))
        .col_expr(sign_in_failures::Column::WindowStartedAt, Expr::value(now))
        .col_expr(
            sign_in_failures::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(sign_in_failures::Column::Key.eq(key))
        .filter(sign_in_failures::Column::WindowStartedAt.lt(now - window))
        .exec(db)
        .await
        .context("restarting a sign-in window")?;
    sign_in_failures::Entity::update_many()
        .col_expr(
            sign_in_failures::Column::Failures,
            sea_orm::sea_query::ExprTrait::add(Expr::col(sign_in_failures::Column::Failures), 1),
        )
        .filter(sign_in_failures::Column::Key.eq(key))
        .exec_with_returning(db)
        .await
        .context("counting a sign-in attempt")?
        .into_iter()
        .next()
        .context("the sign-in counter vanished")
}

pub(super) fn ceil_secs(delta: chrono::Duration) -> Duration {
    let millis = u64::try_from(delta.num_milliseconds()).unwrap_or(0);
    Duration::from_secs(millis.div_ceil(1000).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_doubles_and_is_capped() {
        let throttle = SignInThrottle::new(ThrottleSettings::default(), Clock::default());
        assert_eq!(throttle.lockout(0).num_seconds(), 30);
        assert_eq!(throttle.lockout(1).num_seconds(), 60);
        assert_eq!(throttle.lockout(3).num_seconds(), 240);
        assert_eq!(throttle.lockout(10).num_seconds(), 900);
        assert_eq!(throttle.lockout(200).num_seconds(), 900);
    }
}
