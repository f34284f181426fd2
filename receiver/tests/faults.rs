//! Write failures: a database that cannot write (SQLite full through `max_page_count`, a
//! PostgreSQL commit that fails) must never let a signup be answered 2xx without being stored,
//! `/healthz` must say so, and the receiver must recover by itself once writes work again.

mod common;

use std::collections::HashMap;

use common::{body, say, unique, Backend, Http, Server};
use sqlx::{Connection, Row};

/// Sends `n` signups with distinct addresses, 8 at a time; returns (address, status) pairs.
async fn burst(s: &Server, http: &Http, prefix: &str, n: usize) -> Vec<(String, u16)> {
    let mut out = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(8) {
        let mut tasks = Vec::new();
        for i in chunk {
            let email = format!("{prefix}-{i}@example.com");
            let key = format!("{prefix}-key-{i}");
            let (http, base) = (http.clone(), s.base.clone());
            tasks.push(tokio::spawn(async move {
                let r = http
                    .signup(&base, &body(&email, &["daily"], "en"), Some(&key))
                    .await;
                (email, r.status)
            }));
        }
        for t in tasks {
            out.push(t.await.expect("client task"));
        }
    }
    out
}

fn acked(results: &[(String, u16)]) -> Vec<String> {
    results
        .iter()
        .filter(|(_, s)| (200..300).contains(s))
        .map(|(e, _)| e.clone())
        .collect()
}

async fn stored(s: &Server) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for r in s.running.db.subscriptions().await.expect("rows") {
        if r.newsletter == "daily" {
            *counts.entry(r.email.to_lowercase()).or_insert(0) += 1;
        }
    }
    counts
}

