//! The check behind each service's test of its request limits ([`crate::request_limits`]):
//! the same probes against the real app, over raw TCP where a well-behaved client (reqwest)
//! cannot misbehave enough: a body longer than announced, chunks past the limit, a trickle.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::request_limits::{BODY_TIMEOUT, MAX_HEADER_BYTES, MAX_URL_BYTES};

/// One service's app to probe: its address and a route that reads a JSON body.
pub struct LimitsProbe<'a> {
    /// `127.0.0.1:<port>`.
    pub address: &'a str,
    /// Method and path of a route that reads a JSON body, e.g. `POST /api/tasks`.
    pub json_route: &'a str,
    /// `Authorization` header value the route needs, if any.
    pub authorization: Option<&'a str>,
    /// The service's body limit in bytes.
    pub body_limit: usize,
    /// A body the route accepts, and the status it answers to it (sent chunked, it must fare
    /// the same as with a length).
    pub accepted_body: &'a str,
    pub accepted_status: u16,
    /// A field of that body, sent nested in thousands of arrays.
    pub nested_field: &'a str,
}

/// An answer read off the wire.
#[derive(Debug)]
struct RawResponse {
    status: u16,
    head: String,
    body: String,
}

impl RawResponse {
    /// The problem document's `type`, panicking unless the answer is problem+json.
    fn problem_type(&self) -> String {
        assert!(
            self.head
                .to_ascii_lowercase()
                .contains("content-type: application/problem+json"),
            "not problem+json: {self:?}"
        );
        let problem: Value = serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("problem body is not JSON ({e}): {self:?}"));
        problem["type"].as_str().unwrap_or_default().to_owned()
    }
}

/// Writes `request` on a fresh connection and reads until a whole answer has arrived or the
/// server closes the connection (bounded, so a server that never answers fails the test
/// instead of hanging it). The client never finishes a body the server refused.
async fn raw_exchange(address: &str, request: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(address)
        .await
        .unwrap_or_else(|e| panic!("connecting to {address}: {e}"));
    stream
        .write_all(request)
        .await
        .unwrap_or_else(|e| panic!("writing to {address}: {e}"));
    let mut received = Vec::new();
    let read = tokio::time::timeout(
        BODY_TIMEOUT + Duration::from_secs(30),
        read_answer(&mut stream, &mut received),
    )
    .await;
    let sent = String::from_utf8_lossy(&request[..request.len().min(300)]);
    let answer = String::from_utf8_lossy(&received[..received.len().min(300)]);
    assert!(
        read.is_ok(),
        "no answer, and the connection stayed open after: {sent:?}…\nreceived: {answer:?}"
    );
    received
}

async fn read_answer(stream: &mut TcpStream, into: &mut Vec<u8>) {
    let mut buffer = [0u8; 8192];
    // A reset after the answer (the server closing with our bytes unread) ends it too.
    while let Ok(n @ 1..) = stream.read(&mut buffer).await {
        into.extend_from_slice(&buffer[..n]);
        if is_complete(into) {
            return;
        }
    }
}

/// Whether `received` holds a whole answer: its head and as many body bytes as it announces.
fn is_complete(received: &[u8]) -> bool {
    let text = String::from_utf8_lossy(received);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())?
    });
    length.is_some_and(|length| body.len() >= length)
}

/// [`raw_exchange`], read as one answer.
async fn answer(address: &str, request: &str) -> RawResponse {
    parse(&raw_exchange(address, request.as_bytes()).await)
}

fn parse(received: &[u8]) -> RawResponse {
    let text = String::from_utf8_lossy(received);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    RawResponse {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

/// Panics, saying which, unless the app at `probe.address` holds every request limit.
pub async fn assert_request_limits(probe: LimitsProbe<'_>) {
    let LimitsProbe {
        address,
        json_route,
        authorization,
        body_limit,
        accepted_body,
        accepted_status,
        nested_field,
    } = probe;
    let (method, path) = json_route
        .split_once(' ')
        .unwrap_or_else(|| panic!("{json_route}: not `METHOD /path`"));
    let auth_line = authorization
        .map(|value| format!("Authorization: {value}\r\n"))
        .unwrap_or_default();
    let post = |extra: &str, body: &str| {
        format!(
            "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
             Content-Type: application/json\r\n{auth_line}{extra}\r\n{body}"
        )
    };
    let get = |target: &str, extra: &str| {
        format!("GET {target} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n{extra}\r\n")
    };
    let expect = async |what: &str, request: String, status: u16, kind: &str| {
        let answer = answer(address, &request).await;
        assert_eq!(
            (answer.status, answer.problem_type()),
            (status, format!("urn:taskgate:problem:{kind}")),
            "{what}: {answer:?}"
        );
        // The OpenAPI documents list this refusal on every operation (and so must name it).
        assert!(
            http_problem::openapi::ANSWERED_BEFORE_EVERY_ROUTE
                .iter()
                .any(|(documented, _)| *documented == status),
            "{what}: {status} is not in ANSWERED_BEFORE_EVERY_ROUTE, so not documented"
        );
    };

    let long_query = "a".repeat(MAX_URL_BYTES);
    let target = format!("/healthz?q={long_query}");
    expect("long URL", get(&target, ""), 414, "uri-too-long").await;
    let filler = format!("X-Filler: {}\r\n", "f".repeat(MAX_HEADER_BYTES));
    expect(
        "large headers",
        get("/healthz", &filler),
        431,
        "header-fields-too-large",
    )
    .await;
    for query in ["access_token=abc", "x=1&access%5Ftoken=abc"] {
        let target = format!("{path}?{query}");
        expect(query, get(&target, &auth_line), 400, "token-in-url").await;
    }

    // A length past the limit is refused before a byte of the body is sent.
    let too_long = format!("Content-Length: {}\r\n", body_limit + 1);
    expect(
        "announced length",
        post(&too_long, ""),
        413,
        "payload-too-large",
    )
    .await;

    // Chunks past the limit, with no end in sight: refused once the limit is passed.
    let chunked = "Transfer-Encoding: chunked\r\n";
    let chunk = format!("400\r\n{}\r\n", " ".repeat(0x400));
    let endless = chunk.repeat(body_limit / 0x400 + 2);
    expect(
        "chunks past the limit",
        post(chunked, &endless),
        413,
        "payload-too-large",
    )
    .await;

    // A chunked body within the limit is read like any other.
    let body = format!("{:x}\r\n{accepted_body}\r\n0\r\n\r\n", accepted_body.len());
    let answer = answer(address, &post(chunked, &body)).await;
    assert_eq!(
        answer.status, accepted_status,
        "chunked body within the limit: {answer:?}"
    );

    // Deep nesting (far past serde_json's 128 levels, within the size limit) is a 400.
    let depth = (body_limit - 64) / 2;
    let nested = format!(
        "{{\"{nested_field}\":{}{}}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let length = format!("Content-Length: {}\r\n", nested.len());
    expect("deep nesting", post(&length, &nested), 400, "bad-request").await;

    // A body that trickles in is given up on once its time is over.
    let slow = post("Content-Length: 100\r\n", "{\"x\":");
    expect("slow body", slow, 408, "request-timeout").await;

    // So is a request head that never ends: the server answers or closes the connection.
    raw_exchange(
        address,
        format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\n").as_bytes(),
    )
    .await;
}
