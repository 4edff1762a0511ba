//! Settings, layered (docs/architecture.md, "Configuration"): built-in defaults → optional
//! `config/tasks-service.toml` → `TASKS__…` environment variables (double underscore for
//! nesting), then the conventional `DATABASE_URL` and `BETTER_AUTH_SECRET` for a setting left
//! unset. Unknown keys are rejected so a typo never silently falls back to a default.
//! `config/tasks-service.example.toml` lists every setting with its default.

use std::path::PathBuf;
use std::time::Duration;

use auth_core::{Algorithm, Claim, FeedClient, TrustedIssuer, UserIdSource, VerifierConfig};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use service_runtime::cors::Origins;
use service_runtime::loopback::{exposure_warning, require_tls_unless_loopback};
use service_runtime::settings::{
    DatabaseSettings, comma_separated, load_layered, redacted, secret_from_env,
};
use service_runtime::shutdown::DrainTimes;

/// Where the auth-service publishes its revocation feed, relative to its issuer URL.
const REVOCATION_FEED_PATH: &str = "/api/auth/revocations";
/// Where the auth-service issues tokens (`client_credentials`), relative to its issuer URL.
const TOKEN_PATH: &str = "/oauth/token";
/// RFC 7518 §3.2: an HS256 key shorter than the hash output weakens it.
const MIN_SHARED_SECRET_BYTES: usize = 32;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `development` or `production`. Production refuses plain `http://` issuer, JWKS and
    /// revocation-feed URLs unless their host is loopback.
    pub env: String,
    pub http: HttpSettings,
    /// Where the SQLite database lives when no database URL is set.
    pub data_dir: PathBuf,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub api: ApiSettings,
}

/// How the task API behaves towards its clients.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiSettings {
    /// Refuse a `PATCH` or `DELETE` without `If-Match` (428), so no client can overwrite a
    /// change it has not seen. Off by default: a plain client still gets last-writer-wins.
    pub require_if_match: bool,
    /// The key that signs list cursors (at least 32 bytes). Unset: a random key per process,
    /// so cursors do not survive a restart or cross replicas; set it when running several.
    #[serde(serialize_with = "redacted")]
    pub cursor_secret: Option<SecretString>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    pub host: String,
    pub port: u16,
    /// Browser origins (`scheme://host[:port]`) that get CORS answers (bearer tokens only, no
    /// credentials). Empty: no CORS headers at all.
    #[serde(deserialize_with = "comma_separated")]
    pub allowed_origins: Vec<String>,
    /// On SIGTERM: seconds to keep serving with `/readyz` at 503 before the listener closes,
    /// so load balancers stop sending first (e.g. 5 behind Kubernetes; 0: close at once).
    pub drain_delay_secs: u64,
    /// On SIGTERM, after the delay: the longest requests in flight get to finish.
    pub drain_timeout_secs: u64,
}

/// Which issuers' tokens this service trusts.
///
/// - The primary issuer, our auth-service: `issuer_url`, `jwks_url`, `audience`,
///   `revocation_feed_url` (`TASKS__AUTH__…`). Its `sub` is the user id.
/// - Extra JWKS issuers (e.g. a Better Auth server's `/api/auth/jwks`): only in
///   `config/tasks-service.toml`, as `[[auth.extra_issuers]]` tables, because the `config` crate
///   cannot express a list of tables in environment variables.
/// - An HS256 shared secret: `BETTER_AUTH_SECRET` (or `auth.hs256.secret`) with
///   `auth.hs256.issuer` / `audience` / `default_scopes` (`TASKS__AUTH__HS256__…`).
///
/// A token is checked by the issuer its `iss` names, with that issuer's keys and rules. Users of
/// extra and HS256 issuers get ids derived from `iss` and `sub` (`auth_core::derived_user_id`),
/// so they never share tasks with our own users or with each other.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// The issuer (`iss`) and the base of its discovery document.
    pub issuer_url: String,
    /// Skip discovery and fetch keys from here.
    pub jwks_url: Option<String>,
    /// The `aud` a token must carry.
    pub audience: String,
    /// Clock skew tolerated on `exp` and `nbf`, for every issuer.
    pub leeway_secs: u64,
    /// The primary issuer's revocation feed. Unset: `{issuer_url}/api/auth/revocations`; set
    /// to an empty string to follow none (e.g. a primary issuer without a feed).
    pub revocation_feed_url: Option<String>,
    /// The OAuth client the feed is read as (`auth-service clients create --scope
    /// revocations:read`): the service gets a `client_credentials` token from
    /// `{issuer_url}/oauth/token` and renews it before it expires. Both or neither.
    pub feed_client_id: Option<String>,
    #[serde(serialize_with = "redacted")]
    pub feed_client_secret: Option<SecretString>,
    /// How many verified access tokens each trusted issuer remembers, so a token presented
    /// again skips its signature check (expiry, key and revocation are still checked on every
    /// request). Under a kilobyte each; 0 turns the cache off.
    pub verified_token_cache_size: usize,
    /// More JWKS issuers (TOML only, see above).
    pub extra_issuers: Vec<ExtraIssuerSettings>,
    /// The HS256 shared-secret issuer (off unless a secret is given).
    pub hs256: Hs256Settings,
}

