//! Operations over real HTTP on 127.0.0.1: slow clients are cut off (raw TCP that dribbles
//! bytes), old rows are cleaned up by the periodic task, the CSV export defuses spreadsheet
//! formulas, the per-IP limit can be shared by several processes through PostgreSQL, and the
//! binary reports and writes JSON logs. Database tests run against a fresh SQLite file, and again
//! against PostgreSQL when `LETTERBOX_TEST_POSTGRES_URL` is set.

#[macro_use]
mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{body, unique, Backend, Http, Server};
use sqlx::Row;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

suite!(
    old_rows_are_deleted_by_the_periodic_cleanup_and_recent_ones_kept,
    the_csv_export_defuses_spreadsheet_formulas,
    the_consent_record_is_stored_with_the_subscription_and_exported,
    the_per_ip_limit_is_per_process_unless_shared_in_postgres,
);

const DAY_MS: i64 = 24 * 3600 * 1000;

fn now_ms() -> i64 {
    letterbox_receiver::db::now_ms()
}

/// A second connection to the test database, for planting old rows and checking counts.
async fn raw_pool(b: &Backend) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new()
        .max_connections(2)
        .connect(&b.url)
        .await
        .expect("second connection to the test database")
}

async fn exec(pool: &sqlx::AnyPool, sql: &str, text: &[&str], numbers: &[i64]) -> u64 {
    let mut q = sqlx::query(sql);
    for t in text {
        q = q.bind(*t);
    }
    for n in numbers {
        q = q.bind(*n);
    }
    q.execute(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .rows_affected()
}

async fn count(pool: &sqlx::AnyPool, sql: &str, key: &str) -> i64 {
    sqlx::query(sql)
        .bind(key)
        .fetch_one(pool)
        .await
        .and_then(|r| r.try_get::<i64, _>(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The confirmation path written to the outbox for `email`.
async fn confirm_path(s: &Server, email: &str) -> String {
    s.running
        .db
        .outbox(10_000)
        .await
        .expect("outbox")
        .into_iter()
        .find(|e| e.to == email)
        .map(|e| e.link.trim_start_matches("http://receiver.test").to_owned())
        .unwrap_or_else(|| panic!("no email to {email}"))
}

fn token_of(path: &str) -> &str {
    path.trim_start_matches("/api/confirm/")
}

async fn old_rows_are_deleted_by_the_periodic_cleanup_and_recent_ones_kept(b: Backend) {
    let s = Server::start(b, |c| c.retention.interval_secs = 1).await;
    let pool = raw_pool(&s.backend).await;
    let http = Http::default();
    let now = now_ms();

    // Two signups under idempotency keys: one key is made 25 hours old, one stays fresh.
    let (old_mail, new_mail) = (
        format!("{}@example.com", unique("old")),
        format!("{}@example.com", unique("new")),
    );
    let (old_key, new_key) = (unique("old-key-"), unique("new-key-"));
    for (mail, key) in [(&old_mail, &old_key), (&new_mail, &new_key)] {
        let r = http
            .signup(&s.base, &body(mail, &["daily"], "en"), Some(key))
            .await;
        assert_eq!(r.status, 202, "{}", r.body);
    }
    let (old_link, new_link) = (
        confirm_path(&s, &old_mail).await,
        confirm_path(&s, &new_mail).await,
    );
    exec(
        &pool,
        "UPDATE idempotency SET created_at = $2 WHERE idem_key = $1",
        &[&old_key],
        &[now - 25 * 3600 * 1000],
    )
    .await;
    // The old address's link expired 31 days ago and its email was sent 31 days ago; the new
    // address's link expired yesterday and its email was sent yesterday (both kept).
    for (link, mail, age) in [(&old_link, &old_mail, 31), (&new_link, &new_mail, 1)] {
        let changed = exec(
            &pool,
            "UPDATE confirmations SET expires_at = $2 WHERE token = $1",
            &[token_of(link)],
            &[now - age * DAY_MS],
        )
        .await;
        assert_eq!(changed, 1);
        exec(
            &pool,
            "UPDATE outbox SET sent_at = $2 WHERE to_address = $1",
            &[mail],
            &[now - age * DAY_MS],
        )
        .await;
    }
    // An email never sent whose link died long ago, and an old daily count.
    let stale_id = unique("stale");
    exec(
        &pool,
        "INSERT INTO outbox (id, to_address, subject, body, link, created_at) \
         VALUES ($1, $2, 's', 'b', 'l', $3)",
        &[&stale_id, &old_mail],
        &[now - 40 * DAY_MS],
    )
    .await;
    let count_key = unique("counted");
    exec(
        &pool,
        "INSERT INTO mail_counts (email_key, day, sent) VALUES ($1, $2, 1)",
        &[&count_key],
        &[now / DAY_MS - 5],
    )
    .await;

    // Slot statistics: a day older than the 800-day default goes, yesterday's stays.
    let stats_slot = unique("slot");
    for age in [801, 1] {
        exec(
            &pool,
            "INSERT INTO stats_daily (day, slot, page, newsletter, event, n) \
             VALUES ($2, $1, '/p', '', 'seen', 1)",
            &[&stats_slot],
            &[now / DAY_MS - age],
        )
        .await;
    }

    // The task runs every second: wait for the old rows to go.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = count(
            &pool,
            "SELECT COUNT(*) FROM idempotency WHERE idem_key = $1",
            &old_key,
        )
        .await
            + count(
                &pool,
                "SELECT COUNT(*) FROM confirmations WHERE token = $1",
                token_of(&old_link),
            )
            .await
            + count(
                &pool,
                "SELECT COUNT(*) FROM outbox WHERE to_address = $1",
                &old_mail,
            )
            .await
            + count(
                &pool,
                "SELECT COUNT(*) FROM mail_counts WHERE email_key = $1",
                &count_key,
            )
            .await
            + count(
                &pool,
                &format!(
                    "SELECT COUNT(*) FROM stats_daily WHERE slot = $1 AND day < {}",
                    now / DAY_MS - 800
                ),
                &stats_slot,
            )
            .await;
        if left == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{left} old row(s) still there");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    assert_eq!(
        count(
            &pool,
            "SELECT COUNT(*) FROM stats_daily WHERE slot = $1",
            &stats_slot
        )
        .await,
        1,
        "yesterday's statistics were deleted with the old day"
    );

    // Over HTTP: the old key is forgotten (the same key with another request is a new signup),
    // the fresh key still replays or refuses; the old link is gone, the recent one says expired.
    let other = format!("{}@example.com", unique("other"));
    let reused_old = http
        .signup(&s.base, &body(&other, &["daily"], "en"), Some(&old_key))
        .await;
    assert_eq!(reused_old.status, 202, "{}", reused_old.body);
    assert_eq!(reused_old.header("idempotent-replayed"), None);
    let reused_new = http
        .signup(&s.base, &body(&other, &["culture"], "en"), Some(&new_key))
        .await;
    assert_eq!(reused_new.status, 422, "{}", reused_new.body);
    assert_eq!(
        http.send("GET", &s.url(&old_link), &[], "").await.status,
        404
    );
    assert_eq!(
        http.send("GET", &s.url(&new_link), &[], "").await.status,
        410
    );
    // Kept: the recent email, the subscriptions themselves.
    assert_eq!(
        count(
            &pool,
            "SELECT COUNT(*) FROM outbox WHERE to_address = $1",
            &new_mail
        )
        .await,
        1
    );
    let subs = s.running.db.subscriptions().await.expect("rows");
    assert!(subs.iter().any(|r| r.email == old_mail));
    assert!(subs.iter().any(|r| r.email == new_mail));
    pool.close().await;
    s.stop().await;
}

async fn the_csv_export_defuses_spreadsheet_formulas(b: Backend) {
    let s = Server::start(b, |_| {}).await;
    let http = Http::default();
    // Addresses may begin with - or + or =; the page is whatever a page sends.
    let email = format!("-{}@example.com", unique("csv"));
    let page = "=HYPERLINK(\"http://evil.example\",\"click\")";
    let req = serde_json::json!({"email": email, "newsletters": ["daily"], "locale": "en",
                                 "source": {"page": page, "slot": "@SUM(1+1)"}});
    let r = http.signup(&s.base, &req, None).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let plain = format!("{}@example.com", unique("plain"));
    let r = http
        .signup(&s.base, &body(&plain, &["daily"], "en"), None)
        .await;
    assert_eq!(r.status, 202);
    for mail in [&email, &plain] {
        let link = confirm_path(&s, mail).await;
        assert_eq!(http.send("POST", &s.url(&link), &[], "").await.status, 200);
    }

    let export = |raw: bool| {
        let db = s.running.db.clone();
        async move {
            let mut out = Vec::new();
            letterbox_receiver::export::write_csv(&db, false, raw, &mut out)
                .await
                .expect("export");
            String::from_utf8(out).expect("UTF-8")
        }
    };
    let safe = export(false).await;
    let row = safe
        .lines()
        .find(|l| l.contains(&email))
        .unwrap_or_else(|| panic!("no row for {email}:\n{safe}"));
    assert!(
        row.starts_with(&format!("\"'{email}\",\"daily\",\"subscribed\",\"en\",")),
        "{row}"
    );
    assert!(
        row.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\""),
        "{row}"
    );
    let plain_row = safe
        .lines()
        .find(|l| l.contains(&plain))
        .expect("plain row");
    assert!(
        plain_row.starts_with(&format!("\"{plain}\",")),
        "{plain_row}"
    );
    // No cell of the safe export begins with a formula character.
    for line in safe.lines().skip(1) {
        for cell in line.split("\",\"") {
            let cell = cell.trim_start_matches('"');
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?} in {line}"
            );
        }
    }
    // --raw keeps the cells as stored.
    let raw = export(true).await;
    let raw_row = raw.lines().find(|l| l.contains(&email)).expect("raw row");
    assert!(raw_row.starts_with(&format!("\"{email}\",")), "{raw_row}");
    s.stop().await;
}

