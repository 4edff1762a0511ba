//! Browser origins: the list a deployment allows (`<PREFIX>__HTTP__ALLOWED_ORIGINS`), and the
//! CORS answers for them.
//!
//! An origin is `scheme://host[:port]`, compared exactly as a browser serializes it in its
//! `Origin` header (lowercase, no default port, no path). With an empty list (the default) a
//! service sends no CORS header at all: only same-origin pages can read its answers.
//!
//! A request from a listed origin gets `Access-Control-Allow-Origin` (and `Vary: Origin`); a
//! preflight (`OPTIONS` with `Access-Control-Request-Method`) from a listed origin is answered
//! here with 204. Anything else passes through untouched, so a page of another origin sees
//! no CORS header and its browser keeps the answer from it. Only the auth-service allows
//! credentials (its refresh cookie); the tasks-service takes bearer tokens only.

use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};
use anyhow::Context;

/// The methods a preflight may ask for (those the two APIs use).
const ALLOW_METHODS: &str = "GET, POST, PATCH, DELETE";
/// Response headers a page's script may read besides the CORS-safelisted ones.
const EXPOSE_HEADERS: &str = "etag, location, retry-after, www-authenticate, x-request-id";
/// How long a browser may reuse a preflight answer.
const PREFLIGHT_MAX_AGE_SECS: &str = "600";

/// A set of origins, each `scheme://host[:port]` as browsers send it in `Origin`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origins(Arc<[String]>);

impl Origins {
    /// Parses a configured list; `setting` names it in the error (`AUTH__HTTP__ALLOWED_ORIGINS`).
    pub fn parse(list: &[String], setting: &str) -> anyhow::Result<Self> {
        list.iter()
            .map(|origin| parse_origin(origin).with_context(|| format!("{setting}: {origin:?}")))
            .collect::<anyhow::Result<Vec<_>>>()
            .map(|origins| Self(origins.into()))
    }

    /// These origins and `origin` too.
    pub fn with(&self, origin: String) -> Self {
        let mut origins = self.0.to_vec();
        origins.push(origin);
        Self(origins.into())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether an `Origin` header names one of these origins.
    pub fn allows(&self, origin: &HeaderValue) -> bool {
        self.0
            .iter()
            .any(|allowed| allowed.as_bytes() == origin.as_bytes())
    }
}

/// `scheme://host[:port]` of a configured origin: http(s), a host, nothing after it.
/// Normalized as browsers serialize it (lowercase host, no default port).
pub fn parse_origin(origin: &str) -> anyhow::Result<String> {
    const SHAPE: &str = "must be scheme://host[:port], e.g. https://app.example.org";
    anyhow::ensure!(!origin.ends_with('/'), "{SHAPE} (no trailing slash)");
    let url = url::Url::parse(origin).with_context(|| SHAPE.to_owned())?;
    anyhow::ensure!(
        matches!(url.scheme(), "http" | "https")
            && url.has_host()
            && url.username().is_empty()
            && url.password().is_none()
            && url.path() == "/"
            && url.query().is_none()
            && url.fragment().is_none(),
        "{SHAPE}"
    );
    Ok(origin_of(&url))
}

/// The origin of a URL that may have a path (a service's public URL).
pub fn origin_of_url(url: &str) -> anyhow::Result<String> {
    let url = url::Url::parse(url).with_context(|| format!("{url:?} is not a URL"))?;
    anyhow::ensure!(url.has_host(), "{url} has no host");
    Ok(origin_of(&url))
}

fn origin_of(url: &url::Url) -> String {
    url.origin().ascii_serialization()
}

/// Which origins get CORS answers, and whether those carry
/// `Access-Control-Allow-Credentials: true`.
#[derive(Debug, Clone, Default)]
pub struct CorsPolicy {
    pub origins: Origins,
    pub allow_credentials: bool,
}

/// The middleware (`actix_web::middleware::from_fn`, see `http_server::start`).
pub async fn answer(
    policy: Arc<CorsPolicy>,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .filter(|origin| policy.origins.allows(origin))
        .cloned();
    let Some(origin) = origin else {
        let mut response = next.call(req).await?.map_into_boxed_body();
        if !policy.origins.is_empty() {
            vary_on_origin(response.headers_mut());
        }
        return Ok(response);
    };

    let is_preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if is_preflight {
        let mut preflight = HttpResponse::NoContent();
        preflight
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, ALLOW_METHODS))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE_SECS));
        // The origin is trusted: whatever request headers its page wants to send are fine.
        if let Some(asked) = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .cloned()
        {
            preflight.insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, asked));
        }
        let mut response = req.into_response(preflight.finish());
        allow(&policy, origin, response.headers_mut());
        return Ok(response);
    }

    let mut response = next.call(req).await?.map_into_boxed_body();
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
    allow(&policy, origin, headers);
    Ok(response)
}

fn allow(policy: &CorsPolicy, origin: HeaderValue, headers: &mut header::HeaderMap) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    if policy.allow_credentials {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
    vary_on_origin(headers);
}

/// The answer differs by `Origin`: caches must not hand one origin's answer to another.
fn vary_on_origin(headers: &mut header::HeaderMap) {
    headers.append(header::VARY, HeaderValue::from_static("origin"));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        for (given, normalized) in [
            ("https://app.example.org", "https://app.example.org"),
            ("http://localhost:5173", "http://localhost:5173"),
            ("https://App.Example.ORG:443", "https://app.example.org"),
            ("http://[::1]:8080", "http://[::1]:8080"),
        ] {
            assert_eq!(parse_origin(given).unwrap(), normalized);
        }
        for bad in [
            "app.example.org",
            "https://app.example.org/",
            "https://app.example.org/app",
            "https://app.example.org?x=1",
            "https://user@app.example.org",
            "ftp://app.example.org",
            "null",
            "*",
            "",
        ] {
            let err = parse_origin(bad).unwrap_err().to_string();
            assert!(
                err.starts_with("must be scheme://host[:port]"),
                "{bad}: {err}"
            );
        }
        let err =
            Origins::parse(&["https://ok.example".into(), "https://x/y".into()], "X").unwrap_err();
        assert!(
            format!("{err:#}").starts_with("X: \"https://x/y\": must be"),
            "{err:#}"
        );
    }

    #[test]
    fn an_origin_header_matches_exactly() {
        let origins = Origins::parse(&["https://app.example.org".into()], "X").unwrap();
        assert!(origins.allows(&HeaderValue::from_static("https://app.example.org")));
        for other in [
            "https://app.example.org.evil.example",
            "http://app.example.org",
            "https://app.example.org:8443",
            "null",
        ] {
            assert!(!origins.allows(&HeaderValue::from_static(other)), "{other}");
        }
        let with_own = origins.with(origin_of_url("https://auth.example.org/base/").unwrap());
        assert!(with_own.allows(&HeaderValue::from_static("https://auth.example.org")));
    }
}
