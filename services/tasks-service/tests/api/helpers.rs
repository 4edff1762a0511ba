use auth_core::{AccessClaims, unverified};
use auth_service::tokens::rotation::{self, RotateWhen, RotationOutcome};
pub use http_problem::testing::{problem, problem_of};
use serde_json::{Value, json};
use service_database::testing::{Backend, TestDatabase};
use service_runtime::testing::eventually;
use std::time::Duration;
use uuid::Uuid;

/// A real auth-service and a real tasks-service trusting it, on random ports, with one
/// database of their own (dropped with the app).
pub struct TestApp {
    pub auth_address: String,
    pub tasks_address: String,
    pub issuer: String,
    pub client: reqwest::Client,
    auth_settings: auth_service::config::Settings,
    tasks_settings: tasks_service::config::Settings,
    auth_server: actix_web::dev::ServerHandle,
    _db: TestDatabase,
}

/// Whether the auth-service delivers account purges to the tasks-service.
#[derive(Clone, PartialEq, Eq)]
enum Purge {
    Off,
    On,
    /// On, with the tasks-service not started yet.
    OnWithTasksServiceDown,
    /// On, delivered to this URL instead of the tasks-service (a test's counting proxy).
    Via(String),
}

pub const PASSWORD: &str = "correct horse battery staple";

/// A signed-up user and their tokens.
pub struct TestUser {
    pub id: String,
    pub access_token: String,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// As [`TestApp::spawn`], with `customize` adjusting the tasks-service settings (extra
    /// trusted issuers, the HS256 secret, …) after the test defaults are in place.
    pub async fn spawn_with(
        backend: Backend,
        customize: impl FnOnce(&mut tasks_service::config::Settings),
    ) -> Self {
        Self::spawn_inner(backend, Purge::Off, |_| {}, customize).await
    }

    /// As [`TestApp::spawn`], with `customize` adjusting the auth-service settings.
    pub async fn spawn_with_auth(
        backend: Backend,
        customize: impl FnOnce(&mut auth_service::config::Settings),
    ) -> Self {
        Self::spawn_inner(backend, Purge::Off, customize, |_| {}).await
    }

    /// As [`TestApp::spawn`] on Postgres, with both services' schemas on the server at `url`
    /// (a `ThrowawayCluster` a test stops and starts) instead of the shared test server.
    pub async fn spawn_on_postgres_at(url: &str) -> Self {
        let url = secrecy::SecretString::from(url.to_owned());
        let auth_url = url.clone();
        Self::spawn_inner(
            Backend::Postgres,
            Purge::Off,
            |auth| auth.database.url = Some(auth_url),
            |tasks| tasks.database.url = Some(url),
        )
        .await
    }

    /// As [`TestApp::spawn`], with the auth-service delivering account deletions to this
    /// tasks-service as a real client with `tasks:purge` (retrying every 100 ms or so).
    pub async fn spawn_with_purge(backend: Backend) -> Self {
        Self::spawn_inner(backend, Purge::On, |_| {}, |_| {}).await
    }

    /// As [`TestApp::spawn_with_purge`], but the tasks-service is down until
    /// [`TestApp::start_tasks_service`] (its port is reserved, nothing listens on it).
    pub async fn spawn_with_purge_and_tasks_service_down(backend: Backend) -> Self {
        Self::spawn_inner(backend, Purge::OnWithTasksServiceDown, |_| {}, |_| {}).await
    }

    /// As [`TestApp::spawn_with_purge`], delivering purges to `url` instead.
    pub async fn spawn_with_purge_via(backend: Backend, url: &str) -> Self {
        Self::spawn_inner(backend, Purge::Via(url.to_owned()), |_| {}, |_| {}).await
    }

    /// A second auth-service instance on the same database and issuer, with the same purge
    /// settings: another replica delivering the same outbox.
    pub async fn start_auth_replica(&self) {
        let mut settings = self.auth_settings.clone();
        settings.public_url = Some(self.issuer.clone());
        let auth = auth_service::startup::Application::build(settings)
            .await
            .expect("replica starts");
        tokio::spawn(auth.run_until_stopped());
    }

