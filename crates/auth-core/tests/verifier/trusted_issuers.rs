//! Several trusted issuers at once: choosing the issuer by `iss`, each issuer's own rules, and
//! every key bound to its own algorithm (HS256 secrets vs. Ed25519 keys, both ways).

use auth_core::{
    Algorithm, Claim, MAX_LEEWAY_SECS, SecretString, TokenError, TrustError, TrustedIssuer,
    UserIdSource, Verifier, VerifierConfig, derived_user_id,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::*;

/// A Better Auth-like issuer: EdDSA JWKS, no `typ: at+jwt`, no `scope`, `nbf`, `jti` or `sid`.
const FOREIGN: &str = "https://better-auth.example";
/// An HS256 shared-secret issuer (the `BETTER_AUTH_SECRET` mode).
const SHARED: &str = "https://legacy.example";
const SECRET: &str = "a-shared-secret-of-at-least-32-bytes!!";

fn foreign_config(issuer: &str) -> VerifierConfig {
    let mut config = VerifierConfig::new(issuer, AUDIENCE);
    config.require_typ = false;
    config.required_claims = Claim::ALWAYS_REQUIRED.to_vec();
    config.default_scopes = vec!["tasks:read".into(), "tasks:write".into()];
    config.user_ids = UserIdSource::DerivedFromIssuer;
    config
}

fn shared_config() -> VerifierConfig {
    let mut config = foreign_config(SHARED);
    config.algorithms = vec![Algorithm::HS256];
    config
}

/// Our issuer (key `primary`), the foreign one (key `foreign`) and the shared secret.
async fn trusted(primary: &TestKey, foreign: &TestKey) -> Verifier {
    Verifier::connect_trusted(vec![
        TrustedIssuer::fixed_keys(config(), jwk_set(&[primary])),
        TrustedIssuer::fixed_keys(foreign_config(FOREIGN), jwk_set(&[foreign])),
        TrustedIssuer::shared_secret(shared_config(), SecretString::from(SECRET)),
    ])
    .await
    .unwrap()
}

/// What a Better Auth token carries: no `nbf`, `jti`, `sid` or `scope`; a non-UUID `sub`.
fn minimal_claims(issuer: &str, sub: &str) -> Value {
    let now = now();
    json!({"iss": issuer, "sub": sub, "aud": AUDIENCE, "exp": now + 900, "iat": now})
}

async fn refused(verifier: &Verifier, token: &str) -> TokenError {
    verifier
        .verify(token)
        .await
        .expect_err("token must be refused")
}

#[tokio::test]
async fn the_iss_claim_picks_the_issuer_and_only_its_keys_verify() {
    // Same kid on purpose: keys are looked up per issuer, never across issuers.
    let (primary, foreign) = (TestKey::generate("k1"), TestKey::generate("k1"));
    let verifier = trusted(&primary, &foreign).await;

    let ours = verifier
        .verify_token(&primary.sign(&claims()))
        .await
        .unwrap();
    assert_eq!(ours.user_ids, UserIdSource::Subject);
    let header = json!({"alg": "EdDSA", "kid": "k1"});
    let theirs = foreign.sign_with_header(&header, &minimal_claims(FOREIGN, "abc"));
    let theirs = verifier.verify_token(&theirs).await.unwrap();
    assert_eq!(theirs.user_ids, UserIdSource::DerivedFromIssuer);

    // Our key under the foreign issuer's name (and the reverse) is a bad signature.
    let forged = primary.sign_with_header(&header, &minimal_claims(FOREIGN, "abc"));
    assert_eq!(refused(&verifier, &forged).await, TokenError::BadSignature);
    let forged = foreign.sign(&claims());
    assert_eq!(refused(&verifier, &forged).await, TokenError::BadSignature);

    let stranger = primary.sign(&claims_for("https://stranger.example"));
    assert_eq!(refused(&verifier, &stranger).await, TokenError::WrongIssuer);
    let no_iss = primary.sign(&with(claims(), "iss", Value::Null));
    assert_eq!(
        refused(&verifier, &no_iss).await,
        TokenError::MissingClaim("iss")
    );
    assert_eq!(verifier.issuers().count(), 3);
    assert_eq!(verifier.config().issuer, ISSUER);
}

#[tokio::test]
async fn each_issuer_has_its_own_typ_and_claim_rules() {
    let (primary, foreign) = (TestKey::generate("p"), TestKey::generate("f"));
    let verifier = trusted(&primary, &foreign).await;
    let bare_header = |key: &TestKey| json!({"alg": "EdDSA", "typ": "JWT", "kid": key.kid});

    let token = foreign.sign_with_header(&bare_header(&foreign), &minimal_claims(FOREIGN, "u1"));
    let verified = verifier.verify_token(&token).await.unwrap();
    assert_eq!(verified.scopes, ["tasks:read", "tasks:write"]);
    assert_eq!((verified.claims.nbf, verified.claims.jti.as_str()), (0, ""));

    // The same leniency does not leak to our issuer.
    let token = primary.sign_with_header(&bare_header(&primary), &claims());
    assert_eq!(refused(&verifier, &token).await, TokenError::WrongType);
    let token = primary.sign(&with(claims(), "jti", Value::Null));
    assert_eq!(
        refused(&verifier, &token).await,
        TokenError::MissingClaim("jti")
    );
    let token = primary.sign(&with(claims(), "nbf", Value::Null));
    assert_eq!(
        refused(&verifier, &token).await,
        TokenError::MissingClaim("nbf")
    );
    // Some claims no issuer may omit, and a present `nbf` is always checked.
    for claim in ["iat", "exp", "aud", "sub"] {
        let token = foreign.sign(&with(minimal_claims(FOREIGN, "u1"), claim, Value::Null));
        assert_eq!(
            refused(&verifier, &token).await,
            TokenError::MissingClaim(claim)
        );
    }
    let future = with(minimal_claims(FOREIGN, "u1"), "nbf", json!(now() + 3600));
    assert_eq!(
        refused(&verifier, &foreign.sign(&future)).await,
        TokenError::NotYetValid
    );
}

#[tokio::test]
async fn default_scopes_apply_only_when_the_scope_claim_is_absent() {
    let (primary, foreign) = (TestKey::generate("p"), TestKey::generate("f"));
    let verifier = trusted(&primary, &foreign).await;
    let explicit = with(minimal_claims(FOREIGN, "u1"), "scope", json!(""));
    let verified = verifier
        .verify_token(&foreign.sign(&explicit))
        .await
        .unwrap();
    assert!(verified.scopes.is_empty());
    let narrow = with(minimal_claims(FOREIGN, "u1"), "scope", json!("tasks:read"));
    let verified = verifier.verify_token(&foreign.sign(&narrow)).await.unwrap();
    assert_eq!(verified.scopes, ["tasks:read"]);
}

#[tokio::test]
async fn a_shared_secret_verifies_hs256_and_nothing_else() {
    let (primary, foreign) = (TestKey::generate("p"), TestKey::generate("f"));
    let verifier = trusted(&primary, &foreign).await;
    let claims = minimal_claims(SHARED, "legacy-user");
    let hs256 = json!({"alg": "HS256", "typ": "JWT"});

    // No kid needed (there is one key), and a kid present is not a reason to refuse.
    let token = sign_hmac(&hs256, &claims, SECRET.as_bytes(), Algorithm::HS256);
    let verified = verifier.verify_token(&token).await.unwrap();
    assert_eq!(verified.scopes, ["tasks:read", "tasks:write"]);
    let with_kid = json!({"alg": "HS256", "kid": "whatever"});
    let token = sign_hmac(&with_kid, &claims, SECRET.as_bytes(), Algorithm::HS256);
    verifier
        .verify(&token)
        .await
        .expect("a kid in an HS256 token is ignored");

    let wrong = sign_hmac(&hs256, &claims, &[b'x'; 40], Algorithm::HS256);
    assert_eq!(refused(&verifier, &wrong).await, TokenError::BadSignature);
    // The same secret under another HMAC algorithm, or an asymmetric header, is not accepted.
    let hs512 = json!({"alg": "HS512"});
    let token = sign_hmac(&hs512, &claims, SECRET.as_bytes(), Algorithm::HS512);
    assert_eq!(
        refused(&verifier, &token).await,
        TokenError::AlgorithmNotAllowed
    );
    let eddsa = primary.sign_with_header(&json!({"alg": "EdDSA", "kid": "p"}), &claims);
    assert_eq!(
        refused(&verifier, &eddsa).await,
        TokenError::AlgorithmNotAllowed
    );
    let none = format!(
        "{}.{}.",
        b64_json(&json!({"alg": "none"})),
        b64_json(&claims)
    );
    assert_eq!(
        refused(&verifier, &none).await,
        TokenError::AlgorithmNotAllowed
    );
    let wrong_aud = with(claims.clone(), "aud", json!("other-api"));
    let token = sign_hmac(&hs256, &wrong_aud, SECRET.as_bytes(), Algorithm::HS256);
    assert_eq!(refused(&verifier, &token).await, TokenError::WrongAudience);
}

/// The key-confusion attack against every issuer: an HS256 token whose "secret" is our public
/// key, as raw bytes, as the JWK `x` string, or as PEM.
#[tokio::test]
async fn hs256_forged_with_an_eddsa_public_key_is_refused_by_every_issuer() {
    let (primary, foreign) = (TestKey::generate("p"), TestKey::generate("f"));
    let verifier = trusted(&primary, &foreign).await;
    let (x, pem) = (primary.x(), primary.public_pem());
    let secrets: [&[u8]; 3] = [&primary.public, x.as_bytes(), pem.as_bytes()];
    let header = json!({"alg": "HS256", "typ": "at+jwt", "kid": "p"});
    for secret in secrets {
        for (issuer, expected) in [
            (ISSUER, TokenError::AlgorithmNotAllowed),
            (FOREIGN, TokenError::AlgorithmNotAllowed),
            (SHARED, TokenError::BadSignature),
        ] {
            let token = sign_hmac(&header, &claims_for(issuer), secret, Algorithm::HS256);
            assert_eq!(refused(&verifier, &token).await, expected, "iss {issuer}");
        }
    }
}

#[tokio::test]
async fn foreign_subjects_get_derived_user_ids_that_never_meet_ours() {
    let (primary, foreign) = (TestKey::generate("p"), TestKey::generate("f"));
    let verifier = trusted(&primary, &foreign).await;
    // A foreign user whose id happens to spell one of our users' UUIDs.
    let ours = Uuid::now_v7().to_string();
    let token = primary.sign(&with(claims(), "sub", json!(ours)));
    let native = verifier.verify_token(&token).await.unwrap();
    assert_eq!(native.user_id().unwrap().to_string(), ours);
    assert!(native.session_id().unwrap().is_some());

    let token = foreign.sign(&minimal_claims(FOREIGN, &ours));
    let imported = verifier.verify_token(&token).await.unwrap();
    assert_eq!(imported.user_id().unwrap(), derived_user_id(FOREIGN, &ours));
    assert_ne!(imported.user_id().unwrap().to_string(), ours);
    assert_eq!(imported.session_id().unwrap(), None);

    let token = sign_hmac(
        &json!({"alg": "HS256"}),
        &minimal_claims(SHARED, &ours),
        SECRET.as_bytes(),
        Algorithm::HS256,
    );
    let legacy = verifier.verify_token(&token).await.unwrap();
    assert_ne!(legacy.user_id().unwrap(), imported.user_id().unwrap());

    // Our issuer's subjects must still be UUIDs, with a session.
    let token = primary.sign(&with(claims(), "sub", json!("not-a-uuid")));
    let verified = verifier.verify_token(&token).await.unwrap();
    assert_eq!(
        verified.user_id().unwrap_err(),
        TokenError::InvalidClaim("sub")
    );
    let token = primary.sign(&with(claims(), "sid", Value::Null));
    let verified = verifier.verify_token(&token).await.unwrap();
    assert_eq!(
        verified.session_id().unwrap_err(),
        TokenError::MissingClaim("sid")
    );
}

#[tokio::test]
async fn one_iss_may_have_a_secret_and_a_jwks_told_apart_by_alg() {
    let (primary, foreign) = (TestKey::generate("p"), TestKey::generate("f"));
    let mut hs = foreign_config(FOREIGN);
    hs.algorithms = vec![Algorithm::HS256];
    let verifier = Verifier::connect_trusted(vec![
        TrustedIssuer::fixed_keys(config(), jwk_set(&[&primary])),
        TrustedIssuer::fixed_keys(foreign_config(FOREIGN), jwk_set(&[&foreign])),
        TrustedIssuer::shared_secret(hs, SecretString::from(SECRET)),
    ])
    .await
    .unwrap();
    let claims = minimal_claims(FOREIGN, "u1");
    verifier
        .verify(&foreign.sign(&claims))
        .await
        .expect("EdDSA picks the JWKS issuer");
    let token = sign_hmac(
        &json!({"alg": "HS256"}),
        &claims,
        SECRET.as_bytes(),
        Algorithm::HS256,
    );
    verifier
        .verify(&token)
        .await
        .expect("HS256 picks the shared-secret issuer");
    let token = sign_hmac(
        &json!({"alg": "HS384"}),
        &claims,
        SECRET.as_bytes(),
        Algorithm::HS384,
    );
    assert_eq!(
        refused(&verifier, &token).await,
        TokenError::AlgorithmNotAllowed
    );
    // Forged with the foreign public key as the HS256 secret: picks the secret, which refuses.
    let token = sign_hmac(
        &json!({"alg": "HS256"}),
        &claims,
        &foreign.public,
        Algorithm::HS256,
    );
    assert_eq!(refused(&verifier, &token).await, TokenError::BadSignature);
}

#[tokio::test]
async fn unsafe_trust_lists_are_refused_before_any_io() {
    let key = TestKey::generate("k");
    let secret = || SecretString::from(SECRET);
    let invalid = |result: Result<Verifier, TrustError>| match result {
        Err(TrustError::Invalid { reason, .. }) => reason,
        other => panic!("expected TrustError::Invalid, got {other:?}"),
    };

    assert!(matches!(
        Verifier::connect_trusted(vec![]).await,
        Err(TrustError::NoIssuers)
    ));

    // A fetched JWKS must not be trusted for HMAC (a published secret is no secret). The URL is
    // never contacted: the check comes first.
    let mut hmac_jwks = VerifierConfig::new("http://127.0.0.1:9", AUDIENCE);
    hmac_jwks.algorithms = vec![Algorithm::EdDSA, Algorithm::HS256];
    let reason = invalid(Verifier::connect_trusted(vec![TrustedIssuer::jwks(hmac_jwks)]).await);
    assert!(reason.contains("shared secret"), "{reason}");

    // A shared secret: exactly one HMAC algorithm, at least 32 bytes.
    for (algorithms, expected) in [
        (
            vec![Algorithm::EdDSA],
            "verifies only HS256, HS384 or HS512",
        ),
        (
            vec![Algorithm::HS256, Algorithm::HS512],
            "exactly one algorithm",
        ),
        (vec![], "no algorithm is allowed"),
    ] {
        let mut config = shared_config();
        config.algorithms = algorithms;
        let reason = invalid(
            Verifier::connect_trusted(vec![TrustedIssuer::shared_secret(config, secret())]).await,
        );
        assert!(reason.contains(expected), "{reason}");
    }
    let short = "31-bytes-is-one-byte-too-short!";
    assert_eq!(short.len(), 31);
    let reason = invalid(
        Verifier::connect_trusted(vec![TrustedIssuer::shared_secret(
            shared_config(),
            SecretString::from(short),
        )])
        .await,
    );
    assert!(!reason.contains(short), "the secret leaked: {reason}");
    assert!(reason.contains("shorter than 32 bytes"), "{reason}");

    // The same iss twice with a shared algorithm would make the choice ambiguous.
    let reason = invalid(
        Verifier::connect_trusted(vec![
            TrustedIssuer::fixed_keys(config(), jwk_set(&[&key])),
            TrustedIssuer::fixed_keys(config(), jwk_set(&[&key])),
        ])
        .await,
    );
    assert!(reason.contains("twice"), "{reason}");

    // A newline in an issuer would make derived user ids ambiguous.
    let reason = invalid(
        Verifier::connect_trusted(vec![TrustedIssuer::fixed_keys(
            foreign_config("https://a.example\nb"),
            jwk_set(&[&key]),
        )])
        .await,
    );
    assert!(reason.contains("control characters"), "{reason}");

    // A leeway beyond what the issuer keeps revocations and retired keys for; refused, like
    // the others, before the JWKS URL is contacted.
    let mut lax = VerifierConfig::new("http://127.0.0.1:9", AUDIENCE);
    lax.leeway = std::time::Duration::from_secs(MAX_LEEWAY_SECS + 1);
    let reason = invalid(Verifier::connect_trusted(vec![TrustedIssuer::jwks(lax)]).await);
    assert!(reason.contains("leeway"), "{reason}");
}
