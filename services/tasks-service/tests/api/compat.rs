//! The Better Auth compatibility mode: tokens minted by PyJWT (an independent implementation)
//! under an HS256 shared secret and under a Better Auth-style EdDSA JWKS issuer, the
//! key-confusion forgery that mode invites, and the revocation feed's place in `/readyz`.

use std::io::Write;
use std::net::TcpListener;
use std::process::{Command, Stdio};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::SigningKey;
use secrecy::SecretString;
use serde_json::{Value, json};
use service_database::on_both_backends;
use service_database::testing::Backend;
use tasks_service::config::{ExtraIssuerSettings, Settings};

use crate::helpers::{TestApp, problem};

on_both_backends!(
    hs256_tokens_minted_by_pyjwt_are_accepted_and_checked,
    hs256_forged_with_the_eddsa_public_key_is_refused,
    better_auth_jwks_tokens_are_accepted_and_isolated,
    readyz_reports_the_revocation_feed_without_failing_on_it
);

/// The `iss` and `aud` of the HS256 issuer (Better Auth uses its base URL for both).
const HS256_ISSUER: &str = "http://better-auth.test";

fn random_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

fn with_hs256(secret: &str) -> impl FnOnce(&mut Settings) {
    let secret = secret.to_owned();
    move |settings| {
        let hs256 = &mut settings.auth.hs256;
        hs256.secret = Some(SecretString::from(secret));
        hs256.issuer = Some(HS256_ISSUER.into());
        hs256.audience = Some(HS256_ISSUER.into());
        hs256.default_scopes = "tasks:read tasks:write".into();
    }
}

/// The claims a Better Auth token carries: no `nbf`, `jti`, `sid` or `scope`.
fn better_auth_claims(issuer: &str, sub: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"iss": issuer, "aud": issuer, "sub": sub, "exp": now + 900, "iat": now})
}

/// Runs `scripts/mint_with_pyjwt.py`, the key going over stdin.
async fn mint_with_pyjwt(alg: &str, key: &[u8], claims: &Value, headers: Option<&Value>) -> String {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/mint_with_pyjwt.py"
    );
    let mut args = vec![script.to_owned(), alg.to_owned(), claims.to_string()];
    args.extend(headers.map(Value::to_string));
    let key = key.to_vec();
    let output = tokio::task::spawn_blocking(move || {
        let mut child = Command::new("python3")
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 runs (make test installs PyJWT)");
        child.stdin.take().unwrap().write_all(&key).unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "PyJWT could not mint: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

async fn titles(app: &TestApp, token: &str) -> Vec<String> {
    let response = app.get(token, "").await;
    assert_eq!(response.status().as_u16(), 200);
    let list: Value = response.json().await.unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|task| task["title"].as_str().unwrap().to_owned())
        .collect()
}

/// `auth_core::TokenError` messages, as the 401 `detail` gives them.
const BAD_SIGNATURE: &str = "the token signature is invalid";
const ALGORITHM_NOT_ALLOWED: &str = "the token's signing algorithm is not accepted";

/// `token` is refused with 401 `invalid-token` for the reason `detail`.
async fn refused(app: &TestApp, token: &str, detail: &str) {
    let response = app.get(token, "").await;
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    let body = problem(response, 401).await;
    assert_eq!(
        (body["type"].as_str(), body["detail"].as_str()),
        (Some("urn:taskgate:problem:invalid-token"), Some(detail)),
        "{body}"
    );
}

/// The 404 of a task that does not exist or is another user's.
async fn no_such_task(response: reqwest::Response) {
    let body = problem(response, 404).await;
    assert_eq!(body["detail"], "no such task", "{body}");
}

async fn hs256_tokens_minted_by_pyjwt_are_accepted_and_checked(backend: Backend) {
    let secret = random_secret();
    let app = TestApp::spawn_with(backend, with_hs256(&secret)).await;
    let claims = better_auth_claims(HS256_ISSUER, "hs_user_7Qd2");
    let token = mint_with_pyjwt("HS256", secret.as_bytes(), &claims, None).await;

    let created = app
        .create_task(&token, &json!({ "title": "from the FastAPI days" }))
        .await;
    assert_eq!(created.status().as_u16(), 201);
    assert_eq!(titles(&app, &token).await, ["from the FastAPI days"]);

    let other_secret = random_secret();
    let wrong_secret = mint_with_pyjwt("HS256", other_secret.as_bytes(), &claims, None).await;
    refused(&app, &wrong_secret, BAD_SIGNATURE).await;
    let mut wrong_iss = claims.clone();
    wrong_iss["iss"] = json!("http://elsewhere.test");
    refused(
        &app,
        &mint_with_pyjwt("HS256", secret.as_bytes(), &wrong_iss, None).await,
        "the token was issued by an untrusted issuer",
    )
    .await;
    let mut wrong_aud = claims.clone();
    wrong_aud["aud"] = json!("another-api");
    refused(
        &app,
        &mint_with_pyjwt("HS256", secret.as_bytes(), &wrong_aud, None).await,
        "the token is not intended for this service",
    )
    .await;
    // The secret is bound to HS256: the same secret under HS512 is not accepted.
    refused(
        &app,
        &mint_with_pyjwt("HS512", secret.as_bytes(), &claims, None).await,
        ALGORITHM_NOT_ALLOWED,
    )
    .await;
}

/// SubjectPublicKeyInfo prefix for an Ed25519 public key (RFC 8410 §4).
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];
/// PKCS#8 prefix for an Ed25519 private key (RFC 8410 §7), followed by the 32-byte seed.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