async fn the_consent_record_is_stored_with_the_subscription_and_exported(b: Backend) {
    let s = Server::start(b, |_| {}).await;
    let http = Http::default();
    let email = format!("{}@example.com", unique("consent"));
    let record = serde_json::json!({"text": "I agree to receive The Daily Briefing by email.",
        "version": "2026-03", "locale": "en", "page": "https://news.example/a", "at_ms": 1_764_000_000_000u64,
        "extra": "not kept"});
    let mut req = body(&email, &["daily"], "en");
    req["consent"] = record.clone();
    let r = http.signup(&s.base, &req, None).await;
    assert_eq!(r.status, 202, "{}", r.body);
    // Signed up again before confirming, under a newer wording: that record is the one kept.
    let mut record = record;
    record["version"] = "2026-04".into();
    req["consent"] = record.clone();
    let r = http.signup(&s.base, &req, None).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let link = confirm_path(&s, &email).await;
    assert_eq!(http.send("POST", &s.url(&link), &[], "").await.status, 200);

    let subs = s.running.db.subscriptions().await.expect("rows");
    let row = subs
        .iter()
        .find(|r| r.email == email)
        .expect("the subscription");
    let stored: serde_json::Value =
        serde_json::from_str(row.consent.as_deref().expect("a consent record")).expect("JSON");
    let mut expected = record.clone();
    expected.as_object_mut().unwrap().remove("extra");
    assert_eq!(stored, expected, "exactly the record, and only its members");

    let mut out = Vec::new();
    letterbox_receiver::export::write_csv(&s.running.db, false, false, &mut out)
        .await
        .expect("export");
    let csv = String::from_utf8(out).expect("UTF-8");
    assert!(csv.starts_with(letterbox_receiver::export::HEADER));
    let line = csv.lines().find(|l| l.contains(&email)).expect("a row");
    assert!(
        line.ends_with(
            "\"2026-04\",\"2025-11-24T16:00:00Z\",\"I agree to receive The Daily Briefing by email.\""
        ),
        "{line}"
    );

    // A consent record that is not one is refused and nothing is stored.
    for broken in [
        serde_json::json!("yes"),
        serde_json::json!({"text": "T", "version": "1", "locale": "en", "page": "p"}),
        serde_json::json!({"text": "", "version": "1", "locale": "en", "page": "p", "at_ms": 1}),
    ] {
        let other = format!("{}@example.com", unique("consent-broken"));
        let mut req = body(&other, &["daily"], "en");
        req["consent"] = broken.clone();
        let r = http.signup(&s.base, &req, None).await;
        assert_eq!(r.status, 400, "{broken}: {}", r.body);
        let subs = s.running.db.subscriptions().await.expect("rows");
        assert!(!subs.iter().any(|r| r.email == other), "{broken} stored");
    }
    s.stop().await;
}

