//! The verified-token cache seen from outside: a cached token keeps verifying with the same
//! result, but never past its expiry, never after its revocation or its key's removal, never
//! for a token that differs in any byte, and never beyond the configured size.

use service_runtime::testing::eventually;
use std::time::Duration;

use auth_core::{TokenError, Verifier, VerifierConfig};
use serde_json::json;
use uuid::Uuid;

use crate::revocation::{FakeFeed, following, is_revoked, sid_of};
use crate::support::*;

fn verifier_with(config: VerifierConfig, key: &TestKey) -> Verifier {
    Verifier::from_jwks(config, jwk_set(&[key]))
}

fn cache_size(size: usize) -> VerifierConfig {
    let mut config = config();
    config.verified_token_cache_size = size;
    config
}

/// Replaces one character in the middle of the signature with another base64url character.
fn with_signature_changed(token: &str) -> String {
    let signature_start = token.rfind('.').unwrap() + 1;
    let at = signature_start + (token.len() - signature_start) / 2;
    let replacement = if &token[at..=at] == "A" { "B" } else { "A" };
    format!("{}{replacement}{}", &token[..at], &token[at + 1..])
}

#[tokio::test]
async fn a_cached_token_verifies_again_with_the_same_result() {
    let key = TestKey::generate("k1");
    let verifier = fixed_verifier(&[&key]);
    let token = key.sign(&claims());

    let first = verifier.verify_token(&token).await.unwrap();
    assert_eq!(verifier.cached_token_count(), 1);
    for _ in 0..3 {
        let again = verifier.verify_token(&token).await.unwrap();
        assert_eq!(again.claims, first.claims);
        assert_eq!(again.scopes, first.scopes);
        assert_eq!(again.user_id().unwrap(), first.user_id().unwrap());
    }
    assert_eq!(verifier.cached_token_count(), 1);
}

#[tokio::test]
async fn a_token_revoked_after_it_was_cached_is_refused() {
    let key = TestKey::generate("k1");
    let feed = FakeFeed::start(&[&key]).await;
    let verifier = following(&feed.url(), &key).await;
    let (doomed, spared) = (claims(), claims());
    let (doomed_token, spared_token) = (key.sign(&doomed), key.sign(&spared));
    let user = Uuid::now_v7().to_string();
    let cut_off_token = key.sign(&with(
        with(with(claims(), "sub", json!(user)), "iat", json!(now() - 5)),
        "nbf",
        json!(now() - 5),
    ));
    for token in [&doomed_token, &spared_token, &cut_off_token] {
        verifier
            .verify(token)
            .await
            .expect("accepted before any revocation");
    }
    assert_eq!(verifier.cached_token_count(), 3);

    feed.revoke_session(&sid_of(&doomed), now() + 900);
    eventually(Duration::from_secs(1), "session revocation", async || {
        is_revoked(&verifier, &doomed_token).await
    })
    .await;
    feed.cut_off_user(&user, now());
    eventually(Duration::from_secs(1), "user cut-off", async || {
        is_revoked(&verifier, &cut_off_token).await
    })
    .await;
    verifier
        .verify(&spared_token)
        .await
        .expect("the spared token is still accepted");
    // Refused while still cached: revocation is checked on the hit itself.
    assert_eq!(verifier.cached_token_count(), 3);
    feed.stop().await;
}

#[tokio::test]
async fn an_expired_token_is_refused_even_though_it_was_cached() {
    let key = TestKey::generate("k1");
    let mut config = config();
    config.leeway = Duration::ZERO;
    let verifier = verifier_with(config, &key);
    let exp = now() + 1;
    let token = key.sign(&with(claims(), "exp", json!(exp)));
    verifier
        .verify(&token)
        .await
        .expect("valid for another second");
    assert_eq!(verifier.cached_token_count(), 1);

    // jsonwebtoken accepts up to `exp` itself (leeway 0), so wait until the clock is past it.
    eventually(Duration::from_secs(3), "the clock passes exp", async || {
        now() > exp
    })
    .await;
    assert_eq!(
        verifier.verify(&token).await.unwrap_err(),
        TokenError::Expired
    );
    assert_eq!(
        verifier.cached_token_count(),
        0,
        "the expired entry is dropped"
    );
}

