//! The one rule for a password a user chooses (sign-up and password change).

use secrecy::{ExposeSecret, SecretString};

use super::Email;
use super::common_passwords;

/// A password that meets NIST SP 800-63B §3.1.1.2: 8 to 128 characters, any characters, no
/// composition rules, not a known common or breached password and not the account's email.
/// Held as a secret so it never reaches a log line.
pub struct Password(SecretString);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("password must be at least 8 characters")]
    TooShort,
    #[error("password must be at most 128 characters")]
    TooLong,
    #[error("password must not be your email address or the part of it before the @")]
    SameAsEmail,
    #[error(
        "this password is too common: it is on lists of passwords leaked from other sites, \
         which attackers try first. Choose another one (a few unrelated words make a strong \
         password)"
    )]
    Common,
}

impl Password {
    /// Checks a new password for the account `email`. Passwords are compared with the email
    /// and the common list trimmed and case-insensitively, so `Password1 ` is as common as
    /// `password1`.
    pub fn parse(raw: SecretString, email: &Email) -> Result<Self, PasswordError> {
        let exposed = raw.expose_secret();
        let length = exposed.chars().count();
        if length < 8 {
            return Err(PasswordError::TooShort);
        }
        if length > 128 {
            return Err(PasswordError::TooLong);
        }
        let folded = exposed.trim().to_lowercase();
        let email = email.as_str().to_lowercase();
        let local = email.rsplit_once('@').map_or(email.as_str(), |(l, _)| l);
        if folded == email || folded == local {
            return Err(PasswordError::SameAsEmail);
        }
        if common_passwords::contains(&folded) {
            return Err(PasswordError::Common);
        }
        Ok(Self(raw))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    fn alice() -> Email {
        Email::parse("Alice.Smith@Example.org").unwrap()
    }

    fn parse(s: &str) -> Result<String, PasswordError> {
        Password::parse(secret(s), &alice()).map(|p| p.expose().to_owned())
    }

    #[test]
    fn length_limits_count_characters_not_bytes() {
        assert_eq!(parse("short"), Err(PasswordError::TooShort));
        assert_eq!(parse("7f3k9q2m").as_deref(), Ok("7f3k9q2m"));
        let longest = "é".repeat(128);
        assert_eq!(parse(&longest), Ok(longest));
        assert_eq!(parse(&"x".repeat(129)), Err(PasswordError::TooLong));
        // No composition rules: spaces and emoji are fine.
        assert_eq!(parse("correct horse 🐎").as_deref(), Ok("correct horse 🐎"));
    }

    #[test]
    fn refuses_common_passwords_in_any_case() {
        for common in [
            "password",
            "Password1",
            "  QWERTY123 ",
            "iloveyou!",
            "12345678",
        ] {
            assert_eq!(parse(common), Err(PasswordError::Common), "{common:?}");
        }
    }

    #[test]
    fn refuses_the_email_and_its_local_part_in_any_case() {
        for same in [
            "alice.smith@example.org",
            "ALICE.SMITH@EXAMPLE.ORG",
            "Alice.Smith",
            " alice.smith ",
        ] {
            assert_eq!(parse(same), Err(PasswordError::SameAsEmail), "{same:?}");
        }
        assert!(parse("alice.smith is here").is_ok());
    }

    proptest! {
        #[test]
        fn parse_accepts_exactly_8_to_128_chars_of_what_is_not_common(raw in "\\PC{0,140}") {
            let n = raw.chars().count();
            let folded = raw.trim().to_lowercase();
            let expected = match n {
                0..8 => Err(PasswordError::TooShort),
                129.. => Err(PasswordError::TooLong),
                _ if folded == "alice.smith@example.org" || folded == "alice.smith" => {
                    Err(PasswordError::SameAsEmail)
                }
                _ if common_passwords::contains(&folded) => Err(PasswordError::Common),
                _ => Ok(raw.clone()),
            };
            prop_assert_eq!(parse(&raw), expected);
        }
    }
}
