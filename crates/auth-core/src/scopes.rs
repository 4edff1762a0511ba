//! The scopes our auth-service grants, named once here so the services that issue, require or
//! document them never spell them differently. A token's `scope` claim holds some of these,
//! space-separated (RFC 9068 §2.2.3.1); handlers check one with `require_scope`.

/// Read the calling user's own tasks.
pub const TASKS_READ: &str = "tasks:read";
/// Create, change and delete the calling user's own tasks.
pub const TASKS_WRITE: &str = "tasks:write";
/// Delete every task of a user, whoever that user is: for the auth-service's account deletion
/// (a service token), never granted to a user session.
pub const TASKS_PURGE: &str = "tasks:purge";
/// Call `/oauth/revoke` on any user's tokens, not only the caller's own. Granted deliberately
/// to a client that needs it, never implied by another scope.
pub const TOKENS_REVOKE: &str = "tokens:revoke";
/// Call `/oauth/introspect` on any user's tokens. Granted deliberately to a client that needs
/// it, never implied by another scope.
pub const TOKENS_INTROSPECT: &str = "tokens:introspect";

/// Read the auth-service's revocation feed (`GET /api/auth/revocations`): which sessions
/// ended and which users were deleted, and when. For validators (the tasks-service), never
/// granted to a user session.
pub const REVOCATIONS_READ: &str = "revocations:read";

/// Every scope the auth-service can grant, in canonical order.
pub const ALL: [&str; 6] = [
    TASKS_READ,
    TASKS_WRITE,
    TASKS_PURGE,
    TOKENS_REVOKE,
    TOKENS_INTROSPECT,
    REVOCATIONS_READ,
];

/// What a first-party user session is granted.
pub const USER: [&str; 2] = [TASKS_READ, TASKS_WRITE];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_names_are_distinct_valid_scope_tokens_and_user_scopes_are_a_subset() {
        for (index, scope) in ALL.iter().enumerate() {
            // RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E, at least one.
            assert!(!scope.is_empty(), "empty scope");
            assert!(
                scope
                    .bytes()
                    .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b)),
                "{scope:?} is not an RFC 6749 scope-token"
            );
            assert!(!ALL[..index].contains(scope), "{scope} listed twice");
        }
        for scope in USER {
            assert!(ALL.contains(&scope), "{scope} missing from ALL");
        }
        assert!(!USER.contains(&TASKS_PURGE));
        assert!(!USER.contains(&TOKENS_REVOKE));
        assert!(!USER.contains(&TOKENS_INTROSPECT));
        assert!(!USER.contains(&REVOCATIONS_READ));
    }
}
