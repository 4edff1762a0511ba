//! The drain on SIGTERM ([`crate::shutdown`]), checked on a service's real binary: a request in
//! flight when the signal arrives is answered after the listener has closed, `/readyz` says 503
//! from the signal on, and the process exits 0.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use super::{eventually, gauge};

/// The drain delay the probe gives the binary: long enough to see `/readyz` at 503 on a new
/// connection before the listener closes.
pub const DRAIN_DELAY_SECS: u64 = 5;

/// What [`assert_sigterm_drains`] needs to know about a service.
pub struct DrainProbe {
    /// `env!("CARGO_BIN_EXE_<service>")`.
    pub binary: PathBuf,
    /// Its whole environment (the probe clears the rest): database, issuer, and the port,
    /// with the drain delay set to [`DRAIN_DELAY_SECS`].
    pub env: Vec<(String, String)>,
    /// The port that environment makes it listen on (127.0.0.1).
    pub port: u16,
    /// A request the service answers with `expected_status`; the probe sends all but the last
    /// byte of it before the signal, and the last byte after the listener has closed.
    pub slow_request: Vec<u8>,
    pub expected_status: u16,
    /// Whole requests the service holds open (long-polls), sent before the signal, each with
    /// the status it must be answered with as soon as the drain starts (before the listener
    /// closes). Send them with `connection: close`.
    pub held_requests: Vec<(Vec<u8>, u16)>,
    /// The `/metrics` gauge that counts the held requests: the signal waits until it says
    /// they are all held.
    pub held_gauge: Option<&'static str>,
}

/// A free port on 127.0.0.1 for a binary to listen on (free when this returns).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

/// Panics unless, after SIGTERM, the binary answers `/readyz` with 503 and its held requests
/// while still accepting, then refuses connections, still answers the request that was in
/// flight, and exits 0.
pub async fn assert_sigterm_drains(probe: DrainProbe) {
    let address = format!("127.0.0.1:{}", probe.port);
    let mut child = Command::new(&probe.binary)
        .arg("serve")
        .env_clear()
        .envs(probe.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", probe.binary.display()));
    eventually(Duration::from_secs(30), "the binary is ready", async || {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the binary exited at start-up ({status}); its stderr is above");
        }
        readyz(&address).await == Some(200)
    })
    .await;

    let (head, last_byte) = probe
        .slow_request
        .split_at(probe.slow_request.len().saturating_sub(1));
    let mut in_flight = send(&address, head, "the request in flight").await;

    let mut held = Vec::new();
    for (request, status) in &probe.held_requests {
        held.push((send(&address, request, "a held request").await, *status));
    }
    if let Some(name) = probe.held_gauge {
        let base_url = format!("http://{address}");
        eventually(
            Duration::from_secs(10),
            "the service holds the held requests",
            async || gauge(&base_url, name).await == held.len() as f64,
        )
        .await;
    }

    terminate(&child).await;
    eventually(
        Duration::from_secs(DRAIN_DELAY_SECS),
        "/readyz says 503 once the drain starts",
        async || readyz(&address).await == Some(503),
    )
    .await;
    for (mut stream, expected) in held {
        assert_answered(&mut stream, expected, "a held request (long-poll)").await;
    }
    // Answered at the drain's start, not cut off at its end: the listener is still open.
    assert!(
        TcpStream::connect(&address).await.is_ok(),
        "the held requests are answered before the listener closes"
    );
    eventually(
        Duration::from_secs(DRAIN_DELAY_SECS + 10),
        "the listener closes after the drain delay",
        async || TcpStream::connect(&address).await.is_err(),
    )
    .await;
    in_flight
        .write_all(last_byte)
        .await
        .unwrap_or_else(|e| panic!("finishing the request in flight: {e}"));
    assert_answered(
        &mut in_flight,
        probe.expected_status,
        "the request in flight",
    )
    .await;

    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap_or_else(|_| panic!("the binary has not exited 30 s after draining"))
        .unwrap_or_else(|e| panic!("waiting for the binary: {e}"));
    assert_eq!(status.code(), Some(0), "a drained binary exits 0");
}

/// A new connection to `address` with `bytes` sent on it.
async fn send(address: &str, bytes: &[u8], what: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address)
        .await
        .unwrap_or_else(|e| panic!("connecting to {address} for {what}: {e}"));
    stream
        .write_all(bytes)
        .await
        .unwrap_or_else(|e| panic!("sending {what}: {e}"));
    stream
}

/// Panics unless the answer read from `stream` has status `expected`.
async fn assert_answered(stream: &mut TcpStream, expected: u16, what: &str) {
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .await
        .unwrap_or_else(|e| panic!("reading the answer to {what}: {e}"));
    let answer = String::from_utf8_lossy(&answer);
    let status_line = answer.lines().next().unwrap_or_default();
    assert!(
        status_line.starts_with(&format!("HTTP/1.1 {expected} ")),
        "{what} is answered {expected} during the drain: {answer}"
    );
}

/// The status of `GET /readyz` on a new connection; `None` if nothing answers.
async fn readyz(address: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(address).await.ok()?;
    let request = format!("GET /readyz HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.ok()?;
    let answer = String::from_utf8_lossy(&answer);
    answer.lines().next()?.split(' ').nth(1)?.parse().ok()
}

/// Sends SIGTERM, as Kubernetes, Docker and systemd do.
async fn terminate(child: &Child) {
    let pid = child
        .id()
        .unwrap_or_else(|| panic!("the binary exited early"));
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .await
        .unwrap_or_else(|e| panic!("running kill: {e}"));
    assert!(status.success(), "kill -TERM {pid} failed");
}
