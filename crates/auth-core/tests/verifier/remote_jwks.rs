//! The verifier against a real HTTP issuer: discovery, refetch on unknown kid (rate-limited and
//! single-flight), and serving cached keys while the issuer is down or misbehaving.

use service_runtime::testing::eventually;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{HttpResponse, web};
use auth_core::{TokenError, VerifierConfig};
use serde_json::{Value, json};

use crate::support::*;

/// What the fake issuer serves, and how often it was asked.
struct IssuerState {
    base: String,
    /// The `issuer` the discovery document claims; normally `base`.
    discovery_issuer: String,
    /// The JWKS response body, verbatim.
    jwks_body: String,
    discovery_hits: usize,
    jwks_hits: usize,
    /// Answer every request with 503 (still counting it), as an issuer in trouble would.
    down: bool,
}

struct FakeIssuer {
    base: String,
    state: Arc<Mutex<IssuerState>>,
    handle: ServerHandle,
}

impl FakeIssuer {
    async fn start(keys: &[&TestKey]) -> FakeIssuer {
        FakeIssuer::start_on(TcpListener::bind("127.0.0.1:0").unwrap(), jwks(keys)).await
    }

    async fn start_on(listener: TcpListener, jwks: Value) -> FakeIssuer {
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(IssuerState {
            base: base.clone(),
            discovery_issuer: base.clone(),
            jwks_body: jwks.to_string(),
            discovery_hits: 0,
            jwks_hits: 0,
            down: false,
        }));
        let shared = web::Data::from(Arc::clone(&state));
        let handle = serve(listener, 1, move |cfg| {
            cfg.app_data(shared.clone())
                .route(
                    "/.well-known/openid-configuration",
                    web::get().to(discovery),
                )
                .route("/.well-known/jwks.json", web::get().to(jwks_endpoint));
        });
        FakeIssuer {
            base,
            state,
            handle,
        }
    }

    fn config(&self) -> VerifierConfig {
        let mut config = VerifierConfig::new(&self.base, AUDIENCE);
        // Tests drive refetches themselves unless they lower this.
        config.refresh_interval = Duration::from_secs(3600);
        config
    }

    fn serve_keys(&self, keys: &[&TestKey]) {
        self.serve_body(jwks(keys).to_string());
    }

    fn serve_body(&self, body: String) {
        self.state.lock().unwrap().jwks_body = body;
    }

    fn hits(&self) -> (usize, usize) {
        let state = self.state.lock().unwrap();
        (state.discovery_hits, state.jwks_hits)
    }

    /// Discovery and JWKS requests together.
    fn total_hits(&self) -> usize {
        let (discovery, jwks) = self.hits();
        discovery + jwks
    }

    fn set_down(&self, down: bool) {
        self.state.lock().unwrap().down = down;
    }

    fn sign(&self, key: &TestKey) -> String {
        key.sign(&claims_for(&self.base))
    }

    async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

async fn discovery(state: web::Data<Mutex<IssuerState>>) -> HttpResponse {
    let mut state = state.lock().unwrap();
    state.discovery_hits += 1;
    if state.down {
        return HttpResponse::ServiceUnavailable().finish();
    }
    HttpResponse::Ok().json(json!({
        "issuer": state.discovery_issuer,
        "jwks_uri": format!("{}/.well-known/jwks.json", state.base),
    }))
}

async fn jwks_endpoint(state: web::Data<Mutex<IssuerState>>) -> HttpResponse {
    let mut state = state.lock().unwrap();
    state.jwks_hits += 1;
    if state.down {
        return HttpResponse::ServiceUnavailable().finish();
    }
    HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        .body(state.jwks_body.clone())
}

#[tokio::test]
async fn connect_discovers_the_jwks_and_verifies() {
    let key = TestKey::generate("k1");
    let issuer = FakeIssuer::start(&[&key]).await;
    let verifier = jwks_verifier(issuer.config()).await;
    assert!(verifier.has_keys());
    verifier
        .verify(&issuer.sign(&key))
        .await
        .expect("verified with the discovered key");
    assert_eq!(issuer.hits(), (1, 1));
    issuer.stop().await;
}

