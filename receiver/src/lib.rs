//! `letterbox-receiver`: the reference endpoint for the Letterbox widget.
//!
//! It implements the JSON contract of `docs/endpoint-contract.md` (plus the no-JS form), stores
//! signups in SQLite (default) or PostgreSQL, runs double opt-in with token links, and guards
//! itself with CORS, rate limits, bot signals and a daily cap on confirmation emails.
//!
//! - [`config`]: the TOML file and its environment overrides.
//! - [`db`]: schema, migrations and every query.
//! - [`app`]: routes and handlers.
//! - [`limits`]: in-memory rate limits.
//! - [`mail`]: confirmation emails and SMTP delivery.
//! - [`pages`]: reader-facing texts and HTML pages.
//! - [`export`]: the CSV export.
//! - [`stats`]: the anonymous slot statistics (`POST /api/stats`).
//! - [`admin`]: the operator page (`/admin`).
//!
//! [`start`] runs a server in the current tokio runtime and returns a handle; the binary
//! (`src/main.rs`) wraps it with signals, logging and subcommands.

pub mod admin;
pub mod app;
pub mod config;
pub mod db;
pub mod export;
pub mod limits;
pub mod mail;
pub mod pages;
pub mod stats;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;
use tower::ServiceExt;

use crate::config::{Config, Connections, Retention};
use crate::db::Db;

/// A running receiver. [`Running::stop`] shuts it down gracefully (in-flight requests finish).
#[derive(Debug)]
pub struct Running {
    /// The address it listens on (useful with port 0).
    pub addr: SocketAddr,
    /// The database, for checks.
    pub db: Db,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), String>>,
}

impl Running {
    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections, lets in-flight requests finish, closes the database.
    pub async fn stop(mut self) -> Result<(), String> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match (&mut self.task).await {
            Ok(result) => result,
            Err(e) => Err(format!("server task: {e}")),
        }
    }

    /// Waits until the server stops by itself (after the shutdown signal given to [`start`]).
    pub async fn wait(mut self) -> Result<(), String> {
        match (&mut self.task).await {
            Ok(result) => result,
            Err(e) => Err(format!("server task: {e}")),
        }
    }
}

/// Connects the database (migrating it), binds `config.listen` and serves until stopped.
pub async fn start(config: Config) -> Result<Running, String> {
    let addr = config.listen_addr()?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    start_on(config, listener).await
}

/// Like [`start`], on a listener already bound.
pub async fn start_on(config: Config, listener: TcpListener) -> Result<Running, String> {
    let config = Arc::new(config);
    let db = Db::connect(&config.database_url, 16).await?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("listener address: {e}"))?;
    let wake = Arc::new(Notify::new());
    let stop_sender = Arc::new(Notify::new());
    let sender = config.mail.smtp_url.clone().map(|url| {
        tokio::spawn(mail::run_sender(
            db.clone(),
            config.clone(),
            url,
            wake.clone(),
            stop_sender.clone(),
        ))
    });
    let stop_cleanup = Arc::new(Notify::new());
    let cleanup = (config.retention.interval_secs > 0).then(|| {
        tokio::spawn(run_cleanup(
            db.clone(),
            config.retention.clone(),
            stop_cleanup.clone(),
        ))
    });
    let state = Arc::new(app::AppState::new(config.clone(), db.clone(), wake));
    let router = app::router(state);
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let task_db = db.clone();
    let task_config = config.clone();
    let task = tokio::spawn(async move {
        serve_router(listener, router, &task_config, stop_rx).await;
        stop_sender.notify_one();
        stop_cleanup.notify_one();
        if let Some(sender) = sender {
            let _ = sender.await;
        }
        if let Some(cleanup) = cleanup {
            let _ = cleanup.await;
        }
        task_db.close().await;
        Ok(())
    });
    Ok(Running {
        addr,
        db,
        stop: Some(stop_tx),
        task,
    })
}

/// Serves `router` on `listener` exactly as the receiver serves its routes (the accept loop
/// below, with the same connection caps), until `stop` fires. The load check uses it to measure a
/// trivial handler on the same stack.
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    config: &Config,
    stop: oneshot::Receiver<()>,
) {
    let header_read = Duration::from_secs(config.timeouts.header_read_secs.max(1));
    let caps = ConnCaps::new(&config.connections, config.limits.ipv6_prefix);
    serve(listener, router, header_read, caps, stop).await;
}

/// Open connections, in total and per client (IPv6 by network prefix), against their caps.
#[derive(Debug)]
struct ConnCaps {
    total: usize,
    per_client: usize,
    ipv6_prefix: u8,
    open: std::sync::Mutex<(usize, std::collections::HashMap<String, usize>)>,
}

