//! Shared test support: a receiver on 127.0.0.1 with a fresh SQLite file (or the PostgreSQL server
//! named by `LETTERBOX_TEST_POSTGRES_URL`), and a small HTTP client over real loopback TCP.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use letterbox_receiver::config::{Config, Newsletter};
use letterbox_receiver::Running;

/// The variable that names a PostgreSQL server for the PostgreSQL runs.
pub const PG_VAR: &str = "LETTERBOX_TEST_POSTGRES_URL";

/// Where a test's receiver stores data.
pub struct Backend {
    pub url: String,
    pub dir: Option<tempfile::TempDir>,
}

impl Backend {
    /// A new SQLite file in a temporary folder.
    pub fn sqlite() -> Backend {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("receiver.db").display());
        Backend {
            url,
            dir: Some(dir),
        }
    }

    /// The PostgreSQL server from the environment, or None (the caller prints the skip).
    pub fn postgres() -> Option<Backend> {
        let url = std::env::var(PG_VAR).ok().filter(|u| !u.is_empty())?;
        Some(Backend { url, dir: None })
    }
}

/// A unique suffix so tests sharing one PostgreSQL database never collide.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}{}x{n}x{}",
        t % 1_000_000_000_000,
        std::process::id()
    )
}

/// The configuration the tests start from: limits off, demo on, one allowed origin.
pub fn test_config(db_url: &str) -> Config {
    Config {
        listen: "127.0.0.1:0".into(),
        database_url: db_url.into(),
        public_url: "http://receiver.test".into(),
        allowed_origins: vec!["https://news.example".into()],
        demo: true,
        min_fill_ms: 800,
        site_name: "News Example".into(),
        newsletters: vec![
            Newsletter {
                id: "daily".into(),
                name: "The Daily Briefing".into(),
                description: Some("The day's main stories".into()),
                frequency: Some("Every weekday".into()),
            },
            Newsletter {
                id: "culture".into(),
                name: "Culture".into(),
                description: None,
                frequency: Some("Weekly".into()),
            },
        ],
        limits: letterbox_receiver::config::Limits {
            per_ip_per_minute: 0,
            per_address_per_hour: 0,
            confirmations_per_address_per_day: 3,
            shared_per_ip: false,
            ipv6_prefix: 64,
        },
        ..Config::default()
    }
}

/// A running receiver and the backend it uses.
pub struct Server {
    pub running: Running,
    pub base: String,
    pub backend: Backend,
}

impl Server {
    /// Starts a receiver on `backend` with `tweak` applied to the test configuration.
    pub async fn start(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Server {
        let mut config = test_config(&backend.url);
        tweak(&mut config);
        config.validate().expect("test config is valid");
        let running = letterbox_receiver::start(config)
            .await
            .expect("receiver starts");
        let base = running.url();
        Server {
            running,
            base,
            backend,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn stop(self) {
        self.running.stop().await.expect("graceful stop");
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A plain HTTP/1.1 client.
#[derive(Clone)]
pub struct Http {
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
}

impl Default for Http {
    fn default() -> Self {
        Http {
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }
}

impl Http {
    /// Sends a request; panics only on transport errors.
    pub async fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Reply {
        self.try_send(method, url, headers, body)
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"))
    }

    /// Sends a request; transport errors are returned.
    pub async fn try_send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<Reply, String> {
        let mut req = hyper::Request::builder().method(method).uri(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req
            .body(Full::new(body.into()))
            .map_err(|e| e.to_string())?;
        let res = self.client.request(req).await.map_err(|e| e.to_string())?;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok(Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }

    /// POSTs a JSON signup with an optional idempotency key.
    pub async fn signup(&self, base: &str, body: &serde_json::Value, key: Option<&str>) -> Reply {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(k) = key {
            headers.push(("idempotency-key", k));
        }
        self.send(
            "POST",
            &format!("{base}/api/subscribe"),
            &headers,
            body.to_string(),
        )
        .await
    }
}

/// A contract request body.
pub fn body(email: &str, newsletters: &[&str], locale: &str) -> serde_json::Value {
    serde_json::json!({
        "email": email,
        "newsletters": newsletters,
        "locale": locale,
        "source": {"page": "https://news.example/article", "slot": "in-article"}
    })
}

/// Writes a line to the real standard error, past the test harness's capture, so a skip or a
/// figure is visible in every run.
pub fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Runs each named test (an `async fn(Backend)` in the invoking file) twice: on SQLite, and on
/// PostgreSQL when `LETTERBOX_TEST_POSTGRES_URL` is set (otherwise it says it skipped).
#[allow(unused_macros)]
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::common::Backend::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    match super::common::Backend::postgres() {
                        Some(b) => super::$name(b).await,
                        None => super::common::say(&format!(
                            "skipped: {} not set ({})",
                            super::common::PG_VAR,
                            stringify!($name)
                        )),
                    }
                }
            )*
        }
    };
}