#[tokio::test]
async fn a_token_within_the_leeway_after_exp_is_verified_but_not_cached() {
    let key = TestKey::generate("k1");
    let verifier = fixed_verifier(&[&key]);
    let token = key.sign(&with(claims(), "exp", json!(now() - 5)));
    verifier
        .verify(&token)
        .await
        .expect("5 s past exp is within the 60 s leeway");
    assert_eq!(verifier.cached_token_count(), 0);
}

#[tokio::test]
async fn the_cache_holds_at_most_its_configured_size() {
    let key = TestKey::generate("k1");
    let verifier = verifier_with(cache_size(8), &key);
    for _ in 0..50 {
        verifier.verify(&key.sign(&claims())).await.unwrap();
    }
    let held = verifier.cached_token_count();
    assert!((1..=8).contains(&held), "{held} entries");

    let uncached = verifier_with(cache_size(0), &key);
    let token = key.sign(&claims());
    for _ in 0..3 {
        uncached.verify(&token).await.unwrap();
    }
    assert_eq!(uncached.cached_token_count(), 0);
}

#[tokio::test]
async fn a_tampered_token_is_not_served_from_the_cache() {
    let key = TestKey::generate("k1");
    let verifier = fixed_verifier(&[&key]);
    let claims = claims();
    let token = key.sign(&claims);
    verifier.verify(&token).await.unwrap();

    // Same header and payload: another key's signature under our kid, or a changed signature.
    let impostor = TestKey::generate("k1");
    let resigned = impostor.sign(&claims);
    let (prefix, _) = token.rsplit_once('.').unwrap();
    assert!(resigned.starts_with(prefix));
    assert_eq!(
        verifier.verify(&resigned).await.unwrap_err(),
        TokenError::BadSignature
    );
    assert_eq!(
        verifier
            .verify(&with_signature_changed(&token))
            .await
            .unwrap_err(),
        TokenError::BadSignature
    );
    // Same signature over another payload.
    let (_, signature) = token.rsplit_once('.').unwrap();
    let other_payload = b64_json(&with(claims.clone(), "scope", json!("tasks:admin")));
    let spliced = format!("{}.{other_payload}.{signature}", b64_json(&key.header()));
    assert_eq!(
        verifier.verify(&spliced).await.unwrap_err(),
        TokenError::BadSignature
    );
    // Refusals are never cached; the genuine token still is.
    assert_eq!(verifier.cached_token_count(), 1);
    verifier
        .verify(&token)
        .await
        .expect("the genuine token is still accepted");
}

#[tokio::test]
async fn a_key_removed_after_caching_no_longer_vouches_for_its_tokens() {
    let (old, new) = (TestKey::generate("old"), TestKey::generate("new"));
    let verifier = fixed_verifier(&[&old, &new]);
    let token = old.sign(&claims());
    verifier.verify(&token).await.unwrap();

    verifier.replace_keys(jwk_set(&[&new]));
    assert_eq!(
        verifier.verify(&token).await.unwrap_err(),
        TokenError::UnknownKey
    );
}

#[tokio::test]
async fn another_key_published_under_the_same_kid_does_not_vouch_for_cached_tokens() {
    let key = TestKey::generate("k1");
    let verifier = fixed_verifier(&[&key]);
    let token = key.sign(&claims());
    verifier.verify(&token).await.unwrap();

    verifier.replace_keys(jwk_set(&[&TestKey::generate("k1")]));
    assert_eq!(
        verifier.verify(&token).await.unwrap_err(),
        TokenError::BadSignature
    );
    // The same key published again (a routine JWKS refresh) keeps the token valid.
    verifier.replace_keys(jwk_set(&[&key]));
    verifier
        .verify(&token)
        .await
        .expect("the same key republished still vouches for the token");
}
