use secrecy::{ExposeSecret, SecretString};

/// A password that meets NIST SP 800-63B §3.1.1.2: 8 to 128 characters, any characters, no
/// composition rules. Held as a secret so it never reaches a log line.
pub struct Password(SecretString);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("password must be at least 8 characters")]
    TooShort,
    #[error("password must be at most 128 characters")]
    TooLong,
}

impl Password {
    pub fn parse(raw: SecretString) -> Result<Self, PasswordError> {
        let length = raw.expose_secret().chars().count();
        if length < 8 {
            Err(PasswordError::TooShort)
        } else if length > 128 {
            Err(PasswordError::TooLong)
        } else {
            Ok(Self(raw))
        }
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

    #[test]
    fn length_limits_count_characters_not_bytes() {
        assert_eq!(
            Password::parse(secret("short")).err(),
            Some(PasswordError::TooShort)
        );
        assert!(Password::parse(secret("12345678")).is_ok());
        assert!(Password::parse(secret(&"é".repeat(128))).is_ok());
        assert_eq!(
            Password::parse(secret(&"x".repeat(129))).err(),
            Some(PasswordError::TooLong)
        );
        // No composition rules: spaces and emoji are fine.
        assert!(Password::parse(secret("correct horse 🐎")).is_ok());
    }

    proptest! {
        #[test]
        fn parse_accepts_exactly_8_to_128_chars(raw in "\\PC{0,140}") {
            let n = raw.chars().count();
            prop_assert_eq!(Password::parse(secret(&raw)).is_ok(), (8..=128).contains(&n));
        }
    }
}
