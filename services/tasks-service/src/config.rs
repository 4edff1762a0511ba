//! Settings, layered (ARCHITECTURE §5): built-in defaults → optional `config/tasks-service.toml`
//! → `TASKS__…` environment variables (double underscore for nesting) → `DATABASE_URL`.
//! Unknown keys are rejected so a typo never silently falls back to a default.

use std::path::PathBuf;

use anyhow::Context;
use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `development` or `production`; nothing differs yet but the name in logs.
    pub env: String,
    pub http: HttpSettings,
    /// Where the SQLite database lives when no database URL is set.
    pub data_dir: PathBuf,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    pub host: String,
    pub port: u16,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://…` or `sqlite://…`; unset means `<data_dir>/tasks.db`.
    pub url: Option<SecretString>,
    pub max_connections: u32,
}

/// Which issuer's tokens this service trusts.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// The issuer (`iss`) and the base of its discovery document.
    pub issuer_url: String,
    /// Skip discovery and fetch keys from here.
    pub jwks_url: Option<String>,
    /// The `aud` a token must carry.
    pub audience: String,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            env: "development".into(),
            http: HttpSettings::default(),
            data_dir: PathBuf::from("./data"),
            database: DatabaseSettings::default(),
            auth: AuthSettings::default(),
        }
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8082,
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

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            issuer_url: "http://127.0.0.1:8081".into(),
            jwks_url: None,
            audience: "tasks-api".into(),
            leeway_secs: 60,
        }
    }
}

impl Settings {
    pub fn load() -> anyhow::Result<Self> {
        let layered = config::Config::builder()
            .add_source(config::File::with_name("config/tasks-service").required(false))
            .add_source(
                config::Environment::with_prefix("TASKS")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true),
            )
            .build()
            .context("reading configuration")?;
        let mut settings: Settings = layered
            .try_deserialize()
            .context("invalid configuration (TASKS__… variables or config/tasks-service.toml)")?;
        if settings.database.url.is_none() {
            settings.database.url = std::env::var("DATABASE_URL").ok().map(SecretString::from);
        }
        settings.validate()?;
        Ok(settings)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        let issuer = &self.auth.issuer_url;
        anyhow::ensure!(
            issuer.starts_with("http://") || issuer.starts_with("https://"),
            "TASKS__AUTH__ISSUER_URL must be an http(s) URL"
        );
        anyhow::ensure!(
            self.auth.leeway_secs <= 300,
            "TASKS__AUTH__LEEWAY_SECS must be at most 300"
        );
        anyhow::ensure!(
            matches!(self.env.as_str(), "development" | "production"),
            "TASKS__ENV must be development or production"
        );
        Ok(())
    }
}
