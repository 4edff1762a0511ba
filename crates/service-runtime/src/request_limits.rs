//! Limits every request meets before any route sees it, so that no route can forget one:
//! the size of the request target, of the header block and of the body (also a chunked body
//! that announces no length), the time a body may take to arrive, and the refusal of an access
//! token in the URL. Each breach is a problem+json answer; see `docs/http-api.md`, "Limits".

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::HttpMessage;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use futures_util::Stream;
use http_problem::Problem;

/// Longest request target (path and query) served: as long as common proxies accept.
pub const MAX_URL_BYTES: usize = 8 * 1024;
/// Largest header block served, names and values together (nginx's default is 4 × 8 KiB).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Time a body may take to arrive once the request has started. Our bodies are a few KiB; a
/// client that trickles one keeps a connection (and a database-less handler) waiting, no more.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(15);

/// The limits of one service: only the body limit differs between services.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    /// Larger bodies are refused with 413, whatever the route and however they are sent.
    pub max_body_bytes: usize,
}

/// Why a request was refused once its body had started to arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyBreach {
    TooLarge,
    TooSlow,
}

/// What [`LimitedBody`] leaves for [`enforce`] when the client breaks a limit: which limit,
/// and the rest of the body, unread.
#[derive(Default)]
struct Breached {
    kind: Option<BodyBreach>,
    unread: Option<Payload>,
}

/// The rest of a breaching body, kept alive inside the answer. While the connection's body
/// reader is alive when the answer goes out, actix-http answers `Connection: close` and serves
/// nothing more on that connection; had it been dropped, actix-http would keep the connection
/// for the next request once it had read, to discard it, the rest of a chunked body, however
/// long. (Either way it may still read and discard what the client sends while it lingers:
/// no route sees a byte past the limit.)
struct UnreadBody(#[allow(dead_code)] Payload);

/// The middleware (`middleware::from_fn`): checks the head, then hands the route a body that
/// ends with an error past the limit or the deadline. Whatever the route made of that error
/// (a 400 from a form, a 413 from JSON), the answer is the one problem for the breach.
pub async fn enforce(
    limits: RequestLimits,
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Some(problem) = refuse_head(&limits, &req) {
        return Ok(req.into_response(problem.to_response()));
    }
    if !has_body(&req) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let breached = Rc::new(RefCell::new(Breached::default()));
    let body = LimitedBody {
        inner: req.take_payload(),
        remaining: limits.max_body_bytes,
        deadline: tokio::time::Instant::now() + BODY_TIMEOUT,
        timer: None,
        breached: Rc::clone(&breached),
    };
    req.set_payload(Payload::from(
        Box::pin(body) as Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>
    ));
    let response = next.call(req).await?;
    let Breached { kind, unread } = breached.take();
    let Some(kind) = kind else {
        return Ok(response.map_into_boxed_body());
    };
    let problem = match kind {
        BodyBreach::TooLarge => Problem::payload_too_large(limits.max_body_bytes),
        BodyBreach::TooSlow => too_slow(),
    };
    let mut answer = problem.to_response();
    if let Some(unread) = unread {
        answer.extensions_mut().insert(UnreadBody(unread));
    }
    let (request, _) = response.into_parts();
    Ok(ServiceResponse::new(request, answer))
}

/// An HTTP/1.1 request has a body only if it says so (RFC 9112 §6.3); HTTP/2 requests may
/// send one without either header, so those are always limited.
fn has_body(req: &ServiceRequest) -> bool {
    req.version() >= actix_web::http::Version::HTTP_2
        || req.headers().contains_key(header::CONTENT_LENGTH)
        || req.headers().contains_key(header::TRANSFER_ENCODING)
}

/// The problem for a request whose head (target, headers, announced length, query) breaks a
/// limit; `None` if the head is fine.
fn refuse_head(limits: &RequestLimits, req: &ServiceRequest) -> Option<Problem> {
    let target_len = req
        .uri()
        .path_and_query()
        .map_or(0, |target| target.as_str().len());
    if target_len > MAX_URL_BYTES {
        return Some(
            Problem::new(StatusCode::URI_TOO_LONG, "uri-too-long", "URI too long").with_detail(
                format!("the path and query must be at most {MAX_URL_BYTES} bytes"),
            ),
        );
    }
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Some(
            Problem::new(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "header-fields-too-large",
                "Request header fields too large",
            )
            .with_detail(format!(
                "the headers must be at most {MAX_HEADER_BYTES} bytes, names and values together"
            )),
        );
    }
    if let Some(length) = req.headers().get(header::CONTENT_LENGTH) {
        // actix-http has already refused a length that is not a number.
        let announced = length.to_str().ok().and_then(|n| n.parse::<u64>().ok());
        if announced.is_none_or(|n| n > limits.max_body_bytes as u64) {
            return Some(Problem::payload_too_large(limits.max_body_bytes));
        }
    }
    if names_access_token(req.query_string()) {
        return Some(
            Problem::new(StatusCode::BAD_REQUEST, "token-in-url", "Token in URL").with_detail(
                "access tokens are accepted only in the Authorization header, never in the URL \
                 (RFC 9700): URLs end up in logs, histories and Referer headers",
            ),
        );
    }
    None
}

/// Whether the query string has an `access_token` parameter, however it is percent-encoded.
fn names_access_token(query: &str) -> bool {
    form_urlencoded::parse(query.as_bytes()).any(|(name, _)| name == "access_token")
}

fn too_slow() -> Problem {
    Problem::new(
        StatusCode::REQUEST_TIMEOUT,
        "request-timeout",
        "Request body too slow",
    )
    .with_detail(format!(
        "the body must arrive within {} s of the request",
        BODY_TIMEOUT.as_secs()
    ))
}

/// The request body as the route reads it: at most `remaining` more bytes, before `deadline`.
/// A breach is handed to [`enforce`] (with the unread rest) and ends the body with an error.
struct LimitedBody {
    inner: Payload,
    remaining: usize,
    deadline: tokio::time::Instant,
    /// Armed the first time the client keeps the route waiting (most bodies never do).
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    breached: Rc<RefCell<Breached>>,
}

impl LimitedBody {
    fn fail(&mut self, breach: BodyBreach) -> Poll<Option<Result<Bytes, PayloadError>>> {
        let mut breached = self.breached.borrow_mut();
        breached.kind = Some(breach);
        breached.unread = Some(std::mem::replace(&mut self.inner, Payload::None));
        Poll::Ready(Some(Err(match breach {
            BodyBreach::TooLarge => PayloadError::Overflow,
            BodyBreach::TooSlow => PayloadError::Io(std::io::ErrorKind::TimedOut.into()),
        })))
    }
}

impl Stream for LimitedBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.breached.borrow().kind.is_some() {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) if chunk.len() > this.remaining => {
                this.fail(BodyBreach::TooLarge)
            }
            Poll::Ready(Some(Ok(chunk))) => {
                this.remaining -= chunk.len();
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Pending => {
                let deadline = this.deadline;
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if timer.as_mut().poll(cx).is_ready() {
                    this.fail(BodyBreach::TooSlow)
                } else {
                    Poll::Pending
                }
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_token_is_found_however_it_is_encoded() {
        for query in [
            "access_token=x",
            "a=1&access_token=",
            "access%5Ftoken=x",
            "access_token",
            "b=2&access%5ftoken=x&c",
        ] {
            assert!(names_access_token(query), "{query}");
        }
        for query in [
            "",
            "a=access_token",
            "access_tokens=x",
            "xaccess_token=1",
            "%ff",
        ] {
            assert!(!names_access_token(query), "{query}");
        }
    }
}
