//! What one access-token verification costs, per algorithm, with and without the verified-token
//! cache. Run: `cargo bench -p auth-core --bench verify` (about a minute).
//!
//! - `uncached`: `verified_token_cache_size = 0`, the same token every iteration: the full path
//!   (size check, header, issuer selection, key lookup, signature, claims). No revocation feed
//!   is followed; its check is two hash lookups either way.
//! - `cached`: the default cache, the same token every iteration, so every iteration after the
//!   first is a hit: SHA-256 of the token, a cache lookup, the `exp` / key / revocation checks
//!   and a copy of the claims.
//! - `EdDSA/cache_miss`: the default cache and a token never seen before each iteration (signed
//!   outside the timed part): the full path plus the digest and the insertion, i.e. what a
//!   client's first request with a new token costs.
//!
//! Keys are generated at start (bench-only, nothing committed) and given to the verifier as a
//! fixed JWK Set: fetched keys end up in the same in-memory key set, so a JWKS server would add
//! nothing per verification.

use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use auth_core::{Verifier, VerifierConfig};
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::rand_core::OsRng;
use serde_json::{Value, json};
use uuid::Uuid;

const ISSUER: &str = "https://auth.taskgate.bench";
const AUDIENCE: &str = "tasks-api";

struct SigningKey {
    alg: Algorithm,
    kid: String,
    encoding: EncodingKey,
}

impl SigningKey {
    fn generate(alg: Algorithm) -> SigningKey {
        let encoding = match alg {
            Algorithm::EdDSA => {
                // PKCS#8 v1 (no public key inside): the form jsonwebtoken derives a JWK from.
                use ed25519_dalek::ed25519::pkcs8::{EncodePrivateKey, KeypairBytes};
                let seed = ed25519_dalek::SigningKey::from_bytes(&rand::random()).to_bytes();
                let pkcs8 = KeypairBytes {
                    secret_key: seed,
                    public_key: None,
                };
                EncodingKey::from_ed_der(pkcs8.to_pkcs8_der().expect("Ed25519 PKCS#8").as_bytes())
            }
            Algorithm::ES256 => {
                use p256::pkcs8::EncodePrivateKey;
                let key = p256::SecretKey::random(&mut OsRng);
                EncodingKey::from_ec_der(key.to_pkcs8_der().expect("P-256 PKCS#8").as_bytes())
            }
            Algorithm::RS256 => {
                use rsa::pkcs1::EncodeRsaPrivateKey;
                let key = rsa::RsaPrivateKey::new(&mut OsRng, 2048).expect("RSA key");
                EncodingKey::from_rsa_der(key.to_pkcs1_der().expect("RSA PKCS#1").as_bytes())
            }
            Algorithm::HS256 => EncodingKey::from_secret(&rand::random::<[u8; 32]>()),
            other => panic!("no bench key for {other:?}"),
        };
        SigningKey {
            alg,
            kid: format!("bench-{alg:?}"),
            encoding,
        }
    }

    fn jwks(&self) -> JwkSet {
        let mut jwk = Jwk::from_encoding_key(&self.encoding, self.alg).expect("JWK");
        jwk.common.key_id = Some(self.kid.clone());
        JwkSet { keys: vec![jwk] }
    }

    /// A fresh token (new `jti` and `sid`) with our auth-service's header and claims.
    fn sign(&self) -> String {
        let mut header = Header::new(self.alg);
        header.typ = Some("at+jwt".into());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims(), &self.encoding).expect("signing")
    }

    fn verifier(&self, cache_size: usize) -> Verifier {
        let mut config = VerifierConfig::new(ISSUER, AUDIENCE);
        config.algorithms = vec![self.alg];
        config.verified_token_cache_size = cache_size;
        Verifier::from_jwks(config, self.jwks())
    }
}

fn claims() -> Value {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    json!({
        "iss": ISSUER,
        "sub": Uuid::now_v7().to_string(),
        "aud": AUDIENCE,
        "exp": now + 900,
        "iat": now,
        "nbf": now,
        "jti": Uuid::now_v7().to_string(),
        "sid": Uuid::now_v7().to_string(),
        "scope": auth_core::scopes::USER.join(" "),
        "client_id": "taskgate-spa",
    })
}

fn verification(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime");
    let mut group = c.benchmark_group("verify");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50);

    for alg in [
        Algorithm::EdDSA,
        Algorithm::ES256,
        Algorithm::RS256,
        Algorithm::HS256,
    ] {
        let key = SigningKey::generate(alg);
        let token = key.sign();
        for (label, cache_size) in [
            ("uncached", 0),
            ("cached", auth_core::DEFAULT_VERIFIED_TOKEN_CACHE_SIZE),
        ] {
            let verifier = key.verifier(cache_size);
            // A bench of a refusal would measure nothing useful: check the token passes.
            runtime
                .block_on(verifier.verify_token(&token))
                .expect("the bench token verifies");
            group.bench_function(BenchmarkId::new(format!("{alg:?}"), label), |b| {
                b.to_async(&runtime)
                    .iter(|| async { black_box(verifier.verify_token(black_box(&token)).await) });
            });
        }

        if alg == Algorithm::EdDSA {
            let verifier = key.verifier(auth_core::DEFAULT_VERIFIED_TOKEN_CACHE_SIZE);
            group.bench_function(BenchmarkId::new("EdDSA", "cache_miss"), |b| {
                b.to_async(&runtime).iter_batched(
                    || key.sign(),
                    |fresh| {
                        let verifier = &verifier;
                        async move { black_box(verifier.verify_token(&fresh).await) }
                    },
                    BatchSize::SmallInput,
                );
            });
        }
    }
    group.finish();
}

criterion_group!(benches, verification);
criterion_main!(benches);