/// One admitted connection; gives its place back when dropped.
struct ConnSlot {
    caps: Arc<ConnCaps>,
    client: String,
}

impl ConnCaps {
    fn new(c: &Connections, ipv6_prefix: u8) -> Arc<ConnCaps> {
        let mut total = c.total as usize;
        // Leave room under the open-file limit for the database, the log and the listener.
        if let Some(files) = fd_limit::current() {
            let room = files.saturating_sub(128).max(16) as usize;
            if total == 0 || total > room {
                total = room;
            }
        }
        Arc::new(ConnCaps {
            total,
            per_client: c.per_client as usize,
            ipv6_prefix,
            open: Default::default(),
        })
    }

    /// A slot for a connection from `peer`, or None when a cap is reached.
    fn admit(self: &Arc<Self>, peer: SocketAddr) -> Option<ConnSlot> {
        let client = limits::ip_key(peer.ip(), self.ipv6_prefix);
        let mut open = match self.open.lock() {
            Ok(o) => o,
            Err(poisoned) => poisoned.into_inner(),
        };
        if self.total > 0 && open.0 >= self.total {
            return None;
        }
        let mine = open.1.get(&client).copied().unwrap_or(0);
        if self.per_client > 0 && mine >= self.per_client {
            return None;
        }
        open.0 += 1;
        open.1.insert(client.clone(), mine + 1);
        Some(ConnSlot {
            caps: self.clone(),
            client,
        })
    }
}

impl Drop for ConnSlot {
    fn drop(&mut self) {
        let mut open = match self.caps.open.lock() {
            Ok(o) => o,
            Err(poisoned) => poisoned.into_inner(),
        };
        open.0 = open.0.saturating_sub(1);
        if let Some(n) = open.1.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                open.1.remove(&self.client);
            }
        }
    }
}

/// The process's open-file limit (`RLIMIT_NOFILE`).
pub mod fd_limit {
    /// The current soft limit, if it can be read.
    pub fn current() -> Option<u64> {
        #[cfg(unix)]
        {
            let mut rl = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: getrlimit writes into the struct we own; no other memory is touched.
            let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } == 0;
            ok.then_some(rl.rlim_cur)
        }
        #[cfg(not(unix))]
        {
            None
        }
    }

    /// Raises the soft limit to the hard limit (as far as the hard limit allows, capped at
    /// 1,048,576); returns (before, after). A process may always do this without privileges.
    pub fn raise() -> Option<(u64, u64)> {
        #[cfg(unix)]
        {
            let mut rl = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: as above.
            if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } != 0 {
                return None;
            }
            let before = rl.rlim_cur;
            let want = rl.rlim_max.min(1 << 20);
            if want > before {
                rl.rlim_cur = want;
                // SAFETY: setrlimit reads the struct we own.
                if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) } != 0 {
                    return Some((before, before));
                }
            }
            current().map(|after| (before, after))
        }
        #[cfg(not(unix))]
        {
            None
        }
    }
}

/// The accept loop: HTTP/1.1 through hyper with a header-read timeout (`axum::serve` has none,
/// so a client that sends its header slowly, or nothing at all, would hold a connection
/// forever). Each request carries the peer address as axum's `ConnectInfo`. When `stop` fires
/// (or its sender is dropped) the listener closes, idle connections close, and in-flight requests
/// finish (each is bounded by the request timeout of [`app::router`]).
async fn serve(
    listener: TcpListener,
    router: Router,
    header_read: Duration,
    caps: Arc<ConnCaps>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut refused: u64 = 0;
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        // Over a cap: closed at once, before anything is read (it costs no task and no timer).
        let Some(slot) = caps.admit(peer) else {
            refused += 1;
            if refused.is_power_of_two() {
                tracing::warn!(%peer, refused, "connection refused: too many open connections");
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(req.map(Body::new))
        });
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _slot = slot;
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection closed with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Runs [`Db::cleanup`] on start and then every `retention.interval_secs` until `stop`.
async fn run_cleanup(db: Db, retention: Retention, stop: Arc<Notify>) {
    let every = Duration::from_secs(retention.interval_secs.max(1));
    loop {
        match db.cleanup(db::now_ms(), &retention).await {
            Ok(done) if done.total() > 0 => tracing::info!(
                idempotency = done.idempotency,
                confirmations = done.confirmations,
                outbox = done.outbox,
                mail_counts = done.mail_counts,
                stats = done.stats,
                rate_buckets = done.rate_buckets,
                "old rows deleted"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cleanup of old rows failed; will retry"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.notified() => return,
        }
    }
}
