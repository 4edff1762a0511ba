//! A service's own access token, got with `client_credentials` (RFC 6749 §4.4) and kept until
//! shortly before it expires: what the revocation follower sends to read the feed.

use std::time::{Duration, Instant};

use reqwest::header::ACCEPT;
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::config::FeedClient;
use crate::http_fetch::{FetchError, build_client, read_bounded};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const TOTAL_TIMEOUT: Duration = Duration::from_secs(10);
/// A token response is a few hundred bytes.
const MAX_BODY_BYTES: usize = 64 * 1024;
/// Renewed when less than this share of its lifetime is left (a fifth: a minute of a 5-minute
/// service token), so a poll never starts with a token about to expire.
const RENEW_WHEN_LEFT: u32 = 5;
/// The longest lifetime a service token is held for, whatever the token server says (a day).
const MAX_LIFETIME_SECS: u64 = 24 * 60 * 60;

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
}

pub(crate) struct ServiceToken {
    client: Result<reqwest::Client, String>,
    source: FeedClient,
    scope: &'static str,
    current: Option<(String, Instant)>,
}

impl ServiceToken {
    pub(crate) fn new(source: FeedClient, scope: &'static str) -> ServiceToken {
        ServiceToken {
            client: build_client(CONNECT_TIMEOUT, TOTAL_TIMEOUT, false),
            source,
            scope,
            current: None,
        }
    }

    /// A token with enough life left, asking the token endpoint for a new one when needed.
    pub(crate) async fn bearer(&mut self) -> Result<String, FetchError> {
        if let Some((token, renew_at)) = &self.current
            && Instant::now() < *renew_at
        {
            return Ok(token.clone());
        }
        let client = self
            .client
            .as_ref()
            .map_err(|e| FetchError::NoClient(e.clone()))?;
        let response = client
            .post(&self.source.token_url)
            .header(ACCEPT, "application/json")
            .basic_auth(
                &self.source.client_id,
                Some(self.source.client_secret.expose_secret()),
            )
            .form(&[("grant_type", "client_credentials"), ("scope", self.scope)])
            .send()
            .await
            .map_err(|err| FetchError::Token(FetchError::from(err).to_string()))?;
        let body = read_bounded(response, MAX_BODY_BYTES)
            .await
            .map_err(|err| FetchError::Token(err.to_string()))?;
        let issued: TokenResponse =
            serde_json::from_slice(&body).map_err(|err| FetchError::Token(err.to_string()))?;
        // Bounded: a token server's absurd `expires_in` must not overflow the clock below.
        let lifetime = Duration::from_secs(issued.expires_in.min(MAX_LIFETIME_SECS));
        let renew_at = Instant::now() + lifetime - lifetime / RENEW_WHEN_LEFT;
        self.current = Some((issued.access_token.clone(), renew_at));
        Ok(issued.access_token)
    }

    /// Drops the token (the feed refused it: a rotated key, a revoked client), so the next
    /// call asks for a new one.
    pub(crate) fn forget(&mut self) {
        self.current = None;
    }
}
