//! Settings, layered (docs/architecture.md, "Configuration"): built-in defaults → optional
//! `config/auth-service.toml` → `AUTH__…` environment variables (double underscore for
//! nesting), then `DATABASE_URL` if the database URL is still unset. Unknown keys are rejected
//! so a typo never silently falls back to a default. `config/auth-service.example.toml` lists
//! every setting with its default.

use std::path::PathBuf;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use service_runtime::cors::Origins;
use service_runtime::loopback::{exposure_warning, is_loopback_host, require_tls_unless_loopback};
use service_runtime::settings::{
    DatabaseSettings, comma_separated, load_layered, redacted, secret_from_env,
};
use service_runtime::shutdown::DrainTimes;

use crate::client_address::{ForwardedHeader, TrustedProxies};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RunEnv {
    #[default]
    Development,
    Production,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub env: RunEnv,
    pub http: HttpSettings,
    /// The public base URL, used as the token issuer (`iss`). Default: `http://<host>:<port>`.
    pub public_url: Option<String>,
    /// Where development files live: the SQLite database and a generated master key.
    pub data_dir: PathBuf,
    pub database: DatabaseSettings,
    pub tokens: TokenSettings,
    pub keys: KeySettings,
    pub throttle: ThrottleSettings,
    pub passwords: PasswordSettings,
    pub purge: PurgeSettings,
    pub retention: RetentionSettings,
    pub revocation_feed: RevocationFeedSettings,
    /// OAuth clients declared by the deployment (`[[clients]]` in `config/auth-service.toml`
    /// only: the `config` crate cannot express a list of tables in environment variables),
    /// created or brought up to date at start-up.
    pub clients: Vec<DeclaredClient>,
}

/// One `[[clients]]` table. The secret never sits in the file: `secret_env` names the
/// environment variable holding it (a compose `environment:` entry, a Kubernetes secret).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredClient {
    /// `svc-<uuid>`, fixed so other services' configuration can name it.
    pub client_id: String,
    pub name: String,
    /// Space-separated scopes, as for `clients create --scope`.
    pub scopes: String,
    #[serde(default)]
    pub audience: Option<String>,
    /// The environment variable that holds the secret (at least 32 characters).
    pub secret_env: String,
    /// Read from `secret_env` by `Settings::load`; tests set it directly.
    #[serde(skip)]
    pub secret: Option<SecretString>,
}

/// Where account deletions are delivered (`account_deletion::delivery`): the tasks-service,
/// called as a confidential client with the `tasks:purge` scope. Without `tasks_url`,
/// deletions still happen and wait in the outbox until it is set.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PurgeSettings {
    /// The tasks-service's base URL, e.g. `http://127.0.0.1:8082`.
    pub tasks_url: Option<String>,
    /// An OAuth client (`auth-service clients create --scope tasks:purge`) and its secret.
    pub client_id: Option<String>,
    #[serde(serialize_with = "redacted")]
    pub client_secret: Option<SecretString>,
    /// How often the worker looks for due deliveries.
    pub poll_interval_ms: u64,
    /// The first retry's delay; it doubles with each failure, up to `retry_max_secs`.
    pub retry_base_ms: u64,
    pub retry_max_secs: u64,
}

impl Default for PurgeSettings {
    fn default() -> Self {
        Self {
            tasks_url: None,
            client_id: None,
            client_secret: None,
            poll_interval_ms: 500,
            retry_base_ms: 1000,
            retry_max_secs: 300,
        }
    }
}

/// What the housekeeping worker prunes (`retention`): sign-in failure counters, used refresh
/// tokens, ended sessions and delivered account deletions, once older than `keep_secs`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionSettings {
    /// How long such rows are kept. At least the session lifetime: a used refresh token must
    /// be remembered as long as its session could live, or a replay of it would no longer be
    /// recognised as theft.
    pub keep_secs: u64,
    /// The most rows of each kind one housekeeping pass deletes.
    pub batch_size: u64,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self {
            keep_secs: 30 * 24 * 60 * 60,
            batch_size: 1000,
        }
    }
}

