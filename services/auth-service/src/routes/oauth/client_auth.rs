//! Client authentication for the OAuth endpoints (RFC 6749 §2.3.1): `client_secret_basic`
//! (HTTP Basic, RFC 7617, with the id and secret form-urlencoded inside) or
//! `client_secret_post` (`client_id` and `client_secret` form fields), never both at once.
//! Whatever the header holds, parsing it fails softly: a malformed one is `invalid_client`.

use actix_web::http::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use sea_orm::ConnectionTrait;
use secrecy::SecretString;

use super::OAuthError;
use crate::oauth::clients::{self, AuthenticatedClient, CLIENT_ID_PREFIX};

/// Real Basic headers are well under this; longer ones are refused before decoding.
const MAX_BASIC_HEADER_BYTES: usize = 1024;

/// An id and a secret, not yet checked.
#[derive(Debug)]
pub struct ClientCredentials {
    pub client_id: String,
    pub secret: SecretString,
}

/// What a request says about its client.
#[derive(Debug)]
pub enum PresentedClient {
    /// Nothing at all.
    Anonymous,
    /// A `client_id` form field without a secret: how a public client names itself (§2.3).
    Public(String),
    Credentials(ClientCredentials),
}

/// Reads the client authentication of a request from its `Authorization` header and the
/// `client_id` / `client_secret` form fields.
pub fn presented(
    headers: &HeaderMap,
    form_client_id: Option<String>,
    form_client_secret: Option<SecretString>,
) -> Result<PresentedClient, OAuthError> {
    let mut authorization = headers.get_all(AUTHORIZATION);
    let header = authorization.next();
    if authorization.next().is_some() {
        return Err(OAuthError::InvalidRequest(
            "more than one Authorization header",
        ));
    }
    match (header, form_client_secret) {
        (Some(_), Some(_)) => Err(OAuthError::InvalidRequest(
            "use one client authentication method, not both Basic and client_secret",
        )),
        (Some(header), None) => {
            let credentials = parse_basic(header).map_err(|reason| {
                tracing::info!(reason, "malformed client authentication header");
                OAuthError::InvalidClient
            })?;
            if form_client_id.is_some_and(|id| id != credentials.client_id) {
                return Err(OAuthError::InvalidRequest(
                    "client_id differs from the Authorization header's",
                ));
            }
            Ok(PresentedClient::Credentials(credentials))
        }
        (None, Some(secret)) => match form_client_id {
            Some(client_id) if !client_id.is_empty() => {
                Ok(PresentedClient::Credentials(ClientCredentials {
                    client_id,
                    secret,
                }))
            }
            _ => Err(OAuthError::InvalidClient),
        },
        (None, None) => {
            Ok(form_client_id.map_or(PresentedClient::Anonymous, PresentedClient::Public))
        }
    }
}

