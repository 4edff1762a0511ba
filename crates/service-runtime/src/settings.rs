//! Layered settings (docs/architecture.md, "Configuration"): each setting's built-in default
//! (the type's `Default`), then `config/<service>.toml` if it exists, then `<PREFIX>__…`
//! environment variables, double underscore for nesting (`AUTH__TOKENS__ACCESS_TTL_SECS`).
//! The settings types reject unknown keys (`deny_unknown_fields`), so a typo never falls back
//! to a default silently.

use std::path::Path;

use anyhow::Context;
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize, Serializer};

/// Reads `config/<service>.toml` (optional) and the `<env_prefix>__…` variables over `T`'s
/// defaults.
pub fn load_layered<T: DeserializeOwned>(service: &str, env_prefix: &str) -> anyhow::Result<T> {
    let layered = config::Config::builder()
        .add_source(config::File::with_name(&format!("config/{service}")).required(false))
        .add_source(
            config::Environment::with_prefix(env_prefix)
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true),
        )
        .build()
        .context("reading configuration")?;
    layered.try_deserialize().with_context(|| {
        format!("invalid configuration ({env_prefix}__… variables or config/{service}.toml)")
    })
}

/// Reads one TOML file over `T`'s defaults, without the environment.
pub fn load_file<T: DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    config::Config::builder()
        .add_source(config::File::from(path))
        .build()
        .and_then(config::Config::try_deserialize)
        .with_context(|| format!("reading {}", path.display()))
}

/// Reads TOML text over `T`'s defaults (tests, and the example files' check).
pub fn load_str<T: DeserializeOwned>(toml: &str) -> anyhow::Result<T> {
    config::Config::builder()
        .add_source(config::File::from_str(toml, config::FileFormat::Toml))
        .build()
        .and_then(config::Config::try_deserialize)
        .context("reading TOML settings")
}

/// An optional secret from the conventional environment variable `name` (`DATABASE_URL`,
/// `BETTER_AUTH_SECRET`), for a setting left unset.
pub fn secret_from_env(name: &str) -> Option<SecretString> {
    std::env::var(name).ok().map(SecretString::from)
}

/// `#[serde(serialize_with = "service_runtime::settings::redacted")]` for secret settings:
/// whether one is set, never its value.
pub fn redacted<S: Serializer>(secret: &Option<SecretString>, out: S) -> Result<S::Ok, S::Error> {
    match secret {
        Some(_) => out.serialize_some("<redacted>"),
        None => out.serialize_none(),
    }
}

/// The `[database]` settings of either service.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://…` or `sqlite://…`. Unset: `DATABASE_URL`, else the SQLite file
    /// `<data_dir>/<service>.db`.
    #[serde(serialize_with = "redacted")]
    pub url: Option<SecretString>,
    /// The connection pool's size.
    pub max_connections: u32,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: None,
            max_connections: 10,
        }
    }
}

/// `#[serde(deserialize_with = "service_runtime::settings::comma_separated")]` for a list of
/// strings: a TOML array, or one string of comma-separated items, the form an environment
/// variable can hold (`AUTH__HTTP__ALLOWED_ORIGINS=https://a.example,https://b.example`).
/// Items are trimmed; empty ones are dropped, so an empty variable is an empty list.
pub fn comma_separated<'de, D: serde::Deserializer<'de>>(
    input: D,
) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrString {
        List(Vec<String>),
        String(String),
    }
    let items = match ListOrString::deserialize(input)? {
        ListOrString::List(items) => items,
        ListOrString::String(joined) => joined.split(',').map(str::to_owned).collect(),
    };
    Ok(items
        .into_iter()
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect())
}