/// The revocation feed (`GET /api/auth/revocations`, `sessions::revocation_log`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RevocationFeedSettings {
    /// Long-polls one replica holds open at once; past it a poll gets 503 + `Retry-After`.
    /// A held poll costs a socket and a few KiB, never a database connection (one listener
    /// per replica wakes them all). Validators hold about one each.
    pub max_long_polls: usize,
}

impl Default for RevocationFeedSettings {
    fn default() -> Self {
        Self {
            max_long_polls: 10_000,
        }
    }
}

/// How much of the machine password hashing may take (see `accounts::password_hasher`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordSettings {
    /// Hashes (sign-up, sign-in, password change) running at once; more wait their turn.
    /// Each takes one core and 19 MiB while it runs. Unset: half the cores, at least one, so a
    /// sign-in storm leaves the rest for refreshes, key requests and co-located services.
    pub max_concurrent_hashes: Option<usize>,
    /// Requests that may wait for a hash at once; past it, 503 with `Retry-After`, unhashed.
    pub max_queued_hashes: usize,
    /// The longest a request waits in that queue before it gets the same 503.
    pub max_hash_wait_ms: u64,
}

impl Default for PasswordSettings {
    fn default() -> Self {
        Self {
            max_concurrent_hashes: None,
            max_queued_hashes: 32,
            max_hash_wait_ms: 2000,
        }
    }
}

impl PasswordSettings {
    pub fn max_concurrent_hashes(&self) -> usize {
        self.max_concurrent_hashes.unwrap_or_else(|| {
            let cores = std::thread::available_parallelism().map_or(1, usize::from);
            (cores / 2).max(1)
        })
    }

