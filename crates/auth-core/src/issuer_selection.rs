//! Choosing which trusted issuer verifies a token. The token's `iss` is read *unverified*, and
//! only to pick a verifier: that issuer then checks everything, `iss` included, with its own
//! keys and rules, so lying about `iss` can only select a verifier that will refuse the token.

use jsonwebtoken::Algorithm;
use serde::Deserialize;
use serde_json::Value;

use crate::error::TokenError;
use crate::issuer_verifier::IssuerVerifier;

/// Only `iss` is read; a duplicate `iss` member is refused (serde reports it), so no later
/// parser can see a different issuer than the one chosen here.
#[derive(Deserialize)]
struct IssuerOnly {
    iss: Option<Value>,
}

/// The `iss` of a decoded (unverified) payload.
pub(crate) fn unverified_issuer(payload: &[u8]) -> Result<String, TokenError> {
    // serde would also read a struct from a JSON array; a claim set is an object (RFC 7519 §7.2).
    if payload.trim_ascii_start().first() != Some(&b'{') {
        return Err(TokenError::Malformed);
    }
    let parsed: IssuerOnly = serde_json::from_slice(payload).map_err(|_| TokenError::Malformed)?;
    match parsed.iss {
        Some(Value::String(iss)) => Ok(iss),
        Some(_) => Err(TokenError::InvalidClaim("iss")),
        None => Err(TokenError::MissingClaim("iss")),
    }
}

/// The issuer configured for `iss`. When one `iss` is trusted twice (an HS256 secret and a
/// JWKS, say), the header's `alg` decides, and the configuration guarantees the two share no
/// algorithm.
pub(crate) fn select<'a>(
    issuers: &'a [IssuerVerifier],
    iss: &str,
    alg: Option<Algorithm>,
) -> Result<&'a IssuerVerifier, TokenError> {
    let mut candidates = issuers
        .iter()
        .filter(|issuer| issuer.config().issuer == iss);
    let first = candidates.next().ok_or(TokenError::WrongIssuer)?;
    let Some(second) = candidates.next() else {
        // The only candidate reports its own, more precise error for a bad `alg`.
        return Ok(first);
    };
    [first, second]
        .into_iter()
        .chain(candidates)
        .find(|issuer| alg.is_some_and(|alg| issuer.config().algorithms.contains(&alg)))
        .ok_or(TokenError::AlgorithmNotAllowed)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn iss_must_be_a_single_string_in_a_json_object() {
        assert_eq!(unverified_issuer(br#"{"iss": "a", "x": 1}"#).unwrap(), "a");
        assert_eq!(
            unverified_issuer(br#"{"sub": "a"}"#).unwrap_err(),
            TokenError::MissingClaim("iss")
        );
        assert_eq!(
            unverified_issuer(br#"{"iss": ["a"]}"#).unwrap_err(),
            TokenError::InvalidClaim("iss")
        );
        for bad in [&b"[1]"[..], b"\"a\"", b"{", br#"{"iss": "a", "iss": "b"}"#] {
            assert_eq!(unverified_issuer(bad).unwrap_err(), TokenError::Malformed);
        }
    }
}
