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
//!
//! [`start`] runs a server in the current tokio runtime and returns a handle; the binary
//! (`src/main.rs`) wraps it with signals, logging and subcommands.

pub mod app;
pub mod config;
pub mod db;
pub mod export;
pub mod limits;
pub mod mail;
pub mod pages;

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

use crate::config::{Config, Retention};
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
    let header_read = Duration::from_secs(config.timeouts.header_read_secs.max(1));
    let task = tokio::spawn(async move {
        serve(listener, router, header_read, stop_rx).await;
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

/// The accept loop: HTTP/1.1 through hyper with a header-read timeout (`axum::serve` has none,
/// so a client that sends its header slowly, or nothing at all, would hold a connection
/// forever). Each request carries the peer address as axum's `ConnectInfo`. When `stop` fires
/// (or its sender is dropped) the listener closes, idle connections close, and in-flight requests
/// finish (each is bounded by the request timeout of [`app::router`]).
async fn serve(
    listener: TcpListener,
    router: Router,
    header_read: Duration,
    mut stop: oneshot::Receiver<()>,
) {
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
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(req.map(Body::new))
        });
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
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
