//! Hand-built tokens, valid and hostile, against a verifier with fixed keys.

use auth_core::{Algorithm, TokenError, Verifier, VerifierConfig};
use jsonwebtoken::EncodingKey;
use serde_json::{Value, json};

use crate::support::*;

async fn refused(verifier: &Verifier, token: &str) -> TokenError {
    let err = verifier
        .verify(token)
        .await
        .expect_err("token must be refused");
    // Messages go to clients and logs: they must never echo the token.
    let message = err.to_string();
    for part in token.split('.').filter(|p| p.len() > 8) {
        assert!(
            !message.contains(part),
            "error message leaks the token: {message}"
        );
    }
    err
}

#[tokio::test]
async fn a_valid_token_passes() {
    let key = TestKey::generate("k1");
    let verifier = fixed_verifier(&[&key]);
    let claims = claims();
    let verified = verifier.verify(&key.sign(&claims)).await.unwrap();
    assert_eq!(verified.sub, claims["sub"].as_str().unwrap());
    assert_eq!(verified.aud, AUDIENCE);
    assert_eq!(verified.sid.as_deref(), claims["sid"].as_str());
    assert_eq!(
        verified.scopes().collect::<Vec<_>>(),
        ["tasks:read", "tasks:write"]
    );
    assert!(verifier.has_keys());
}

#[tokio::test]
async fn aud_may_be_an_array_containing_ours() {
    let key = TestKey::generate("k1");
    let verifier = fixed_verifier(&[&key]);
    let token = key.sign(&with(claims(), "aud", json!(["other-api", AUDIENCE])));
    assert_eq!(verifier.verify(&token).await.unwrap().aud, AUDIENCE);

    let token = key.sign(&with(claims(), "aud", json!(["other-api", "more-api"])));
    assert_eq!(refused(&verifier, &token).await, TokenError::WrongAudience);
}

#[tokio::test]
async fn alg_none_is_refused() {
    let key = TestKey::generate("k1");
    let verifier = fixed_verifier(&[&key]);
    for alg in ["none", "None", "NONE"] {
        let header = json!({"alg": alg, "typ": "at+jwt", "kid": "k1"});
        let token = format!("{}.{}.", b64_json(&header), b64_json(&claims()));
        assert_eq!(
            refused(&verifier, &token).await,
            TokenError::AlgorithmNotAllowed
        );
    }
}

#[tokio::test]
async fn a_tampered_payload_fails_the_signature() {
    let key = TestKey::generate("k1");
    let verifier = fixed_verifier(&[&key]);
    let token = key.sign(&claims());
    let forged = with(claims(), "scope", json!("tasks:read tasks:write admin"));
    let parts: Vec<&str> = token.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], b64_json(&forged), parts[2]);
    assert_eq!(
        refused(&verifier, &tampered).await,
        TokenError::BadSignature
    );
}

#[tokio::test]
async fn a_token_signed_by_another_key_under_our_kid_fails() {
    let key = TestKey::generate("k1");
    let impostor = TestKey::generate("k1");
    let verifier = fixed_verifier(&[&key]);
    assert_eq!(
        refused(&verifier, &impostor.sign(&claims())).await,
        TokenError::BadSignature
    );
}

#[tokio::test]
async fn an_unknown_kid_is_refused() {
    let key = TestKey::generate("k1");
    let other = TestKey::generate("k2");
    let verifier = fixed_verifier(&[&key]);
    assert_eq!(
        refused(&verifier, &other.sign(&claims())).await,
        TokenError::UnknownKey
    );
}

#[tokio::test]
async fn a_verifier_without_keys_says_keys_are_unavailable() {
    let key = TestKey::generate("k1");
    let verifier = fixed_verifier(&[]);
    assert!(!verifier.has_keys());
    assert_eq!(
        refused(&verifier, &key.sign(&claims())).await,
        TokenError::KeysUnavailable
    );
}

#[tokio::test]
async fn expiry_honours_the_leeway() {
    let key = TestKey::generate("k1");
    let verifier = fixed_verifier(&[&key]);
    let now = now();
    let old = |exp: i64| {
        let claims = with(claims(), "exp", json!(exp));
        let claims = with(claims, "iat", json!(now - 1000));
        with(claims, "nbf", json!(now - 1000))
    };
    assert_eq!(
        refused(&verifier, &key.sign(&old(now - 120))).await,
        TokenError::Expired
    );
    // 30 s past expiry is within the default 60 s leeway.
    verifier
        .verify(&key.sign(&old(now - 30)))
        .await
        .expect("30 s past exp is within the leeway");
}

