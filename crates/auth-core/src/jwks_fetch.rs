//! Fetching the issuer's JWK Set over HTTP: discovery (RFC 8414 / OpenID Connect Discovery),
//! bounded response bodies, and lenient parsing (one odd key must not hide the others).

use std::time::Duration;

use jsonwebtoken::jwk::{Jwk, JwkSet};
use reqwest::header::ACCEPT;
use serde::Deserialize;

use crate::http_fetch::{FetchError, build_client, read_bounded};

/// A JWKS is a few KiB; anything this large is a misconfiguration or an attack.
const MAX_BODY_BYTES: usize = 256 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const TOTAL_TIMEOUT: Duration = Duration::from_secs(5);

/// A failed fetch and the URL it was for (for the log line).
#[derive(Debug)]
pub(crate) struct FetchFailure {
    pub url: String,
    pub error: FetchError,
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
        // Fetches are minutes apart and may run on different runtimes (actix workers and the
        // refresh task); a pooled connection tied to another runtime would fail, and keeping
        // one alive for minutes buys nothing.
        let client = build_client(CONNECT_TIMEOUT, TOTAL_TIMEOUT, false);
        JwksFetcher {
            client,
            issuer: issuer.to_owned(),
            configured_url: jwks_url.map(str::to_owned),
        }
    }

    /// Fetches the key set, returning it with the URL it came from. `discovered_url` caches the
    /// discovery result between calls; it is cleared when the JWKS fetch fails, so a moved
    /// `jwks_uri` is picked up on the next try.
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
        let response = client
            .get(url)
            .header(ACCEPT, "application/jwk-set+json, application/json")
            .send()
            .await?;
        read_bounded(response, MAX_BODY_BYTES).await
    }
}
