//! Splitting a compact JWS and checking its protected header before any key is looked up.
//!
//! The header is parsed as a plain JSON object (not `jsonwebtoken::Header`) so that members the
//! library would ignore or silently accept are seen and can be refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

use crate::claims::ACCESS_TOKEN_TYPE;
use crate::error::TokenError;

/// Header members we never honour. `jku`/`x5u`/`jwk`/`x5c` would let the token name its own key
/// (the classic key-injection attacks); `crit` asks us to understand extensions we do not
/// implement, so RFC 7515 §4.1.11 requires rejecting it.
const FORBIDDEN_MEMBERS: [&str; 5] = ["jku", "x5u", "jwk", "x5c", "crit"];

/// The parts of a validated header the rest of the verifier needs.
#[derive(Debug)]
pub(crate) struct CheckedHeader {
    pub alg: Algorithm,
    pub kid: String,
}

/// Checks the token has exactly three base64url segments (decoding each, so garbage is refused
/// here rather than deep inside the crypto code) and returns the decoded header bytes.
pub(crate) fn split_compact(token: &str) -> Result<Vec<u8>, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    if header.is_empty() || payload.is_empty() {
        return Err(TokenError::Malformed);
    }
    // An empty signature is syntactically fine (that is what `alg: none` looks like); it is
    // refused by the algorithm check, which gives the more useful error.
    for part in [payload, signature] {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| TokenError::Malformed)?;
    }
    URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| TokenError::Malformed)
}

/// Validates the decoded protected header against the allow-list and the typ rule.
pub(crate) fn check_header(
    header_json: &[u8],
    allowed: &[Algorithm],
    require_typ: bool,
) -> Result<CheckedHeader, TokenError> {
    let header: Map<String, Value> =
        serde_json::from_slice(header_json).map_err(|_| TokenError::Malformed)?;

    if let Some(name) = FORBIDDEN_MEMBERS
        .iter()
        .find(|name| header.contains_key(**name))
    {
        return Err(TokenError::ForbiddenHeader(name));
    }

    // `none` and any unknown name fail to parse, so they can never be in the allow-list.
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(|name| name.parse::<Algorithm>().ok())
        .filter(|alg| allowed.contains(alg))
        .ok_or(TokenError::AlgorithmNotAllowed)?;

    if require_typ {
        let typ = header.get("typ").and_then(Value::as_str);
        if !typ.is_some_and(is_access_token_type) {
            return Err(TokenError::WrongType);
        }
    }

    let kid = match header.get("kid") {
        Some(Value::String(kid)) if !kid.is_empty() => kid.clone(),
        _ => return Err(TokenError::MissingKeyId),
    };

    Ok(CheckedHeader { alg, kid })
}

/// RFC 9068 §2.1: `at+jwt`, or the full media type; media types compare case-insensitively.
fn is_access_token_type(typ: &str) -> bool {
    let subtype = match typ.split_once('/') {
        Some((top, sub)) if top.eq_ignore_ascii_case("application") => sub,
        Some(_) => return false,
        None => typ,
    };
    subtype.eq_ignore_ascii_case(ACCESS_TOKEN_TYPE)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn check(header: serde_json::Value) -> Result<CheckedHeader, TokenError> {
        check_header(header.to_string().as_bytes(), &[Algorithm::EdDSA], true)
    }

    #[test]
    fn accepts_typ_in_either_spelling_and_case() {
        for typ in [
            "at+jwt",
            "AT+JWT",
            "application/at+jwt",
            "Application/At+Jwt",
        ] {
            let header = serde_json::json!({"alg": "EdDSA", "typ": typ, "kid": "k"});
            assert!(check(header).is_ok(), "typ {typ} should be accepted");
        }
    }

    #[test]
    fn rejects_other_types() {
        for typ in ["JWT", "jwt", "application/jwt", "at+jwt2", "text/at+jwt"] {
            let header = serde_json::json!({"alg": "EdDSA", "typ": typ, "kid": "k"});
            assert_eq!(check(header).unwrap_err(), TokenError::WrongType);
        }
    }

    #[test]
    fn typ_is_optional_when_not_required() {
        let header = serde_json::json!({"alg": "EdDSA", "kid": "k"});
        let checked = check_header(header.to_string().as_bytes(), &[Algorithm::EdDSA], false);
        assert_eq!(checked.unwrap().kid, "k");
    }

    #[test]
    fn alg_must_be_a_string_in_the_allow_list() {
        for alg in [
            serde_json::json!("none"),
            serde_json::json!("HS256"),
            serde_json::json!("eddsa"),
            serde_json::json!(null),
            serde_json::json!(["EdDSA"]),
        ] {
            let header = serde_json::json!({"alg": alg, "typ": "at+jwt", "kid": "k"});
            assert_eq!(check(header).unwrap_err(), TokenError::AlgorithmNotAllowed);
        }
    }

    #[test]
    fn kid_must_be_a_non_empty_string() {
        for kid in [serde_json::json!(""), serde_json::json!(7)] {
            let header = serde_json::json!({"alg": "EdDSA", "typ": "at+jwt", "kid": kid});
            assert_eq!(check(header).unwrap_err(), TokenError::MissingKeyId);
        }
    }

    #[test]
    fn split_requires_exactly_three_segments() {
        assert_eq!(split_compact("a.b").unwrap_err(), TokenError::Malformed);
        assert_eq!(
            split_compact("e30.e30.e30.e30").unwrap_err(),
            TokenError::Malformed
        );
        assert_eq!(split_compact(".e30.").unwrap_err(), TokenError::Malformed);
        assert_eq!(split_compact("e30.e30.").unwrap(), b"{}");
        // Padding and the standard alphabet are not base64url.
        assert_eq!(
            split_compact("e30=.e30.e30").unwrap_err(),
            TokenError::Malformed
        );
        assert_eq!(
            split_compact("e30.e3+/.e30").unwrap_err(),
            TokenError::Malformed
        );
    }
}
