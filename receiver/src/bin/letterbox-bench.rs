//! `letterbox-bench`: the load check that `cargo xtask bench` runs against a release receiver.
//!
//! ```text
//! letterbox-bench --url http://127.0.0.1:PORT --db DATABASE_URL [--requests 20000] [--concurrency 64]
//! letterbox-bench --url http://127.0.0.1:PORT --db none ...     (a trivial handler: no database check)
//! letterbox-bench --serve-trivial                                (serve that trivial handler)
//! ```
//!
//! Sends `--requests` signups with distinct addresses (newsletter = the first one the receiver
//! lists) over `--concurrency` keep-alive connections on loopback, reports throughput and latency
//! percentiles, then opens the database and checks that every signup answered 2xx is stored
//! exactly once. Exits non-zero if any check fails. Only loopback URLs are accepted. The last
//! line is `result: <requests/s> <p99 ms>` for `cargo xtask bench`.
//!
//! `--serve-trivial` listens on 127.0.0.1 (prints `listening on http://ADDR`) and answers the
//! same routes on the receiver's own HTTP stack (its accept loop, axum router) with a handler
//! that reads and parses the JSON body and answers `202 {"status":"pending_confirmation"}`
//! without any check or storage: the ceiling a signup handler on this stack can reach here.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use letterbox_receiver::db::{email_key, Db};

/// One request: status (0 = transport error), latency, the address when answered 2xx.
type Sample = (u16, Duration, Option<String>);

struct Args {
    url: String,
    db: String,
    requests: usize,
    concurrency: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        url: String::new(),
        db: String::new(),
        requests: 20_000,
        concurrency: 64,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--url" => args.url = value()?,
            "--db" => args.db = value()?,
            "--requests" => args.requests = value()?.parse().map_err(|_| "--requests: number")?,
            "--concurrency" => {
                args.concurrency = value()?.parse().map_err(|_| "--concurrency: number")?
            }
            _ => return Err(format!("unknown argument {a}")),
        }
    }
    let host = args
        .url
        .strip_prefix("http://")
        .and_then(|r| r.split([':', '/']).next())
        .unwrap_or("");
    if !(host == "127.0.0.1" || host == "localhost" || host == "[::1]") {
        return Err("--url must be http://127.0.0.1:PORT (loopback only)".into());
    }
    if args.db.is_empty() || args.requests == 0 || args.concurrency == 0 {
        return Err(
            "usage: letterbox-bench --url http://127.0.0.1:PORT --db URL [--requests N] [--concurrency C]"
                .into(),
        );
    }
    Ok(args)
}

