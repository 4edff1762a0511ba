//! Fetching the issuer's JWK Set over HTTP: discovery (RFC 8414 / OpenID Connect Discovery),
//! bounded response bodies, and lenient parsing (one odd key must not hide the others).

use std::time::Duration;

use jsonwebtoken::jwk::{Jwk, JwkSet};
use reqwest::header::ACCEPT;
use serde::Deserialize;

/// A JWKS is a few KiB; anything this large is a misconfiguration or an attack.
pub(crate) const MAX_BODY_BYTES: usize = 256 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const TOTAL_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    #[error("the HTTP client could not be built: {0}")]
    NoClient(String),
    #[error("request failed: {0}")]
    Http(String),
    #[error("unexpected HTTP status {0}")]
    Status(reqwest::StatusCode),
    #[error("response body is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    #[error("response is not the expected JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("discovery document names issuer {found:?}, expected {expected:?}")]
    IssuerMismatch { found: String, expected: String },
    #[error("the key set has no usable keys")]
    NoUsableKeys,
}

/// A failed fetch and the URL it was for (for the log line).
#[derive(Debug)]
pub(crate) struct FetchFailure {
    pub url: String,
    pub error: FetchError,
}

impl From<reqwest::Error> for FetchError {
    fn from(err: reqwest::Error) -> Self {
        // reqwest's own message is terse ("error sending request"); the cause chain says what
        // actually happened (connection refused, timeout, TLS), which is what an operator needs.
        let mut message = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        FetchError::Http(message)
    }
}

/// The members of a discovery document we use.
#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

/// Parsed members of `{"keys": [...]}`, each key kept as raw JSON until parsed on its own.
#[derive(Deserialize)]
struct RawJwkSet {
    keys: Vec<serde_json::Value>,
}

pub(crate) struct JwksFetcher {
    client: Result<reqwest::Client, String>,
    issuer: String,
    configured_url: Option<String>,
}

impl JwksFetcher {
    pub(crate) fn new(issuer: &str, jwks_url: Option<&str>) -> JwksFetcher {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(TOTAL_TIMEOUT)
            // Fetches are minutes apart and may run on different runtimes (actix workers and the
            // refresh task); a pooled connection tied to another runtime would fail, and keeping
            // one alive for minutes buys nothing.
            .pool_max_idle_per_host(0)
            .user_agent(concat!("taskgate-auth-core/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| FetchError::from(err).to_string());
        JwksFetcher {
            client,
            issuer: issuer.to_owned(),
            configured_url: jwks_url.map(str::to_owned),
        }
    }

    /// Fetches the key set, returning it with the URL it came from. `discovered_url` caches the discovery result between calls; it is
    /// cleared when the JWKS fetch fails, so a moved `jwks_uri` is picked up on the next try.
    pub(crate) async fn fetch(
        &self,
        discovered_url: &mut Option<String>,
    ) -> Result<(String, JwkSet), FetchFailure> {
        let url = match (&self.configured_url, discovered_url.as_ref()) {
            (Some(url), _) | (None, Some(url)) => url.clone(),
            (None, None) => {
                let url = self.discover().await?;
                *discovered_url = Some(url.clone());
                url
            }
        };
        match self.fetch_jwks(&url).await {
            Ok(set) => Ok((url, set)),
            Err(error) => {
                *discovered_url = None;
                Err(FetchFailure { url, error })
            }
        }
    }

    /// The `jwks_uri` of the issuer's discovery document.
    async fn discover(&self) -> Result<String, FetchFailure> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        );
        let fail = |error| FetchFailure {
            url: url.clone(),
            error,
        };
        let body = self.get(&url).await.map_err(fail)?;
        let discovery: Discovery = serde_json::from_slice(&body).map_err(|err| fail(err.into()))?;
        // OpenID Connect Discovery §4.3: the document must name exactly the issuer we asked
        // about, otherwise a misrouted or hostile server could hand us someone else's keys.
        if discovery.issuer != self.issuer {
            return Err(fail(FetchError::IssuerMismatch {
                found: discovery.issuer,
                expected: self.issuer.clone(),
            }));
        }
        Ok(discovery.jwks_uri)
    }

    /// Fetches and parses the key set. Keys that do not parse are skipped with a warning.
    async fn fetch_jwks(&self, url: &str) -> Result<JwkSet, FetchError> {
        let body = self.get(url).await?;
        let raw: RawJwkSet = serde_json::from_slice(&body)?;
        let mut keys = Vec::with_capacity(raw.keys.len());
        for value in raw.keys {
            match serde_json::from_value::<Jwk>(value) {
                Ok(jwk) => keys.push(jwk),
                Err(err) => {
                    tracing::warn!(%url, error = %err, "skipping a JWK that does not parse")
                }
            }
        }
        Ok(JwkSet { keys })
    }

    async fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let client = self
            .client
            .as_ref()
            .map_err(|e| FetchError::NoClient(e.clone()))?;
        let mut response = client
            .get(url)
            .header(ACCEPT, "application/jwk-set+json, application/json")
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status()));
        }
        if response
            .content_length()
            .is_some_and(|len| len > MAX_BODY_BYTES as u64)
        {
            return Err(FetchError::TooLarge);
        }
        // Content-Length may be absent (chunked) or lie, so count while reading too.
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}