    pub fn hasher_limits(&self) -> crate::accounts::password_hasher::HasherLimits {
        crate::accounts::password_hasher::HasherLimits {
            max_concurrent: self.max_concurrent_hashes(),
            max_queued: self.max_queued_hashes,
            max_wait: std::time::Duration::from_millis(self.max_hash_wait_ms),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    pub host: String,
    pub port: u16,
    /// Mark the refresh cookie `Secure`. Default: on in production, off in development
    /// (browsers drop Secure cookies on plain-http localhost otherwise).
    pub secure_cookies: Option<bool>,
    /// CIDRs (or single addresses) of the proxies in front of the service. Only a request
    /// whose TCP peer is one of them has its client address read from `forwarded_header`
    /// (`client_address`); elsewhere that header is ignored. In the environment: one string,
    /// comma-separated (`AUTH__HTTP__TRUSTED_PROXIES=10.0.0.0/8,fd00::/8`).
    #[serde(deserialize_with = "comma_separated")]
    pub trusted_proxies: Vec<String>,
    /// The header those proxies write: `x-forwarded-for` or `forwarded` (RFC 7239).
    pub forwarded_header: ForwardedHeader,
    /// Browser origins (`scheme://host[:port]`) besides our own that may use the refresh cookie
    /// (`/api/auth/refresh` in cookie mode) and get CORS answers with credentials. Empty: no
    /// CORS at all, and only our own origin may use the cookie.
    #[serde(deserialize_with = "comma_separated")]
    pub allowed_origins: Vec<String>,
    /// On SIGTERM: seconds to keep serving with `/readyz` at 503 before the listener closes,
    /// so load balancers stop sending first (e.g. 5 behind Kubernetes; 0: close at once).
    pub drain_delay_secs: u64,
    /// On SIGTERM, after the delay: the longest requests in flight get to finish.
    pub drain_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenSettings {
    pub access_ttl_secs: u64,
    /// Lifetime of service (client_credentials) access tokens.
    pub service_ttl_secs: u64,
    /// Absolute lifetime of a session (its refresh tokens), from sign-in.
    pub session_ttl_secs: u64,
    pub audience: String,
    /// A refresh token presented again within this many seconds of its use is refused without
    /// ending the session (two tabs refreshing at once); later, reuse revokes the session.
    pub refresh_reuse_grace_secs: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeySettings {
    /// 32 bytes, base64: encrypts the private signing keys at rest. Required in production.
    #[serde(serialize_with = "redacted")]
    pub master_key: Option<SecretString>,
    /// How long a key signs before the schedule rotates it.
    pub rotation_interval_secs: u64,
    /// How often each replica re-reads the keys (to follow another replica's rotation) and
    /// checks whether a rotation is due.
    pub reload_interval_secs: u64,
}

/// Failed sign-ins are counted per account and per client IP within a window; past the limit
/// the key is locked for `base_lockout_secs`, doubling with each further failure up to
/// `max_lockout_secs`. A locked request gets 429 + `Retry-After` and costs no password hash.
/// Sign-ups are counted per client address: at most `sign_ups_per_address` per
/// `sign_up_window_secs`, then 429 + `Retry-After` until the window ends.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottleSettings {
    pub account_max_failures: u32,
    /// Higher than the account limit: many users can share one address (NAT, offices).
    pub ip_max_failures: u32,
    pub window_secs: u64,
    pub base_lockout_secs: u64,
    pub max_lockout_secs: u64,
    pub sign_ups_per_address: u32,
    pub sign_up_window_secs: u64,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            account_max_failures: 5,
            ip_max_failures: 20,
            window_secs: 15 * 60,
            base_lockout_secs: 30,
            max_lockout_secs: 15 * 60,
            sign_ups_per_address: 10,
            sign_up_window_secs: 10 * 60,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            env: RunEnv::Development,
            http: HttpSettings::default(),
            public_url: None,
            data_dir: PathBuf::from("./data"),
            database: DatabaseSettings::default(),
            tokens: TokenSettings::default(),
            keys: KeySettings::default(),
            throttle: ThrottleSettings::default(),
            passwords: PasswordSettings::default(),
            purge: PurgeSettings::default(),
            retention: RetentionSettings::default(),
            revocation_feed: RevocationFeedSettings::default(),
            clients: Vec::new(),
        }
    }
}

impl HttpSettings {
    pub fn drain_times(&self) -> DrainTimes {
        DrainTimes::from_secs(self.drain_delay_secs, self.drain_timeout_secs)
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8081,
            secure_cookies: None,
            trusted_proxies: Vec::new(),
            forwarded_header: ForwardedHeader::default(),
            allowed_origins: Vec::new(),
            drain_delay_secs: 0,
            drain_timeout_secs: 20,
        }
    }
}

impl Default for KeySettings {
    fn default() -> Self {
        Self {
            master_key: None,
            rotation_interval_secs: 30 * 24 * 60 * 60,
            reload_interval_secs: 30,
        }
    }
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            access_ttl_secs: 15 * 60,
            service_ttl_secs: 5 * 60,
            session_ttl_secs: 7 * 24 * 60 * 60,
            audience: "tasks-api".into(),
            refresh_reuse_grace_secs: 2,
        }
    }
}

