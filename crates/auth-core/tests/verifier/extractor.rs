//! The actix-web extractors, through `actix_web::test`.

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use actix_web::{App, HttpResponse, test, web};
use auth_core::{AuthUser, MaybeAuthUser, TokenError, Verifier};
use http_problem::Problem;
use serde_json::{Value, json};

use crate::support::*;

async fn me(user: AuthUser) -> HttpResponse {
    HttpResponse::Ok().body(user.user_id.to_string())
}

async fn maybe(user: MaybeAuthUser) -> HttpResponse {
    match user.0 {
        Some(user) => HttpResponse::Ok().body(user.user_id.to_string()),
        None => HttpResponse::Ok().body("anonymous"),
    }
}

async fn admin(user: AuthUser) -> Result<HttpResponse, Problem> {
    user.require_scope("admin")?;
    Ok(HttpResponse::Ok().finish())
}

fn app(
    verifier: Option<Verifier>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let app = App::new()
        .route("/me", web::get().to(me))
        .route("/maybe", web::get().to(maybe))
        .route("/admin", web::get().to(admin));
    match verifier {
        Some(verifier) => app.app_data(web::Data::new(verifier)),
        None => app,
    }
}

/// Sends GET `path` with an optional Authorization header; returns status, the
/// WWW-Authenticate and Content-Type headers, and the body.
async fn get(
    verifier: Option<Verifier>,
    path: &str,
    authorization: Option<&str>,
) -> (StatusCode, Option<String>, Option<String>, String) {
    let service = test::init_service(app(verifier)).await;
    let mut request = test::TestRequest::get().uri(path);
    if let Some(value) = authorization {
        request = request.insert_header(("Authorization", value));
    }
    let response = test::call_service(&service, request.to_request()).await;
    let header = |name| {
        response
            .headers()
            .get(name)
            .map(|v: &actix_web::http::header::HeaderValue| v.to_str().unwrap().to_owned())
    };
    let (status, www, content_type) = (
        response.status(),
        header(WWW_AUTHENTICATE),
        header(CONTENT_TYPE),
    );
    let body = test::read_body(response).await;
    (
        status,
        www,
        content_type,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

fn problem(body: &str) -> Value {
    serde_json::from_str(body).unwrap()
}

#[actix_web::test]
async fn a_missing_header_is_401_with_a_bare_bearer_challenge() {
    let key = TestKey::generate("k1");
    let (status, www, content_type, body) = get(Some(fixed_verifier(&[&key])), "/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(www.as_deref(), Some(r#"Bearer realm="taskgate""#));
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
    assert_eq!(problem(&body)["status"], json!(401));
}

#[actix_web::test]
async fn a_bad_token_is_401_invalid_token() {
    let key = TestKey::generate("k1");
    let other = TestKey::generate("k2");
    // Each refused for its own reason, named in the problem's `detail`.
    let bad_tokens = [
        ("Bearer not.a.jwt".to_owned(), TokenError::Malformed),
        (
            format!("Bearer {}", other.sign(&claims())),
            TokenError::UnknownKey,
        ),
        (
            format!("Basic {}", key.sign(&claims())),
            TokenError::NotBearer,
        ),
        ("Bearer".to_owned(), TokenError::Malformed),
        // Tokens without a sid and non-UUID subjects are not users.
        (
            format!("Bearer {}", key.sign(&with(claims(), "sid", Value::Null))),
            TokenError::MissingClaim("sid"),
        ),
        (
            format!(
                "Bearer {}",
                key.sign(&with(claims(), "sub", json!("svc-client")))
            ),
            TokenError::InvalidClaim("sub"),
        ),
    ];
    for (authorization, reason) in bad_tokens {
        let (status, www, content_type, body) =
            get(Some(fixed_verifier(&[&key])), "/me", Some(&authorization)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{authorization}");
        let www = www.unwrap();
        assert!(
            www.starts_with(
                r#"Bearer realm="taskgate", error="invalid_token", error_description=""#
            ),
            "{www}"
        );
        assert_eq!(content_type.as_deref(), Some("application/problem+json"));
        let problem = problem(&body);
        assert_eq!(problem["type"], json!("urn:taskgate:problem:invalid-token"));
        assert_eq!(
            problem["detail"],
            json!(reason.to_string()),
            "{authorization}"
        );
    }
}

#[actix_web::test]
async fn the_challenge_describes_the_failure() {
    let key = TestKey::generate("k1");
    let token = key.sign(&with(claims(), "sid", Value::Null));
    let (_, www, _, body) = get(
        Some(fixed_verifier(&[&key])),
        "/me",
        Some(&format!("Bearer {token}")),
    )
    .await;
    assert_eq!(
        www.as_deref(),
        Some(
            r#"Bearer realm="taskgate", error="invalid_token", error_description="the token is missing the `sid` claim""#
        )
    );
    assert_eq!(
        problem(&body)["detail"],
        json!("the token is missing the `sid` claim")
    );
}

#[actix_web::test]
async fn a_good_token_reaches_the_handler() {
    let key = TestKey::generate("k1");
    let claims = claims();
    let token = key.sign(&claims);
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let (status, _, _, body) = get(
            Some(fixed_verifier(&[&key])),
            "/me",
            Some(&format!("{scheme} {token}")),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, claims["sub"].as_str().unwrap());
    }
}

#[actix_web::test]
async fn maybe_auth_user_tells_missing_from_invalid() {
    let key = TestKey::generate("k1");
    let claims = claims();
    let (status, _, _, body) = get(Some(fixed_verifier(&[&key])), "/maybe", None).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "anonymous"));

    let (status, www, _, _) = get(
        Some(fixed_verifier(&[&key])),
        "/maybe",
        Some("Bearer garbage"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let www = www.unwrap();
    assert!(www.contains(r#"error="invalid_token""#), "{www}");
    let malformed = format!(r#"error_description="{}""#, TokenError::Malformed);
    assert!(www.contains(&malformed), "{www}");

    let authorization = format!("Bearer {}", key.sign(&claims));
    let (status, _, _, body) = get(
        Some(fixed_verifier(&[&key])),
        "/maybe",
        Some(&authorization),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, claims["sub"].as_str().unwrap());
}

#[actix_web::test]
async fn a_missing_scope_is_403_insufficient_scope() {
    let key = TestKey::generate("k1");
    let authorization = format!("Bearer {}", key.sign(&claims()));
    let (status, www, _, body) = get(
        Some(fixed_verifier(&[&key])),
        "/admin",
        Some(&authorization),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        www.as_deref(),
        Some(r#"Bearer realm="taskgate", error="insufficient_scope", scope="admin""#)
    );
    assert_eq!(
        problem(&body)["type"],
        json!("urn:taskgate:problem:insufficient-scope")
    );
}

#[actix_web::test]
async fn no_keys_yet_is_503_not_401() {
    let key = TestKey::generate("k1");
    let authorization = format!("Bearer {}", key.sign(&claims()));
    let (status, www, content_type, _) =
        get(Some(fixed_verifier(&[])), "/me", Some(&authorization)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(www, None);
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
}

#[actix_web::test]
async fn a_missing_verifier_is_a_generic_500() {
    let key = TestKey::generate("k1");
    let authorization = format!("Bearer {}", key.sign(&claims()));
    let (status, _, content_type, body) = get(None, "/me", Some(&authorization)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
    assert_eq!(
        problem(&body)["type"],
        json!("urn:taskgate:problem:internal-error")
    );
}