fn assert_all_stored_once(acked: &[String], counts: &HashMap<String, usize>) {
    let lost: Vec<&String> = acked
        .iter()
        .filter(|e| counts.get(&e.to_lowercase()).copied() != Some(1))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged signups are not stored exactly once, e.g. {:?}",
        lost.len(),
        acked.len(),
        lost.first()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sqlite_database_never_acknowledges_a_lost_signup_and_recovers() {
    let backend = Backend::sqlite();
    let file = backend.url.trim_start_matches("sqlite://").to_owned();
    let s = Server::start(backend, |c| {
        c.limits.confirmations_per_address_per_day = 0;
    })
    .await;
    let http = Http::default();
    let before = burst(&s, &http, "before", 16).await;
    assert_eq!(acked(&before).len(), 16, "{before:?}");

    // Make the database full: no page may be added beyond the ones it has now.
    let ro = sqlx::SqlitePool::connect(&format!("sqlite://{file}?mode=ro"))
        .await
        .expect("open read-only");
    let pages: i64 = sqlx::query("PRAGMA page_count")
        .fetch_one(&ro)
        .await
        .and_then(|r| r.try_get(0))
        .expect("page_count");
    ro.close().await;
    s.running
        .db
        .set_sqlite_max_pages(Some(u64::try_from(pages).expect("pages")));
    let full = burst(&s, &http, "full", 300).await;
    let refused = full.iter().filter(|(_, st)| *st == 500).count();
    let health_full = http.send("GET", &s.url("/healthz"), &[], "").await;

    // Space again: the receiver must take signups again without a restart.
    s.running.db.set_sqlite_max_pages(None);
    let after = burst(&s, &http, "after", 40).await;
    let health_after = http.send("GET", &s.url("/healthz"), &[], "").await;

    let mut all_acked = acked(&before);
    all_acked.extend(acked(&full));
    all_acked.extend(acked(&after));
    let counts = stored(&s).await;
    // Stop, keeping the temporary folder for the reopening below.
    let Server {
        running, backend, ..
    } = s;
    running.stop().await.expect("graceful stop");
    say(&format!(
        "full SQLite: {} acknowledged and {refused} refused while full; health {} while full, {} after; {} addresses stored",
        acked(&full).len(),
        health_full.status,
        health_after.status,
        counts.len()
    ));
    // Nothing acknowledged is lost, also across a reopening of the file.
    assert_all_stored_once(&all_acked, &counts);
    let db = letterbox_receiver::db::Db::connect(&format!("sqlite://{file}"), 2)
        .await
        .expect("reopen");
    let mut reopened = HashMap::new();
    for r in db.subscriptions().await.expect("rows") {
        *reopened.entry(r.email.to_lowercase()).or_insert(0) += 1;
    }
    db.close().await;
    drop(backend);
    assert_all_stored_once(&all_acked, &reopened);
    assert!(refused > 0, "the database never became full: {full:?}");
    assert_eq!(
        acked(&after).len(),
        40,
        "no recovery after space came back: {after:?}"
    );
    assert_eq!(health_full.status, 503, "{}", health_full.body);
    assert_eq!(health_after.status, 200, "{}", health_after.body);
}

/// A PostgreSQL database of its own (the trigger below would disturb other tests).
async fn own_database(admin_url: &str) -> String {
    let name = unique("lbfault").to_lowercase();
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("connect PostgreSQL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create database");
    admin.close().await.expect("close");
    let (base, _) = admin_url
        .rsplit_once('/')
        .expect("a PostgreSQL URL with a database");
    format!("{base}/{name}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_postgres_commit_never_acknowledges_a_lost_signup_and_recovers() {
    let Some(admin) = Backend::postgres() else {
        say(&format!(
            "skipped: {} not set (a_failing_postgres_commit_never_acknowledges_a_lost_signup_and_recovers)",
            common::PG_VAR
        ));
        return;
    };
    let url = own_database(&admin.url).await;
    let s = Server::start(
        Backend {
            url: url.clone(),
            dir: None,
        },
        |c| {
            c.limits.confirmations_per_address_per_day = 0;
        },
    )
    .await;
    let http = Http::default();
    let before = burst(&s, &http, "before", 16).await;
    assert_eq!(acked(&before).len(), 16, "{before:?}");

    // Every commit that wrote a subscription or a health probe fails while `fault` has a row:
    // a deferred constraint trigger raises at COMMIT time, after every statement succeeded.
    let mut c = sqlx::PgConnection::connect(&url).await.expect("connect");
    for sql in [
        "CREATE TABLE fault (on_ BOOLEAN)",
        "CREATE FUNCTION fail_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         IF EXISTS (SELECT 1 FROM fault) THEN RAISE EXCEPTION 'disk full (simulated)'; END IF; \
         RETURN NULL; END $$",
        "CREATE CONSTRAINT TRIGGER fail_subscriptions AFTER INSERT OR UPDATE ON subscriptions \
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_commit()",
        "CREATE CONSTRAINT TRIGGER fail_probe AFTER INSERT OR UPDATE ON health_probe \
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_commit()",
        "INSERT INTO fault VALUES (true)",
    ] {
        sqlx::query(sql).execute(&mut c).await.expect(sql);
    }
    let failing = burst(&s, &http, "failing", 40).await;
    let health_failing = http.send("GET", &s.url("/healthz"), &[], "").await;
    sqlx::query("DELETE FROM fault")
        .execute(&mut c)
        .await
        .expect("heal");
    c.close().await.expect("close");
    let after = burst(&s, &http, "after", 40).await;
    let health_after = http.send("GET", &s.url("/healthz"), &[], "").await;
    let mut all_acked = acked(&before);
    all_acked.extend(acked(&failing));
    all_acked.extend(acked(&after));
    let counts = stored(&s).await;
    s.stop().await;
    assert_all_stored_once(&all_acked, &counts);
    assert!(
        acked(&failing).is_empty(),
        "acknowledged while every commit failed: {failing:?}"
    );
    assert_eq!(acked(&after).len(), 40, "no recovery: {after:?}");
    assert_eq!(health_failing.status, 503, "{}", health_failing.body);
    assert_eq!(health_after.status, 200, "{}", health_after.body);
}

/// The real binary with SIGXFSZ ignored (so a write past the file-size limit fails with EFBIG
/// instead of killing it), its URL, and a guard that kills it.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_ignoring_sigxfsz(config: &std::path::Path, db_url: &str) -> (Child, String) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; exec \"$0\" --config \"$1\" serve")
        .arg(env!("CARGO_BIN_EXE_letterbox-receiver"))
        .arg(config)
        .env("DATABASE_URL", db_url)
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("receiver starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("listening line");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected {line:?}"))
        .to_owned();
    (Child(child), url)
}