impl Settings {
    /// Loads the layered configuration from the process environment.
    pub fn load() -> anyhow::Result<Self> {
        let mut settings: Settings = load_layered("auth-service", "AUTH")?;
        if settings.database.url.is_none() {
            settings.database.url = secret_from_env("DATABASE_URL");
        }
        for client in &mut settings.clients {
            client.secret = secret_from_env(&client.secret_env);
        }
        settings.validate()?;
        Ok(settings)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        for client in &self.clients {
            let secret_len = client
                .secret
                .as_ref()
                .map_or(0, |s| secrecy::ExposeSecret::expose_secret(s).len());
            anyhow::ensure!(
                secret_len >= 32,
                "client {}: the environment variable {} must hold its secret (at least 32 characters)",
                client.client_id,
                client.secret_env
            );
        }
        if let Some(url) = &self.purge.tasks_url {
            anyhow::ensure!(
                url.starts_with("http://") || url.starts_with("https://"),
                "AUTH__PURGE__TASKS_URL must be an http(s) URL"
            );
            anyhow::ensure!(
                self.purge.client_id.is_some() && self.purge.client_secret.is_some(),
                "AUTH__PURGE__TASKS_URL needs AUTH__PURGE__CLIENT_ID and AUTH__PURGE__CLIENT_SECRET"
            );
        }
        anyhow::ensure!(
            (10..=60_000).contains(&self.purge.poll_interval_ms)
                && (10..=600_000).contains(&self.purge.retry_base_ms)
                && (1..=86_400).contains(&self.purge.retry_max_secs),
            "AUTH__PURGE__POLL_INTERVAL_MS (10–60000), RETRY_BASE_MS (10–600000) and \
             RETRY_MAX_SECS (1–86400) are out of range"
        );
        anyhow::ensure!(
            (1..=1_000_000).contains(&self.revocation_feed.max_long_polls),
            "AUTH__REVOCATION_FEED__MAX_LONG_POLLS must be between 1 and 1000000"
        );
        anyhow::ensure!(
            (1..=256).contains(&self.passwords.max_concurrent_hashes()),
            "AUTH__PASSWORDS__MAX_CONCURRENT_HASHES must be between 1 and 256"
        );
        anyhow::ensure!(
            self.passwords.max_queued_hashes <= 100_000,
            "AUTH__PASSWORDS__MAX_QUEUED_HASHES must be at most 100000"
        );
        anyhow::ensure!(
            (1..=60_000).contains(&self.passwords.max_hash_wait_ms),
            "AUTH__PASSWORDS__MAX_HASH_WAIT_MS must be between 1 and 60000"
        );
        self.trusted_proxies()?;
        anyhow::ensure!(
            (60..=24 * 3600).contains(&self.tokens.access_ttl_secs),
            "AUTH__TOKENS__ACCESS_TTL_SECS must be between 60 and 86400"
        );
        anyhow::ensure!(
            (60..=self.tokens.access_ttl_secs).contains(&self.tokens.service_ttl_secs),
            "AUTH__TOKENS__SERVICE_TTL_SECS must be between 60 and the access token lifetime"
        );
        anyhow::ensure!(
            self.tokens.session_ttl_secs >= self.tokens.access_ttl_secs,
            "AUTH__TOKENS__SESSION_TTL_SECS must be at least the access token lifetime"
        );
        anyhow::ensure!(
            !self.tokens.audience.trim().is_empty(),
            "AUTH__TOKENS__AUDIENCE must not be empty"
        );
        // Retired keys are deleted MAX_LEEWAY_SECS (300 s) after their last token expires; a
        // replica must have reloaded (and stopped signing with one) well before that.
        anyhow::ensure!(
            (1..=120).contains(&self.keys.reload_interval_secs),
            "AUTH__KEYS__RELOAD_INTERVAL_SECS must be between 1 and 120"
        );
        anyhow::ensure!(
            self.tokens.refresh_reuse_grace_secs <= 60,
            "AUTH__TOKENS__REFRESH_REUSE_GRACE_SECS must be at most 60"
        );
        // The promoted key was published at the previous rotation; validators refresh their
        // JWKS every few minutes, so rotating faster than that could outrun their caches.
        anyhow::ensure!(
            self.keys.rotation_interval_secs >= 3600,
            "AUTH__KEYS__ROTATION_INTERVAL_SECS must be at least 3600"
        );
        anyhow::ensure!(
            self.retention.keep_secs >= self.tokens.session_ttl_secs,
            "AUTH__RETENTION__KEEP_SECS must be at least AUTH__TOKENS__SESSION_TTL_SECS (a used \
             refresh token is remembered as long as its session can live)"
        );
        anyhow::ensure!(
            (1..=100_000).contains(&self.retention.batch_size),
            "AUTH__RETENTION__BATCH_SIZE must be between 1 and 100000"
        );
        let throttle = &self.throttle;
        anyhow::ensure!(
            throttle.account_max_failures >= 1 && throttle.ip_max_failures >= 1,
            "AUTH__THROTTLE__*_MAX_FAILURES must be at least 1"
        );
        anyhow::ensure!(
            throttle.base_lockout_secs >= 1
                && throttle.max_lockout_secs >= throttle.base_lockout_secs,
            "AUTH__THROTTLE__BASE_LOCKOUT_SECS must be at least 1 and at most AUTH__THROTTLE__MAX_LOCKOUT_SECS"
        );
        anyhow::ensure!(
            throttle.sign_ups_per_address >= 1
                && (1..=7 * 24 * 3600).contains(&throttle.sign_up_window_secs),
            "AUTH__THROTTLE__SIGN_UPS_PER_ADDRESS must be at least 1 and \
             AUTH__THROTTLE__SIGN_UP_WINDOW_SECS between 1 and 604800"
        );
        if let Some(url) = &self.public_url {
            anyhow::ensure!(
                url.starts_with("http://") || url.starts_with("https://"),
                "AUTH__PUBLIC_URL must be an http(s) URL"
            );
        }
        self.allowed_origins()?;
        if self.env == RunEnv::Production {
            self.validate_production()?;
        }
        Ok(())
    }

