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
        assert_eq!(
            Password::parse(secret("12345678")).unwrap().expose(),
            "12345678"
        );
        let longest = "é".repeat(128);
        assert_eq!(Password::parse(secret(&longest)).unwrap().expose(), longest);
        assert_eq!(
            Password::parse(secret(&"x".repeat(129))).err(),
            Some(PasswordError::TooLong)
        );
        // No composition rules: spaces and emoji are fine.
        assert_eq!(
            Password::parse(secret("correct horse 🐎"))
                .unwrap()
                .expose(),
            "correct horse 🐎"
        );
    }

    proptest! {
        #[test]
        fn parse_accepts_exactly_8_to_128_chars(raw in "\\PC{0,140}") {
            let n = raw.chars().count();
            let expected = match n {
                0..8 => Err(PasswordError::TooShort),
                8..=128 => Ok(raw.clone()),
                _ => Err(PasswordError::TooLong),
            };
            prop_assert_eq!(
                Password::parse(secret(&raw)).map(|p| p.expose().to_owned()),
                expected
            );
        }
    }
}