/// One `[[auth.extra_issuers]]` table: a foreign issuer whose JWKS we fetch.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraIssuerSettings {
    /// The `iss` its tokens carry, compared exactly; the base of its discovery document.
    pub issuer_url: String,
    /// Skip discovery (Better Auth: `{issuer_url}/api/auth/jwks`).
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// The `aud` its tokens must carry.
    pub audience: String,
    /// Require `typ: at+jwt`. Better Auth does not set it: `false` there.
    #[serde(default = "yes")]
    pub require_typ: bool,
    /// Claims its tokens must carry; `iss`, `sub`, `aud`, `exp` and `iat` always are.
    #[serde(default = "always_required_claims")]
    pub required_claims: Vec<Claim>,
    /// Space-separated scopes granted when a token has no `scope` claim (Better Auth tokens
    /// have none), e.g. `"tasks:read tasks:write"`. Empty: such tokens get no scopes (403).
    #[serde(default)]
    pub default_scopes: String,
    /// Accepted signing algorithms; asymmetric only (shared secrets go in `auth.hs256`).
    #[serde(default = "eddsa_only")]
    pub algorithms: Vec<Algorithm>,
}

/// The HS256 compatibility mode of the original Better Auth + FastAPI design.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Hs256Settings {
    /// The shared secret, at least 32 bytes; unset: `BETTER_AUTH_SECRET`. Neither: HS256 off.
    #[serde(serialize_with = "redacted")]
    pub secret: Option<SecretString>,
    /// The `iss` these tokens carry (required with a secret).
    pub issuer: Option<String>,
    /// The `aud` these tokens must carry (required with a secret).
    pub audience: Option<String>,
    /// Space-separated scopes granted when a token has no `scope` claim.
    pub default_scopes: String,
}

fn yes() -> bool {
    true
}

fn always_required_claims() -> Vec<Claim> {
    Claim::ALWAYS_REQUIRED.to_vec()
}

fn eddsa_only() -> Vec<Algorithm> {
    vec![Algorithm::EdDSA]
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            env: "development".into(),
            http: HttpSettings::default(),
            data_dir: PathBuf::from("./data"),
            database: DatabaseSettings::default(),
            auth: AuthSettings::default(),
            api: ApiSettings::default(),
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
            port: 8082,
            allowed_origins: Vec::new(),
            drain_delay_secs: 0,
            drain_timeout_secs: 20,
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
            revocation_feed_url: None,
            feed_client_id: None,
            feed_client_secret: None,
            verified_token_cache_size: auth_core::DEFAULT_VERIFIED_TOKEN_CACHE_SIZE,
            extra_issuers: Vec::new(),
            hs256: Hs256Settings::default(),
        }
    }
}

