use auth_service::clock::Clock;
use auth_service::config::Settings;
use auth_service::startup::Application;
pub use http_problem::testing::{problem, problem_of};
use serde_json::{Value, json};
use service_database::testing::{Backend, TestDatabase};

pub const PASSWORD: &str = "correct horse battery staple";

/// The auth-service on a random port with a database of its own, dropped with the app.
pub struct TestApp {
    pub settings: Settings,
    pub address: String,
    pub issuer: String,
    pub client: reqwest::Client,
    /// The app's clock: `app.clock.advance(…)` lets a lockout or grace period pass at once.
    pub clock: Clock,
    /// A `revocations:read` service token, made on first use (`feed_token`).
    feed_token: tokio::sync::OnceCell<String>,
    _db: TestDatabase,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Like `spawn`, with settings adjusted by `customize` first.
    pub async fn spawn_with(backend: Backend, customize: impl FnOnce(&mut Settings)) -> Self {
        let db = TestDatabase::create(backend).await;
        let mut settings = Settings::for_tests(db.dir(), db.url_for("auth"));
        customize(&mut settings);
        let app = Application::build(settings.clone())
            .await
            .expect("app starts");
        let address = format!("http://127.0.0.1:{}", app.port());
        let issuer = app.issuer().to_owned();
        let clock = app.clock();
        tokio::spawn(app.run_until_stopped());
        Self {
            settings,
            address,
            issuer,
            client: reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .expect("client"),
            clock,
            feed_token: tokio::sync::OnceCell::new(),
            _db: db,
        }
    }

    /// A second replica on the same database and master key (its own port).
    pub async fn replica(&self) -> String {
        let mut settings = self.settings.clone();
        // Replicas sit behind one public URL: the same issuer.
        settings.public_url = Some(self.issuer.clone());
        let app = Application::build(settings).await.expect("replica starts");
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        address
    }

    /// The service's database and master key, as the `auth-service keys` CLI opens them.
    pub async fn key_admin(
        &self,
    ) -> (
        sea_orm::DatabaseConnection,
        auth_service::tokens::master_key::MasterKey,
    ) {
        let db = auth_service::database::open(&self.settings).await.unwrap();
        let master =
            auth_service::tokens::master_key::MasterKey::from_settings(&self.settings).unwrap();
        (db, master)
    }

    /// Registers a confidential OAuth client the way `auth-service clients create` does;
    /// returns its id and secret.
    pub async fn create_client(&self, name: &str, scopes: &str) -> (String, String) {
        let (db, _) = self.key_admin().await;
        let scopes = auth_service::domain::ScopeSet::parse(scopes).unwrap();
        let created = auth_service::oauth::clients::create(&db, name, scopes, None)
            .await
            .unwrap();
        let secret = secrecy::ExposeSecret::expose_secret(&created.secret).to_owned();
        (created.client_id, secret)
    }

    /// A client_credentials token for a new client allowed `scopes`, from `/oauth/token`.
    pub async fn service_token(&self, scopes: &str) -> String {
        let (client_id, secret) = self.create_client("test service", scopes).await;
        let response = self
            .client
            .post(self.url("/oauth/token"))
            .basic_auth(&client_id, Some(&secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), 200);
        let body: Value = response.json().await.expect("token response");
        body["access_token"].as_str().expect("a token").to_owned()
    }

    /// The service token the revocation feed is read with (`revocations:read`), as a
    /// validator holds it.
    pub async fn feed_token(&self) -> &str {
        self.feed_token
            .get_or_init(|| self.service_token("revocations:read"))
            .await
    }

    /// `GET /api/auth/revocations{query}` with the feed token.
    pub async fn get_feed(&self, query: &str) -> reqwest::Response {
        let path = format!("/api/auth/revocations{query}");
        self.get_authed(&path, self.feed_token().await).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// `GET path` with a bearer token.
    pub async fn get_authed(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// `POST /api/auth/refresh` in cookie mode (no token in the body, the client's cookie jar
    /// sends `taskgate_refresh`) as a page of `origin` sends it.
    pub async fn refresh_with_cookie(&self, origin: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/auth/refresh"))
            .header("origin", origin)
            .json(&json!({}))
            .send()
            .await
            .expect("request")
    }

    pub async fn sign_up(&self, email: &str) -> reqwest::Response {
        self.post_json(
            "/api/auth/sign-up",
            &json!({ "email": email, "password": PASSWORD }),
        )
        .await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/api/auth/sign-in",
            &json!({ "email": email, "password": password }),
        )
        .await
    }
}
