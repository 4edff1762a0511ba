//! The HTTP plumbing shared by the JWKS fetcher and the revocation-feed follower: one error type
//! whose messages say what actually went wrong, and response bodies read with a size cap.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    #[error("the HTTP client could not be built: {0}")]
    NoClient(String),
    #[error("request failed: {0}")]
    Http(String),
    #[error("unexpected HTTP status {0}")]
    Status(reqwest::StatusCode),
    #[error("response body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("response is not the expected JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("discovery document names issuer {found:?}, expected {expected:?}")]
    IssuerMismatch { found: String, expected: String },
    #[error("getting a service token failed: {0}")]
    Token(String),
    #[error("the key set has no usable keys")]
    NoUsableKeys,
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

/// A client with our user agent and the given timeouts. Building can only fail when the TLS
/// backend cannot initialise; the error is kept and reported on every use rather than
/// panicking at start-up.
pub(crate) fn build_client(
    connect_timeout: Duration,
    total_timeout: Duration,
    keep_idle_connections: bool,
) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .timeout(total_timeout)
        .user_agent(concat!("taskgate-auth-core/", env!("CARGO_PKG_VERSION")));
    if !keep_idle_connections {
        builder = builder.pool_max_idle_per_host(0);
    }
    builder
        .build()
        .map_err(|err| FetchError::from(err).to_string())
}

/// Checks the status and reads the body, refusing more than `max_bytes`.
pub(crate) async fn read_bounded(
    mut response: reqwest::Response,
    max_bytes: usize,
) -> Result<Vec<u8>, FetchError> {
    if !response.status().is_success() {
        return Err(FetchError::Status(response.status()));
    }
    if response
        .content_length()
        .is_some_and(|len| len > max_bytes as u64)
    {
        return Err(FetchError::TooLarge(max_bytes));
    }
    // Content-Length may be absent (chunked) or lie, so count while reading too.
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > max_bytes {
            return Err(FetchError::TooLarge(max_bytes));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
