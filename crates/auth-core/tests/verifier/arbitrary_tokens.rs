//! Property tests: arbitrary bytes and arbitrary JSON in every part of a token. Whatever
//! arrives, verification answers a typed `TokenError` (or, for a token that is in fact valid,
//! its claims) and never panics; and no header or claims the rules refuse ever pass.

use auth_core::Verifier;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::support::*;

/// Any JSON value, nested a few levels.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|n| serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)),
        "\\PC{0,24}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            btree_map("\\PC{0,12}", inner, 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// An object whose members are mostly the ones the verifier reads, each with any value: the
/// mix that reaches deepest into the checks.
fn any_object(names: &'static [&'static str]) -> impl Strategy<Value = Map<String, Value>> {
    let name = prop_oneof![
        4 => proptest::sample::select(names).prop_map(str::to_owned),
        1 => "\\PC{0,12}",
    ];
    btree_map(name, any_json(), 0..10).prop_map(|members| members.into_iter().collect())
}

const CLAIM_NAMES: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "sid",
    "scope",
    "client_id",
    "typ",
];
const HEADER_NAMES: &[&str] = &["alg", "typ", "kid", "jku", "jwk", "crit", "cty", "b64"];

/// `verify` on a runtime of its own (proptest bodies are synchronous).
fn verify(
    verifier: &Verifier,
    token: &str,
) -> Result<auth_core::AccessClaims, auth_core::TokenError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(verifier.verify(token))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_is_refused(token in "\\PC{0,400}") {
        let key = TestKey::generate("k1");
        prop_assert!(verify(&fixed_verifier(&[&key]), &token).is_err());
    }

    #[test]
    fn arbitrary_bytes_in_each_segment_are_refused(
        header in vec(any::<u8>(), 0..200),
        payload in vec(any::<u8>(), 0..400),
        signature in vec(any::<u8>(), 0..96),
    ) {
        let key = TestKey::generate("k1");
        let token = [header, payload, signature]
            .map(|segment| URL_SAFE_NO_PAD.encode(segment))
            .join(".");
        prop_assert!(verify(&fixed_verifier(&[&key]), &token).is_err());
    }

    /// Arbitrary headers over valid claims, correctly signed: only a header that is exactly
    /// what the issuer's rules allow can pass.
    #[test]
    fn arbitrary_headers_pass_only_when_allowed(header in any_object(HEADER_NAMES)) {
        let key = TestKey::generate("k1");
        let token = key.sign_with_header(&Value::Object(header.clone()), &claims());
        let typ = header.get("typ").and_then(Value::as_str).unwrap_or_default();
        let allowed = header.get("alg") == Some(&json!("EdDSA"))
            && header.get("kid") == Some(&json!("k1"))
            && typ.rsplit('/').next().is_some_and(|t| t.eq_ignore_ascii_case("at+jwt"))
            && ["jku", "x5u", "jwk", "x5c", "crit"].iter().all(|name| !header.contains_key(*name));
        let verified = verify(&fixed_verifier(&[&key]), &token);
        if verified.is_ok() {
            prop_assert!(allowed, "a header outside the rules passed: {header:?}");
        }
    }

    /// Arbitrary claims, correctly signed: whatever they hold, the answer is typed, and a
    /// token that passes has the issuer, audience and times the rules demand.
    #[test]
    fn arbitrary_claims_are_answered_and_never_wrongly_accepted(claims in any_object(CLAIM_NAMES)) {
        let key = TestKey::generate("k1");
        let token = key.sign(&Value::Object(claims.clone()));
        if let Ok(verified) = verify(&fixed_verifier(&[&key]), &token) {
            prop_assert_eq!(verified.iss.as_str(), ISSUER);
            prop_assert_eq!(verified.aud.as_str(), AUDIENCE);
            prop_assert!(verified.exp > now());
        }
    }
}