impl Settings {
    pub fn load() -> anyhow::Result<Self> {
        let mut settings: Settings = load_layered("tasks-service", "TASKS")?;
        if settings.database.url.is_none() {
            settings.database.url = secret_from_env("DATABASE_URL");
        }
        if settings.auth.hs256.secret.is_none() {
            settings.auth.hs256.secret = secret_from_env("BETTER_AUTH_SECRET")
                .filter(|secret| !secret.expose_secret().is_empty());
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
            self.auth.leeway_secs <= auth_core::MAX_LEEWAY_SECS,
            "TASKS__AUTH__LEEWAY_SECS must be at most {}",
            auth_core::MAX_LEEWAY_SECS
        );
        anyhow::ensure!(
            matches!(self.env.as_str(), "development" | "production"),
            "TASKS__ENV must be development or production"
        );
        if let Some(secret) = &self.api.cursor_secret {
            anyhow::ensure!(
                secret.expose_secret().len() >= MIN_SHARED_SECRET_BYTES,
                "TASKS__API__CURSOR_SECRET must be at least {MIN_SHARED_SECRET_BYTES} bytes"
            );
        }
        self.allowed_origins()?;
        if self.is_production() {
            self.auth.validate_production()?;
        }
        self.auth.validate()
    }

    pub fn is_production(&self) -> bool {
        self.env == "production"
    }

    /// `TASKS__HTTP__ALLOWED_ORIGINS`, parsed.
    pub fn allowed_origins(&self) -> anyhow::Result<Origins> {
        Origins::parse(&self.http.allowed_origins, "TASKS__HTTP__ALLOWED_ORIGINS")
    }

    /// The warning for a development instance listening beyond loopback: what production mode
    /// would demand of it. `None` when it listens on loopback or runs in production.
    pub fn exposure_warning(&self) -> Option<String> {
        if self.is_production() {
            return None;
        }
        exposure_warning(
            "tasks-service",
            &self.http.host,
            "TASKS__ENV=production would require https:// issuer, JWKS and revocation feed URLs \
             (TASKS__AUTH__ISSUER_URL, TASKS__AUTH__JWKS_URL, TASKS__AUTH__REVOCATION_FEED_URL; \
             plain http:// only to a loopback host)",
        )
    }
}

fn is_http_url(url: &str) -> bool {
    url.starts_with("http://") || url.starts_with("https://")
}

impl AuthSettings {
    /// Production fetches keys and revocations only over TLS, or from this machine: a plain
    /// http:// key source beyond loopback would let anyone on the path mint tokens we accept.
    fn validate_production(&self) -> anyhow::Result<()> {
        require_tls_unless_loopback("TASKS__AUTH__ISSUER_URL", &self.issuer_url)?;
        if let Some(url) = &self.jwks_url {
            require_tls_unless_loopback("TASKS__AUTH__JWKS_URL", url)?;
        }
        if let Some(url) = self.revocation_feed_url() {
            require_tls_unless_loopback("TASKS__AUTH__REVOCATION_FEED_URL", &url)?;
        }
        for (index, extra) in self.extra_issuers.iter().enumerate() {
            let name = format!("auth.extra_issuers[{index}]");
            require_tls_unless_loopback(&format!("{name}.issuer_url"), &extra.issuer_url)?;
            if let Some(url) = &extra.jwks_url {
                require_tls_unless_loopback(&format!("{name}.jwks_url"), url)?;
            }
        }
        Ok(())
    }

    fn validate(&self) -> anyhow::Result<()> {
        if let Some(url) = self.revocation_feed_url.as_deref() {
            anyhow::ensure!(
                url.is_empty() || is_http_url(url),
                "TASKS__AUTH__REVOCATION_FEED_URL must be an http(s) URL, or empty to disable it"
            );
        }
        anyhow::ensure!(
            self.feed_client_id.is_some() == self.feed_client_secret.is_some(),
            "TASKS__AUTH__FEED_CLIENT_ID and TASKS__AUTH__FEED_CLIENT_SECRET go together: set both \
             or neither"
        );
        for (index, extra) in self.extra_issuers.iter().enumerate() {
            let name = format!("auth.extra_issuers[{index}] ({:?})", extra.issuer_url);
            anyhow::ensure!(
                is_http_url(&extra.issuer_url),
                "{name}: issuer_url must be an http(s) URL"
            );
            anyhow::ensure!(
                extra.jwks_url.as_deref().is_none_or(is_http_url),
                "{name}: jwks_url must be an http(s) URL"
            );
            anyhow::ensure!(!extra.audience.is_empty(), "{name}: audience is empty");
            anyhow::ensure!(
                !extra.algorithms.is_empty() && !extra.algorithms.iter().copied().any(is_hmac),
                "{name}: algorithms must list asymmetric algorithms only (HS256 tokens are \
                 configured with BETTER_AUTH_SECRET and auth.hs256)"
            );
        }
        self.hs256.validate()
    }

