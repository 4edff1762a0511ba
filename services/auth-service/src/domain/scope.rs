//! OAuth scopes (RFC 6749 §3.3) that this service can grant: `auth_core::scopes::ALL`, the one
//! list every service shares. A [`ScopeSet`] only ever holds known scopes, in that canonical
//! order, so its string form is stable.

use std::fmt;

use auth_core::scopes;

/// A non-empty set of known scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopeSet {
    /// Bit `i` set = `scopes::ALL[i]` is in the set.
    bits: u8,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScopeError {
    #[error("no scope given")]
    Empty,
    #[error("unknown scope `{0}` (known: {known})", known = scopes::ALL.join(" "))]
    Unknown(String),
}

impl ScopeSet {
    /// Space-separated scope names; repeats and extra whitespace are tolerated.
    pub fn parse(raw: &str) -> Result<Self, ScopeError> {
        let mut bits = 0u8;
        for name in raw.split_ascii_whitespace() {
            let index = scopes::ALL
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
        scopes::ALL
            .iter()
            .position(|known| *known == scope)
            .is_some_and(|index| self.bits & (1 << index) != 0)
    }

    pub fn is_subset_of(&self, other: &ScopeSet) -> bool {
        self.bits & !other.bits == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = &'static str> + '_ {
        scopes::ALL
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
        assert_eq!(
            ScopeSet::parse("Tasks:Read"),
            Err(ScopeError::Unknown("Tasks:Read".into()))
        );
    }

    #[test]
    fn subsets() {
        let all = ScopeSet::parse("tasks:read tasks:write tasks:purge").unwrap();
        let purge = ScopeSet::parse("tasks:purge").unwrap();
        assert!(purge.is_subset_of(&all));
        assert!(purge.is_subset_of(&purge));
        assert!(!all.is_subset_of(&purge));
    }

    /// Every one of the 31 non-empty sets of the 5 scopes: it prints in canonical order,
    /// parses back to itself, and contains exactly its members.
    #[test]
    fn every_set_round_trips() {
        let all = (1u8 << scopes::ALL.len()) - 1;
        for bits in 1..=all {
            let set = ScopeSet { bits };
            assert_eq!(
                ScopeSet::parse(&set.to_string()),
                Ok(set),
                "bits {bits:05b}"
            );
            for (i, name) in scopes::ALL.iter().enumerate() {
                assert_eq!(set.contains(name), bits & (1 << i) != 0, "{name} in {set}");
            }
        }
    }

    /// Scope lists as clients write them: known names in any order, repeated, with extra
    /// whitespace, and sometimes a near miss. Parsing gives the set of the names, or names the
    /// first unknown one.
    fn scope_list() -> impl Strategy<Value = Vec<&'static str>> {
        let names = prop_oneof![
            8 => proptest::sample::select(scopes::ALL.to_vec()),
            1 => proptest::sample::select(vec!["tasks:READ", "tasks", "tokens:revoke ", "admin"]),
        ];
        proptest::collection::vec(names, 0..8)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn parses_what_clients_write(names in scope_list(), gap in "[ \t]{1,3}") {
            let raw = names.join(&gap);
            let expected: Result<Vec<&str>, ScopeError> = match names
                .iter()
                .map(|n| n.trim())
                .find(|n| !scopes::ALL.contains(n))
            {
                Some(unknown) => Err(ScopeError::Unknown(unknown.to_owned())),
                None if names.is_empty() => Err(ScopeError::Empty),
                None => Ok(scopes::ALL
                    .iter()
                    .copied()
                    .filter(|s| names.iter().any(|n| n.trim() == *s))
                    .collect()),
            };
            let parsed = ScopeSet::parse(&raw).map(|set| set.iter().collect::<Vec<_>>());
            prop_assert_eq!(parsed, expected);
        }

        #[test]
        fn never_panics(raw in ".{0,200}") {
            let _ = ScopeSet::parse(&raw);
        }
    }
}