    /// `AUTH__HTTP__ALLOWED_ORIGINS`, parsed.
    pub fn allowed_origins(&self) -> anyhow::Result<Origins> {
        Origins::parse(&self.http.allowed_origins, "AUTH__HTTP__ALLOWED_ORIGINS")
    }

    /// Production serves tokens and the refresh cookie over TLS only: the public URL (the
    /// issuer every validator fetches keys from) is https://, or stays on the machine.
    fn validate_production(&self) -> anyhow::Result<()> {
        match &self.public_url {
            Some(url) => require_tls_unless_loopback("AUTH__PUBLIC_URL", url),
            None => {
                anyhow::ensure!(
                    is_loopback_host(&self.http.host),
                    "AUTH__ENV=production needs AUTH__PUBLIC_URL (an https:// URL): the default, \
                     http://{}:<port>, is plain http beyond loopback",
                    self.http.host
                );
                Ok(())
            }
        }
    }

    /// The warning for a development instance listening beyond loopback: what production mode
    /// would demand of it. `None` when it listens on loopback or runs in production.
    pub fn exposure_warning(&self) -> Option<String> {
        if self.env != RunEnv::Development {
            return None;
        }
        exposure_warning(
            "auth-service",
            &self.http.host,
            "AUTH__ENV=production would require AUTH__KEYS__MASTER_KEY, an https:// \
             AUTH__PUBLIC_URL, and Secure refresh cookies",
        )
    }

    /// An instance for integration tests (this crate's and the tasks-service's): a random
    /// port, its data under `data_dir`, its database at `database_url`, a fresh master key and
    /// a small pool.
    #[doc(hidden)]
    pub fn for_tests(data_dir: &std::path::Path, database_url: SecretString) -> Self {
        use base64::Engine;
        let master: [u8; 32] = rand::random();
        let mut settings = Self::default();
        settings.http.port = 0;
        settings.data_dir = data_dir.to_path_buf();
        settings.database.url = Some(database_url);
        settings.database.max_connections = 5;
        // Every test client signs up from 127.0.0.1; the throttle's own tests lower this.
        settings.throttle.sign_ups_per_address = 10_000;
        settings.keys.master_key = Some(SecretString::from(
            base64::engine::general_purpose::STANDARD.encode(master),
        ));
        settings
    }

