//! The crash check: the real binary, a burst of signups on loopback, `kill -9` in the middle,
//! a restart on the same SQLite file, and then every signup that was answered 2xx must be stored
//! exactly once and the database must open cleanly (integrity check, migrations, health).

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{body, Http};
use sqlx::Row;

/// Kills the child if a test panics before stopping it.
struct Guard(Option<Child>);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn spawn(config: &Path, db_url: &str) -> (Guard, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_letterbox-receiver"))
        .args(["--config", &config.display().to_string(), "serve"])
        .env("DATABASE_URL", db_url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("receiver binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the listening line");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (Guard(Some(child)), url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_signup_survives_kill_9_and_the_database_reopens_cleanly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("receiver.toml");
    std::fs::write(
        &config,
        r#"
listen = "127.0.0.1:0"
public_url = "http://receiver.test"
[limits]
per_ip_per_minute = 0
per_address_per_hour = 0
[[newsletters]]
id = "daily"
name = "The Daily Briefing"
[[newsletters]]
id = "culture"
name = "Culture"
"#,
    )
    .expect("write config");
    let db_path = dir.path().join("crash.db");
    let db_url = format!("sqlite://{}", db_path.display());

    let http = Http::default();
    let mut all_acked: Vec<String> = Vec::new();
    // Five rounds on the same file: start, burst, kill -9 mid-burst.
    for round in 0..5 {
        let (mut guard, url) = spawn(&config, &db_url);
        let acked: Arc<Mutex<Vec<String>>> = Arc::default();
        let next = Arc::new(AtomicUsize::new(0));
        const TOTAL: usize = 4000;
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (http, url, acked, next) = (http.clone(), url.clone(), acked.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                let mut failures = 0;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= TOTAL || failures > 20 {
                        break;
                    }
                    let email = format!("crash{round}x{i}@example.com");
                    let key = format!("crash-key-{round}-{i}");
                    let req = body(&email, &["daily", "culture"], "en");
                    let r = http
                        .try_send(
                            "POST",
                            &format!("{url}/api/subscribe"),
                            &[
                                ("content-type", "application/json"),
                                ("idempotency-key", &key),
                            ],
                            req.to_string(),
                        )
                        .await;
                    match r {
                        Ok(r) if (200..300).contains(&r.status) => {
                            acked.lock().expect("lock").push(email)
                        }
                        Ok(r) => panic!("unexpected {} {}", r.status, r.body),
                        Err(_) => failures += 1,
                    }
                }
            }));
        }
        // Kill the receiver once a few hundred signups are acknowledged, mid-burst.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while acked.lock().expect("lock").len() < 300 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut child = guard.0.take().expect("child");
        child.kill().expect("kill -9");
        let _ = child.wait();
        for t in tasks {
            t.await.expect("client task");
        }
        let acked: Vec<String> = acked.lock().expect("lock").clone();
        assert!(acked.len() >= 300, "only {} acknowledged", acked.len());
        assert!(
            acked.len() < TOTAL,
            "the kill came too late to test anything"
        );
        common::say(&format!(
            "crash round {round}: {} signups acknowledged before kill -9",
            acked.len()
        ));
        all_acked.extend(acked);
    }
    let acked = all_acked;

    // Restart on the same file: it must open, migrate (a no-op) and answer.
    let (mut guard, url) = spawn(&config, &db_url);
    let health = http.send("GET", &format!("{url}/healthz"), &[], "").await;
    assert_eq!(health.status, 200);
    // A retried request whose first answer was acknowledged is replayed, not stored twice.
    let replay = http
        .send(
            "POST",
            &format!("{url}/api/subscribe"),
            &[
                ("content-type", "application/json"),
                ("idempotency-key", "crash-key-0-0"),
            ],
            body("crash0x0@example.com", &["daily", "culture"], "en").to_string(),
        )
        .await;
    assert_eq!(replay.status, 202);

    let pool = sqlx::SqlitePool::connect(&format!("{db_url}?mode=ro"))
        .await
        .expect("open the database");
    let integrity: String = sqlx::query("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await
        .and_then(|r| r.try_get(0))
        .expect("integrity check");
    assert_eq!(integrity, "ok");
    let rows = sqlx::query("SELECT email_key, newsletter FROM subscriptions")
        .fetch_all(&pool)
        .await
        .expect("rows");
    let mut seen = HashSet::new();
    for r in &rows {
        let pair: (String, String) = (r.get(0), r.get(1));
        assert!(seen.insert(pair.clone()), "stored twice: {pair:?}");
    }
    for email in &acked {
        for n in ["daily", "culture"] {
            assert!(
                seen.contains(&(email.clone(), n.to_owned())),
                "acknowledged signup lost: {email} {n}"
            );
        }
    }
    pool.close().await;
    common::say(&format!(
        "crash check: {} signups acknowledged before five kill -9s, {} rows stored, none lost",
        acked.len(),
        rows.len()
    ));

    // Graceful stop: SIGTERM, exit 0.
    let mut child = guard.0.take().expect("child");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    let exit = child.wait().expect("wait");
    assert!(exit.success(), "{exit}");
}