    /// Stops the auth-service and starts a new instance on the same database, issuer and
    /// port, as a restart would: a running tasks-service finds it where it was.
    pub async fn restart_auth_service(&mut self) {
        self.auth_server.stop(false).await;
        self.start_auth_service().await;
    }

    /// Starts the auth-service again, on the same database, issuer and port, after
    /// [`TestApp::stop_auth_service`].
    pub async fn start_auth_service(&mut self) {
        let mut settings = self.auth_settings.clone();
        settings.public_url = Some(self.issuer.clone());
        settings.http.port = self
            .auth_address
            .rsplit(':')
            .next()
            .and_then(|port| port.parse().ok())
            .unwrap();
        let auth = auth_service::startup::Application::build(settings)
            .await
            .expect("auth-service restarts");
        self.auth_server = auth.handle();
        tokio::spawn(auth.run_until_stopped());
    }

    /// Starts the tasks-service on its reserved port, fetching keys and the revocation feed
    /// from the current auth-service instance.
    pub async fn start_tasks_service(&self) {
        let mut settings = self.tasks_settings.clone();
        settings.auth.jwks_url = Some(format!("{}/.well-known/jwks.json", self.auth_address));
        settings.auth.revocation_feed_url =
            Some(format!("{}/api/auth/revocations", self.auth_address));
        let tasks = tasks_service::startup::Application::build(settings)
            .await
            .expect("tasks-service starts");
        tokio::spawn(tasks.run_until_stopped());
    }

    async fn spawn_inner(
        backend: Backend,
        purge: Purge,
        customize_auth: impl FnOnce(&mut auth_service::config::Settings),
        customize: impl FnOnce(&mut tasks_service::config::Settings),
    ) -> Self {
        let db = TestDatabase::create(backend).await;
        let mut auth_settings =
            auth_service::config::Settings::for_tests(db.dir(), db.url_for("auth"));
        customize_auth(&mut auth_settings);
        // The tasks-service reads the revocation feed as a client of its own, as `make run`
        // sets it up.
        let feed_client = {
            let admin = auth_service::database::open(&auth_settings).await.unwrap();
            let scopes = auth_service::domain::ScopeSet::parse("revocations:read").unwrap();
            let client =
                auth_service::oauth::clients::create(&admin, "revocation follower", scopes, None)
                    .await
                    .unwrap();
            let _ = admin.close().await;
            client
        };
        // The tasks-service's port is chosen before it starts, so the auth-service can be told
        // where to deliver purges.
        let tasks_port = if purge != Purge::Off {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let admin = auth_service::database::open(&auth_settings).await.unwrap();
            let scopes = auth_service::domain::ScopeSet::parse("tasks:purge").unwrap();
            let client =
                auth_service::oauth::clients::create(&admin, "account purger", scopes, None)
                    .await
                    .unwrap();
            let _ = admin.close().await;
            auth_settings.purge.tasks_url = Some(match &purge {
                Purge::Via(url) => url.clone(),
                _ => format!("http://127.0.0.1:{port}"),
            });
            auth_settings.purge.client_id = Some(client.client_id);
            auth_settings.purge.client_secret = Some(client.secret);
            auth_settings.purge.poll_interval_ms = 50;
            auth_settings.purge.retry_base_ms = 100;
            auth_settings.purge.retry_max_secs = 1;
            port
        } else {
            0
        };
        let auth = auth_service::startup::Application::build(auth_settings.clone())
            .await
            .expect("auth-service starts");
        let auth_address = format!("http://127.0.0.1:{}", auth.port());
        let issuer = auth.issuer().to_owned();
        let auth_server = auth.handle();
        tokio::spawn(auth.run_until_stopped());

        let mut tasks_settings = tasks_service::config::Settings::default();
        tasks_settings.http.port = tasks_port;
        tasks_settings.data_dir = db.dir().to_path_buf();
        tasks_settings.database.url = Some(db.url_for("tasks"));
        tasks_settings.database.max_connections = 5;
        tasks_settings.auth.issuer_url = issuer.clone();
        tasks_settings.auth.feed_client_id = Some(feed_client.client_id);
        tasks_settings.auth.feed_client_secret = Some(feed_client.secret);
        customize(&mut tasks_settings);
        let tasks_address = if purge == Purge::OnWithTasksServiceDown {
            format!("http://127.0.0.1:{tasks_port}")
        } else {
            let tasks = tasks_service::startup::Application::build(tasks_settings.clone())
                .await
                .expect("tasks-service starts");
            let address = format!("http://127.0.0.1:{}", tasks.port());
            tokio::spawn(tasks.run_until_stopped());
            address
        };

        Self {
            auth_address,
            tasks_address,
            issuer,
            client: reqwest::Client::new(),
            auth_settings,
            tasks_settings,
            auth_server,
            _db: db,
        }
    }

