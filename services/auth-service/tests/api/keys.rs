use std::io::Write;
use std::process::{Command, Stdio};

use auth_core::unverified;
use serde_json::Value;
use service_database::on_both_backends;
use service_database::testing::Backend;

use crate::helpers::TestApp;

on_both_backends!(
    jwks_and_discovery_are_published,
    pyjwt_verifies_a_real_access_token
);

async fn jwks_and_discovery_are_published(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let discovery = app
        .client
        .get(app.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(discovery.status().as_u16(), 200);
    let discovery: Value = discovery.json().await.unwrap();
    assert_eq!(discovery["issuer"], app.issuer.as_str());
    let jwks_uri = discovery["jwks_uri"].as_str().unwrap();

    let response = app.client.get(jwks_uri).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let jwks: Value = response.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    // The current key, and the next one, published before it ever signs.
    assert_eq!(keys.len(), 2);
    assert_ne!(keys[0]["kid"], keys[1]["kid"]);
    let key = &keys[0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(key["alg"], "EdDSA");
    assert_eq!(key["use"], "sig");
    assert!(
        key.get("d").is_none(),
        "the private half is never published"
    );

    // The signing key is the published one.
    let signed_up: Value = app.sign_up("erin@example.org").await.json().await.unwrap();
    let token = signed_up["access_token"].as_str().unwrap();
    let header = unverified::header(token);
    assert_eq!(header["kid"], key["kid"]);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "EdDSA");
    let claims = unverified::claims(token);
    assert_eq!(claims["iss"], app.issuer.as_str());
    assert_eq!(claims["aud"], "tasks-api");
    assert_eq!(claims["sub"], signed_up["user"]["id"]);
    assert_eq!(claims["scope"], "tasks:read tasks:write");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
    for claim in ["nbf", "jti", "sid", "client_id"] {
        assert!(claims.get(claim).is_some(), "{claim} missing");
    }
}

/// An independent JWT implementation (PyJWT) fetches the real JWKS over HTTP and verifies a
/// real token: our format is standard, not just self-consistent.
async fn pyjwt_verifies_a_real_access_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let signed_up: Value = app.sign_up("frank@example.org").await.json().await.unwrap();
    let token = signed_up["access_token"].as_str().unwrap().to_owned();
    let jwks_url = app.url("/.well-known/jwks.json");
    let issuer = app.issuer.clone();

    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/verify_with_pyjwt.py"
    );
    let verify = |token: String| {
        let (script, jwks_url, issuer) = (script, jwks_url.clone(), issuer.clone());
        tokio::task::spawn_blocking(move || {
            let mut child = Command::new("python3")
                .args([script, &jwks_url, &issuer, "tasks-api"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("python3 runs (make test installs PyJWT)");
            child
                .stdin
                .take()
                .unwrap()
                .write_all(token.as_bytes())
                .unwrap();
            child.wait_with_output().unwrap()
        })
    };

    let output = verify(token.clone()).await.unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "PyJWT did not accept our token: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let claims: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(claims["sub"], signed_up["user"]["id"]);

    // And it is a real check: a tampered signature fails there too.
    // (A middle character: the last one of a base64url signature carries ignored bits.)
    let signature_start = token.rfind('.').unwrap() + 1;
    let at = signature_start + 10;
    let flipped = if &token[at..=at] == "A" { "B" } else { "A" };
    let tampered = format!("{}{flipped}{}", &token[..at], &token[at + 1..]);
    let output = verify(tampered).await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Exit code 3 is PyJWT's refusal; anything else would be the check failing to run.
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.starts_with("InvalidSignatureError"), "{stderr}");
}
