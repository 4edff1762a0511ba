//! One keep-alive HTTP/1.1 connection per worker, driven directly with hyper's connection
//! API. Each worker owns its connection outright (no shared pool, no lock), which keeps the
//! load generator's own CPU cost low: on a 2-core machine it competes with the services and
//! Postgres for the same cores.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Where a service listens: the socket address and the `Host` header value for it.
#[derive(Clone, Debug)]
pub struct Target {
    addr: SocketAddr,
    host: String,
}

impl Target {
    /// Parses `http://127.0.0.1:8081` (plain http on a literal address: the benchmark never
    /// leaves the machine, so there is no DNS and no TLS in the measured path).
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        let host = url
            .strip_prefix("http://")
            .ok_or_else(|| anyhow::anyhow!("{url}: only http:// URLs are supported"))?
            .trim_end_matches('/');
        let addr = host
            .parse()
            .map_err(|e| anyhow::anyhow!("{url}: expected http://<ip>:<port> ({e})"))?;
        Ok(Self {
            addr,
            host: host.to_owned(),
        })
    }
}

/// Why a request did not produce a response.
#[derive(Debug)]
pub enum TransportError {
    Connect,
    Send,
    Body,
    Timeout,
}

impl TransportError {
    pub fn label(&self) -> &'static str {
        match self {
            Self::Connect => "connect failed",
            Self::Send => "connection error",
            Self::Body => "body read error",
            Self::Timeout => "timeout",
        }
    }
}

pub struct Response {
    pub status: StatusCode,
    pub body: Bytes,
}

/// A lazily (re)connected HTTP/1.1 connection to one target.
pub struct Connection {
    target: Target,
    sender: Option<SendRequest<Full<Bytes>>>,
    timeout: Duration,
}

impl Connection {
    pub fn new(target: Target, timeout: Duration) -> Self {
        Self {
            target,
            sender: None,
            timeout,
        }
    }

    /// Sends one request and reads the whole body. A transport failure drops the connection;
    /// the next request opens a new one.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        token: Option<&str>,
        json: Option<Bytes>,
    ) -> Result<Response, TransportError> {
        let request = self.build(method, path, token, json)?;
        match tokio::time::timeout(self.timeout, self.exchange(request)).await {
            Ok(result) => result,
            Err(_) => {
                self.sender = None;
                Err(TransportError::Timeout)
            }
        }
    }

    fn build(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        json: Option<Bytes>,
    ) -> Result<Request<Full<Bytes>>, TransportError> {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.target.host.as_str());
        if let Some(token) = token {
            builder = builder.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match json {
            Some(json) => {
                builder = builder.header(CONTENT_TYPE, "application/json");
                json
            }
            None => Bytes::new(),
        };
        // Only a malformed path or header could fail here; both come from our own data.
        builder
            .body(Full::new(body))
            .map_err(|_| TransportError::Send)
    }

    async fn exchange(
        &mut self,
        request: Request<Full<Bytes>>,
    ) -> Result<Response, TransportError> {
        // Reuse the connection when the server kept it open; otherwise open a new one.
        let reusable = match self.sender.as_mut() {
            Some(sender) => sender.ready().await.is_ok(),
            None => false,
        };
        let mut sender = match self.sender.take() {
            Some(sender) if reusable => sender,
            _ => self.connect().await?,
        };
        let response = sender
            .send_request(request)
            .await
            .map_err(|_| TransportError::Send)?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|_| TransportError::Body)?
            .to_bytes();
        self.sender = Some(sender);
        Ok(Response { status, body })
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, TransportError> {
        let stream = TcpStream::connect(self.target.addr)
            .await
            .map_err(|_| TransportError::Connect)?;
        // Small requests and responses: send them at once rather than wait for Nagle.
        stream
            .set_nodelay(true)
            .map_err(|_| TransportError::Connect)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|_| TransportError::Connect)?;
        // The connection future does the actual I/O; it ends when the sender is dropped or
        // the server closes. Its error, if any, shows up on the next request as well.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(sender)
    }
}
