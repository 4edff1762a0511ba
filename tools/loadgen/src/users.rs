//! The benchmark's users: their credentials and tokens, and the ids of their tasks.

use std::sync::Mutex;

use serde::Deserialize;

/// Every benchmark user has the same password: only its hashing cost matters here.
pub const PASSWORD: &str = "loadgen benchmark password";

pub fn email(index: usize) -> String {
    format!("bench-user-{index}@loadgen.example")
}

pub struct User {
    pub email: String,
    pub access_token: String,
    /// The access token with one signature character changed: well-formed, signed by a
    /// known key id, but the signature does not verify, so the full verification runs.
    pub bad_token: String,
    /// The latest refresh token. Refresh tokens are single use and a reused one revokes the
    /// session, so only the worker that owns this user (see `scenario`) ever takes it, and it
    /// always stores the successor before using it again.
    pub refresh_token: Mutex<String>,
    pub task_ids: Vec<String>,
}

/// The parts of a token response the benchmark needs.
#[derive(Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
}

/// The part of a created task the benchmark needs.
#[derive(Deserialize)]
pub struct CreatedTask {
    pub id: String,
}

/// Changes one character in the middle of the JWT's signature part.
pub fn tamper(token: &str) -> String {
    let signature_start = token.rfind('.').map_or(0, |dot| dot + 1);
    let middle = signature_start + (token.len() - signature_start) / 2;
    token
        .char_indices()
        .map(|(i, c)| match (i == middle, c) {
            (true, 'A') => 'B',
            (true, _) => 'A',
            (false, c) => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tamper_changes_exactly_one_signature_character() {
        let token = "aaaa.bbbb.cdefgh";
        let bad = tamper(token);
        assert_eq!(bad.len(), token.len());
        assert!(bad.starts_with("aaaa.bbbb."));
        let changed = token
            .chars()
            .zip(bad.chars())
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(changed, 1);
        assert_eq!(tamper("x.y.AAAA"), "x.y.AABA");
    }
}