#[tokio::test]
async fn a_token_not_yet_valid_is_refused() {
    let key = TestKey::generate("k1");
    let verifier = fixed_verifier(&[&key]);
    let token = key.sign(&with(claims(), "nbf", json!(now() + 600)));
    assert_eq!(refused(&verifier, &token).await, TokenError::NotYetValid);
    let token = key.sign(&with(claims(), "nbf", json!(now() + 30)));
    verifier
        .verify(&token)
        .await
        .expect("30 s before nbf is within the leeway");
}

#[tokio::test]
async fn issuer_and_audience_must_match_exactly() {
    let key = TestKey::generate("k1");
    let verifier = fixed_verifier(&[&key]);
    for iss in [
        "https://evil.test",
        "https://auth.taskgate.test/",
        "HTTPS://AUTH.TASKGATE.TEST",
    ] {
        let token = key.sign(&with(claims(), "iss", json!(iss)));
        assert_eq!(
            refused(&verifier, &token).await,
            TokenError::WrongIssuer,
            "iss {iss}"
        );
    }
    let token = key.sign(&with(claims(), "aud", json!("billing-api")));
    assert_eq!(refused(&verifier, &token).await, TokenError::WrongAudience);
}

/// The key-confusion attack: take the issuer's *public* key, use it as an HMAC secret.
#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    let key = TestKey::generate("k1");
    let header = json!({"alg": "HS256", "typ": "at+jwt", "kid": "k1"});
    let x = key.x();
    let secrets: [&[u8]; 2] = [&key.public, x.as_bytes()];
    let tokens: Vec<String> = secrets
        .iter()
        .map(|secret| {
            sign_raw(
                &header,
                &claims(),
                &EncodingKey::from_secret(secret),
                Algorithm::HS256,
            )
        })
        .collect();

    // Default allow-list: HS256 is not even considered.
    let verifier = fixed_verifier(&[&key]);
    for token in &tokens {
        assert_eq!(
            refused(&verifier, token).await,
            TokenError::AlgorithmNotAllowed
        );
    }

    // Even with HS256 allowed (compatibility mode), an Ed25519 key never verifies HS256.
    let mut config = config();
    config.algorithms = vec![Algorithm::EdDSA, Algorithm::HS256];
    let verifier = Verifier::from_jwks(config, jwk_set(&[&key]));
    for token in &tokens {
        assert_eq!(
            refused(&verifier, token).await,
            TokenError::KeyAlgorithmMismatch
        );
    }
}

#[tokio::test]
async fn a_configured_hmac_key_is_bound_to_hs256() {
    use base64::Engine;
    let secret = [42u8; 32];
    let jwks = json!({"keys": [{
        "kty": "oct", "kid": "shared", "alg": "HS256",
        "k": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
    }]});
    let mut config = config();
    config.algorithms = vec![Algorithm::HS256, Algorithm::HS512];
    let verifier = Verifier::from_jwks(config, serde_json::from_value(jwks).unwrap());
    let encoding = EncodingKey::from_secret(&secret);
    let header = json!({"alg": "HS256", "typ": "at+jwt", "kid": "shared"});
    let token = sign_raw(&header, &claims(), &encoding, Algorithm::HS256);
    verifier
        .verify(&token)
        .await
        .expect("HS256 with the configured oct key");
    let header = json!({"alg": "HS512", "typ": "at+jwt", "kid": "shared"});
    let token = sign_raw(&header, &claims(), &encoding, Algorithm::HS512);
    assert_eq!(
        refused(&verifier, &token).await,
        TokenError::KeyAlgorithmMismatch
    );
}

#[tokio::test]
async fn key_carrying_headers_are_refused_even_when_correctly_signed() {
    let key = TestKey::generate("k1");
    let verifier = fixed_verifier(&[&key]);
    let cases: [(&str, Value); 5] = [
        ("jku", json!("https://evil.test/jwks.json")),
        ("x5u", json!("https://evil.test/cert.pem")),
        ("jwk", key.jwk()),
        ("x5c", json!(["MIIB"])),
        ("crit", json!(["exp"])),
    ];
    for (name, value) in cases {
        let mut header = key.header();
        header[name] = value;
        let token = key.sign_with_header(&header, &claims());
        assert_eq!(
            refused(&verifier, &token).await,
            TokenError::ForbiddenHeader(name),
            "header member {name}"
        );
    }
}

