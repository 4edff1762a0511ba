//! Confidential OAuth clients: the client_credentials grant, RFC 7009 revocation, RFC 7662
//! introspection and the discovery document that lists them.

use auth_core::unverified::claims;
use base64::Engine;
use serde_json::{Value, json};
use service_database::on_both_backends;
use service_database::testing::Backend;

use crate::helpers::TestApp;

on_both_backends!(
    client_credentials_issues_service_tokens,
    bad_client_authentication_is_invalid_client,
    revoking_a_refresh_token_ends_its_session,
    revoking_an_access_token_ends_its_session,
    revocation_answers_200_for_tokens_it_does_not_know,
    introspection_reports_only_live_tokens,
    introspection_knows_every_clients_audience,
    an_access_token_is_inactive_from_its_exp,
    discovery_lists_endpoints_that_exist,
);

/// How a request authenticates its client.
#[derive(Clone, Copy)]
enum Auth<'a> {
    Basic(&'a str, &'a str),
    Post(&'a str, &'a str),
    None,
}

async fn post_form(
    app: &TestApp,
    path: &str,
    auth: Auth<'_>,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let mut fields: Vec<(&str, &str)> = form.to_vec();
    let mut request = app.client.post(app.url(path));
    match auth {
        Auth::Basic(id, secret) => {
            // RFC 6749 §2.3.1; our ids and secrets need no form-urlencoding.
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
            request = request.header("authorization", format!("Basic {encoded}"));
        }
        Auth::Post(id, secret) => {
            fields.push(("client_id", id));
            fields.push(("client_secret", secret));
        }
        Auth::None => {}
    }
    request.form(&fields).send().await.unwrap()
}

/// Status and JSON body of an OAuth answer, which no cache may keep.
async fn oauth_json(
    app: &TestApp,
    path: &str,
    auth: Auth<'_>,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let response = post_form(app, path, auth, form).await;
    assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn assert_invalid_client(response: reqwest::Response) {
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Basic realm="taskgate""#
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
}

async fn service_token(app: &TestApp, auth: Auth<'_>, scope: Option<&str>) -> (u16, Value) {
    let mut form = vec![("grant_type", "client_credentials")];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    oauth_json(app, "/oauth/token", auth, &form).await
}

/// A user's token response (access and refresh token) from signing up.
async fn user_tokens(app: &TestApp, email: &str) -> Value {
    let response = app.sign_up(email).await;
    assert_eq!(response.status().as_u16(), 201);
    response.json().await.unwrap()
}

async fn client_credentials_issues_service_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = app.create_client("purger", "tasks:purge tasks:read").await;
    assert!(id.starts_with("svc-"));
    let jwks: auth_core::JwkSet = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let verifier = auth_core::Verifier::from_jwks(
        auth_core::VerifierConfig::new(app.issuer.clone(), "tasks-api"),
        jwks,
    );

    for auth in [Auth::Basic(&id, &secret), Auth::Post(&id, &secret)] {
        let (status, body) = service_token(&app, auth, None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["token_type"], "Bearer");
        // Service tokens live 5 minutes (user tokens 15).
        assert_eq!(body["expires_in"], 300);
        // The default: everything the client is allowed, in canonical order.
        assert_eq!(body["scope"], "tasks:read tasks:purge");
        assert!(
            body.get("refresh_token").is_none(),
            "no refresh token: {body}"
        );
        let token = body["access_token"].as_str().unwrap();
        let claims = claims(token);
        assert_eq!(claims["sub"], id.as_str());
        assert_eq!(claims["client_id"], id.as_str());
        assert_eq!(claims["scope"], "tasks:read tasks:purge");
        assert_eq!(claims["aud"], "tasks-api");
        assert_eq!(claims["iss"], app.issuer.as_str());
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            300
        );
        assert!(
            claims.get("sid").is_none(),
            "a service token has no session"
        );
        let verified = verifier
            .verify(token)
            .await
            .expect("verifies against the JWKS");
        assert_eq!(verified.sub, id);
        // A service token is never taken for a user: its `sub` is no user id.
        assert_eq!(
            auth_core::AuthUser::from_claims(verified).unwrap_err(),
            auth_core::TokenError::InvalidClaim("sub")
        );
    }

    let (status, body) = service_token(&app, Auth::Basic(&id, &secret), Some("tasks:purge")).await;
    assert_eq!((status, body["scope"].as_str()), (200, Some("tasks:purge")));
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["scope"],
        "tasks:purge"
    );

    for scope in ["tasks:write", "tasks:purge tasks:write", "admin"] {
        let (status, body) = service_token(&app, Auth::Post(&id, &secret), Some(scope)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_scope")),
            "{scope}"
        );
    }
}