fn pem(label: &str, der: &[u8]) -> String {
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        STANDARD.encode(der)
    )
}

/// The key-confusion attack: the auth-service's real Ed25519 *public* key used as an HS256
/// secret, as raw bytes, as the JWK `x` string and as PEM, claiming our issuer or the HS256 one.
async fn hs256_forged_with_the_eddsa_public_key_is_refused(backend: Backend) {
    let app = TestApp::spawn_with(backend, with_hs256(&random_secret())).await;
    let user = app.sign_up("forgery-target@example.org").await;
    assert_eq!(app.get(&user.access_token, "").await.status().as_u16(), 200);

    let jwks: Value = app
        .client
        .get(format!("{}/.well-known/jwks.json", app.auth_address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = &jwks["keys"][0];
    let x = jwk["x"].as_str().unwrap();
    let raw = URL_SAFE_NO_PAD.decode(x).unwrap();
    let public_pem = pem("PUBLIC KEY", &[&ED25519_SPKI_PREFIX[..], &raw].concat());
    let header = json!({"kid": jwk["kid"], "typ": "at+jwt"});

    let ours = serde_json::to_value(app.claims_for(&user)).unwrap();
    let mut as_hs256_issuer = ours.clone();
    as_hs256_issuer["iss"] = json!(HS256_ISSUER);
    as_hs256_issuer["aud"] = json!(HS256_ISSUER);
    // Under our issuer's name HS256 is not an accepted algorithm at all; under the HS256
    // issuer's name the public key is simply not its secret.
    for (claims, reason) in [
        (&ours, ALGORITHM_NOT_ALLOWED),
        (&as_hs256_issuer, BAD_SIGNATURE),
    ] {
        for secret in [&raw[..], x.as_bytes()] {
            let forged = mint_with_pyjwt("HS256", secret, claims, Some(&header)).await;
            refused(&app, &forged, reason).await;
        }
        // PyJWT itself refuses a PEM public key as an HMAC secret; an attacker would not.
        let mut jwt_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        jwt_header.kid = jwk["kid"].as_str().map(str::to_owned);
        jwt_header.typ = Some("at+jwt".into());
        let key = jsonwebtoken::EncodingKey::from_secret(public_pem.as_bytes());
        let forged = jsonwebtoken::encode(&jwt_header, claims, &key).unwrap();
        refused(&app, &forged, reason).await;
    }
    // The real token is still fine: nothing above disturbed the service.
    assert_eq!(app.get(&user.access_token, "").await.status().as_u16(), 200);
}

/// A stand-in for a Better Auth server: its JWKS at `/api/auth/jwks`, one Ed25519 key.
struct BetterAuthServer {
    base: String,
    private_pem: String,
    kid: String,
    handle: ServerHandle,
}

impl BetterAuthServer {
    async fn start() -> BetterAuthServer {
        let seed: [u8; 32] = rand::random();
        let public = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
        let private_pem = pem("PRIVATE KEY", &[&ED25519_PKCS8_PREFIX[..], &seed].concat());
        let kid = "ba-7c1f".to_owned();
        // Better Auth publishes `kty`, `crv`, `x` and `kid`, without `use`.
        let jwks = json!({"keys": [{
            "kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(public), "kid": kid,
        }]})
        .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = HttpServer::new(move || {
            let jwks = jwks.clone();
            App::new().route(
                "/api/auth/jwks",
                web::get().to(move || {
                    let jwks = jwks.clone();
                    async move {
                        HttpResponse::Ok()
                            .content_type("application/json")
                            .body(jwks)
                    }
                }),
            )
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        BetterAuthServer {
            base,
            private_pem,
            kid,
            handle,
        }
    }

    fn issuer_settings(&self) -> ExtraIssuerSettings {
        ExtraIssuerSettings {
            issuer_url: self.base.clone(),
            jwks_url: Some(format!("{}/api/auth/jwks", self.base)),
            audience: self.base.clone(),
            require_typ: false,
            required_claims: auth_core::Claim::ALWAYS_REQUIRED.to_vec(),
            default_scopes: "tasks:read tasks:write".into(),
            algorithms: vec![auth_core::Algorithm::EdDSA],
        }
    }

    /// A token as Better Auth issues it, minted by PyJWT: EdDSA, `typ: JWT`, no scope.
    async fn token_for(&self, sub: &str) -> String {
        let claims = better_auth_claims(&self.base, sub);
        let header = json!({ "kid": self.kid });
        mint_with_pyjwt("EdDSA", self.private_pem.as_bytes(), &claims, Some(&header)).await
    }
}

async fn better_auth_jwks_tokens_are_accepted_and_isolated(backend: Backend) {
    let better_auth = BetterAuthServer::start().await;
    let extra = better_auth.issuer_settings();
    let app = TestApp::spawn_with(backend, move |settings| {
        settings.auth.extra_issuers.push(extra);
    })
    .await;
    let ours = app.sign_up("native@example.org").await;
    let our_task: Value = app
        .create_task(&ours.access_token, &json!({ "title": "native task" }))
        .await
        .json()
        .await
        .unwrap();
    let our_task_path = format!("/{}", our_task["id"].as_str().unwrap());

    // A Better Auth id (a random string, not a UUID).
    let theirs = better_auth.token_for("kXr3vT9qLm2bWp8sYc4dNa").await;
    let created = app
        .create_task(&theirs, &json!({ "title": "better auth task" }))
        .await;
    assert_eq!(created.status().as_u16(), 201);
    assert_eq!(titles(&app, &theirs).await, ["better auth task"]);
    assert_eq!(titles(&app, &ours.access_token).await, ["native task"]);
    no_such_task(app.get(&theirs, &our_task_path).await).await;

    // Even a foreign subject that spells our user's UUID is a different user here.
    let impostor = better_auth.token_for(&ours.id).await;
    assert!(titles(&app, &impostor).await.is_empty());
    no_such_task(app.get(&impostor, &our_task_path).await).await;
    no_such_task(app.delete(&impostor, &our_task_path).await).await;

    // The foreign issuer's leniency is its own: our issuer's name on the same kind of token,
    // or the foreign issuer's name signed by a key it does not publish, is refused.
    let mut claims = better_auth_claims(&app.issuer, &ours.id);
    claims["aud"] = json!("tasks-api");
    let header = json!({ "kid": better_auth.kid });
    let as_ours = mint_with_pyjwt(
        "EdDSA",
        better_auth.private_pem.as_bytes(),
        &claims,
        Some(&header),
    )
    .await;
    // Our issuer requires `typ: at+jwt`, which a Better Auth-style token lacks.
    refused(
        &app,
        &as_ours,
        "the token is not an access token (typ must be at+jwt)",
    )
    .await;
    let stranger = BetterAuthServer::start().await;
    let claims = better_auth_claims(&better_auth.base, "kXr3vT9qLm2bWp8sYc4dNa");
    let header = json!({ "kid": better_auth.kid });
    let wrong_key = mint_with_pyjwt(
        "EdDSA",
        stranger.private_pem.as_bytes(),
        &claims,
        Some(&header),
    )
    .await;
    refused(&app, &wrong_key, BAD_SIGNATURE).await;

    stranger.handle.stop(false).await;
    better_auth.handle.stop(false).await;
}

async fn readiness_checks(app: &TestApp) -> Value {
    let response = app
        .client
        .get(format!("{}/readyz", app.tasks_address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    body["checks"].clone()
}

async fn readyz_reports_the_revocation_feed_without_failing_on_it(backend: Backend) {
    // By default the tasks-service follows the auth-service's own feed.
    let app = TestApp::spawn(backend).await;
    let checks = readiness_checks(&app).await;
    assert_eq!(checks["revocation_feed"], "ok", "{checks}");

    // Nothing listens on this port: the feed is unreachable from the start.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let feed = format!("http://127.0.0.1:{port}/api/auth/revocations");
    let app = TestApp::spawn_with(backend, move |settings| {
        settings.auth.revocation_feed_url = Some(feed);
    })
    .await;
    let checks = readiness_checks(&app).await;
    let feed_check = checks["revocation_feed"].as_str().unwrap();
    assert!(feed_check.starts_with("unreachable: "), "{checks}");
    assert_eq!(checks["database"], "ok");
    // Tokens are still accepted: revocation is an extra layer, not a dependency.
    let user = app.sign_up("feedless@example.org").await;
    assert_eq!(app.get(&user.access_token, "").await.status().as_u16(), 200);
}
