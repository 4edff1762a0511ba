//! Sign-in throttling (per account and per client IP), kept in the database so every replica
//! sees the same counts. See `ThrottleSettings` for the rule.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::config::ThrottleSettings;
use crate::entities::sign_in_failures;

/// The counters one sign-in attempt touches.
pub struct ThrottleKeys {
    account: String,
    ip: Option<String>,
}

impl ThrottleKeys {
    /// `account` is the normalised email when it parses, else the trimmed input (an invalid
    /// email is throttled like any other, so throttling reveals nothing about accounts).
    pub fn new(account: &str, ip: Option<&str>) -> Self {
        let account: String = account.trim().chars().take(320).collect();
        Self {
            account: format!("account:{account}"),
            ip: ip.map(|ip| format!("ip:{ip}")),
        }
    }
}

pub struct SignInThrottle {
    settings: ThrottleSettings,
}

impl SignInThrottle {
    pub fn new(settings: ThrottleSettings) -> Self {
        Self { settings }
    }

    /// `Err(retry_after)` when either counter is locked.
    pub async fn check<C: ConnectionTrait>(
        &self,
        db: &C,
        keys: &ThrottleKeys,
    ) -> anyhow::Result<Result<(), Duration>> {
        let now = crate::clock::now();
        let mut wait = Duration::ZERO;
        for key in self.keyed(keys) {
            let row = sign_in_failures::Entity::find_by_id(key.0.to_owned())
                .one(db)
                .await
                .context("reading sign-in failures")?;
            if let Some(locked_until) = row.and_then(|r| r.locked_until).filter(|t| *t > now) {
                wait = wait.max(ceil_secs(locked_until - now));
            }
        }
        Ok(if wait.is_zero() { Ok(()) } else { Err(wait) })
    }

    pub async fn record_failure<C: ConnectionTrait>(
        &self,
        db: &C,
        keys: &ThrottleKeys,
    ) -> anyhow::Result<()> {
        let now = crate::clock::now();
        for (key, limit) in self.keyed(keys) {
            self.count_failure(db, key, limit, now).await?;
        }
        Ok(())
    }

    /// A successful sign-in clears the account's counter (not the IP's).
    pub async fn record_success<C: ConnectionTrait>(
        &self,
        db: &C,
        keys: &ThrottleKeys,
    ) -> anyhow::Result<()> {
        sign_in_failures::Entity::delete_by_id(keys.account.clone())
            .exec(db)
            .await
            .context("clearing sign-in failures")?;
        Ok(())
    }

    fn keyed<'a>(&self, keys: &'a ThrottleKeys) -> Vec<(&'a str, u32)> {
        let mut keyed = vec![(keys.account.as_str(), self.settings.account_max_failures)];
        if let Some(ip) = &keys.ip {
            keyed.push((ip.as_str(), self.settings.ip_max_failures));
        }
        keyed
    }

    async fn count_failure<C: ConnectionTrait>(
        &self,
        db: &C,
        key: &str,
        limit: u32,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let window = chrono::Duration::seconds(i64::try_from(self.settings.window_secs)?);
        // First failure: insert. Otherwise increment atomically, or restart an old window.
        sign_in_failures::Entity::insert(sign_in_failures::ActiveModel {
            key: Set(key.to_owned()),
            failures: Set(0),
            window_started_at: Set(now),
            locked_until: Set(None),
        })
        .on_conflict_do_nothing()
        .exec(db)
        .await
        .context("recording a sign-in failure")?;
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
            .context("restarting a sign-in failure window")?;
        sign_in_failures::Entity::update_many()
            .col_expr(
                sign_in_failures::Column::Failures,
                sea_orm::sea_query::ExprTrait::add(
                    Expr::col(sign_in_failures::Column::Failures),
                    1,
                ),
            )
            .filter(sign_in_failures::Column::Key.eq(key))
            .exec(db)
            .await
            .context("counting a sign-in failure")?;
        let row = sign_in_failures::Entity::find_by_id(key.to_owned())
            .one(db)
            .await
            .context("reading sign-in failures")?;
        let failures = row.map_or(0, |r| u32::try_from(r.failures).unwrap_or(0));
        if failures >= limit {
            let lockout = self.lockout(failures - limit);
            sign_in_failures::Entity::update_many()
                .col_expr(
                    sign_in_failures::Column::LockedUntil,
                    Expr::value(now + lockout),
                )
                .filter(sign_in_failures::Column::Key.eq(key))
                .exec(db)
                .await
                .context("locking sign-in")?;
            tracing::warn!(
                kind = key.split(':').next().unwrap_or(""),
                failures,
                "sign-in throttled"
            );
        }
        Ok(())
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

fn ceil_secs(delta: chrono::Duration) -> Duration {
    let millis = u64::try_from(delta.num_milliseconds()).unwrap_or(0);
    Duration::from_secs(millis.div_ceil(1000).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_doubles_and_is_capped() {
        let throttle = SignInThrottle::new(ThrottleSettings::default());
        assert_eq!(throttle.lockout(0).num_seconds(), 30);
        assert_eq!(throttle.lockout(1).num_seconds(), 60);
        assert_eq!(throttle.lockout(3).num_seconds(), 240);
        assert_eq!(throttle.lockout(10).num_seconds(), 900);
        assert_eq!(throttle.lockout(200).num_seconds(), 900);
    }
}
