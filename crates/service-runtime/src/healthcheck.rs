//! `<service> healthcheck`: asks the service running on this machine whether it is ready
//! (`GET /readyz`) or alive (`GET /healthz`), for a container's `HEALTHCHECK` in an image with
//! no shell and no curl. Plain HTTP/1.1 over a blocking socket: one request, a few seconds at
//! most, no runtime needed.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::{Context, bail};

/// How long the whole check may take (Docker's default healthcheck timeout is 30 s).
const TIMEOUT: Duration = Duration::from_secs(5);

/// Which question to ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// `/readyz`: the service can serve (its database answers, …).
    Ready,
    /// `/healthz`: the process answers HTTP.
    Alive,
}

/// Ok when the service listening on `host:port` answers the check with 200. A wildcard
/// listen address (`0.0.0.0`, `::`) is asked on loopback.
pub fn probe(host: &str, port: u16, check: Check) -> anyhow::Result<()> {
    let host = match host {
        "0.0.0.0" | "" => "127.0.0.1",
        "::" | "[::]" => "::1",
        other => other,
    };
    let path = match check {
        Check::Ready => "/readyz",
        Check::Alive => "/healthz",
    };
    let address = (host, port)
        .to_socket_addrs()
        .with_context(|| format!("resolving {host}:{port}"))?
        .next()
        .with_context(|| format!("{host}:{port} resolves to no address"))?;
    let mut stream = TcpStream::connect_timeout(&address, TIMEOUT)
        .with_context(|| format!("nothing answers at {address}"))?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    )
    .with_context(|| format!("asking {address}{path}"))?;
    // The status line is all we need; the body (a problem+json naming what is missing) is
    // read too, to say why.
    let mut answer = Vec::new();
    stream
        .take(64 * 1024)
        .read_to_end(&mut answer)
        .with_context(|| format!("reading the answer of {address}{path}"))?;
    let answer = String::from_utf8_lossy(&answer);
    let status = answer.lines().next().unwrap_or_default();
    if status.starts_with("HTTP/1.1 200 ") {
        return Ok(());
    }
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default().trim();
    bail!("{path} answered {status}: {body}")
}