async fn bad_client_authentication_is_invalid_client(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = app.create_client("reader", "tasks:read").await;
    let (other, other_secret) = app.create_client("to be revoked", "tasks:read").await;
    let grant = [("grant_type", "client_credentials")];

    let wrong = format!("{secret}x");
    for auth in [
        Auth::Basic(&id, &wrong),
        Auth::Post(&id, &wrong),
        Auth::Basic("svc-unknown", &secret),
        Auth::Post("svc-unknown", &secret),
        Auth::Basic(&id, &other_secret),
        Auth::None,
    ] {
        assert_invalid_client(post_form(&app, "/oauth/token", auth, &grant).await).await;
    }
    for header in [
        "Basic",
        "Basic !!!",
        "Basic bm9jb2xvbg==",
        "Bearer abc",
        "Basic /w==",
        "Basic /zp4",
    ] {
        let response = app
            .client
            .post(app.url("/oauth/token"))
            .header("authorization", header)
            .form(&grant)
            .send()
            .await
            .unwrap();
        assert_invalid_client(response).await;
    }
    // client_id alone is how a public client names itself; this one is confidential.
    let public = post_form(
        &app,
        "/oauth/token",
        Auth::None,
        &[("grant_type", "client_credentials"), ("client_id", &id)],
    )
    .await;
    assert_invalid_client(public).await;

    // Revoked: the right secret no longer works.
    let (status, _) = service_token(&app, Auth::Basic(&other, &other_secret), None).await;
    assert_eq!(status, 200);
    let (db, _) = app.key_admin().await;
    assert!(
        auth_service::oauth::clients::revoke(&db, &other)
            .await
            .unwrap()
    );
    assert!(
        !auth_service::oauth::clients::revoke(&db, &other)
            .await
            .unwrap()
    );
    assert_invalid_client(
        post_form(
            &app,
            "/oauth/token",
            Auth::Basic(&other, &other_secret),
            &grant,
        )
        .await,
    )
    .await;
    let listed = auth_service::oauth::clients::list(&db).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .any(|c| c.client_id == other && c.revoked_at.is_some())
    );
    assert!(
        listed
            .iter()
            .all(|c| c.secret_hash != secret && c.secret_hash != other_secret)
    );

    // Two methods at once is a malformed request (RFC 6749 §2.3).
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    let both = app
        .client
        .post(app.url("/oauth/token"))
        .header("authorization", format!("Basic {encoded}"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(both.status().as_u16(), 400);
    assert_eq!(
        both.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );

    // A confidential client cannot use a user's refresh token, and does not use it up.
    let user = user_tokens(&app, "refresh-owner@example.org").await;
    let refresh = user["refresh_token"].as_str().unwrap();
    let refresh_form = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    let (status, body) = oauth_json(
        &app,
        "/oauth/token",
        Auth::Basic(&id, &secret),
        &refresh_form,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) = oauth_json(&app, "/oauth/token", Auth::None, &refresh_form).await;
    assert_eq!(status, 200, "the public refresh grant still works");

    // The library refuses what the CLI would.
    let scopes = auth_service::domain::ScopeSet::parse("tasks:read").unwrap();
    assert!(matches!(
        auth_service::oauth::clients::create(&db, "  ", scopes, None).await,
        Err(auth_service::oauth::clients::ClientError::InvalidName)
    ));
    assert_eq!(
        auth_service::domain::ScopeSet::parse("tasks:admin"),
        Err(auth_service::domain::ScopeError::Unknown(
            "tasks:admin".into()
        ))
    );
}

/// The session ids in a full snapshot of the revocation feed.
async fn revoked_sessions(app: &TestApp) -> Vec<String> {
    let feed: Value = app.get_feed("").await.json().await.unwrap();
    feed["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["sid"].as_str().unwrap().to_owned())
        .collect()
}

/// Revokes `token` with a client of its own, expecting the empty 200.
async fn revoke(app: &TestApp, auth: Auth<'_>, form: &[(&str, &str)]) {
    let response = post_form(app, "/oauth/revoke", auth, form).await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.bytes().await.unwrap().is_empty());
}

/// After a revocation: the refresh token is refused, the access token no longer works here,
/// and the session is in the feed.
async fn assert_session_ended(app: &TestApp, user: &Value) {
    let sid = claims(user["access_token"].as_str().unwrap())["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let refresh = user["refresh_token"].as_str().unwrap();
    let (status, body) = oauth_json(
        app,
        "/oauth/token",
        Auth::None,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let me = app
        .get_authed("/api/auth/me", user["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me.status().as_u16(), 401);
    assert!(
        revoked_sessions(app).await.contains(&sid),
        "{sid} in the feed"
    );
}

async fn revoking_a_refresh_token_ends_its_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = app.create_client("admin", "tasks:read tokens:revoke").await;
    let user = user_tokens(&app, "revoke-refresh@example.org").await;
    let bystander = user_tokens(&app, "bystander@example.org").await;
    let refresh = user["refresh_token"].as_str().unwrap();
    revoke(
        &app,
        Auth::Basic(&id, &secret),
        &[("token", refresh), ("token_type_hint", "refresh_token")],
    )
    .await;
    assert_session_ended(&app, &user).await;
    // Revoking again changes nothing and still answers 200.
    revoke(&app, Auth::Post(&id, &secret), &[("token", refresh)]).await;
    let me = app
        .get_authed("/api/auth/me", bystander["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me.status().as_u16(), 200, "other sessions are untouched");
}

async fn revoking_an_access_token_ends_its_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = app.create_client("admin", "tasks:read tokens:revoke").await;
    // With the hint, and with a wrong hint (the server looks further, RFC 7009 §2.1).
    for (email, hint) in [
        ("revoke-access@example.org", "access_token"),
        ("revoke-misleading@example.org", "refresh_token"),
    ] {
        let user = user_tokens(&app, email).await;
        let access = user["access_token"].as_str().unwrap();
        revoke(
            &app,
            Auth::Post(&id, &secret),
            &[("token", access), ("token_type_hint", hint)],
        )
        .await;
        assert_session_ended(&app, &user).await;
    }
}

async fn revocation_answers_200_for_tokens_it_does_not_know(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = app.create_client("admin", "tasks:read tokens:revoke").await;
    let (_, service) = service_token(&app, Auth::Basic(&id, &secret), None).await;
    let service = service["access_token"].as_str().unwrap();
    let long = "x".repeat(10_000);
    for token in ["garbage", "a.b.c", "", service, &long] {
        for hint in ["access_token", "refresh_token", "something_else"] {
            revoke(
                &app,
                Auth::Basic(&id, &secret),
                &[("token", token), ("token_type_hint", hint)],
            )
            .await;
        }
    }
    let (status, body) = oauth_json(&app, "/oauth/revoke", Auth::Basic(&id, &secret), &[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    assert_invalid_client(post_form(&app, "/oauth/revoke", Auth::None, &[("token", "x")]).await)
        .await;
    assert_invalid_client(
        post_form(
            &app,
            "/oauth/revoke",
            Auth::Post(&id, "wrong"),
            &[("token", "x")],
        )
        .await,
    )
    .await;
    // Not a form: RFC 6749 JSON, not problem+json.
    let json_body = app
        .client
        .post(app.url("/oauth/revoke"))
        .json(&json!({ "token": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(json_body.status().as_u16(), 400);
    assert_eq!(json_body.headers()["content-type"], "application/json");
    assert_eq!(
        json_body.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );
}

async fn introspect(app: &TestApp, auth: Auth<'_>, token: &str) -> Value {
    let (status, body) = oauth_json(app, "/oauth/introspect", auth, &[("token", token)]).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn introspection_reports_only_live_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = app
        .create_client(
            "gateway",
            "tasks:read tasks:purge tokens:revoke tokens:introspect",
        )
        .await;
    let auth = Auth::Basic(&id, &secret);
    let inactive = json!({ "active": false });
    let user = user_tokens(&app, "introspected@example.org").await;
    let access = user["access_token"].as_str().unwrap();
    let refresh = user["refresh_token"].as_str().unwrap();
    let claims = claims(access);

    let answer = introspect(&app, auth, access).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["token_type"], "Bearer");
    for field in [
        "scope",
        "client_id",
        "sub",
        "exp",
        "iat",
        "nbf",
        "iss",
        "aud",
        "jti",
        "sid",
    ] {
        assert_eq!(answer[field], claims[field], "{field}");
    }

    let answer = introspect(&app, Auth::Post(&id, &secret), refresh).await;
    assert_eq!(
        answer,
        json!({
            "active": true,
            "client_id": "taskgate",
            "sub": user["user"]["id"],
            "exp": answer["exp"],
            "sid": claims["sid"],
            "token_type": "refresh_token",
        })
    );
    assert!(answer["exp"].as_i64().unwrap() > claims["exp"].as_i64().unwrap());

    let (_, service) = service_token(&app, auth, Some("tasks:purge")).await;
    let service = service["access_token"].as_str().unwrap();
    let answer = introspect(&app, auth, service).await;
    assert_eq!(
        (answer["active"].as_bool(), answer["sub"].as_str()),
        (Some(true), Some(id.as_str()))
    );
    assert_eq!(answer["scope"], "tasks:purge");
    assert!(answer.get("sid").is_none());

    for garbage in ["garbage", "a.b.c", ""] {
        assert_eq!(introspect(&app, auth, garbage).await, inactive);
    }

    // A used refresh token is inactive; its successor is active.
    let (_, rotated) = oauth_json(
        &app,
        "/oauth/token",
        Auth::None,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(introspect(&app, auth, refresh).await, inactive);
    let successor = rotated["refresh_token"].as_str().unwrap();
    assert_eq!(introspect(&app, auth, successor).await["active"], true);

    // Revoked: every token of the session is inactive at once.
    revoke(&app, auth, &[("token", access)]).await;
    for token in [access, successor, rotated["access_token"].as_str().unwrap()] {
        assert_eq!(introspect(&app, auth, token).await, inactive);
    }

    // A revoked client's tokens are inactive too (validators see them expire).
    let (db, _) = app.key_admin().await;
    let (other, other_secret) = app.create_client("short-lived", "tasks:read").await;
    let (_, other_token) = service_token(&app, Auth::Post(&other, &other_secret), None).await;
    let other_token = other_token["access_token"].as_str().unwrap();
    assert_eq!(introspect(&app, auth, other_token).await["active"], true);
    auth_service::oauth::clients::revoke(&db, &other)
        .await
        .unwrap();
    assert_eq!(introspect(&app, auth, other_token).await, inactive);
    assert_invalid_client(
        post_form(
            &app,
            "/oauth/introspect",
            Auth::Post(&other, &other_secret),
            &[("token", access)],
        )
        .await,
    )
    .await;

    let (status, body) = oauth_json(
        &app,
        "/oauth/introspect",
        auth,
        &[("token_type_hint", "access_token")],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
}

/// A client with an audience of its own gets tokens naming it; introspection reports them as
/// ours (active, with that `aud`), not as unknown tokens.
async fn introspection_knows_every_clients_audience(backend: Backend) {
    use secrecy::ExposeSecret;
    let app = TestApp::spawn(backend).await;
    let (id, secret) = app.create_client("gateway", "tokens:introspect").await;
    let auth = Auth::Basic(&id, &secret);
    let (db, _) = app.key_admin().await;
    let scopes = auth_service::domain::ScopeSet::parse("tasks:read").unwrap();
    let biller = auth_service::oauth::clients::create(&db, "biller", scopes, Some("billing-api"))
        .await
        .unwrap();
    let (status, body) = service_token(
        &app,
        Auth::Basic(&biller.client_id, biller.secret.expose_secret()),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();

    let answer = introspect(&app, auth, token).await;
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["aud"], "billing-api");
    assert_eq!(answer["sub"], biller.client_id.as_str());
    // And it is that client's liveness that counts.
    auth_service::oauth::clients::revoke(&db, &biller.client_id)
        .await
        .unwrap();
    assert_eq!(
        introspect(&app, auth, token).await,
        json!({ "active": false })
    );
}

/// `active` is false from `exp` on: no clock-skew leeway when the issuer reports on its own
/// token (the service's verifier allows 60 s for validators).
async fn an_access_token_is_inactive_from_its_exp(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = app.create_client("gateway", "tokens:introspect").await;
    let auth = Auth::Basic(&id, &secret);
    let user = user_tokens(&app, "expiring@example.org").await;
    let access = user["access_token"].as_str().unwrap();
    assert_eq!(introspect(&app, auth, access).await["active"], true);

    // The app's clock moved to the token's `exp` (the system clock, which the verifier and
    // its leeway go by, stays where it is).
    let exp = claims(access)["exp"].as_i64().unwrap();
    let until_exp = exp - chrono::Utc::now().timestamp();
    app.clock.advance(chrono::Duration::seconds(until_exp));
    assert_eq!(
        introspect(&app, auth, access).await,
        json!({ "active": false })
    );
    // The session itself lives on: its refresh token is still active.
    let refresh = user["refresh_token"].as_str().unwrap();
    assert_eq!(introspect(&app, auth, refresh).await["active"], true);
}

async fn discovery_lists_endpoints_that_exist(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let secret_methods = json!(["client_secret_basic", "client_secret_post"]);
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let discovery: Value = app
            .client
            .get(app.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            discovery["grant_types_supported"],
            json!(["refresh_token", "client_credentials"])
        );
        assert_eq!(
            discovery["token_endpoint_auth_methods_supported"],
            json!(["client_secret_basic", "client_secret_post", "none"])
        );
        assert_eq!(
            discovery["revocation_endpoint_auth_methods_supported"],
            secret_methods
        );
        assert_eq!(
            discovery["introspection_endpoint_auth_methods_supported"],
            secret_methods
        );
        assert_eq!(
            discovery["scopes_supported"],
            json!([
                "tasks:read",
                "tasks:write",
                "tasks:purge",
                "tokens:revoke",
                "tokens:introspect",
                "revocations:read"
            ])
        );
        assert_eq!(
            discovery["access_token_signing_alg_values_supported"],
            json!(["EdDSA"])
        );
        let jwks = app
            .client
            .get(discovery["jwks_uri"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(jwks.status().as_u16(), 200);
        for (endpoint, expected) in [
            ("token_endpoint", "/oauth/token"),
            ("revocation_endpoint", "/oauth/revoke"),
            ("introspection_endpoint", "/oauth/introspect"),
        ] {
            let url = discovery[endpoint].as_str().unwrap();
            assert_eq!(url, app.url(expected));
            // Each answers: without client authentication, 401 invalid_client.
            let response = app
                .client
                .post(url)
                .form(&[("grant_type", "client_credentials"), ("token", "x")])
                .send()
                .await
                .unwrap();
            assert_invalid_client(response).await;
        }
    }
}

on_both_backends!(revoke_and_introspect_need_their_own_scopes);

/// A client that may only read tasks cannot sign users out or read their tokens' claims.
async fn revoke_and_introspect_need_their_own_scopes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = app.create_client("reader", "tasks:read tasks:purge").await;
    let user = user_tokens(&app, "guarded@example.org").await;
    let refresh = user["refresh_token"].as_str().unwrap();
    for path in ["/oauth/revoke", "/oauth/introspect"] {
        let response = app
            .client
            .post(app.url(path))
            .basic_auth(&id, Some(&secret))
            .form(&[("token", refresh)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 403, "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"], "unauthorized_client", "{path}");
    }
    // Nothing happened to the user's session.
    let refreshed = app
        .post_json("/api/auth/refresh", &json!({ "refresh_token": refresh }))
        .await;
    assert_eq!(refreshed.status().as_u16(), 200);
}

on_both_backends!(rotating_a_secret_and_deleting_a_client);

/// `clients rotate-secret`: the new secret works and the old one is `invalid_client` at once.
/// `clients delete`: the client is gone from the list and cannot authenticate.
async fn rotating_a_secret_and_deleting_a_client(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, old_secret) = app.create_client("rotating", "tasks:purge").await;
    let (db, _) = app.key_admin().await;
    let new_secret = auth_service::oauth::clients::rotate_secret(&db, &id)
        .await
        .unwrap()
        .expect("an active client gets a new secret");
    use secrecy::ExposeSecret;
    let new_secret = new_secret.expose_secret().to_owned();
    assert_ne!(new_secret, old_secret);
    let (status, body) = service_token(&app, Auth::Basic(&id, &new_secret), None).await;
    assert_eq!(status, 200, "{body}");
    let grant = [("grant_type", "client_credentials")];
    assert_invalid_client(
        post_form(&app, "/oauth/token", Auth::Basic(&id, &old_secret), &grant).await,
    )
    .await;
    assert!(
        auth_service::oauth::clients::rotate_secret(
            &db,
            "svc-00000000-0000-7000-8000-000000000000"
        )
        .await
        .unwrap()
        .is_none()
    );

    // A client's tokens name its audience, the service it calls; a bad audience is refused.
    let scopes = auth_service::domain::ScopeSet::parse("tasks:read").unwrap();
    let billing = auth_service::oauth::clients::create(&db, "biller", scopes, Some("billing-api"))
        .await
        .unwrap();
    let (status, body) = service_token(
        &app,
        Auth::Basic(&billing.client_id, billing.secret.expose_secret()),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["aud"],
        "billing-api"
    );
    for bad in ["", "two words", "tab\there"] {
        assert!(matches!(
            auth_service::oauth::clients::create(&db, "bad", scopes, Some(bad)).await,
            Err(auth_service::oauth::clients::ClientError::InvalidAudience)
        ));
    }
    assert!(
        auth_service::oauth::clients::delete(&db, &billing.client_id)
            .await
            .unwrap()
    );

    assert!(
        auth_service::oauth::clients::delete(&db, &id)
            .await
            .unwrap()
    );
    assert!(
        !auth_service::oauth::clients::delete(&db, &id)
            .await
            .unwrap()
    );
    assert!(
        auth_service::oauth::clients::list(&db)
            .await
            .unwrap()
            .is_empty()
    );
    assert_invalid_client(
        post_form(&app, "/oauth/token", Auth::Basic(&id, &new_secret), &grant).await,
    )
    .await;
}

on_both_backends!(clients_declared_in_config_are_brought_up_to_date);

/// `[[clients]]` in config: created at start-up with the declared id, scopes and secret; a
/// restart with a new secret makes the database say what the deployment says again, except
/// for a revocation, which only `clients enable` lifts (cli.rs).
async fn clients_declared_in_config_are_brought_up_to_date(backend: Backend) {
    const ID: &str = "svc-01935c2e-0000-7000-8000-00000000c0de";
    let declared = |secret: &str| auth_service::config::DeclaredClient {
        client_id: ID.to_owned(),
        name: "account purger (compose)".to_owned(),
        scopes: "tasks:purge".to_owned(),
        audience: None,
        secret_env: "PURGER_SECRET".to_owned(),
        secret: Some(secrecy::SecretString::from(secret.to_owned())),
    };
    let first = "a-secret-of-at-least-thirty-two-characters";
    let app =
        TestApp::spawn_with(backend, |settings| settings.clients = vec![declared(first)]).await;
    let (status, body) = service_token(&app, Auth::Basic(ID, first), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "tasks:purge");

    // Revoked by hand, then "restarted" with a rotated secret: still revoked, and once
    // enabled, the new secret only.
    let (db, _) = app.key_admin().await;
    assert!(auth_service::oauth::clients::revoke(&db, ID).await.unwrap());
    let second = "another-secret-of-at-least-thirty-two-chars";
    auth_service::oauth::clients::upsert_declared(&db, &declared(second))
        .await
        .unwrap();
    assert_invalid_client(
        post_form(
            &app,
            "/oauth/token",
            Auth::Basic(ID, second),
            &[("grant_type", "client_credentials")],
        )
        .await,
    )
    .await;
    assert!(auth_service::oauth::clients::enable(&db, ID).await.unwrap());
    let (status, _) = service_token(&app, Auth::Basic(ID, second), None).await;
    assert_eq!(status, 200);
    let grant = [("grant_type", "client_credentials")];
    assert_invalid_client(post_form(&app, "/oauth/token", Auth::Basic(ID, first), &grant).await)
        .await;
    assert_eq!(
        auth_service::oauth::clients::list(&db).await.unwrap().len(),
        1
    );

    // A declared client without its secret, or with a malformed id, stops start-up.
    let mut settings = auth_service::config::Settings::default();
    let mut missing = declared(first);
    missing.secret = None;
    settings.clients = vec![missing];
    assert_eq!(
        settings.validate().unwrap_err().to_string(),
        format!(
            "client {ID}: the environment variable PURGER_SECRET must hold its secret \
             (at least 32 characters)"
        )
    );
    let mut bad_id = declared(first);
    bad_id.client_id = "purger".to_owned();
    assert_eq!(
        auth_service::oauth::clients::upsert_declared(&db, &bad_id)
            .await
            .unwrap_err()
            .to_string(),
        "declared client purger: the id must be svc-<uuid>"
    );
}