#[tokio::test]
async fn a_configured_jwks_url_skips_discovery() {
    let key = TestKey::generate("k1");
    let issuer = FakeIssuer::start(&[&key]).await;
    let mut config = issuer.config();
    config.jwks_url = Some(format!("{}/.well-known/jwks.json", issuer.base));
    let verifier = jwks_verifier(config).await;
    verifier
        .verify(&issuer.sign(&key))
        .await
        .expect("verified with the configured JWKS");
    assert_eq!(issuer.hits(), (0, 1));
    issuer.stop().await;
}

#[tokio::test]
async fn unknown_kid_refetches_at_most_once_per_interval() {
    let old = TestKey::generate("old");
    let new = TestKey::generate("new");
    let issuer = FakeIssuer::start(&[&old]).await;
    let mut config = issuer.config();
    config.min_refetch_interval = Duration::from_millis(300);
    let verifier = jwks_verifier(config).await;
    assert_eq!(issuer.hits(), (1, 1));

    // Rotation publishes a new key. Right after the initial fetch, an unknown kid does not
    // trigger another request.
    issuer.serve_keys(&[&old, &new]);
    let new_token = issuer.sign(&new);
    assert_eq!(
        verifier.verify(&new_token).await.unwrap_err(),
        TokenError::UnknownKey
    );
    assert_eq!(issuer.hits(), (1, 1));

    // Once the interval has passed it does, and picks up the new key.
    // On purpose: the 300 ms rate-limit interval must pass.
    tokio::time::sleep(Duration::from_millis(400)).await;
    verifier
        .verify(&new_token)
        .await
        .expect("the re-fetch found the new key");
    assert_eq!(issuer.hits(), (1, 2));

    // A second unknown kid straight after: no request.
    let stranger = TestKey::generate("stranger");
    let err = verifier.verify(&issuer.sign(&stranger)).await.unwrap_err();
    assert_eq!(err, TokenError::UnknownKey);
    assert_eq!(issuer.hits(), (1, 2));
    verifier
        .verify(&issuer.sign(&old))
        .await
        .expect("the old key is still published");
    issuer.stop().await;
}

#[tokio::test]
async fn concurrent_unknown_kids_share_one_fetch() {
    let old = TestKey::generate("old");
    let new = TestKey::generate("new");
    let issuer = FakeIssuer::start(&[&old]).await;
    let mut config = issuer.config();
    config.min_refetch_interval = Duration::from_millis(100);
    let verifier = jwks_verifier(config).await;
    issuer.serve_keys(&[&old, &new]);
    // On purpose: the 100 ms rate-limit interval since the first fetch must pass, so the
    // unknown kid below may trigger a fetch.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let token = issuer.sign(&new);
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let verifier = verifier.clone();
            let token = token.clone();
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    for task in tasks {
        task.await
            .unwrap()
            .expect("every caller gets the key from the shared fetch");
    }
    assert_eq!(issuer.hits(), (1, 2));
    issuer.stop().await;
}

#[tokio::test]
async fn cached_keys_keep_verifying_while_the_issuer_is_down() {
    let key = TestKey::generate("k1");
    let issuer = FakeIssuer::start(&[&key]).await;
    let mut config = issuer.config();
    config.refresh_interval = Duration::from_millis(150);
    config.min_refetch_interval = Duration::from_millis(50);
    let verifier = jwks_verifier(config).await;
    let token = issuer.sign(&key);

    // The issuer fails every request (503) while several background refreshes run. While it
    // is down each refresh is one request (a failed JWKS fetch forgets the discovered URL, and
    // a failed discovery ends the attempt), and refreshes run one after another: once a third
    // request has arrived, the first two refreshes have failed and been handled.
    issuer.set_down(true);
    let before = issuer.total_hits();
    eventually(Duration::from_secs(5), "two failed refreshes", async || {
        issuer.total_hits() >= before + 3
    })
    .await;
    assert!(verifier.has_keys());
    verifier
        .verify(&token)
        .await
        .expect("the cached key still verifies while the issuer answers 503");

    // Then it is gone altogether (connection refused).
    issuer.stop().await;
    // An unknown kid tries the (dead) issuer and is still just an unknown key.
    let stranger = TestKey::generate("stranger");
    let err = verifier.verify(&issuer.sign(&stranger)).await.unwrap_err();
    assert_eq!(err, TokenError::UnknownKey);
    verifier
        .verify(&token)
        .await
        .expect("the cached key still verifies while the issuer is unreachable");
}

