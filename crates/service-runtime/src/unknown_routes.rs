//! The answer to a request no route takes: 405 `method-not-allowed` with `Allow` when the path
//! is a documented one and only the method is wrong (RFC 9110 §15.5.6), else 404 `not-found`.
//!
//! actix-web registers routes per method, so on its own it answers both with its default
//! service. Which methods a path takes is read from the service's own OpenAPI document, which
//! lists every route it serves (`http_server::start` builds it from the same registrations).

use std::sync::{Arc, OnceLock};

use actix_web::http::header::{ALLOW, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use http_problem::Problem;
use utoipa::openapi::OpenApi;

/// One documented path: its segments (`{name}` matches any one segment) and its methods.
struct Route {
    segments: Vec<String>,
    methods: Vec<Method>,
}

/// The documented paths and their methods, learnt once from the finished document.
#[derive(Clone, Default)]
pub struct KnownRoutes(Arc<OnceLock<Vec<Route>>>);

impl KnownRoutes {
    /// Learns the routes of `doc` (the first call wins: every worker builds the same one).
    pub fn learn(&self, doc: &OpenApi) {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| Route {
                segments: segments(path).map(str::to_owned).collect(),
                methods: methods_of(item),
            })
            .collect();
        let _ = self.0.set(routes);
    }

    /// The methods a documented path matching `path` takes; empty if none matches.
    fn methods_for(&self, path: &str) -> Vec<Method> {
        let asked: Vec<&str> = segments(path).collect();
        let mut methods: Vec<Method> = self
            .0
            .get()
            .into_iter()
            .flatten()
            .filter(|route| matches(&route.segments, &asked))
            .flat_map(|route| route.methods.iter().cloned())
            .collect();
        methods.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        methods.dedup();
        methods
    }

    /// 405 with `Allow` for a known path, 404 for any other.
    pub fn answer(&self, req: &HttpRequest) -> HttpResponse {
        let allowed = self.methods_for(req.path());
        if allowed.is_empty() || allowed.contains(req.method()) {
            // No such path, or a path whose route refused the request by another guard.
            return Problem::not_found("no such resource").to_response();
        }
        let allow = allowed
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        let detail = format!("{} is not allowed here; allowed: {allow}", req.method());
        match HeaderValue::from_str(&allow) {
            Ok(value) => Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            )
            .with_detail(detail)
            .with_header(ALLOW, value)
            .to_response(),
            // Method names are tokens, always a valid header value; still never panic.
            Err(_) => Problem::not_found("no such resource").to_response(),
        }
    }
}

/// Every segment, empty ones included: `/api/tasks/` is not `/api/tasks` to the router either.
fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
}

/// Literal segments must be equal; a `{name}` matches any non-empty segment.
fn matches(template: &[String], asked: &[&str]) -> bool {
    template.len() == asked.len()
        && template.iter().zip(asked).all(|(expected, asked)| {
            if expected.starts_with('{') && expected.ends_with('}') {
                !asked.is_empty()
            } else {
                expected == asked
            }
        })
}

fn methods_of(item: &utoipa::openapi::PathItem) -> Vec<Method> {
    [
        (item.get.is_some(), Method::GET),
        (item.put.is_some(), Method::PUT),
        (item.post.is_some(), Method::POST),
        (item.delete.is_some(), Method::DELETE),
        (item.options.is_some(), Method::OPTIONS),
        (item.head.is_some(), Method::HEAD),
        (item.patch.is_some(), Method::PATCH),
        (item.trace.is_some(), Method::TRACE),
    ]
    .into_iter()
    .filter_map(|(present, method)| present.then_some(method))
    .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use actix_web::body::to_bytes;
    use actix_web::test::TestRequest;
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathsBuilder};
    use utoipa::openapi::{OpenApiBuilder, PathItem};

    use super::*;

    fn routes() -> KnownRoutes {
        let item = |methods: Vec<HttpMethod>| {
            PathItem::from_http_methods(methods, OperationBuilder::new())
        };
        let doc = OpenApiBuilder::new()
            .paths(
                PathsBuilder::new()
                    .path("/api/tasks", item(vec![HttpMethod::Get, HttpMethod::Post]))
                    .path(
                        "/api/tasks/{id}",
                        item(vec![HttpMethod::Get, HttpMethod::Patch, HttpMethod::Delete]),
                    ),
            )
            .build();
        let routes = KnownRoutes::default();
        routes.learn(&doc);
        routes
    }

    async fn answer(method: Method, path: &str) -> (u16, Option<String>, String) {
        let req = TestRequest::default()
            .method(method)
            .uri(path)
            .to_http_request();
        let response = routes().answer(&req);
        let allow = response
            .headers()
            .get(ALLOW)
            .map(|value| value.to_str().unwrap().to_owned());
        let status = response.status().as_u16();
        let body = to_bytes(response.into_body()).await.unwrap();
        (status, allow, String::from_utf8(body.to_vec()).unwrap())
    }

    #[actix_web::test]
    async fn a_known_path_with_another_method_is_405_with_allow() {
        let (status, allow, body) = answer(Method::PUT, "/api/tasks/0193-abc").await;
        assert_eq!(status, 405);
        assert_eq!(allow.as_deref(), Some("DELETE, GET, PATCH"));
        assert!(
            body.contains("urn:taskgate:problem:method-not-allowed"),
            "{body}"
        );

        let (status, allow, _) = answer(Method::DELETE, "/api/tasks").await;
        assert_eq!(status, 405);
        assert_eq!(allow.as_deref(), Some("GET, POST"));
    }

    #[actix_web::test]
    async fn an_unknown_path_is_404() {
        for path in [
            "/api/nothing",
            "/api/tasks/a/b",
            "/",
            "/api/tasks/",
            "//api/tasks",
        ] {
            let (status, allow, body) = answer(Method::PUT, path).await;
            assert_eq!(status, 404, "{path}");
            assert_eq!(allow, None);
            assert!(body.contains("urn:taskgate:problem:not-found"), "{body}");
        }
    }
}