/// The trivial handler's server (see the module documentation).
async fn serve_trivial() -> Result<(), String> {
    use axum::routing::{get, post};
    let router = axum::Router::new()
        .route(
            "/api/subscribe",
            post(|body: axum::body::Bytes| async move {
                let ok = serde_json::from_slice::<serde_json::Value>(&body).is_ok();
                let status = if ok {
                    axum::http::StatusCode::ACCEPTED
                } else {
                    axum::http::StatusCode::BAD_REQUEST
                };
                (
                    status,
                    [("content-type", "application/json")],
                    r#"{"status":"pending_confirmation"}"#,
                )
            }),
        )
        .route(
            "/api/newsletters",
            get(|| async { r#"{"newsletters":[{"id":"daily","name":"Daily"}]}"# }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("bind: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening on http://{addr}");
    let (_stop, stop_rx) = tokio::sync::oneshot::channel();
    let config = letterbox_receiver::config::Config::default();
    letterbox_receiver::serve_router(listener, router, &config, stop_rx).await;
    Ok(())
}

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("--serve-trivial") {
        let result = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
            .and_then(|rt| rt.block_on(serve_trivial()));
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("letterbox-bench: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("letterbox-bench: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("letterbox-bench: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("letterbox-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(args.concurrency)
        .build_http();
    let newsletter = first_newsletter(&client, &args.url).await?;
    let run_id = format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
    );
    let next = Arc::new(AtomicUsize::new(0));
    let results: Arc<Mutex<Vec<Sample>>> = Arc::new(Mutex::new(Vec::with_capacity(args.requests)));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (client, next, results) = (client.clone(), next.clone(), results.clone());
        let (url, run_id, newsletter, total) = (
            format!("{}/api/subscribe", args.url),
            run_id.clone(),
            newsletter.clone(),
            args.requests,
        );
        tasks.push(tokio::spawn(async move {
            let mut local = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let email = format!("bench-{run_id}-{i}@example.com");
                let body = serde_json::json!({
                    "email": email, "newsletters": [newsletter], "locale": "en",
                    "source": {"page": "https://news.example/bench", "slot": "bench"}
                })
                .to_string();
                let req = hyper::Request::post(&url)
                    .header("content-type", "application/json")
                    .header("idempotency-key", format!("bench-{run_id}-{i}"))
                    .body(Full::new(Bytes::from(body)));
                let t = Instant::now();
                let status = match req {
                    Ok(req) => match client.request(req).await {
                        Ok(res) => {
                            let status = res.status().as_u16();
                            let _ = res.into_body().collect().await;
                            status
                        }
                        Err(_) => 0,
                    },
                    Err(_) => 0,
                };
                let ok = (200..300).contains(&status).then_some(email);
                local.push((status, t.elapsed(), ok));
            }
            if let Ok(mut r) = results.lock() {
                r.extend(local);
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| format!("client task: {e}"))?;
    }
    let elapsed = started.elapsed();
    let results = std::mem::take(&mut *results.lock().map_err(|_| "results lock poisoned")?);
    let mut latencies: Vec<Duration> = results.iter().map(|r| r.1).collect();
    latencies.sort();
    let pct = |p: f64| {
        let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies.get(i).copied().unwrap_or_default()
    };
    let mut by_status: HashMap<u16, usize> = HashMap::new();
    for r in &results {
        *by_status.entry(r.0).or_default() += 1;
    }
    let acked: Vec<&String> = results.iter().filter_map(|r| r.2.as_ref()).collect();
    println!(
        "{} requests, {} connections: {:.1} s, {:.0} requests/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        results.len(),
        args.concurrency,
        elapsed.as_secs_f64(),
        results.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
    );
    let mut statuses: Vec<_> = by_status.into_iter().collect();
    statuses.sort();
    println!("statuses (0 = transport error): {statuses:?}");
    let result_line = format!(
        "result: {:.0} {:.1}",
        results.len() as f64 / elapsed.as_secs_f64(),
        pct(0.99).as_secs_f64() * 1000.0
    );
    if args.db == "none" {
        println!("{result_line}");
        if acked.len() != results.len() {
            return Err(format!(
                "{} of {} requests were not answered 2xx",
                results.len() - acked.len(),
                results.len()
            ));
        }
        return Ok(());
    }

    // Every 2xx-answered signup must be in the database exactly once.
    let db = Db::connect(&args.db, 2).await?;
    let rows = db.subscriptions().await?;
    db.close().await;
    let mut counts: HashMap<String, usize> = HashMap::new();
    for r in rows.iter().filter(|r| r.newsletter == newsletter) {
        *counts.entry(email_key(&r.email)).or_default() += 1;
    }
    let missing = acked
        .iter()
        .filter(|e| counts.get(&email_key(e)).copied().unwrap_or(0) != 1)
        .count();
    println!(
        "verified: {} acknowledged signups, {} stored exactly once, {} missing or duplicated",
        acked.len(),
        acked.len() - missing,
        missing
    );
    if missing > 0 {
        return Err(format!(
            "{missing} acknowledged signups are not stored exactly once"
        ));
    }
    if acked.len() != results.len() {
        return Err(format!(
            "{} of {} requests were not answered 2xx",
            results.len() - acked.len(),
            results.len()
        ));
    }
    println!("{result_line}");
    Ok(())
}

async fn first_newsletter(
    client: &Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
    base: &str,
) -> Result<String, String> {
    let req = hyper::Request::get(format!("{base}/api/newsletters"))
        .body(Full::new(Bytes::new()))
        .map_err(|e| e.to_string())?;
    let res = client
        .request(req)
        .await
        .map_err(|e| format!("GET /api/newsletters: {e}"))?;
    let bytes = res
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    let v: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("/api/newsletters: {e}"))?;
    v["newsletters"][0]["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "the receiver lists no newsletters".to_owned())
}