#[tokio::test]
async fn an_oversized_token_is_refused_before_parsing() {
    let key = TestKey::generate("k1");
    let verifier = fixed_verifier(&[&key]);
    let padded = with(claims(), "padding", json!("x".repeat(9 * 1024)));
    assert_eq!(
        refused(&verifier, &key.sign(&padded)).await,
        TokenError::TooLarge
    );
    // Not even parsed: garbage of that size is TooLarge, not Malformed.
    assert_eq!(
        refused(&verifier, &"!".repeat(8 * 1024 + 1)).await,
        TokenError::TooLarge
    );
}

#[tokio::test]
async fn garbage_is_malformed() {
    let key = TestKey::generate("k1");
    let verifier = fixed_verifier(&[&key]);
    let valid = key.sign(&claims());
    let parts: Vec<&str> = valid.split('.').collect();
    let cases = [
        String::new(),
        "not-a-jwt".to_owned(),
        "a.b".to_owned(),
        "!!!.@@@.###".to_owned(),
        format!("{valid}.{}", parts[2]),
        format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
        format!("{}.{}.{}*", parts[0], parts[1], parts[2]),
        format!(
            "{}.{}.{}",
            b64_json(&json!("just a string")),
            parts[1],
            parts[2]
        ),
        format!("bm90IGpzb24.{}.{}", parts[1], parts[2]),
    ];
    for token in cases {
        assert_eq!(
            refused(&verifier, &token).await,
            TokenError::Malformed,
            "{token:?}"
        );
    }
}

#[tokio::test]
async fn typ_must_be_at_jwt() {
    let key = TestKey::generate("k1");
    let verifier = fixed_verifier(&[&key]);
    let no_typ = json!({"alg": "EdDSA", "kid": "k1"});
    let jwt_typ = json!({"alg": "EdDSA", "typ": "JWT", "kid": "k1"});
    let media_type = json!({"alg": "EdDSA", "typ": "application/AT+JWT", "kid": "k1"});
    for header in [&no_typ, &jwt_typ] {
        let token = key.sign_with_header(header, &claims());
        assert_eq!(refused(&verifier, &token).await, TokenError::WrongType);
    }
    verifier
        .verify(&key.sign_with_header(&media_type, &claims()))
        .await
        .expect("typ application/AT+JWT is accepted");

    let mut lenient: VerifierConfig = config();
    lenient.require_typ = false;
    let verifier = Verifier::from_jwks(lenient, jwk_set(&[&key]));
    verifier
        .verify(&key.sign_with_header(&no_typ, &claims()))
        .await
        .expect("no typ is fine when not required");
}

#[tokio::test]
async fn kid_is_required() {
    let key = TestKey::generate("k1");
    let verifier = fixed_verifier(&[&key]);
    let header = json!({"alg": "EdDSA", "typ": "at+jwt"});
    let token = key.sign_with_header(&header, &claims());
    assert_eq!(refused(&verifier, &token).await, TokenError::MissingKeyId);
}

#[tokio::test]
async fn required_claims_must_be_present() {
    let key = TestKey::generate("k1");
    let verifier = fixed_verifier(&[&key]);
    for name in ["exp", "nbf", "iat", "iss", "aud", "sub", "jti"] {
        let token = key.sign(&with(claims(), name, Value::Null));
        assert_eq!(
            refused(&verifier, &token).await,
            TokenError::MissingClaim(name),
            "without {name}"
        );
    }
    // jsonwebtoken treats an unparsable exp as absent.
    let token = key.sign(&with(claims(), "exp", json!("tomorrow")));
    assert_eq!(
        refused(&verifier, &token).await,
        TokenError::MissingClaim("exp")
    );
    let token = key.sign(&with(claims(), "jti", json!(5)));
    assert_eq!(
        refused(&verifier, &token).await,
        TokenError::InvalidClaim("jti")
    );
    let token = key.sign(&with(claims(), "sid", json!(5)));
    assert_eq!(
        refused(&verifier, &token).await,
        TokenError::MalformedClaims
    );
}

#[tokio::test]
async fn replace_keys_switches_the_trusted_set() {
    let old = TestKey::generate("old");
    let new = TestKey::generate("new");
    let verifier = fixed_verifier(&[&old]);
    let new_token = new.sign(&claims());
    assert_eq!(refused(&verifier, &new_token).await, TokenError::UnknownKey);

    verifier.replace_keys(jwk_set(&[&old, &new]));
    verifier
        .verify(&new_token)
        .await
        .expect("the new key is trusted after replace_keys");
    verifier.replace_keys(jwk_set(&[&new]));
    assert_eq!(
        refused(&verifier, &old.sign(&claims())).await,
        TokenError::UnknownKey
    );
}
