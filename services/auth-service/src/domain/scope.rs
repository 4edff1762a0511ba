//! OAuth scopes (RFC 6749 §3.3) that this service can grant. A [`ScopeSet`] only ever holds
//! known scopes, in one canonical order, so its string form is stable.

use std::fmt;

/// Every scope the service knows, in canonical order. Service clients may be allowed any of
/// them; user sessions get `tasks:read tasks:write` (see `access_token::USER_SCOPES`).
/// `tokens:revoke` and `tokens:introspect` let a client use `/oauth/revoke` and
/// `/oauth/introspect` on any user's tokens, so they are granted deliberately, never implied.
pub const KNOWN_SCOPES: [&str; 5] = [
    "tasks:read",
    "tasks:write",
    "tasks:purge",
    "tokens:revoke",
    "tokens:introspect",
];

/// A non-empty set of known scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopeSet {
    /// Bit `i` set = `KNOWN_SCOPES[i]` is in the set.
    bits: u8,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScopeError {
    #[error("no scope given")]
    Empty,
    #[error(
        "unknown scope `{0}` (known: tasks:read tasks:write tasks:purge tokens:revoke tokens:introspect)"
    )]
    Unknown(String),
}

impl ScopeSet {
    /// Space-separated scope names; repeats and extra whitespace are tolerated.
    pub fn parse(raw: &str) -> Result<Self, ScopeError> {
        let mut bits = 0u8;
        for name in raw.split_ascii_whitespace() {
            let index = KNOWN_SCOPES
                .iter()
                .position(|known| *known == name)
                .ok_or_else(|| ScopeError::Unknown(truncated(name)))?;
            bits |= 1 << index;
        }
        if bits == 0 {
            return Err(ScopeError::Empty);
        }
        Ok(Self { bits })
    }

    pub fn contains(&self, scope: &str) -> bool {
        KNOWN_SCOPES
            .iter()
            .position(|known| *known == scope)
            .is_some_and(|index| self.bits & (1 << index) != 0)
    }

    pub fn is_subset_of(&self, other: &ScopeSet) -> bool {
        self.bits & !other.bits == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = &'static str> + '_ {
        KNOWN_SCOPES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.bits & (1 << i) != 0)
            .map(|(_, name)| *name)
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().collect();
        f.write_str(&names.join(" "))
    }
}

/// An unknown scope is echoed in errors: keep it short.
fn truncated(name: &str) -> String {
    name.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_known_scopes_into_canonical_order() {
        let set = ScopeSet::parse("  tasks:purge tasks:read tasks:purge ").unwrap();
        assert_eq!(set.to_string(), "tasks:read tasks:purge");
    }

    #[test]
    fn refuses_unknown_and_empty() {
        assert_eq!(
            ScopeSet::parse("tasks:read admin"),
            Err(ScopeError::Unknown("admin".into()))
        );
        assert_eq!(ScopeSet::parse(""), Err(ScopeError::Empty));
        assert_eq!(ScopeSet::parse("   "), Err(ScopeError::Empty));
        // Case matters (RFC 6749 §3.3: scope tokens are case-sensitive).
        assert!(ScopeSet::parse("Tasks:Read").is_err());
    }

    #[test]
    fn subsets() {
        let all = ScopeSet::parse("tasks:read tasks:write tasks:purge").unwrap();
        let purge = ScopeSet::parse("tasks:purge").unwrap();
        assert!(purge.is_subset_of(&all));
        assert!(purge.is_subset_of(&purge));
        assert!(!all.is_subset_of(&purge));
    }

    proptest! {
        #[test]
        fn display_round_trips(bits in 1u8..8) {
            let set = ScopeSet { bits };
            prop_assert_eq!(ScopeSet::parse(&set.to_string()), Ok(set));
        }

        #[test]
        fn never_panics(raw in ".{0,200}") {
            let _ = ScopeSet::parse(&raw);
        }
    }
}
