use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
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

/// argon2id at OWASP's recommended minimum (m = 19 MiB, t = 2, p = 1). Hashing is CPU-bound
/// for tens of milliseconds, so callers run it on the blocking pool (`spawn_blocking`).
#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    /// A real hash of a random password: sign-in for an unknown email verifies against it so
    /// it costs the same time as a wrong password and reveals nothing.
    dummy_hash: String,
}

impl PasswordHasher {
    pub fn new() -> anyhow::Result<Self> {
        let params = Params::new(19 * 1024, 2, 1, None)
            .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut hasher = Self {
            argon2,
            dummy_hash: String::new(),
        };
        let random: [u8; 24] = rand::random();
        hasher.dummy_hash = hasher.hash_str(&base64_of(&random))?;
        Ok(hasher)
    }

    pub fn hash(&self, password: &Password) -> anyhow::Result<String> {
        self.hash_str(password.expose())
    }

    fn hash_str(&self, password: &str) -> anyhow::Result<String> {
        let salt_bytes: [u8; 16] = rand::random();
        let salt = SaltString::encode_b64(&salt_bytes)
            .map_err(|e| anyhow::anyhow!("encoding salt: {e}"))?;
        let hash = self
            .argon2
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| anyhow::anyhow!("hashing password: {e}"))?;
        Ok(hash.to_string())
    }

    /// Verifies `password` against `stored` (or against the dummy hash when there is no user),
    /// always doing the full argon2 work. The comparison inside argon2 is constant-time.
    pub fn verify(&self, password: &str, stored: Option<&str>) -> bool {
        let target = stored.unwrap_or(&self.dummy_hash);
        let matches = match PasswordHash::new(target) {
            Ok(parsed) => self
                .argon2
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => {
                tracing::error!("a stored password hash could not be parsed");
                false
            }
        };
        matches && stored.is_some()
    }
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
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

    #[test]
    fn hash_and_verify() {
        let hasher = PasswordHasher::new().unwrap();
        let password = Password::parse(secret("correct horse battery")).unwrap();
        let hash = hasher.hash(&password).unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hasher.verify("correct horse battery", Some(&hash)));
        assert!(!hasher.verify("wrong horse battery", Some(&hash)));
        assert!(!hasher.verify("correct horse battery", None));
    }

    proptest! {
        #[test]
        fn parse_accepts_exactly_8_to_128_chars(raw in "\\PC{0,140}") {
            let n = raw.chars().count();
            prop_assert_eq!(Password::parse(secret(&raw)).is_ok(), (8..=128).contains(&n));
        }
    }
}
