//! Stopping without dropping requests (docs/operations.md, "Stopping").
//!
//! On SIGTERM or SIGINT a service drains:
//! 1. `/readyz` answers 503 at once, and long-polls answer now instead of at their deadline;
//! 2. for `drain_delay` it keeps serving, so load balancers that poll `/readyz` stop sending;
//! 3. it closes its listener (new connections are refused), gives the requests in flight up to
//!    `drain_timeout` to finish, and exits 0.
//!
//! A second signal ends the process at once (exit code 130 after SIGINT, 143 after SIGTERM). Tests start the drain with [`Shutdown::drain`] instead of
//! a signal.

use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

/// How long a drain may take (`<SERVICE>__HTTP__DRAIN_DELAY_SECS` / `DRAIN_TIMEOUT_SECS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrainTimes {
    /// Serving on, with `/readyz` at 503, before the listener closes.
    pub delay: Duration,
    /// The longest the requests in flight then get before their connections are closed.
    pub timeout: Duration,
}

impl DrainTimes {
    pub fn from_secs(delay: u64, timeout: u64) -> Self {
        Self {
            delay: Duration::from_secs(delay),
            timeout: Duration::from_secs(timeout),
        }
    }
}

/// Whether the drain has started. Every route can extract it (`web::Data<Draining>`).
#[derive(Debug, Clone)]
pub struct Draining(watch::Receiver<bool>);

impl Draining {
    pub fn is_draining(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves when the drain starts; never, if it does not.
    pub async fn started(&self) {
        let mut receiver = self.0.clone();
        if receiver.wait_for(|draining| *draining).await.is_err() {
            // The server is gone without draining: nothing will start it now.
            std::future::pending::<()>().await;
        }
    }
}

/// Starts one server's drain (cheap to clone).
#[derive(Clone)]
pub struct Shutdown {
    draining: Arc<watch::Sender<bool>>,
    server: ServerHandle,
    times: DrainTimes,
}

/// The drain flag, and what routes read of it.
pub(crate) fn flag() -> (watch::Sender<bool>, Draining) {
    let (sender, receiver) = watch::channel(false);
    (sender, Draining(receiver))
}

impl Shutdown {
    /// `server`'s shutdown, setting `draining` (from [`flag`]). `server` must have been built
    /// with `times.timeout` as its shutdown timeout (`http_server::start` does).
    pub(crate) fn new(
        draining: watch::Sender<bool>,
        server: ServerHandle,
        times: DrainTimes,
    ) -> Self {
        Self {
            draining: Arc::new(draining),
            server,
            times,
        }
    }

    /// The drain described above; returns when the server has stopped.
    pub async fn drain(&self) {
        self.draining.send_replace(true);
        tracing::info!(
            delay_secs = self.times.delay.as_secs(),
            timeout_secs = self.times.timeout.as_secs(),
            "draining: /readyz answers 503; the listener closes after the delay"
        );
        tokio::time::sleep(self.times.delay).await;
        self.server.stop(true).await;
        tracing::info!("drained");
    }
}

/// Runs `serving` (the server's future) to its end, draining it on SIGTERM or SIGINT meanwhile.
/// The binaries serve through this; tests do not (they drain by calling [`Shutdown::drain`]).
pub async fn serve_until_signalled(
    shutdown: Shutdown,
    serving: impl Future<Output = std::io::Result<()>>,
) -> std::io::Result<()> {
    let signals = tokio::spawn(drain_on_signal(shutdown)?);
    let served = serving.await;
    signals.abort();
    served
}

/// Watches for SIGTERM and SIGINT from now on; the future it returns waits for one, drains,
/// and ends the process on a second one.
fn drain_on_signal(shutdown: Shutdown) -> std::io::Result<impl Future<Output = ()>> {
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => tracing::info!("SIGTERM received"),
            _ = interrupt.recv() => tracing::info!("SIGINT received"),
        }
        tokio::select! {
            () = shutdown.drain() => {}
            _ = terminate.recv() => exit_now(143),
            _ = interrupt.recv() => exit_now(130),
        }
    })
}

/// A second signal. actix cannot turn a graceful stop under way into a forced one, so the
/// process ends here, dropping the requests in flight, with the shell's code for a process
/// ended by that signal (128 + its number).
fn exit_now(code: i32) -> ! {
    tracing::warn!("second signal: exiting now, dropping the requests in flight");
    std::process::exit(code)
}