    /// The environment a `tasks-service` binary needs to serve this app's database and trust
    /// its auth-service (following the revocation feed as its client), on `port`.
    pub fn binary_env(&self, port: u16) -> Vec<(String, String)> {
        let settings = &self.tasks_settings;
        let secret = |setting: &Option<secrecy::SecretString>| {
            secrecy::ExposeSecret::expose_secret(setting.as_ref().unwrap()).to_owned()
        };
        [
            ("TASKS__DATABASE__URL", secret(&settings.database.url)),
            ("TASKS__DATA_DIR", settings.data_dir.display().to_string()),
            ("TASKS__AUTH__ISSUER_URL", self.issuer.clone()),
            (
                "TASKS__AUTH__FEED_CLIENT_ID",
                settings.auth.feed_client_id.clone().unwrap(),
            ),
            (
                "TASKS__AUTH__FEED_CLIENT_SECRET",
                secret(&settings.auth.feed_client_secret),
            ),
            ("TASKS__HTTP__PORT", port.to_string()),
        ]
        .map(|(name, value)| (name.to_owned(), value))
        .to_vec()
    }

    pub async fn sign_up(&self, email: &str) -> TestUser {
        let response = self
            .client
            .post(format!("{}/api/auth/sign-up", self.auth_address))
            .json(&json!({ "email": email, "password": "correct horse battery staple" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 201);
        let body: Value = response.json().await.unwrap();
        // Sign in too, as a user would on their next visit: both paths yield usable tokens.
        let response = self
            .client
            .post(format!("{}/api/auth/sign-in", self.auth_address))
            .json(&json!({ "email": email, "password": "correct horse battery staple" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let signed_in: Value = response.json().await.unwrap();
        assert_eq!(signed_in["user"]["id"], body["user"]["id"]);
        TestUser {
            id: body["user"]["id"].as_str().unwrap().to_owned(),
            access_token: signed_in["access_token"].as_str().unwrap().to_owned(),
        }
    }

    /// Signs up and returns the whole token response.
    pub async fn sign_up_tokens(&self, email: &str) -> Value {
        let response = self
            .client
            .post(format!("{}/api/auth/sign-up", self.auth_address))
            .json(&json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 201);
        response.json().await.unwrap()
    }

    /// Signs in (a new session) and returns the whole token response.
    pub async fn sign_in_tokens(&self, email: &str) -> Value {
        let response = self
            .client
            .post(format!("{}/api/auth/sign-in", self.auth_address))
            .json(&json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        response.json().await.unwrap()
    }

    pub async fn auth_post(&self, token: &str, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.auth_address))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Waits (bounded) until the tasks-service follows the revocation feed.
    pub async fn wait_for_revocation_feed(&self) {
        eventually(
            Duration::from_secs(10),
            "the tasks-service following the revocation feed",
            async || self.readiness().await["checks"]["revocation_feed"] == "ok",
        )
        .await;
    }

    /// The tasks-service's `/readyz` body.
    pub async fn readiness(&self) -> Value {
        self.client
            .get(format!("{}/readyz", self.tasks_address))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Takes the auth-service offline (the tasks-service keeps running).
    pub async fn stop_auth_service(&self) {
        self.auth_server.stop(false).await;
    }

    /// `auth-service keys rotate`, as the CLI does it; the new current `kid`.
    pub async fn rotate_keys(&self) -> String {
        let db = auth_service::database::open(&self.auth_settings)
            .await
            .unwrap();
        let master =
            auth_service::tokens::master_key::MasterKey::from_settings(&self.auth_settings)
                .unwrap();
        let outcome = rotation::rotate(&db, &master, RotateWhen::Forced)
            .await
            .unwrap();
        let _ = db.close().await;
        match outcome {
            RotationOutcome::Rotated { current, .. } => current,
            other => panic!("expected a rotation, got {other:?}"),
        }
    }

    /// A client_credentials access token for a new service client allowed `scopes`, obtained
    /// the way a service gets one: the client is registered as `auth-service clients create`
    /// does, then `POST /oauth/token` with HTTP Basic client authentication.
    /// `audience`: the client's token audience (default: the tasks-service's).
    pub async fn service_token(&self, scopes: &str, audience: Option<&str>) -> String {
        let db = auth_service::database::open(&self.auth_settings)
            .await
            .unwrap();
        let scope_set = auth_service::domain::ScopeSet::parse(scopes).unwrap();
        let client = auth_service::oauth::clients::create(&db, "tasks tests", scope_set, audience)
            .await
            .unwrap();
        let _ = db.close().await;
        use secrecy::ExposeSecret;
        let response = self
            .client
            .post(format!("{}/oauth/token", self.auth_address))
            .basic_auth(&client.client_id, Some(client.secret.expose_secret()))
            .form(&[("grant_type", "client_credentials"), ("scope", scopes)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// A connection to the auth-service's database, as its CLI opens it.
    pub async fn auth_db(&self) -> sea_orm::DatabaseConnection {
        auth_service::database::open(&self.auth_settings)
            .await
            .unwrap()
    }

    /// A connection to the tasks-service's own database, as the service opens it.
    pub async fn tasks_db(&self) -> sea_orm::DatabaseConnection {
        tasks_service::database::open(&self.tasks_settings)
            .await
            .unwrap()
    }

    /// A request to the task API with `token`, for headers the typed helpers do not set.
    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.tasks_url(path))
            .bearer_auth(token)
    }

    pub fn tasks_url(&self, path: &str) -> String {
        format!("{}/api/tasks{path}", self.tasks_address)
    }

    pub async fn create_task(&self, token: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.tasks_url(""))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.tasks_url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch(&self, token: &str, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .patch(self.tasks_url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .delete(self.tasks_url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Signs `claims` with the auth-service's real current key, read from its database the
    /// way the service reads it: for tokens the API would never issue (e.g. already expired).
    pub async fn mint(&self, claims: &AccessClaims) -> String {
        let db = auth_service::database::open(&self.auth_settings)
            .await
            .unwrap();
        let master =
            auth_service::tokens::master_key::MasterKey::from_settings(&self.auth_settings)
                .unwrap();
        let ring = auth_service::tokens::signing_keys::load(&db, &master)
            .await
            .unwrap();
        let _ = db.close().await;
        let mut header = jsonwebtoken::Header::new(ring.signer.algorithm);
        header.typ = Some("at+jwt".into());
        header.kid = Some(ring.signer.kid.clone());
        jsonwebtoken::encode(&header, claims, &ring.signer.encoding_key).unwrap()
    }

    /// Claims as the auth-service would issue them for `user`, valid now.
    pub fn claims_for(&self, user: &TestUser) -> AccessClaims {
        let now = chrono::Utc::now().timestamp();
        AccessClaims {
            iss: self.issuer.clone(),
            sub: user.id.clone(),
            aud: "tasks-api".into(),
            exp: now + 600,
            iat: now,
            nbf: now,
            jti: Uuid::now_v7().to_string(),
            sid: Some(Uuid::now_v7().to_string()),
            scope: "tasks:read tasks:write".into(),
            client_id: Some("taskgate".into()),
        }
    }
}

/// A claim of a token, read without verification (tests only).
pub fn claim(token: &str, name: &str) -> String {
    unverified::claims(token)[name].as_str().unwrap().to_owned()
}

pub fn header_kid(token: &str) -> String {
    unverified::header(token)["kid"]
        .as_str()
        .unwrap()
        .to_owned()
}
