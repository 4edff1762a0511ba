//! Test keys, a token builder that can produce any header or claims, valid or not, and helpers
//! for building verifiers, serving fake issuers and waiting for background work.

use std::time::{SystemTime, UNIX_EPOCH};

use auth_core::{TrustedIssuer, Verifier, VerifierConfig};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use uuid::Uuid;

pub const ISSUER: &str = "https://auth.taskgate.test";
pub const AUDIENCE: &str = "tasks-api";

/// PKCS#8 v1 prefix for an Ed25519 private key (RFC 8410 §7): SEQUENCE { version 0,
/// AlgorithmIdentifier { 1.3.101.112 }, OCTET STRING { OCTET STRING (32-byte seed) } }.
/// jsonwebtoken's rust_crypto backend reads it with `SigningKey::from_pkcs8_der`.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// SubjectPublicKeyInfo prefix for an Ed25519 public key (RFC 8410 §4).
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

pub struct TestKey {
    pub kid: String,
    pub public: [u8; 32],
    encoding: EncodingKey,
}

impl TestKey {
    pub fn generate(kid: &str) -> TestKey {
        let seed: [u8; 32] = rand::random();
        let public = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
        let mut der = ED25519_PKCS8_PREFIX.to_vec();
        der.extend_from_slice(&seed);
        TestKey {
            kid: kid.to_owned(),
            public,
            encoding: EncodingKey::from_ed_der(&der),
        }
    }

    /// The public key's `x`, base64url as in the JWK.
    pub fn x(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.public)
    }

    /// The public key as PEM (SubjectPublicKeyInfo, RFC 8410 §4), the form a key-confusion
    /// attacker would most likely feed an HMAC library.
    pub fn public_pem(&self) -> String {
        use base64::engine::general_purpose::STANDARD;
        let mut der = ED25519_SPKI_PREFIX.to_vec();
        der.extend_from_slice(&self.public);
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            STANDARD.encode(der)
        )
    }

    pub fn jwk(&self) -> Value {
        json!({"kty": "OKP", "crv": "Ed25519", "x": self.x(), "kid": self.kid, "alg": "EdDSA", "use": "sig"})
    }

    /// The standard access-token header for this key.
    pub fn header(&self) -> Value {
        json!({"alg": "EdDSA", "typ": "at+jwt", "kid": self.kid})
    }

    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(&self.header(), claims)
    }

    /// Signs exactly the given header (whatever it says) with this key's EdDSA key.
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        sign_raw(header, claims, &self.encoding, Algorithm::EdDSA)
    }
}

pub fn sign_raw(header: &Value, claims: &Value, key: &EncodingKey, alg: Algorithm) -> String {
    let message = format!("{}.{}", b64_json(header), b64_json(claims));
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).unwrap();
    format!("{message}.{signature}")
}

pub fn b64_json(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

pub fn jwks(keys: &[&TestKey]) -> Value {
    json!({ "keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>() })
}

pub fn jwk_set(keys: &[&TestKey]) -> JwkSet {
    serde_json::from_value(jwks(keys)).unwrap()
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Valid user-token claims for `ISSUER`/`AUDIENCE`, 15 minutes left.
pub fn claims() -> Value {
    claims_for(ISSUER)
}

pub fn claims_for(issuer: &str) -> Value {
    let now = now();
    json!({
        "iss": issuer,
        "sub": Uuid::now_v7().to_string(),
        "aud": AUDIENCE,
        "exp": now + 900,
        "iat": now,
        "nbf": now,
        "jti": Uuid::now_v7().to_string(),
        "sid": Uuid::now_v7().to_string(),
        "scope": "tasks:read tasks:write",
        "client_id": "taskgate-spa",
    })
}

/// Returns `claims` with `key` set to `value` (or removed when `value` is null).
pub fn with(mut claims: Value, key: &str, value: Value) -> Value {
    let map = claims.as_object_mut().unwrap();
    if value.is_null() {
        map.remove(key);
    } else {
        map.insert(key.to_owned(), value);
    }
    claims
}

pub fn config() -> VerifierConfig {
    VerifierConfig::new(ISSUER, AUDIENCE)
}

pub fn fixed_verifier(keys: &[&TestKey]) -> Verifier {
    Verifier::from_jwks(config(), jwk_set(keys))
}

/// One remote issuer, its keys fetched from its JWKS (`jwks_url`, else discovery) and its
/// revocation feed followed if configured: `connect_trusted` with a single `TrustedIssuer::jwks`.
pub async fn jwks_verifier(config: VerifierConfig) -> Verifier {
    Verifier::connect_trusted(vec![TrustedIssuer::jwks(config)])
        .await
        .unwrap_or_else(|err| panic!("the trust list was refused: {err}"))
}

/// An HS* token over exactly `header` and `claims`, signed with `secret`.
pub fn sign_hmac(header: &Value, claims: &Value, secret: &[u8], alg: Algorithm) -> String {
    sign_raw(header, claims, &EncodingKey::from_secret(secret), alg)
}

/// Serves `routes` on `listener` in the background (no signal handling: the test owns its
/// lifetime) and returns the handle that stops it.
pub fn serve(
    listener: std::net::TcpListener,
    workers: usize,
    routes: impl Fn(&mut actix_web::web::ServiceConfig) + Send + Clone + 'static,
) -> actix_web::dev::ServerHandle {
    let server =
        actix_web::HttpServer::new(move || actix_web::App::new().configure(routes.clone()))
            .workers(workers)
            .disable_signals()
            .listen(listener)
            .unwrap()
            .run();
    let handle = server.handle();
    tokio::spawn(server);
    handle
}