/// The confidential client behind `presented`, or `invalid_client`.
pub async fn authenticate<C: ConnectionTrait>(
    db: &C,
    presented: PresentedClient,
) -> Result<AuthenticatedClient, OAuthError> {
    let PresentedClient::Credentials(credentials) = presented else {
        tracing::info!("client authentication missing");
        return Err(OAuthError::InvalidClient);
    };
    match clients::authenticate(db, &credentials.client_id, &credentials.secret).await? {
        Some(client) => {
            tracing::Span::current().record("client_id", client.client_id.as_str());
            Ok(client)
        }
        None => {
            // A well-formed id is no secret; anything else might be a pasted secret.
            let id = &credentials.client_id;
            let shown = if id.starts_with(CLIENT_ID_PREFIX) && id.len() <= 64 {
                id.as_str()
            } else {
                "(not a client id)"
            };
            tracing::info!(client_id = shown, "client authentication failed");
            Err(OAuthError::InvalidClient)
        }
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`. The error says why, for the log only.
fn parse_basic(header: &HeaderValue) -> Result<ClientCredentials, &'static str> {
    if header.len() > MAX_BASIC_HEADER_BYTES {
        return Err("the Authorization header is too long");
    }
    let value = header
        .to_str()
        .map_err(|_| "the Authorization header is not visible ASCII")?;
    let (scheme, encoded) = value
        .trim()
        .split_once(' ')
        .ok_or("the Authorization header has no credentials")?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err("the Authorization scheme is not Basic");
    }
    let encoded = encoded.trim();
    let decoded = STANDARD
        .decode(encoded)
        .or_else(|_| STANDARD_NO_PAD.decode(encoded))
        .map_err(|_| "the Basic credentials are not base64")?;
    let decoded = String::from_utf8(decoded).map_err(|_| "the Basic credentials are not UTF-8")?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or("the Basic credentials have no colon")?;
    let client_id = form_urldecode(id).ok_or("the client id is not form-urlencoded")?;
    let secret = form_urldecode(secret).ok_or("the client secret is not form-urlencoded")?;
    if client_id.is_empty() || secret.is_empty() {
        return Err("the client id or secret is empty");
    }
    Ok(ClientCredentials {
        client_id,
        secret: SecretString::from(secret),
    })
}

/// Decodes `application/x-www-form-urlencoded` (RFC 6749 §2.3.1, Appendix B): `+` is a
/// space, `%XX` a byte; the bytes must be UTF-8. `None` for a stray `%` or invalid UTF-8.
fn form_urldecode(encoded: &str) -> Option<String> {
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                // Checked first: `from_str_radix` alone would take a sign, as in `%+1`.
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderName;
    use proptest::prelude::*;
    use secrecy::ExposeSecret;

    fn basic(raw: &[u8]) -> HeaderValue {
        HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(raw))).unwrap()
    }

    fn headers(values: &[HeaderValue]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(AUTHORIZATION, value.clone());
        }
        map
    }

    #[test]
    fn parses_basic_credentials() {
        let parsed = parse_basic(&basic(b"svc-1:s3cret")).unwrap();
        assert_eq!(parsed.client_id, "svc-1");
        assert_eq!(parsed.secret.expose_secret(), "s3cret");
    }

    #[test]
    fn the_scheme_is_case_insensitive_and_padding_optional() {
        let encoded = STANDARD_NO_PAD.encode(b"svc-1:x");
        let header = HeaderValue::from_str(&format!("bAsIc  {encoded} ")).unwrap();
        assert_eq!(parse_basic(&header).unwrap().client_id, "svc-1");
    }

    #[test]
    fn id_and_secret_are_form_urldecoded() {
        // RFC 6749 §2.3.1: both are form-urlencoded before they are joined by the colon.
        let parsed = parse_basic(&basic(b"a%3Ab+c:p%25w%3Ad+x")).unwrap();
        assert_eq!(parsed.client_id, "a:b c");
        assert_eq!(parsed.secret.expose_secret(), "p%w:d x");
        // Only the first colon separates: an unencoded colon in the secret survives.
        assert_eq!(
            parse_basic(&basic(b"id:a:b"))
                .unwrap()
                .secret
                .expose_secret(),
            "a:b"
        );
    }

    #[test]
    fn malformed_headers_are_refused() {
        let no_colon = "the Basic credentials have no colon";
        let empty = "the client id or secret is empty";
        let bad_id = "the client id is not form-urlencoded";
        let no_credentials = "the Authorization header has no credentials";
        let cases: Vec<(HeaderValue, &str)> = vec![
            (basic(b"no-colon-here"), no_colon),
            (basic(b":secret"), empty),
            (basic(b"id:"), empty),
            (
                basic(b"\xff\xfe:secret"),
                "the Basic credentials are not UTF-8",
            ),
            (basic(b"%C3%28:secret"), bad_id), // percent-encoded invalid UTF-8
            (basic(b"%zz:secret"), bad_id),
            (basic(b"id%4:secret"), bad_id),
            (basic(b"id%+1:secret"), bad_id),
            (basic(b"id:%zz"), "the client secret is not form-urlencoded"),
            (HeaderValue::from_static("Basic"), no_credentials),
            (
                HeaderValue::from_static("Basic !!!not-base64!!!"),
                "the Basic credentials are not base64",
            ),
            (
                HeaderValue::from_static("Bearer abc.def.ghi"),
                "the Authorization scheme is not Basic",
            ),
            (HeaderValue::from_static(""), no_credentials),
            (
                HeaderValue::from_bytes(b"Basic \xc3\xa9").unwrap(),
                "the Authorization header is not visible ASCII",
            ),
            (
                HeaderValue::from_str(&format!("Basic {}", "A".repeat(2000))).unwrap(),
                "the Authorization header is too long",
            ),
        ];
        for (case, reason) in cases {
            assert_eq!(parse_basic(&case).err(), Some(reason), "{case:?}");
        }
    }

    #[test]
    fn malformed_basic_is_invalid_client() {
        let result = presented(&headers(&[basic(b"nocolon")]), None, None);
        assert!(matches!(result, Err(OAuthError::InvalidClient)));
        let result = presented(&headers(&[basic(b"\xff:x")]), None, None);
        assert!(matches!(result, Err(OAuthError::InvalidClient)));
    }

    #[test]
    fn two_methods_or_two_headers_are_invalid_requests() {
        let both = presented(
            &headers(&[basic(b"a:b")]),
            None,
            Some(SecretString::from("b")),
        );
        assert!(
            matches!(
                both,
                Err(OAuthError::InvalidRequest(
                    "use one client authentication method, not both Basic and client_secret"
                ))
            ),
            "{both:?}"
        );
        let twice = presented(&headers(&[basic(b"a:b"), basic(b"a:b")]), None, None);
        assert!(
            matches!(
                twice,
                Err(OAuthError::InvalidRequest(
                    "more than one Authorization header"
                ))
            ),
            "{twice:?}"
        );
        let mismatch = presented(&headers(&[basic(b"a:b")]), Some("other".into()), None);
        assert!(
            matches!(
                mismatch,
                Err(OAuthError::InvalidRequest(
                    "client_id differs from the Authorization header's"
                ))
            ),
            "{mismatch:?}"
        );
        // The same id in the body as well is fine (some libraries send it).
        let same = presented(&headers(&[basic(b"a:b")]), Some("a".into()), None);
        assert!(
            matches!(&same, Ok(PresentedClient::Credentials(c)) if c.client_id == "a"),
            "{same:?}"
        );
    }

    #[test]
    fn form_fields_and_absence() {
        let post = presented(
            &HeaderMap::new(),
            Some("svc-1".into()),
            Some(SecretString::from("s")),
        );
        assert!(matches!(post, Ok(PresentedClient::Credentials(c)) if c.client_id == "svc-1"));
        let secret_only = presented(&HeaderMap::new(), None, Some(SecretString::from("s")));
        assert!(matches!(secret_only, Err(OAuthError::InvalidClient)));
        let public = presented(&HeaderMap::new(), Some("taskgate".into()), None);
        assert!(matches!(public, Ok(PresentedClient::Public(id)) if id == "taskgate"));
        let none = presented(&HeaderMap::new(), None, None);
        assert!(matches!(none, Ok(PresentedClient::Anonymous)));
    }

    #[test]
    fn other_headers_do_not_count() {
        let mut map = HeaderMap::new();
        map.insert(HeaderName::from_static("x-authorization"), basic(b"a:b"));
        assert!(matches!(
            presented(&map, None, None),
            Ok(PresentedClient::Anonymous)
        ));
    }

    proptest! {
        #[test]
        fn arbitrary_header_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(value) = HeaderValue::from_bytes(&raw) {
                let _ = parse_basic(&value);
                let _ = presented(&headers(&[value]), None, None);
            }
        }

        #[test]
        fn arbitrary_decoded_credentials_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_basic(&basic(&raw));
        }

        #[test]
        fn urldecode_inverts_percent_encoding(s in ".{0,40}") {
            let encoded: String = s.bytes().map(|b| format!("%{b:02X}")).collect();
            prop_assert_eq!(form_urldecode(&encoded), Some(s));
        }
    }
}
