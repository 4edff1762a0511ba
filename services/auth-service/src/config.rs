//! Settings, layered (ARCHITECTURE §5): built-in defaults → optional `config/auth-service.toml`
//! → `AUTH__…` environment variables (double underscore for nesting) → `DATABASE_URL`.
//! Unknown keys are rejected so a typo never silently falls back to a default.

use std::path::PathBuf;

use anyhow::Context;
use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RunEnv {
    #[default]
    Development,
    Production,
}

#[derive(Debug, Clone, Deserialize)]
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
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    pub host: String,
    pub port: u16,
    /// Mark the refresh cookie `Secure`. Default: on in production, off in development
    /// (browsers drop Secure cookies on plain-http localhost otherwise).
    pub secure_cookies: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://…` or `sqlite://…`; unset means `<data_dir>/auth.db`.
    pub url: Option<SecretString>,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenSettings {
    pub access_ttl_secs: u64,
    /// Absolute lifetime of a session (its refresh tokens), from sign-in.
    pub session_ttl_secs: u64,
    pub audience: String,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct KeySettings {
    /// 32 bytes, base64: encrypts the private signing keys at rest. Required in production.
    pub master_key: Option<SecretString>,
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
        }
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8081,
            secure_cookies: None,
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: None,
            max_connections: 10,
        }
    }
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            access_ttl_secs: 15 * 60,
            session_ttl_secs: 7 * 24 * 60 * 60,
            audience: "tasks-api".into(),
        }
    }
}

impl Settings {
    /// Loads the layered configuration from the process environment.
    pub fn load() -> anyhow::Result<Self> {
        let layered = config::Config::builder()
            .add_source(config::File::with_name("config/auth-service").required(false))
            .add_source(
                config::Environment::with_prefix("AUTH")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true),
            )
            .build()
            .context("reading configuration")?;
        let mut settings: Settings = layered
            .try_deserialize()
            .context("invalid configuration (AUTH__… variables or config/auth-service.toml)")?;
        if settings.database.url.is_none() {
            settings.database.url = std::env::var("DATABASE_URL").ok().map(SecretString::from);
        }
        settings.validate()?;
        Ok(settings)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            (60..=24 * 3600).contains(&self.tokens.access_ttl_secs),
            "AUTH__TOKENS__ACCESS_TTL_SECS must be between 60 and 86400"
        );
        anyhow::ensure!(
            self.tokens.session_ttl_secs >= self.tokens.access_ttl_secs,
            "AUTH__TOKENS__SESSION_TTL_SECS must be at least the access token lifetime"
        );
        anyhow::ensure!(
            !self.tokens.audience.trim().is_empty(),
            "AUTH__TOKENS__AUDIENCE must not be empty"
        );
        if let Some(url) = &self.public_url {
            anyhow::ensure!(
                url.starts_with("http://") || url.starts_with("https://"),
                "AUTH__PUBLIC_URL must be an http(s) URL"
            );
        }
        Ok(())
    }

    pub fn secure_cookies(&self) -> bool {
        self.http
            .secure_cookies
            .unwrap_or(self.env == RunEnv::Production)
    }
}
