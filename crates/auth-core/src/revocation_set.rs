//! The in-memory revocation set one issuer's feed fills: revoked session ids and per-user
//! "not before" cut-offs, each kept until the tokens it concerns can no longer verify anyway.
//! Checking it is two hash lookups, so verification never calls the issuer per request.

use std::collections::HashMap;

use uuid::Uuid;

/// A user's cut-off: tokens issued before `not_before` are revoked (password change, account
/// deletion, "sign out everywhere").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UserCutoff {
    pub not_before: i64,
    pub expires_at: i64,
}

#[derive(Debug, Default)]
pub(crate) struct RevocationSet {
    /// Session id → when the last token of that session expires.
    sessions: HashMap<Uuid, i64>,
    users: HashMap<Uuid, UserCutoff>,
}

impl RevocationSet {
    /// Merges one revoked session; a repeat keeps the later expiry.
    pub(crate) fn revoke_session(&mut self, sid: Uuid, expires_at: i64) {
        let entry = self.sessions.entry(sid).or_insert(expires_at);
        *entry = (*entry).max(expires_at);
    }

    /// Merges one user cut-off; revocation only ever widens, so each bound keeps its maximum.
    pub(crate) fn cut_off_user(&mut self, sub: Uuid, cutoff: UserCutoff) {
        let entry = self.users.entry(sub).or_insert(cutoff);
        entry.not_before = entry.not_before.max(cutoff.not_before);
        entry.expires_at = entry.expires_at.max(cutoff.expires_at);
    }

    /// Whether a token (its `sid`, `sub` and `iat`) is revoked at `now`. An entry stops
    /// counting `grace` seconds after its `expires_at`: by then every token it concerns has
    /// expired beyond the verifier's leeway, so the answer no longer depends on when the
    /// follower last pruned.
    pub(crate) fn is_revoked(
        &self,
        sid: Option<&str>,
        sub: &str,
        iat: i64,
        now: i64,
        grace: i64,
    ) -> bool {
        let live = |expires_at: i64| now <= expires_at.saturating_add(grace);
        let session_revoked = sid
            .and_then(|sid| Uuid::parse_str(sid).ok())
            .and_then(|sid| self.sessions.get(&sid))
            .is_some_and(|expires_at| live(*expires_at));
        let user_cut_off = Uuid::parse_str(sub)
            .ok()
            .and_then(|sub| self.users.get(&sub))
            .is_some_and(|cutoff| live(cutoff.expires_at) && iat < cutoff.not_before);
        session_revoked || user_cut_off
    }

    /// Drops entries that can no longer matter (see [`RevocationSet::is_revoked`]).
    pub(crate) fn prune(&mut self, now: i64, grace: i64) {
        let live = |expires_at: i64| now <= expires_at.saturating_add(grace);
        self.sessions.retain(|_, expires_at| live(*expires_at));
        self.users.retain(|_, cutoff| live(cutoff.expires_at));
    }

    pub(crate) fn len(&self) -> usize {
        self.sessions.len() + self.users.len()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;
    const GRACE: i64 = 60;

    #[test]
    fn a_revoked_session_is_revoked_until_its_expiry_plus_grace() {
        let sid = Uuid::now_v7();
        let sub = Uuid::now_v7().to_string();
        let mut set = RevocationSet::default();
        set.revoke_session(sid, NOW + 10);
        let sid_text = sid.to_string();
        assert!(set.is_revoked(Some(&sid_text), &sub, NOW, NOW, GRACE));
        // Uppercase spelling of the same UUID is the same session.
        let upper = sid_text.to_uppercase();
        assert!(set.is_revoked(Some(&upper), &sub, NOW, NOW, GRACE));
        assert!(set.is_revoked(Some(&sid_text), &sub, NOW, NOW + 10 + GRACE, GRACE));
        assert!(!set.is_revoked(Some(&sid_text), &sub, NOW, NOW + 11 + GRACE, GRACE));
        assert!(!set.is_revoked(None, &sub, NOW, NOW, GRACE));
        let other = Uuid::now_v7().to_string();
        assert!(!set.is_revoked(Some(&other), &sub, NOW, NOW, GRACE));
    }

    #[test]
    fn a_user_cutoff_refuses_tokens_issued_strictly_before_it() {
        let sub = Uuid::now_v7();
        let mut set = RevocationSet::default();
        let cutoff = UserCutoff {
            not_before: NOW,
            expires_at: NOW + 900,
        };
        set.cut_off_user(sub, cutoff);
        let sub = sub.to_string();
        assert!(set.is_revoked(None, &sub, NOW - 1, NOW, GRACE));
        assert!(!set.is_revoked(None, &sub, NOW, NOW, GRACE));
        assert!(!set.is_revoked(None, &sub, NOW + 1, NOW, GRACE));
        assert!(!set.is_revoked(None, "not-a-uuid", NOW - 1, NOW, GRACE));
    }

    #[test]
    fn merging_keeps_the_widest_revocation() {
        let (sid, sub) = (Uuid::now_v7(), Uuid::now_v7());
        let mut set = RevocationSet::default();
        set.revoke_session(sid, NOW + 100);
        set.revoke_session(sid, NOW + 10);
        set.cut_off_user(
            sub,
            UserCutoff {
                not_before: NOW,
                expires_at: NOW + 100,
            },
        );
        set.cut_off_user(
            sub,
            UserCutoff {
                not_before: NOW - 50,
                expires_at: NOW + 10,
            },
        );
        set.prune(NOW + 50, 0);
        assert_eq!(set.len(), 2);
        assert!(set.is_revoked(None, &sub.to_string(), NOW - 1, NOW + 50, 0));
    }

    #[test]
    fn prune_drops_only_entries_past_expiry_plus_grace() {
        let mut set = RevocationSet::default();
        set.revoke_session(Uuid::now_v7(), NOW - GRACE - 1);
        set.revoke_session(Uuid::now_v7(), NOW - GRACE);
        set.cut_off_user(
            Uuid::now_v7(),
            UserCutoff {
                not_before: NOW - 1000,
                expires_at: NOW - GRACE - 1,
            },
        );
        set.prune(NOW, GRACE);
        assert_eq!(set.len(), 1);
    }
}