#[tokio::test]
async fn empty_or_broken_key_sets_do_not_replace_good_keys() {
    let key = TestKey::generate("k1");
    let issuer = FakeIssuer::start(&[&key]).await;
    let mut config = issuer.config();
    config.refresh_interval = Duration::from_millis(100);
    let verifier = jwks_verifier(config).await;
    let token = issuer.sign(&key);

    for body in [
        json!({"keys": []}).to_string(),
        "<html>maintenance</html>".to_owned(),
        json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "c2hvcnQ", "kid": "bad"}]})
            .to_string(),
    ] {
        issuer.serve_body(body.clone());
        // Every JWKS request from here on gets `body`. Refreshes run one after another, so once
        // a second one has arrived the first has been handled (its result kept or refused).
        let before = issuer.hits().1;
        eventually(
            Duration::from_secs(5),
            "a refresh of the bad body",
            async || issuer.hits().1 >= before + 2,
        )
        .await;
        verifier
            .verify(&token)
            .await
            .unwrap_or_else(|err| panic!("the good key was replaced by {body:?}: {err}"));
    }
    issuer.stop().await;
}

#[tokio::test]
async fn one_unparsable_key_does_not_hide_the_others() {
    let key = TestKey::generate("k1");
    let issuer = FakeIssuer::start(&[]).await;
    let mut body = jwks(&[&key]);
    body["keys"].as_array_mut().unwrap().insert(
        0,
        json!({"kty": "EC", "crv": "P-256", "kid": "no-coordinates"}),
    );
    issuer.serve_body(body.to_string());
    let verifier = jwks_verifier(issuer.config()).await;
    verifier
        .verify(&issuer.sign(&key))
        .await
        .expect("the parsable key is used");
    issuer.stop().await;
}

#[tokio::test]
async fn discovery_for_another_issuer_is_refused() {
    let key = TestKey::generate("k1");
    let issuer = FakeIssuer::start(&[&key]).await;
    issuer.state.lock().unwrap().discovery_issuer = "https://evil.test".to_owned();
    let verifier = jwks_verifier(issuer.config()).await;
    assert!(!verifier.has_keys());
    assert_eq!(issuer.hits(), (1, 0));
    let err = verifier.verify(&issuer.sign(&key)).await.unwrap_err();
    assert_eq!(err, TokenError::KeysUnavailable);
    issuer.stop().await;
}

#[tokio::test]
async fn an_oversized_jwks_response_is_refused() {
    let key = TestKey::generate("k1");
    let issuer = FakeIssuer::start(&[]).await;
    let mut body = jwks(&[&key]);
    body["padding"] = json!("x".repeat(300 * 1024));
    issuer.serve_body(body.to_string());
    let verifier = jwks_verifier(issuer.config()).await;
    // Fetched, then refused: not merely never fetched.
    assert_eq!(issuer.hits(), (1, 1));
    assert!(!verifier.has_keys());
    assert_eq!(
        verifier.verify(&issuer.sign(&key)).await.unwrap_err(),
        TokenError::KeysUnavailable
    );
    issuer.stop().await;
}

#[tokio::test]
async fn an_issuer_that_starts_later_is_picked_up_by_the_retry() {
    let key = TestKey::generate("k1");
    // Reserve a port, then free it so nothing is listening when we connect.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let verifier = jwks_verifier(VerifierConfig::new(&base, AUDIENCE)).await;
    assert!(!verifier.has_keys());

    let issuer = FakeIssuer::start_on(
        TcpListener::bind(("127.0.0.1", port)).unwrap(),
        jwks(&[&key]),
    )
    .await;
    // The first retry comes 1 s after the failed start, then backoff doubles.
    eventually(
        Duration::from_secs(8),
        "keys fetched by a retry",
        async || verifier.has_keys(),
    )
    .await;
    verifier
        .verify(&issuer.sign(&key))
        .await
        .expect("verified with the late issuer's key");
    issuer.stop().await;
}