    /// Every trusted issuer, the primary first (auth-core's rules for its readiness and
    /// revocation status).
    pub fn trusted_issuers(&self) -> Vec<TrustedIssuer> {
        let leeway = Duration::from_secs(self.leeway_secs);
        let issuer = self.issuer_url.trim_end_matches('/');
        let mut primary = VerifierConfig::new(issuer, self.audience.clone());
        primary.jwks_url = self.jwks_url.clone();
        primary.leeway = leeway;
        primary.verified_token_cache_size = self.verified_token_cache_size;
        primary.revocation_feed_url = self.revocation_feed_url();
        primary.revocation_feed_client = self.feed_client();
        let mut issuers = vec![TrustedIssuer::jwks(primary)];

        for extra in &self.extra_issuers {
            let mut config = VerifierConfig::new(&extra.issuer_url, extra.audience.clone());
            config.jwks_url = extra.jwks_url.clone();
            config.leeway = leeway;
            config.verified_token_cache_size = self.verified_token_cache_size;
            config.algorithms = extra.algorithms.clone();
            config.require_typ = extra.require_typ;
            config.required_claims = extra.required_claims.clone();
            config.default_scopes = scope_list(&extra.default_scopes);
            config.user_ids = UserIdSource::DerivedFromIssuer;
            issuers.push(TrustedIssuer::jwks(config));
        }

        if let (Some(secret), Some(issuer), Some(audience)) =
            (&self.hs256.secret, &self.hs256.issuer, &self.hs256.audience)
        {
            let mut config = VerifierConfig::new(issuer, audience.clone());
            config.leeway = leeway;
            config.verified_token_cache_size = self.verified_token_cache_size;
            config.algorithms = vec![Algorithm::HS256];
            // HS256 tokens of the original design are plain JWTs with the registered claims.
            config.require_typ = false;
            config.required_claims = Claim::ALWAYS_REQUIRED.to_vec();
            config.default_scopes = scope_list(&self.hs256.default_scopes);
            config.user_ids = UserIdSource::DerivedFromIssuer;
            issuers.push(TrustedIssuer::shared_secret(config, secret.clone()));
        }
        issuers
    }

    /// The client the feed is read as, when one is configured.
    pub fn feed_client(&self) -> Option<FeedClient> {
        Some(FeedClient {
            token_url: format!("{}{TOKEN_PATH}", self.issuer_url.trim_end_matches('/')),
            client_id: self.feed_client_id.clone()?,
            client_secret: self.feed_client_secret.clone()?,
        })
    }

    /// The primary issuer's feed: configured, or the auth-service's conventional path.
    pub fn revocation_feed_url(&self) -> Option<String> {
        match self.revocation_feed_url.as_deref() {
            Some("") => None,
            Some(url) => Some(url.to_owned()),
            None => Some(format!(
                "{}{REVOCATION_FEED_PATH}",
                self.issuer_url.trim_end_matches('/')
            )),
        }
    }
}

