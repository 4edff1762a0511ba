//! The offline list of common and breached passwords new passwords are checked against
//! (`assets/common-passwords.txt`; where it comes from and its licence: `assets/README.md`).
//!
//! The list is compiled into the binary and turned into a hash set once, on first use:
//! `startup` calls [`load`] so that cost (a few milliseconds) is paid at start-up, not by the
//! first sign-up. The set borrows the compiled-in text, so it costs no allocation per entry.

use std::collections::HashSet;
use std::sync::LazyLock;

/// Lower-cased, one per line, 8 to 128 characters each.
const LIST: &str = include_str!("../../assets/common-passwords.txt");

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| LIST.lines().collect());

/// Builds the set now (if it is not built yet); returns how many passwords it holds.
pub fn load() -> usize {
    COMMON.len()
}

/// Whether `password`, lower-cased, is on the list. O(1).
pub fn contains(password: &str) -> bool {
    COMMON.contains(password.to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_at_least_100_000_lower_cased_passwords() {
        assert!(load() >= 100_000, "{} passwords", load());
        assert!(
            LIST.lines()
                .all(|p| p == p.to_lowercase() && (8..=128).contains(&p.chars().count()))
        );
    }

    #[test]
    fn compares_case_insensitively() {
        for common in [
            "password",
            "PASSWORD",
            "Password1",
            "iloveyou!",
            "QWERTYUIOP",
        ] {
            assert!(contains(common), "{common}");
        }
        assert!(!contains("correct horse battery staple"));
        assert!(!contains("a new long passphrase"));
    }
}
