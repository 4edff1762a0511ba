//! One request to an issuer's revocation feed and its wire format:
//!
//! `GET {feed}?since=<cursor>&wait=<seconds>` →
//! `{"cursor": "…", "reset": bool, "sessions": [{"sid", "expires_at"}],
//!   "users": [{"sub", "not_before", "expires_at"}]}`
//!
//! Without `since` (or with a cursor the issuer no longer knows) the answer is `reset: true`
//! and a snapshot of every unexpired entry; otherwise only newer entries, held up to `wait`
//! seconds until there is one. Either is paged: `more: true` says the answer stopped at the
//! page limit, and the rest follows from `since` = `cursor` (a snapshot's later pages arrive as
//! increments). The cursor is opaque and passed back verbatim. Our auth-service requires a
//! service token with `revocations:read` (`Authorization: Bearer`).

use std::time::Duration;

use reqwest::header::ACCEPT;
use serde::Deserialize;
use uuid::Uuid;

use crate::http_fetch::{FetchError, build_client, read_bounded};
use crate::revocation_set::{RevocationSet, UserCutoff};

/// How long the issuer may hold a poll open. Below common proxy idle timeouts (60 s).
pub(crate) const LONG_POLL_WAIT_SECS: u64 = 25;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Must exceed the long-poll wait, or every quiet poll would end as a timeout error.
const TOTAL_TIMEOUT: Duration = Duration::from_secs(LONG_POLL_WAIT_SECS + 10);
/// A snapshot holds one small entry per revoked session still alive (~100 bytes each); this
/// allows a few hundred thousand while still bounding what a broken server can make us hold.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

#[derive(Debug, Deserialize)]
pub(crate) struct FeedPage {
    pub cursor: String,
    #[serde(default)]
    pub reset: bool,
    /// The answer was cut at the page limit: ask again at once with `since` = `cursor`.
    #[serde(default)]
    pub more: bool,
    #[serde(default)]
    sessions: Vec<RevokedSession>,
    #[serde(default)]
    users: Vec<RevokedUser>,
}

#[derive(Debug, Deserialize)]
struct RevokedSession {
    sid: String,
    expires_at: i64,
}

#[derive(Debug, Deserialize)]
struct RevokedUser {
    sub: String,
    not_before: i64,
    expires_at: i64,
}

impl FeedPage {
    pub(crate) fn is_empty(&self) -> bool {
        self.sessions.is_empty() && self.users.is_empty()
    }

    /// Adds this page's entries to `set`. Returns how many were skipped because their id is
    /// not a UUID (our issuer only revokes UUIDs; a token can never match such an entry).
    pub(crate) fn merge_into(&self, set: &mut RevocationSet) -> usize {
        let mut skipped = 0;
        for session in &self.sessions {
            match Uuid::parse_str(&session.sid) {
                Ok(sid) => set.revoke_session(sid, session.expires_at),
                Err(_) => skipped += 1,
            }
        }
        for user in &self.users {
            let cutoff = UserCutoff {
                not_before: user.not_before,
                expires_at: user.expires_at,
            };
            match Uuid::parse_str(&user.sub) {
                Ok(sub) => set.cut_off_user(sub, cutoff),
                Err(_) => skipped += 1,
            }
        }
        skipped
    }
}

pub(crate) struct RevocationFeed {
    client: Result<reqwest::Client, String>,
    url: String,
}

impl RevocationFeed {
    pub(crate) fn new(url: &str) -> RevocationFeed {
        RevocationFeed {
            // One task on one runtime uses this client back to back, so keeping the
            // connection alive between polls is safe and saves a handshake per poll.
            client: build_client(CONNECT_TIMEOUT, TOTAL_TIMEOUT, true),
            url: url.to_owned(),
        }
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Without a cursor: the snapshot's first page. With one: a long poll for what came after
    /// it. `bearer`: the service token the feed is read with.
    pub(crate) async fn poll(
        &self,
        since: Option<&str>,
        bearer: Option<&str>,
    ) -> Result<FeedPage, FetchError> {
        let client = self
            .client
            .as_ref()
            .map_err(|e| FetchError::NoClient(e.clone()))?;
        let mut request = client.get(&self.url).header(ACCEPT, "application/json");
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        if let Some(cursor) = since {
            let wait = LONG_POLL_WAIT_SECS.to_string();
            request = request.query(&[("since", cursor), ("wait", wait.as_str())]);
        }
        let body = read_bounded(request.send().await?, MAX_BODY_BYTES).await?;
        Ok(serde_json::from_slice(&body)?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_page_parses_and_merges_skipping_non_uuid_ids() {
        let (sid, sub) = (Uuid::now_v7(), Uuid::now_v7());
        let page: FeedPage = serde_json::from_value(serde_json::json!({
            "cursor": "42",
            "reset": false,
            "sessions": [{"sid": sid, "expires_at": 20}, {"sid": "nope", "expires_at": 20}],
            "users": [{"sub": sub, "not_before": 10, "expires_at": 20}],
        }))
        .unwrap();
        assert!(!page.is_empty());
        let mut set = RevocationSet::default();
        assert_eq!(page.merge_into(&mut set), 1);
        assert_eq!(set.len(), 2);
        assert!(set.is_revoked(Some(&sid.to_string()), "x", 0, 0, 0));
        assert!(set.is_revoked(None, &sub.to_string(), 9, 0, 0));
    }

    #[test]
    fn missing_arrays_mean_empty_and_the_cursor_is_required() {
        let page: FeedPage = serde_json::from_str(r#"{"cursor": "7"}"#).unwrap();
        assert!(page.is_empty() && !page.reset);
        let err = serde_json::from_str::<FeedPage>(r#"{"reset": true}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `cursor`"), "{err}");
        // Opaque means a string: a number is a server bug, not something to guess about.
        let err = serde_json::from_str::<FeedPage>(r#"{"cursor": 7}"#).unwrap_err();
        assert!(
            err.to_string()
                .contains("invalid type: integer `7`, expected a string"),
            "{err}"
        );
    }
}
