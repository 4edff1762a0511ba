//! The state every handler shares.

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use service_runtime::cors::Origins;

use crate::accounts::password_hasher::PasswordHasher;
use crate::accounts::sign_in_throttle::SignInThrottle;
use crate::accounts::sign_up_throttle::SignUpThrottle;
use crate::client_address::TrustedProxies;
use crate::clock::Clock;
use crate::sessions::refresh::ReusePolicy;
use crate::sessions::revocation_log::RevocationLog;
use crate::tokens::access_token::AccessTokenIssuer;
use crate::tokens::key_store::KeyStore;

/// What the handlers share, built once by `startup` (the service's own `Verifier` is
/// registered beside it, for `AuthUser` and `/oauth/*`).
pub struct AppState {
    pub db: DatabaseConnection,
    pub hasher: PasswordHasher,
    /// Shared with the housekeeping worker, which reloads them.
    pub keys: Arc<KeyStore>,
    pub tokens: AccessTokenIssuer,
    /// A session's absolute lifetime.
    pub session_ttl: chrono::Duration,
    pub secure_cookies: bool,
    pub revocations: RevocationLog,
    /// See `sessions::refresh::rotate`.
    pub refresh_reuse_grace: chrono::Duration,
    pub throttle: SignInThrottle,
    pub sign_up_throttle: SignUpThrottle,
    /// Whose forwarding headers say where a request comes from (`routes::client_info`).
    pub proxies: TrustedProxies,
    /// The clock of the time rules (shared with `throttle`).
    pub clock: Clock,
    /// The origins whose pages may use the refresh cookie (`cookie_mode`): our own and
    /// `AUTH__HTTP__ALLOWED_ORIGINS`.
    pub cookie_origins: Origins,
}

impl AppState {
    /// How a refresh judges a used token presented again (`sessions::refresh::rotate`).
    pub fn reuse_policy(&self) -> ReusePolicy<'_> {
        ReusePolicy {
            reuse_grace: self.refresh_reuse_grace,
            clock: &self.clock,
        }
    }
}