fn prlimit_fsize(pid: u32, limit: &str) {
    let ok = std::process::Command::new("prlimit")
        .args(["--pid", &pid.to_string(), &format!("--fsize={limit}:")])
        .status()
        .expect("prlimit runs")
        .success();
    assert!(ok, "prlimit --fsize={limit} failed");
}

/// The case: the disk fills up under the running process (here its file-size limit:
/// writes beyond it fail with EFBIG, which SQLite reports like a full disk, also at COMMIT),
/// then space comes back. Needs `prlimit` (util-linux); skipped without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_that_fills_up_under_sqlite_loses_no_acknowledged_signup() {
    if std::process::Command::new("prlimit")
        .arg("--version")
        .output()
        .is_err()
    {
        say("skipped: prlimit not found (a_disk_that_fills_up_under_sqlite_loses_no_acknowledged_signup)");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("receiver.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\npublic_url = \"http://receiver.test\"\n\
         [limits]\nper_ip_per_minute = 0\nper_address_per_hour = 0\n\
         confirmations_per_address_per_day = 0\n\
         [[newsletters]]\nid = \"daily\"\nname = \"Daily\"\n",
    )
    .expect("config");
    let db_path = dir.path().join("full.db");
    let db_url = format!("sqlite://{}", db_path.display());
    let (child, url) = spawn_ignoring_sigxfsz(&config, &db_url);
    let pid = child.0.id();
    let http = Http::default();
    let fake = Server {
        running: letterbox_receiver::start({
            // Only for `burst`'s base URL; a second receiver on its own file, never used.
            let mut c = common::test_config(&format!(
                "sqlite://{}",
                dir.path().join("unused.db").display()
            ));
            c.retention.interval_secs = 0;
            c
        })
        .await
        .expect("helper"),
        base: url.clone(),
        backend: Backend {
            url: String::new(),
            dir: None,
        },
    };
    let before = burst(&fake, &http, "before", 24).await;
    assert_eq!(acked(&before).len(), 24, "{before:?}");
    let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let wal = dir.path().join("full.db-wal");
    let limit = size(&db_path).max(size(&wal)) + 8 * 1024;
    prlimit_fsize(pid, &limit.to_string());
    let full = burst(&fake, &http, "full", 48).await;
    let health_full = http.send("GET", &format!("{url}/healthz"), &[], "").await;
    prlimit_fsize(pid, "unlimited");
    let after = burst(&fake, &http, "after", 40).await;
    let health_after = http.send("GET", &format!("{url}/healthz"), &[], "").await;
    drop(child);
    fake.running.stop().await.expect("stop helper");

    let mut all_acked = acked(&before);
    all_acked.extend(acked(&full));
    all_acked.extend(acked(&after));
    let db = letterbox_receiver::db::Db::connect(&db_url, 2)
        .await
        .expect("reopen");
    let mut counts = HashMap::new();
    for r in db.subscriptions().await.expect("rows") {
        *counts.entry(r.email.to_lowercase()).or_insert(0) += 1;
    }
    db.close().await;
    let refused = full
        .iter()
        .filter(|(_, st)| !(200..300).contains(st))
        .count();
    say(&format!(
        "disk full under SQLite: {} acknowledged and {refused} refused while full, {} of 40 after; \
         health {} while full, {} after; {} of {} acknowledged stored after kill -9",
        acked(&full).len(),
        acked(&after).len(),
        health_full.status,
        health_after.status,
        all_acked
            .iter()
            .filter(|e| counts.get(&e.to_lowercase()) == Some(&1))
            .count(),
        all_acked.len()
    ));
    assert_all_stored_once(&all_acked, &counts);
    assert!(refused > 0, "the disk never became full");
    assert_eq!(acked(&after).len(), 40, "no recovery: {after:?}");
    // (While full, the health probe may still fit into WAL space SQLite reuses; the
    // max_page_count test checks the 503.)
    assert_eq!(health_after.status, 200, "{}", health_after.body);
}