impl Hs256Settings {
    fn validate(&self) -> anyhow::Result<()> {
        let Some(secret) = &self.secret else {
            anyhow::ensure!(
                self.issuer.is_none() && self.audience.is_none(),
                "auth.hs256 is configured but there is no secret: set BETTER_AUTH_SECRET"
            );
            return Ok(());
        };
        // The length only: the secret itself never appears in a message.
        anyhow::ensure!(
            secret.expose_secret().len() >= MIN_SHARED_SECRET_BYTES,
            "BETTER_AUTH_SECRET must be at least {MIN_SHARED_SECRET_BYTES} bytes"
        );
        anyhow::ensure!(
            self.issuer
                .as_deref()
                .is_some_and(|issuer| !issuer.is_empty()),
            "TASKS__AUTH__HS256__ISSUER (the `iss` of HS256 tokens) is required with BETTER_AUTH_SECRET"
        );
        anyhow::ensure!(
            self.audience.as_deref().is_some_and(|aud| !aud.is_empty()),
            "TASKS__AUTH__HS256__AUDIENCE (the `aud` of HS256 tokens) is required with BETTER_AUTH_SECRET"
        );
        Ok(())
    }
}

fn scope_list(scopes: &str) -> Vec<String> {
    scopes.split_ascii_whitespace().map(str::to_owned).collect()
}

