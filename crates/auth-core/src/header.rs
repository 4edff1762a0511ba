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
    /// Absent only where the issuer's rules allow it (a single shared secret needs no `kid`).
    pub kid: Option<String>,
}

/// What one issuer demands of a header.
#[derive(Debug, Clone)]
pub(crate) struct HeaderRules {
    pub algorithms: Vec<Algorithm>,
    pub require_typ: bool,
    pub require_kid: bool,
}

/// A parsed protected header, before any issuer's rules are applied.
#[derive(Debug)]
pub(crate) struct RawHeader(Map<String, Value>);

/// The decoded header and payload of a compact JWS (the signature is checked for syntax only).
#[derive(Debug)]
pub(crate) struct CompactParts {
    pub header: Vec<u8>,
    pub payload: Vec<u8>,
}

/// Checks the token has exactly three base64url segments (decoding each, so garbage is refused
/// here rather than deep inside the crypto code) and returns the decoded header and payload.
pub(crate) fn split_compact(token: &str) -> Result<CompactParts, TokenError> {
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
    URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| TokenError::Malformed)?;
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| TokenError::Malformed)
    };
    Ok(CompactParts {
        header: decode(header)?,
        payload: decode(payload)?,
    })
}

/// Parses the header and refuses the members no issuer may use.
pub(crate) fn parse_header(header_json: &[u8]) -> Result<RawHeader, TokenError> {
    let header: Map<String, Value> =
        serde_json::from_slice(header_json).map_err(|_| TokenError::Malformed)?;
    if let Some(name) = FORBIDDEN_MEMBERS
        .iter()
        .find(|name| header.contains_key(**name))
    {
        return Err(TokenError::ForbiddenHeader(name));
    }
    Ok(RawHeader(header))
}

impl RawHeader {
    /// The `alg`, if it names an algorithm at all (`none` does not). Only for choosing between
    /// issuers; [`check_header`] is what enforces the allow-list.
    pub(crate) fn algorithm(&self) -> Option<Algorithm> {
        self.0
            .get("alg")
            .and_then(Value::as_str)
            .and_then(|name| name.parse::<Algorithm>().ok())
    }
}

/// Validates the header against one issuer's allow-list, `typ` and `kid` rules.
pub(crate) fn check_header(
    header: &RawHeader,
    rules: &HeaderRules,
) -> Result<CheckedHeader, TokenError> {
    // `none` and any unknown name fail to parse, so they can never be in the allow-list.
    let alg = header
        .algorithm()
        .filter(|alg| rules.algorithms.contains(alg))
        .ok_or(TokenError::AlgorithmNotAllowed)?;

    if rules.require_typ {
        let typ = header.0.get("typ").and_then(Value::as_str);
        if !typ.is_some_and(is_access_token_type) {
            return Err(TokenError::WrongType);
        }
    }

    // A `kid` that is present must be usable even where it is optional: a malformed one says
    // the token was not made for us.
    let kid = match header.0.get("kid") {
        Some(Value::String(kid)) if !kid.is_empty() => Some(kid.clone()),
        None if !rules.require_kid => None,
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

    fn rules(require_typ: bool, require_kid: bool) -> HeaderRules {
        HeaderRules {
            algorithms: vec![Algorithm::EdDSA],
            require_typ,
            require_kid,
        }
    }

    fn check_with(
        header: serde_json::Value,
        rules: &HeaderRules,
    ) -> Result<CheckedHeader, TokenError> {
        check_header(&parse_header(header.to_string().as_bytes())?, rules)
    }

    fn check(header: serde_json::Value) -> Result<CheckedHeader, TokenError> {
        check_with(header, &rules(true, true))
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
            if let Err(err) = check(header) {
                panic!("typ {typ} should be accepted: {err}");
            }
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
        let checked = check_with(header, &rules(false, true));
        assert_eq!(checked.unwrap().kid.as_deref(), Some("k"));
    }

    #[test]
    fn kid_is_optional_only_when_not_required_and_must_be_usable_when_present() {
        let header = serde_json::json!({"alg": "EdDSA", "typ": "at+jwt"});
        assert_eq!(
            check_with(header.clone(), &rules(true, false)).unwrap().kid,
            None
        );
        assert_eq!(check(header).unwrap_err(), TokenError::MissingKeyId);
        let header = serde_json::json!({"alg": "EdDSA", "typ": "at+jwt", "kid": ""});
        assert_eq!(
            check_with(header, &rules(true, false)).unwrap_err(),
            TokenError::MissingKeyId
        );
    }

    #[test]
    fn forbidden_members_are_refused_before_any_rule() {
        for member in FORBIDDEN_MEMBERS {
            let header =
                serde_json::json!({"alg": "EdDSA", "typ": "at+jwt", "kid": "k", member: "x"});
            assert_eq!(
                parse_header(header.to_string().as_bytes()).err().unwrap(),
                TokenError::ForbiddenHeader(member)
            );
        }
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
        let parts = split_compact("e30.e30.").unwrap();
        assert_eq!(
            (parts.header, parts.payload),
            (b"{}".to_vec(), b"{}".to_vec())
        );
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