/// A documentation-range IP nobody else uses, so runs sharing one database never collide.
fn fresh_ip() -> String {
    let mut b = [0u8; 3];
    getrandom::fill(&mut b).expect("random");
    format!("10.{}.{}.{}", b[0], b[1], b[2])
}

/// Sends `n` signups from `ip`, alternating between the servers; returns how many were accepted.
async fn accepted_from(servers: &[&Server], ip: &str, n: usize) -> usize {
    let http = Http::default();
    let mut ok = 0;
    for i in 0..n {
        let s = servers[i % servers.len()];
        let email = format!("{}@example.com", unique("shared"));
        let r = http
            .send(
                "POST",
                &s.url("/api/subscribe"),
                &[
                    ("content-type", "application/json"),
                    ("x-forwarded-for", ip),
                ],
                body(&email, &["daily"], "en").to_string(),
            )
            .await;
        match r.status {
            202 => ok += 1,
            429 => {
                let wait: u64 = r
                    .header("retry-after")
                    .and_then(|v| v.parse().ok())
                    .expect("Retry-After");
                assert!((1..=60).contains(&wait), "Retry-After {wait}");
            }
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    ok
}

async fn the_per_ip_limit_is_per_process_unless_shared_in_postgres(b: Backend) {
    let postgres = b.url.starts_with("postgres");
    let second = Backend {
        url: b.url.clone(),
        dir: None,
    };
    let tweak = |shared: bool| {
        move |c: &mut letterbox_receiver::config::Config| {
            c.trust_forwarded_for = true;
            c.limits.per_ip_per_minute = 5;
            c.limits.shared_per_ip = shared;
        }
    };
    // Per process: two processes together accept twice the limit from one IP.
    let a = Server::start(b, tweak(false)).await;
    let c = Server::start(second, tweak(false)).await;
    assert_eq!(accepted_from(&[&a, &c], &fresh_ip(), 16).await, 10);
    c.stop().await;
    if !postgres {
        // SQLite refuses the shared limit in its configuration.
        let mut config = common::test_config(&a.backend.url);
        config.limits.shared_per_ip = true;
        assert!(config.validate().is_err());
        a.stop().await;
        return;
    }
    // Shared in PostgreSQL: the two processes accept the limit once (one more at most, if a
    // token refills during the run: 5 per minute is one every 12 seconds).
    let url = a.backend.url.clone();
    a.stop().await;
    let a = Server::start(
        Backend {
            url: url.clone(),
            dir: None,
        },
        tweak(true),
    )
    .await;
    let c = Server::start(Backend { url, dir: None }, tweak(true)).await;
    let ip = fresh_ip();
    let ok = accepted_from(&[&a, &c], &ip, 16).await;
    assert!((5..=6).contains(&ok), "accepted {ok}");
    // Another IP has its own bucket.
    assert!(accepted_from(&[&a, &c], &fresh_ip(), 2).await == 2);
    a.stop().await;
    c.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Slow clients: raw TCP that dribbles bytes.

/// A receiver (SQLite) that gives a header 1 second and a request 2 seconds.
async fn impatient() -> Server {
    Server::start(Backend::sqlite(), |c| {
        c.timeouts.header_read_secs = 1;
        c.timeouts.request_secs = 2;
    })
    .await
}

/// Writes `head` at once, then one byte of `drip` every 100 ms, until the server closes or
/// `drip` runs out; meanwhile reads. Returns what the server sent and when it closed.
async fn dribble(addr: std::net::SocketAddr, head: &str, drip: usize) -> (String, Duration) {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut rd, mut wr) = stream.into_split();
    let head = head.to_owned();
    let writer = tokio::spawn(async move {
        if wr.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        for _ in 0..drip {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if wr.write_all(b"a").await.is_err() {
                return;
            }
        }
        // Keep the write side open: a slow client does not hang up.
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = tokio::time::timeout(Duration::from_secs(8), async {
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    writer.abort();
    assert!(
        closed.is_ok(),
        "the server kept the connection open for 8 s; it sent {:?}",
        String::from_utf8_lossy(&got)
    );
    (
        String::from_utf8_lossy(&got).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_connection_is_closed_after_the_header_timeout() {
    let s = impatient().await;
    let (got, took) = dribble(s.running.addr, "", 0).await;
    assert!(got.is_empty() || got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(took < Duration::from_secs(4), "{took:?}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_sent_byte_by_byte_is_cut_off() {
    let s = impatient().await;
    // 60 bytes at 10 a second would take 6 seconds; the header timeout is 1.
    let (got, took) = dribble(
        s.running.addr,
        "POST /api/subscribe HTTP/1.1\r\nHost: x\r\nX-Slow: ",
        60,
    )
    .await;
    assert!(got.is_empty() || got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(took < Duration::from_secs(4), "{took:?}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_sent_byte_by_byte_gets_408_and_the_connection_closes() {
    let s = impatient().await;
    let head = "POST /api/subscribe HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                Content-Length: 300\r\n\r\n{\"email\":\"";
    let (got, took) = dribble(s.running.addr, head, 200).await;
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(got.contains("\"error\""), "{got}");
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(5),
        "{took:?}"
    );
    // Nothing was stored, and the receiver still answers.
    assert!(s.running.db.subscriptions().await.expect("rows").is_empty());
    let http = Http::default();
    let email = format!("{}@example.com", unique("after"));
    let r = http
        .signup(&s.base, &body(&email, &["daily"], "en"), None)
        .await;
    assert_eq!(r.status, 202);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_after_the_header_timeout() {
    let s = impatient().await;
    let mut stream = TcpStream::connect(s.running.addr).await.expect("connect");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = tokio::time::timeout(Duration::from_secs(8), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let got = String::from_utf8_lossy(&got);
    assert!(closed.is_ok(), "kept open: {got}");
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    assert!(started.elapsed() < Duration::from_secs(4));
    s.stop().await;
}

// ---------------------------------------------------------------------------------------------
// The binary: `check` reports the log format, `serve` writes JSON lines.

fn config_file(dir: &std::path::Path, extra: &str) -> std::path::PathBuf {
    let path = dir.join("receiver.toml");
    std::fs::write(
        &path,
        format!(
            "listen = \"127.0.0.1:0\"\n{extra}\n[[newsletters]]\nid = \"daily\"\nname = \"Daily\"\n"
        ),
    )
    .expect("write config");
    path
}

fn check(config: &std::path::Path, env: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_letterbox-receiver"));
    cmd.args(["--config", &config.display().to_string(), "check"])
        .env_remove("LOG_FORMAT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run check");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn check_reports_the_log_format_from_the_file_or_log_format() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = config_file(dir.path(), "");
    let (ok, out) = check(&text, &[]);
    assert!(ok && out.contains("logs text"), "{out}");
    let (ok, out) = check(&text, &[("LOG_FORMAT", "json")]);
    assert!(ok && out.contains("logs json"), "{out}");
    let (ok, out) = check(&text, &[("LOG_FORMAT", "xml")]);
    assert!(!ok && out.contains("LOG_FORMAT"), "{out}");
    let other = tempfile::tempdir().expect("temp dir");
    let json = config_file(other.path(), "log_format = \"json\"");
    let (ok, out) = check(&json, &[]);
    assert!(ok && out.contains("logs json"), "{out}");
}

#[test]
fn serve_writes_json_log_lines_with_log_format_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = config_file(dir.path(), "");
    let mut child = Command::new(env!("CARGO_BIN_EXE_letterbox-receiver"))
        .args(["--config", &config.display().to_string(), "serve"])
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("logs.db").display()),
        )
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("receiver binary starts");
    let stderr = child.stderr.take().expect("stderr");
    // Every line is JSON; other lines may come first (sqlx warns of a slow statement on a busy
    // machine), so read up to the start-up line.
    let mut lines = BufReader::new(stderr).lines();
    let mut started = None;
    for _ in 0..50 {
        let Some(Ok(line)) = lines.next() else { break };
        let v: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if v["fields"]["message"] == "letterbox-receiver started" {
            started = Some((v, line));
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let (v, line) = started.expect("a start-up log line");
    assert_eq!(v["level"], "INFO", "{line}");
    assert_eq!(
        v["fields"]["message"], "letterbox-receiver started",
        "{line}"
    );
    assert!(v["timestamp"].is_string(), "{line}");
}