fn is_hmac(alg: Algorithm) -> bool {
    matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_toml(toml: &str) -> anyhow::Result<Settings> {
        let settings: Settings = service_runtime::settings::load_str(toml)?;
        settings.validate()?;
        Ok(settings)
    }

    #[test]
    fn extra_issuers_come_from_toml_tables_with_defaults() {
        let settings = from_toml(
            r#"
            [[auth.extra_issuers]]
            issuer_url = "http://localhost:3000"
            jwks_url = "http://localhost:3000/api/auth/jwks"
            audience = "http://localhost:3000"
            require_typ = false
            default_scopes = "tasks:read tasks:write"

            [[auth.extra_issuers]]
            issuer_url = "https://idp.example"
            audience = "tasks-api"
            required_claims = ["jti", "nbf"]
            algorithms = ["EdDSA", "ES256"]
            "#,
        )
        .unwrap();
        let [better_auth, other] = &settings.auth.extra_issuers[..] else {
            panic!("two issuers expected");
        };
        assert!(!better_auth.require_typ);
        assert_eq!(better_auth.required_claims, Claim::ALWAYS_REQUIRED);
        assert_eq!(better_auth.algorithms, [Algorithm::EdDSA]);
        assert!(other.require_typ);
        assert_eq!(other.required_claims, [Claim::Jti, Claim::Nbf]);
        assert_eq!(other.algorithms, [Algorithm::EdDSA, Algorithm::ES256]);

        let issuers = settings.auth.trusted_issuers();
        assert_eq!(issuers.len(), 3);
        let foreign = issuers[1].config();
        assert_eq!(foreign.issuer, "http://localhost:3000");
        assert_eq!(foreign.default_scopes, ["tasks:read", "tasks:write"]);
        assert_eq!(foreign.user_ids, UserIdSource::DerivedFromIssuer);
        assert_eq!(foreign.revocation_feed_url, None);
    }

    #[test]
    fn unknown_keys_and_hmac_extra_issuers_are_refused() {
        let typo = r#"
            [[auth.extra_issuers]]
            issuer_url = "http://localhost:3000"
            audience = "a"
            requre_typ = false
            "#;
        let err = format!("{:#}", from_toml(typo).unwrap_err());
        assert!(err.contains("unknown field `requre_typ`"), "{err}");
        let hmac = r#"
            [[auth.extra_issuers]]
            issuer_url = "http://localhost:3000"
            audience = "a"
            algorithms = ["HS256"]
            "#;
        let err = from_toml(hmac).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "auth.extra_issuers[0] (\"http://localhost:3000\"): algorithms must list \
                 asymmetric algorithms only"
            ) && err.contains("BETTER_AUTH_SECRET"),
            "{err}"
        );
        let err = format!(
            "{:#}",
            from_toml("[auth.hs256]\nsecrett = \"x\"").unwrap_err()
        );
        assert!(err.contains("unknown field `secrett`"), "{err}");
    }

    #[test]
    fn the_revocation_feed_defaults_to_the_issuers_conventional_path() {
        let mut auth = AuthSettings {
            issuer_url: "http://auth.example/".into(),
            ..AuthSettings::default()
        };
        assert_eq!(
            auth.revocation_feed_url().as_deref(),
            Some("http://auth.example/api/auth/revocations")
        );
        auth.revocation_feed_url = Some("http://other.example/feed".into());
        assert_eq!(
            auth.revocation_feed_url().as_deref(),
            Some("http://other.example/feed")
        );
        auth.revocation_feed_url = Some(String::new());
        assert_eq!(auth.revocation_feed_url(), None);
        let primary = auth.trusted_issuers().remove(0);
        assert_eq!(primary.config().issuer, "http://auth.example");
        assert_eq!(primary.config().revocation_feed_url, None);
    }

    #[test]
    fn the_feed_client_needs_both_its_id_and_secret_and_asks_the_issuers_token_endpoint() {
        let mut auth = AuthSettings {
            issuer_url: "http://auth.example/".into(),
            feed_client_id: Some("svc-1".into()),
            ..AuthSettings::default()
        };
        let err = auth.validate().unwrap_err().to_string();
        assert!(err.starts_with("TASKS__AUTH__FEED_CLIENT_ID and TASKS__AUTH__FEED_CLIENT_SECRET"));
        assert!(auth.feed_client().is_none());
        auth.feed_client_secret = Some(SecretString::from("s".repeat(43)));
        auth.validate().unwrap();
        let primary = auth.trusted_issuers().remove(0);
        let client = primary.config().revocation_feed_client.clone().unwrap();
        assert_eq!(client.token_url, "http://auth.example/oauth/token");
        assert_eq!(client.client_id, "svc-1");
        // The secret never shows in the settings' debug output.
        assert!(!format!("{auth:?}").contains(&"s".repeat(43)));
    }

    #[test]
    fn the_hs256_mode_needs_a_long_secret_an_issuer_and_an_audience() {
        let secret = || Some(SecretString::from("s".repeat(32)));
        let complete = Hs256Settings {
            secret: secret(),
            issuer: Some("http://localhost:3000".into()),
            audience: Some("tasks-api".into()),
            default_scopes: "tasks:read".into(),
        };
        complete.validate().unwrap();
        let short = Hs256Settings {
            secret: Some(SecretString::from("s".repeat(31))),
            ..complete.clone()
        };
        let err = short.validate().unwrap_err().to_string();
        assert_eq!(err, "BETTER_AUTH_SECRET must be at least 32 bytes");
        for (incomplete, message) in [
            (
                Hs256Settings {
                    issuer: None,
                    ..complete.clone()
                },
                "TASKS__AUTH__HS256__ISSUER (the `iss` of HS256 tokens) is required with \
                 BETTER_AUTH_SECRET",
            ),
            (
                Hs256Settings {
                    audience: None,
                    ..complete.clone()
                },
                "TASKS__AUTH__HS256__AUDIENCE (the `aud` of HS256 tokens) is required with \
                 BETTER_AUTH_SECRET",
            ),
            (
                Hs256Settings {
                    secret: None,
                    ..complete.clone()
                },
                "auth.hs256 is configured but there is no secret: set BETTER_AUTH_SECRET",
            ),
        ] {
            assert_eq!(incomplete.validate().unwrap_err().to_string(), message);
        }
        Hs256Settings::default().validate().unwrap();

        let auth = AuthSettings {
            hs256: complete,
            ..AuthSettings::default()
        };
        let issuers = auth.trusted_issuers();
        let hs256 = issuers.last().unwrap().config();
        assert_eq!(hs256.algorithms, [Algorithm::HS256]);
        assert_eq!(hs256.default_scopes, ["tasks:read"]);
        assert!(!hs256.require_typ);
    }

    fn production(auth: AuthSettings) -> Settings {
        Settings {
            env: "production".into(),
            auth,
            ..Settings::default()
        }
    }

    fn refusal(settings: &Settings) -> String {
        settings.validate().unwrap_err().to_string()
    }

    const NEEDS_TLS: &str = "production mode needs https:// (plain http:// only to a loopback \
                             host: 127.0.0.0/8, ::1, localhost)";

    #[test]
    fn production_refuses_plain_http_issuer_jwks_and_feed_urls_beyond_loopback() {
        let tls = || AuthSettings {
            issuer_url: "https://auth.example.org".into(),
            ..AuthSettings::default()
        };
        production(tls()).validate().unwrap();
        // The default (http://127.0.0.1:8081, its feed beside it) stays on the machine.
        production(AuthSettings::default()).validate().unwrap();

        let plain = "http://auth.example.org";
        let issuer = production(AuthSettings {
            issuer_url: plain.into(),
            revocation_feed_url: Some(String::new()),
            ..AuthSettings::default()
        });
        assert_eq!(
            refusal(&issuer),
            format!("TASKS__AUTH__ISSUER_URL is {plain:?}: {NEEDS_TLS}")
        );
        let jwks = production(AuthSettings {
            jwks_url: Some("http://10.0.0.5/jwks.json".into()),
            ..tls()
        });
        assert_eq!(
            refusal(&jwks),
            format!("TASKS__AUTH__JWKS_URL is \"http://10.0.0.5/jwks.json\": {NEEDS_TLS}")
        );
        let feed = production(AuthSettings {
            revocation_feed_url: Some("http://auth.internal/api/auth/revocations".into()),
            ..tls()
        });
        assert_eq!(
            refusal(&feed),
            format!(
                "TASKS__AUTH__REVOCATION_FEED_URL is \
                 \"http://auth.internal/api/auth/revocations\": {NEEDS_TLS}"
            )
        );
        let mut extra = production(tls());
        extra.auth.extra_issuers = from_toml(
            "[[auth.extra_issuers]]\nissuer_url = \"https://idp.example\"\n\
             jwks_url = \"http://idp.example/jwks\"\naudience = \"a\"",
        )
        .unwrap()
        .auth
        .extra_issuers;
        assert_eq!(
            refusal(&extra),
            format!("auth.extra_issuers[0].jwks_url is \"http://idp.example/jwks\": {NEEDS_TLS}")
        );

        // Loopback hosts may stay plain http; development takes anything http(s).
        for loopback in [
            "http://localhost:8081",
            "http://[::1]:8081",
            "http://127.0.0.2",
        ] {
            production(AuthSettings {
                issuer_url: loopback.into(),
                ..AuthSettings::default()
            })
            .validate()
            .unwrap();
        }
        for settings in [issuer, jwks, feed, extra] {
            Settings {
                env: "development".into(),
                ..settings
            }
            .validate()
            .unwrap();
        }
    }

    #[test]
    fn development_beyond_loopback_gets_a_warning_naming_the_production_rules() {
        let mut settings = Settings::default();
        assert_eq!(settings.exposure_warning(), None);
        settings.http.host = "0.0.0.0".into();
        let warning = settings.exposure_warning().unwrap();
        assert!(
            warning.contains("(0.0.0.0)") && warning.contains("TASKS__ENV=production would"),
            "{warning}"
        );
        settings.env = "production".into();
        assert_eq!(settings.exposure_warning(), None);
    }

    #[test]
    fn allowed_origins_are_validated() {
        let settings =
            from_toml("[http]\nallowed_origins = \"http://localhost:5173, https://app.example\"")
                .unwrap();
        assert_eq!(
            settings.http.allowed_origins,
            ["http://localhost:5173", "https://app.example"]
        );
        let err = from_toml("[http]\nallowed_origins = [\"localhost:5173\"]").unwrap_err();
        assert!(
            format!("{err:#}").starts_with("TASKS__HTTP__ALLOWED_ORIGINS: \"localhost:5173\""),
            "{err:#}"
        );
    }

    #[test]
    fn the_verified_token_cache_size_applies_to_every_issuer() {
        let settings = from_toml(
            r#"
            [auth]
            verified_token_cache_size = 0

            [[auth.extra_issuers]]
            issuer_url = "http://localhost:3000"
            audience = "a"
            "#,
        )
        .unwrap();
        let sizes: Vec<usize> = settings
            .auth
            .trusted_issuers()
            .iter()
            .map(|issuer| issuer.config().verified_token_cache_size)
            .collect();
        assert_eq!(sizes, [0, 0]);
        assert_eq!(
            Settings::default().auth.verified_token_cache_size,
            auth_core::DEFAULT_VERIFIED_TOKEN_CACHE_SIZE
        );
    }
}