    /// `http.trusted_proxies`, parsed (`validate` has checked they parse).
    pub fn trusted_proxies(&self) -> anyhow::Result<TrustedProxies> {
        TrustedProxies::parse(&self.http.trusted_proxies, self.http.forwarded_header)
            .map_err(anyhow::Error::msg)
    }

    pub fn secure_cookies(&self) -> bool {
        self.http
            .secure_cookies
            .unwrap_or(self.env == RunEnv::Production)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn production(public_url: Option<&str>, host: &str) -> Settings {
        let mut settings = Settings {
            env: RunEnv::Production,
            public_url: public_url.map(str::to_owned),
            ..Settings::default()
        };
        settings.http.host = host.into();
        settings
    }

    #[test]
    fn production_refuses_a_plain_http_public_url_beyond_loopback() {
        for url in [
            "http://auth.example.org",
            "http://10.0.0.5:8081",
            "http://0.0.0.0:8081",
        ] {
            let err = production(Some(url), "0.0.0.0").validate().unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "AUTH__PUBLIC_URL is {url:?}: production mode needs https:// (plain \
                     http:// only to a loopback host: 127.0.0.0/8, ::1, localhost)"
                )
            );
            // Development takes it.
            let mut development = production(Some(url), "0.0.0.0");
            development.env = RunEnv::Development;
            development.validate().unwrap();
        }
        for url in [
            "https://auth.example.org",
            "http://127.0.0.1:8081",
            "http://[::1]:8081",
            "http://localhost:8081",
        ] {
            production(Some(url), "0.0.0.0").validate().unwrap();
        }
    }

    #[test]
    fn production_without_a_public_url_must_listen_on_loopback() {
        let err = production(None, "0.0.0.0").validate().unwrap_err();
        assert!(
            err.to_string()
                .starts_with("AUTH__ENV=production needs AUTH__PUBLIC_URL (an https:// URL)"),
            "{err}"
        );
        production(None, "127.0.0.1").validate().unwrap();
    }

    #[test]
    fn development_beyond_loopback_gets_a_warning_naming_the_production_rules() {
        let mut settings = Settings::default();
        assert_eq!(settings.exposure_warning(), None);
        settings.http.host = "0.0.0.0".into();
        let warning = settings.exposure_warning().unwrap();
        assert!(
            warning.contains("(0.0.0.0)")
                && warning.contains("AUTH__ENV=production")
                && warning.contains("AUTH__KEYS__MASTER_KEY")
                && warning.contains("https:// AUTH__PUBLIC_URL"),
            "{warning}"
        );
        settings.env = RunEnv::Production;
        assert_eq!(settings.exposure_warning(), None);
    }

    #[test]
    fn allowed_origins_are_a_list_or_comma_separated_and_validated() {
        let load = |toml: &str| -> anyhow::Result<Settings> {
            let settings: Settings = service_runtime::settings::load_str(toml)?;
            settings.validate()?;
            Ok(settings)
        };
        for toml in [
            "[http]\nallowed_origins = [\"https://app.example.org\", \"http://localhost:5173\"]",
            "[http]\nallowed_origins = \"https://app.example.org, http://localhost:5173,\"",
        ] {
            let settings = load(toml).unwrap();
            assert_eq!(
                settings.http.allowed_origins,
                ["https://app.example.org", "http://localhost:5173"]
            );
        }
        assert!(
            load("[http]\nallowed_origins = \"\"")
                .unwrap()
                .http
                .allowed_origins
                .is_empty()
        );
        let err = load("[http]\nallowed_origins = \"https://app.example.org/app\"").unwrap_err();
        assert!(
            format!("{err:#}").starts_with(
                "AUTH__HTTP__ALLOWED_ORIGINS: \"https://app.example.org/app\": must be \
                 scheme://host[:port]"
            ),
            "{err:#}"
        );
    }
}
