//! Storage: one [`Db`] over SQLite or PostgreSQL (sqlx's `Any` driver), the embedded migrations,
//! and every query the receiver runs. Queries are plain runtime SQL that both databases accept
//! (`$n` placeholders, `ON CONFLICT`, `RETURNING`, BIGINT millisecond times), so there is one code
//! path and one schema.
//!
//! SQLite: the file is created if missing, put in WAL mode with `synchronous = FULL` (a signup
//! that was answered 2xx survives a crash of the process or the machine), and writes are
//! serialised inside the process so concurrent signups queue instead of spinning on the lock.
//! PostgreSQL: any number of receiver processes can share one database; uniqueness comes from
//! primary keys, never from the process.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Row};
use tokio::sync::{mpsc, oneshot, Notify};

use crate::config::Retention;

/// The embedded migrations, in order. Append new files; never edit an applied one.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "subscribers",
        include_str!("../migrations/0001_subscribers.sql"),
    ),
    (
        2,
        "cleanup and shared limits",
        include_str!("../migrations/0002_cleanup_and_shared_limits.sql"),
    ),
    (3, "consent", include_str!("../migrations/0003_consent.sql")),
    (
        4,
        "health probe",
        include_str!("../migrations/0004_health_probe.sql"),
    ),
    (5, "stats", include_str!("../migrations/0005_stats.sql")),
];

const HOUR_MS: i64 = 3600 * 1000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// Rows deleted per statement by the cleanup, so signups are not held up behind one long delete.
const CLEANUP_BATCH: u64 = 500;

/// How long a confirmation link stays valid.
pub const CONFIRMATION_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

/// A database error, as a message for the log (never shown to readers).
pub type DbResult<T> = Result<T, String>;

fn err(e: impl std::fmt::Display) -> String {
    format!("database: {e}")
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A random URL-safe token (128 bits, hex).
pub fn token() -> DbResult<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| format!("random: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[derive(Debug)]
struct Embedded;

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(
        self,
    ) -> futures_core_box::BoxFuture<'s, Result<Vec<Migration>, sqlx::error::BoxDynError>> {
        Box::pin(async {
            Ok(MIGRATIONS
                .iter()
                .map(|(version, name, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(*name),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

mod futures_core_box {
    pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
}

/// The connection pool, the writer tasks that commit signups, and what the receiver needs to
/// know about the backend.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    sqlite: bool,
    write_lock: Arc<tokio::sync::Mutex<()>>,
    page_limit: Arc<AtomicU64>,
    writer: mpsc::Sender<Work>,
    stop_writers: Arc<Notify>,
    writers: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("sqlite", &self.sqlite)
            .finish_non_exhaustive()
    }
}

/// What a signup did to the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignupResult {
    /// Every chosen newsletter was already confirmed (and the owner is not notified).
    AlreadySubscribed,
    /// Every chosen newsletter was already confirmed; `email` is the notice to the owner (None
    /// when the daily cap for this mailbox is reached). Answered like a new signup.
    OwnerNotified {
        /// The outbox row written, if any.
        email: Option<OutboxEmail>,
    },
    /// At least one newsletter awaits confirmation; `email` is the confirmation email to send
    /// (None when the daily cap for this address is reached).
    Pending {
        /// The outbox row written, if any.
        email: Option<OutboxEmail>,
    },
    /// Another request with the same idempotency key was stored first: replay its answer.
    Replay(StoredAnswer),
}

/// An answer stored under an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    /// What the request was (normalised address and newsletters).
    pub fingerprint: String,
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: String,
}

/// A confirmation email written to the outbox.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutboxEmail {
    /// Row id.
    pub id: String,
    /// Recipient.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// The confirmation link.
    pub link: String,
    /// When it was written (ms).
    pub created_at: i64,
    /// When it was handed to SMTP (ms), if it was.
    pub sent_at: Option<i64>,
}

/// One subscription, for export and checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The address as submitted (normalised).
    pub email: String,
    /// Newsletter id.
    pub newsletter: String,
    /// `pending_confirmation`, `subscribed` or `unsubscribed`.
    pub status: String,
    /// The reader's language.
    pub locale: String,
    /// The page the signup came from.
    pub source_page: String,
    /// First signup (ms).
    pub created_at: i64,
    /// Confirmation (ms).
    pub confirmed_at: Option<i64>,
    /// The consent record (compact JSON) of the signup that asked for it, if one was given.
    pub consent: Option<String>,
}

/// A signup to record.
#[derive(Debug, Clone)]
pub struct NewSignup<'a> {
    /// Normalised address.
    pub email: &'a str,
    /// Newsletter ids (known, deduplicated).
    pub newsletters: &'a [String],
    /// `en` or `uk`.
    pub locale: &'a str,
    /// `source.page`.
    pub page: &'a str,
    /// `source.slot`.
    pub slot: &'a str,
    /// The consent record, checked and re-serialised as compact JSON.
    pub consent: Option<&'a str>,
    /// Idempotency key and request fingerprint.
    pub idempotency: Option<(&'a str, &'a str)>,
    /// Daily cap on confirmation emails (0 = none).
    pub daily_cap: u32,
}

/// How many rows one cleanup deleted, by table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cleaned {
    /// Answers stored under idempotency keys.
    pub idempotency: u64,
    /// Expired confirmation links.
    pub confirmations: u64,
    /// Outbox emails.
    pub outbox: u64,
    /// Daily email counts of past days.
    pub mail_counts: u64,
    /// Daily slot statistics older than the retention.
    pub stats: u64,
    /// Idle shared rate-limit buckets.
    pub rate_buckets: u64,
}

impl Cleaned {
    /// All rows deleted.
    pub fn total(&self) -> u64 {
        self.idempotency
            + self.confirmations
            + self.outbox
            + self.mail_counts
            + self.stats
            + self.rate_buckets
    }
}

/// A confirmation token's row.
#[derive(Debug, Clone)]
pub struct Confirmation {
    /// Address key.
    pub email_key: String,
    /// The address.
    pub email: String,
    /// Newsletter ids it confirms.
    pub newsletters: Vec<String>,
    /// Reader's language.
    pub locale: String,
    /// Expiry (ms).
    pub expires_at: i64,
    /// Already used (ms).
    pub confirmed_at: Option<i64>,
}

/// The address behind an unsubscribe token.
#[derive(Debug, Clone)]
pub struct Subscriber {
    /// Address key.
    pub email_key: String,
    /// The address.
    pub email: String,
    /// Reader's language.
    pub locale: String,
    /// Newsletters currently subscribed or pending.
    pub active: Vec<String>,
}

/// The key an address is stored under: the whole address lower-cased, so `Jane@x` and `jane@x`
/// are one subscriber.
pub fn email_key(email: &str) -> String {
    email.to_lowercase()
}

/// Everything needed to write the confirmation email, supplied by the caller.
pub trait ConfirmationMail {
    /// Subject and body for `email`, `newsletters`, `link` (confirm) and `unsubscribe` link.
    fn compose(
        &self,
        email: &str,
        newsletters: &[String],
        link: &str,
        unsubscribe: &str,
    ) -> (String, String);

    /// Subject and body of the notice sent to an address that is already subscribed to every
    /// newsletter someone asked for, instead of telling the person who typed it.
    fn notice(&self, email: &str, newsletters: &[String], unsubscribe: &str) -> (String, String);
}

impl Db {
    /// Connects (creating a SQLite file if needed) and applies the migrations.
    pub async fn connect(url: &str, max_connections: u32) -> DbResult<Db> {
        sqlx::any::install_default_drivers();
        let sqlite = url.starts_with("sqlite:");
        let url = if sqlite {
            prepare_sqlite_url(url)?
        } else {
            url.to_owned()
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite {
                max_connections.min(8)
            } else {
                max_connections
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if sqlite {
                        sqlx::query("PRAGMA busy_timeout = 10000")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA synchronous = FULL")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(err)?;
        if sqlite {
            let mode: String = sqlx::query("PRAGMA journal_mode = WAL")
                .fetch_one(&pool)
                .await
                .and_then(|r| r.try_get(0))
                .map_err(err)?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(format!("SQLite refused WAL mode (journal_mode = {mode})"));
            }
        }
        let migrator = Migrator::new(Embedded).await.map_err(err)?;
        migrator.run(&pool).await.map_err(err)?;
        let (writer, queue) = mpsc::channel(4096);
        let queue = Arc::new(tokio::sync::Mutex::new(queue));
        let db = Db {
            pool,
            sqlite,
            write_lock: Default::default(),
            page_limit: Default::default(),
            writer,
            stop_writers: Default::default(),
            writers: Default::default(),
        };
        // SQLite has one writer at a time anyway; PostgreSQL overlaps a few batches.
        let tasks = if sqlite {
            1
        } else {
            max_connections.div_ceil(4).clamp(1, 4)
        };
        let handles = (0..tasks)
            .map(|_| {
                tokio::spawn(
                    Writer {
                        pool: db.pool.clone(),
                        sqlite,
                        write_lock: db.write_lock.clone(),
                        page_limit: db.page_limit.clone(),
                        queue: queue.clone(),
                        stop: db.stop_writers.clone(),
                    }
                    .run(),
                )
            })
            .collect();
        if let Ok(mut w) = db.writers.lock() {
            *w = handles;
        }
        Ok(db)
    }

    /// SQLite only: caps the database file at `pages` pages (`PRAGMA max_page_count`) for every
    /// later write, so that tests can make the database full; `None` lifts the cap.
    pub fn set_sqlite_max_pages(&self, pages: Option<u64>) {
        self.page_limit
            .store(pages.unwrap_or(4_294_967_294), Ordering::SeqCst);
    }

    /// Whether this is SQLite (else PostgreSQL).
    pub fn is_sqlite(&self) -> bool {
        self.sqlite
    }

    /// Stops the writer tasks and closes the pool (after the server has stopped).
    pub async fn close(&self) {
        let handles = match self.writers.lock() {
            Ok(mut w) => std::mem::take(&mut *w),
            Err(_) => Vec::new(),
        };
        for h in handles {
            // notify_waiters reaches a writer only while it waits; repeat until it is done.
            let mut h = h;
            loop {
                self.stop_writers.notify_waiters();
                tokio::select! {
                    _ = &mut h => break,
                    _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                }
            }
        }
        self.pool.close().await;
    }

    /// `SELECT 1`, for the health check.
    pub async fn ping(&self) -> DbResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(err)
    }

    async fn write_guard(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        if self.sqlite {
            Some(self.write_lock.lock().await)
        } else {
            None
        }
    }

    /// The answer stored under an idempotency key.
    pub async fn idempotent_answer(&self, key: &str) -> DbResult<Option<StoredAnswer>> {
        let row =
            sqlx::query("SELECT fingerprint, status, body FROM idempotency WHERE idem_key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await
                .map_err(err)?;
        row.map(|r| stored_answer(&r)).transpose()
    }

    /// Records a signup durably: the address, one subscription per newsletter (never twice), a
    /// confirmation token and outbox email when something awaits confirmation (or, when
    /// `notify_owner` is set and everything chosen is already confirmed, a notice to the owner),
    /// both within the daily cap of the mailbox, and the answer under the idempotency key.
    ///
    /// The signup is handed to the writer task, which commits the signups that arrive together in
    /// one transaction (group commit: one fsync for the batch); this returns only after that
    /// transaction committed, so an `Ok` is always durable. If the batch fails, each of its
    /// signups is retried alone, so one bad signup cannot fail the others.
    pub async fn record_signup(&self, s: Signup) -> DbResult<SignupResult> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(Work::Signup(Arc::new(s), reply))
            .await
            .map_err(|_| "database: the writer has stopped".to_owned())?;
        answer
            .await
            .map_err(|_| "database: the writer dropped a signup".to_owned())?
    }

    /// Whether the database takes writes now: a small transaction that needs fresh pages (an
    /// insert of ~10 KB and its delete) through the same connection as the signups. Fails when
    /// the disk (or SQLite's `max_page_count`) is full or a commit fails.
    pub async fn probe_write(&self) -> DbResult<()> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(Work::Probe(reply))
            .await
            .map_err(|_| "database: the writer has stopped".to_owned())?;
        answer
            .await
            .map_err(|_| "database: the writer dropped a probe".to_owned())?
    }

    /// The confirmation behind a token.
    pub async fn confirmation(&self, token: &str) -> DbResult<Option<Confirmation>> {
        let row = sqlx::query(
            "SELECT c.email_key, a.email, c.newsletters, c.locale, c.expires_at, c.confirmed_at \
             FROM confirmations c JOIN addresses a ON a.email_key = c.email_key \
             WHERE c.token = $1",
        )
        .bind(token)
        .fetch_optional(&self.pool)
        .await
        .map_err(err)?;
        let Some(r) = row else { return Ok(None) };
        let list: String = r.try_get(2).map_err(err)?;
        Ok(Some(Confirmation {
            email_key: r.try_get(0).map_err(err)?,
            email: r.try_get(1).map_err(err)?,
            newsletters: list
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            locale: r.try_get(3).map_err(err)?,
            expires_at: r.try_get(4).map_err(err)?,
            confirmed_at: r.try_get(5).map_err(err)?,
        }))
    }

    /// Confirms the token's pending subscriptions (idempotent). Unsubscribed ones stay so.
    pub async fn confirm(&self, token: &str, c: &Confirmation) -> DbResult<()> {
        let _guard = self.write_guard().await;
        let now = now_ms();
        let mut tx = RawTx::begin(&self.pool, self.sqlite).await?;
        sqlx::query(
            "UPDATE confirmations SET confirmed_at = $2 WHERE token = $1 AND confirmed_at IS NULL",
        )
        .bind(token)
        .bind(now)
        .execute(tx.conn()?)
        .await
        .map_err(err)?;
        for n in &c.newsletters {
            sqlx::query(
                "UPDATE subscriptions SET status = 'subscribed', confirmed_at = $3, updated_at = $3 \
                 WHERE email_key = $1 AND newsletter = $2 AND status = 'pending_confirmation'",
            )
            .bind(&c.email_key)
            .bind(n)
            .bind(now)
            .execute(tx.conn()?)
            .await
            .map_err(err)?;
        }
        tx.commit().await
    }

    /// The subscriber behind an unsubscribe token.
    pub async fn subscriber(&self, token: &str) -> DbResult<Option<Subscriber>> {
        let row = sqlx::query(
            "SELECT email_key, email, locale FROM addresses WHERE unsubscribe_token = $1",
        )
        .bind(token)
        .fetch_optional(&self.pool)
        .await
        .map_err(err)?;
        let Some(r) = row else { return Ok(None) };
        let email_key: String = r.try_get(0).map_err(err)?;
        let active = sqlx::query(
            "SELECT newsletter FROM subscriptions WHERE email_key = $1 \
             AND status <> 'unsubscribed' ORDER BY newsletter",
        )
        .bind(&email_key)
        .fetch_all(&self.pool)
        .await
        .map_err(err)?
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
        Ok(Some(Subscriber {
            email: r.try_get(1).map_err(err)?,
            locale: r.try_get(2).map_err(err)?,
            email_key,
            active,
        }))
    }

    /// Unsubscribes the address from every newsletter (idempotent).
    pub async fn unsubscribe(&self, email_key: &str) -> DbResult<()> {
        let _guard = self.write_guard().await;
        sqlx::query(
            "UPDATE subscriptions SET status = 'unsubscribed', updated_at = $2 \
             WHERE email_key = $1 AND status <> 'unsubscribed'",
        )
        .bind(email_key)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map(|_| ())
        .map_err(err)
    }

    /// Every subscription, ordered by address then newsletter.
    pub async fn subscriptions(&self) -> DbResult<Vec<Subscription>> {
        let rows = sqlx::query(
            "SELECT a.email, s.newsletter, s.status, a.locale, s.source_page, s.created_at, \
             s.confirmed_at, s.consent FROM subscriptions s JOIN addresses a ON a.email_key = s.email_key \
             ORDER BY s.email_key, s.newsletter",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        rows.iter()
            .map(|r| {
                Ok(Subscription {
                    email: r.try_get(0)?,
                    newsletter: r.try_get(1)?,
                    status: r.try_get(2)?,
                    locale: r.try_get(3)?,
                    source_page: r.try_get(4)?,
                    created_at: r.try_get(5)?,
                    confirmed_at: r.try_get(6)?,
                    consent: r.try_get(7)?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(err)
    }

    /// The latest outbox emails, newest first.
    pub async fn outbox(&self, limit: i64) -> DbResult<Vec<OutboxEmail>> {
        let rows = sqlx::query(
            "SELECT id, to_address, subject, body, link, created_at, sent_at FROM outbox \
             ORDER BY created_at DESC, id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        rows.iter().map(outbox_row).collect()
    }

    /// Claims up to `limit` unsent emails for sending (claims expire after five minutes, so a
    /// crashed sender's emails are picked up again; several processes never claim the same one).
    pub async fn claim_unsent(&self, limit: i64) -> DbResult<Vec<OutboxEmail>> {
        let now = now_ms();
        let candidates = sqlx::query(
            "SELECT id, to_address, subject, body, link, created_at, sent_at FROM outbox \
             WHERE sent_at IS NULL AND attempts < 10 AND (claimed_at IS NULL OR claimed_at < $1) \
             ORDER BY created_at LIMIT $2",
        )
        .bind(now - 300_000)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        let mut claimed = Vec::new();
        for row in &candidates {
            let email = outbox_row(row)?;
            let _guard = self.write_guard().await;
            let won = sqlx::query(
                "UPDATE outbox SET claimed_at = $2, attempts = attempts + 1 \
                 WHERE id = $1 AND sent_at IS NULL AND (claimed_at IS NULL OR claimed_at < $3)",
            )
            .bind(&email.id)
            .bind(now)
            .bind(now - 300_000)
            .execute(&self.pool)
            .await
            .map_err(err)?
            .rows_affected();
            if won == 1 {
                claimed.push(email);
            }
        }
        Ok(claimed)
    }

    /// Deletes rows that are no longer needed, as of `now` (ms): answers stored under
    /// idempotency keys older than `retention.idempotency_hours`; confirmation links expired for
    /// more than `retention.expired_links_days`; outbox emails sent more than
    /// `retention.sent_emails_days` ago, or never sent and whose link expired that long ago;
    /// daily slot statistics older than `retention.stats_days`; daily email counts of days before
    /// yesterday; shared rate-limit buckets idle for an hour
    /// (a bucket that is absent is full, and an hour refills any of them). A retention of 0
    /// keeps that kind of row. Deletes in batches.
    pub async fn cleanup(&self, now: i64, retention: &Retention) -> DbResult<Cleaned> {
        let ms = |n: u64, unit: i64| i64::try_from(n).unwrap_or(i64::MAX).saturating_mul(unit);
        let mut done = Cleaned::default();
        if retention.idempotency_hours > 0 {
            let cutoff = now.saturating_sub(ms(retention.idempotency_hours, HOUR_MS));
            done.idempotency = self
                .delete_batched("idempotency", "idem_key", "created_at < $1", &[cutoff])
                .await?;
        }
        if retention.expired_links_days > 0 {
            let cutoff = now.saturating_sub(ms(retention.expired_links_days, DAY_MS));
            done.confirmations = self
                .delete_batched("confirmations", "token", "expires_at < $1", &[cutoff])
                .await?;
        }
        if retention.sent_emails_days > 0 {
            let sent_cutoff = now.saturating_sub(ms(retention.sent_emails_days, DAY_MS));
            let unsent_cutoff = sent_cutoff.saturating_sub(CONFIRMATION_TTL_MS);
            done.outbox = self
                .delete_batched(
                    "outbox",
                    "id",
                    "(sent_at IS NOT NULL AND sent_at < $1) OR (sent_at IS NULL AND created_at < $2)",
                    &[sent_cutoff, unsent_cutoff],
                )
                .await?;
        }
        if retention.stats_days > 0 {
            // Keyed by day (days since the epoch, UTC): the days before the cutoff day go.
            let cutoff_day = now.div_euclid(DAY_MS)
                - i64::try_from(retention.stats_days).unwrap_or(i64::MAX / 2);
            let _guard = self.write_guard().await;
            done.stats = sqlx::query("DELETE FROM stats_daily WHERE day < $1")
                .bind(cutoff_day)
                .execute(&self.pool)
                .await
                .map_err(err)?
                .rows_affected();
        }
        {
            let _guard = self.write_guard().await;
            done.mail_counts = sqlx::query("DELETE FROM mail_counts WHERE day < $1")
                .bind(now.div_euclid(DAY_MS) - 1)
                .execute(&self.pool)
                .await
                .map_err(err)?
                .rows_affected();
        }
        done.rate_buckets = self
            .delete_batched(
                "rate_buckets",
                "bucket",
                "updated_at < $1",
                &[now.saturating_sub(HOUR_MS)],
            )
            .await?;
        Ok(done)
    }

    async fn delete_batched(
        &self,
        table: &str,
        key: &str,
        condition: &str,
        binds: &[i64],
    ) -> DbResult<u64> {
        let sql = format!(
            "DELETE FROM {table} WHERE {key} IN \
             (SELECT {key} FROM {table} WHERE {condition} LIMIT {CLEANUP_BATCH})"
        );
        let mut total = 0;
        loop {
            let n = {
                let _guard = self.write_guard().await;
                let mut q = sqlx::query(&sql);
                for b in binds {
                    q = q.bind(*b);
                }
                q.execute(&self.pool).await.map_err(err)?.rows_affected()
            };
            total += n;
            if n < CLEANUP_BATCH {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }

    /// Takes one token from the shared bucket `bucket` (`capacity` per `period_ms`, refilled
    /// evenly), atomically in the database so that every process shares it: `Ok(Ok(()))` when
    /// taken, `Ok(Err(seconds))` to wait. PostgreSQL only (its row lock makes the read, refill
    /// and take one step).
    pub async fn take_token(
        &self,
        bucket: &str,
        capacity: u32,
        period_ms: i64,
    ) -> DbResult<Result<(), u64>> {
        if capacity == 0 {
            return Ok(Ok(()));
        }
        let capacity = f64::from(capacity);
        let per_ms = capacity / period_ms.max(1) as f64;
        let row = sqlx::query(
            "INSERT INTO rate_buckets AS b (bucket, tokens, updated_at, granted) \
             VALUES ($1, $2 - 1, $4, 1) \
             ON CONFLICT (bucket) DO UPDATE SET \
             tokens = LEAST($2, b.tokens + GREATEST(0, $4 - b.updated_at) * $3) \
               - CASE WHEN LEAST($2, b.tokens + GREATEST(0, $4 - b.updated_at) * $3) >= 1 \
                 THEN 1 ELSE 0 END, \
             granted = CASE WHEN LEAST($2, b.tokens + GREATEST(0, $4 - b.updated_at) * $3) >= 1 \
                 THEN 1 ELSE 0 END, \
             updated_at = GREATEST(b.updated_at, $4) \
             RETURNING tokens, granted",
        )
        .bind(bucket)
        .bind(capacity)
        .bind(per_ms)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await
        .map_err(err)?;
        let tokens: f64 = row.try_get(0).map_err(err)?;
        let granted: i64 = row.try_get(1).map_err(err)?;
        if granted == 1 {
            Ok(Ok(()))
        } else {
            let wait = ((1.0 - tokens) / per_ms / 1000.0).ceil();
            Ok(Err((wait as u64).max(1)))
        }
    }

    /// Marks an outbox email sent, or records why sending failed (it is retried later).
    pub async fn mark_sent(&self, id: &str, error: Option<&str>) -> DbResult<()> {
        let _guard = self.write_guard().await;
        let q = match error {
            None => sqlx::query("UPDATE outbox SET sent_at = $2, last_error = NULL WHERE id = $1")
                .bind(id)
                .bind(now_ms()),
            Some(e) => sqlx::query("UPDATE outbox SET last_error = $2 WHERE id = $1")
                .bind(id)
                .bind(e.to_owned()),
        };
        q.execute(&self.pool).await.map(|_| ()).map_err(err)
    }
}

/// One statistics event to count: `n` more of `event` for `slot` (and `newsletter`, or '').
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatEvent {
    /// The slot's name.
    pub slot: String,
    /// A configured newsletter id, or '' when the event is not for one newsletter.
    pub newsletter: String,
    /// `seen`, `submitted`, `succeeded`, `queued` or `failed:<kind>`.
    pub event: String,
    /// How many (at least 1).
    pub n: i64,
}

/// What [`Db::record_stats`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsRecorded {
    /// Events added to the counts.
    pub counted: u64,
    /// Events dropped because the day already holds `max_rows_per_day` rows.
    pub dropped: u64,
}

/// One daily count as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatRow {
    /// Days since the Unix epoch (UTC).
    pub day: i64,
    /// The slot.
    pub slot: String,
    /// The page path.
    pub page: String,
    /// The newsletter, or ''.
    pub newsletter: String,
    /// The event.
    pub event: String,
    /// The count.
    pub n: i64,
}

/// Signups or confirmations of one day, by the slot that brought them (`source_slot`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotDay {
    /// Days since the Unix epoch (UTC).
    pub day: i64,
    /// `source_slot` of the subscription ('' for a signup without one).
    pub slot: String,
    /// Newsletter id.
    pub newsletter: String,
    /// Subscriptions created that day (one per address and newsletter).
    pub signed_up: i64,
    /// Of all subscriptions, those confirmed that day.
    pub confirmed: i64,
}

/// Changes in confirmed subscribers of one newsletter on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberChange {
    /// Newsletter id.
    pub newsletter: String,
    /// Days since the Unix epoch (UTC).
    pub day: i64,
    /// Confirmed that day minus unsubscribed that day (of confirmed subscriptions).
    pub delta: i64,
}

impl Db {
    /// Adds `events` (from one page view of `page`) to the daily counts of `day`, in one
    /// transaction. A row that does not exist yet is created only while the day holds fewer than
    /// `max_rows` rows (0: no cap); otherwise its events are dropped and counted as such.
    pub async fn record_stats(
        &self,
        day: i64,
        page: &str,
        events: &[StatEvent],
        max_rows: u32,
    ) -> DbResult<StatsRecorded> {
        let _guard = self.write_guard().await;
        let mut tx = RawTx::begin(&self.pool, self.sqlite).await?;
        let mut done = StatsRecorded::default();
        let mut rows: Option<i64> = None;
        for e in events {
            let n = e.n.max(1);
            let updated = sqlx::query(
                "UPDATE stats_daily SET n = n + $6 \
                 WHERE day = $1 AND slot = $2 AND page = $3 AND newsletter = $4 AND event = $5",
            )
            .bind(day)
            .bind(&e.slot)
            .bind(page)
            .bind(&e.newsletter)
            .bind(&e.event)
            .bind(n)
            .execute(tx.conn()?)
            .await
            .map_err(err)?
            .rows_affected();
            if updated > 0 {
                done.counted += n as u64;
                continue;
            }
            let have = match rows {
                Some(r) => r,
                None => {
                    let r: i64 = sqlx::query("SELECT COUNT(*) FROM stats_daily WHERE day = $1")
                        .bind(day)
                        .fetch_one(tx.conn()?)
                        .await
                        .map_err(err)?
                        .try_get(0)
                        .map_err(err)?;
                    r
                }
            };
            if max_rows > 0 && have >= i64::from(max_rows) {
                rows = Some(have);
                done.dropped += n as u64;
                continue;
            }
            sqlx::query(
                "INSERT INTO stats_daily (day, slot, page, newsletter, event, n) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (day, slot, page, newsletter, event) DO UPDATE SET n = stats_daily.n + excluded.n",
            )
            .bind(day)
            .bind(&e.slot)
            .bind(page)
            .bind(&e.newsletter)
            .bind(&e.event)
            .bind(n)
            .execute(tx.conn()?)
            .await
            .map_err(err)?;
            rows = Some(have + 1);
            done.counted += n as u64;
        }
        tx.commit().await?;
        Ok(done)
    }

    /// The daily counts of days `from..=to`, ordered by day, slot, page, newsletter, event.
    pub async fn stats_rows(&self, from: i64, to: i64) -> DbResult<Vec<StatRow>> {
        let rows = sqlx::query(
            "SELECT day, slot, page, newsletter, event, n FROM stats_daily \
             WHERE day >= $1 AND day <= $2 ORDER BY day, slot, page, newsletter, event",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        rows.iter()
            .map(|r| {
                Ok(StatRow {
                    day: r.try_get(0)?,
                    slot: r.try_get(1)?,
                    page: r.try_get(2)?,
                    newsletter: r.try_get(3)?,
                    event: r.try_get(4)?,
                    n: r.try_get(5)?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(err)
    }

    /// Subscriptions created and confirmed on each day of `from..=to`, by day, `source_slot` and
    /// newsletter: a confirmation counts for the slot that brought the signup.
    pub async fn slot_days(&self, from: i64, to: i64) -> DbResult<Vec<SlotDay>> {
        let (lo, hi) = (from.saturating_mul(DAY_MS), (to + 1).saturating_mul(DAY_MS));
        let mut out: std::collections::BTreeMap<(i64, String, String), (i64, i64)> =
            Default::default();
        for (column, confirmed) in [("created_at", false), ("confirmed_at", true)] {
            let sql = format!(
                "SELECT {column} / {DAY_MS} AS d, source_slot, newsletter, COUNT(*) FROM subscriptions \
                 WHERE {column} >= $1 AND {column} < $2 GROUP BY d, source_slot, newsletter"
            );
            let rows = sqlx::query(&sql)
                .bind(lo)
                .bind(hi)
                .fetch_all(&self.pool)
                .await
                .map_err(err)?;
            for r in &rows {
                let key: (i64, String, String) = (
                    r.try_get(0).map_err(err)?,
                    r.try_get(1).map_err(err)?,
                    r.try_get(2).map_err(err)?,
                );
                let n: i64 = r.try_get(3).map_err(err)?;
                let entry = out.entry(key).or_default();
                if confirmed {
                    entry.1 += n;
                } else {
                    entry.0 += n;
                }
            }
        }
        Ok(out
            .into_iter()
            .map(
                |((day, slot, newsletter), (signed_up, confirmed))| SlotDay {
                    day,
                    slot,
                    newsletter,
                    signed_up,
                    confirmed,
                },
            )
            .collect())
    }

    /// Every day's change in confirmed subscribers per newsletter, since the first: +1 on the
    /// day a subscription was confirmed, -1 on the day a confirmed one unsubscribed.
    pub async fn subscriber_changes(&self) -> DbResult<Vec<SubscriberChange>> {
        let sql = format!(
            "SELECT newsletter, confirmed_at / {DAY_MS} AS d, \
             CASE WHEN status = 'unsubscribed' THEN updated_at / {DAY_MS} ELSE -1 END AS u, COUNT(*) \
             FROM subscriptions WHERE confirmed_at IS NOT NULL \
             AND status IN ('subscribed', 'unsubscribed') GROUP BY newsletter, d, u"
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await.map_err(err)?;
        let mut out: std::collections::BTreeMap<(String, i64), i64> = Default::default();
        for r in &rows {
            let newsletter: String = r.try_get(0).map_err(err)?;
            let confirmed: i64 = r.try_get(1).map_err(err)?;
            let gone: i64 = r.try_get(2).map_err(err)?;
            let n: i64 = r.try_get(3).map_err(err)?;
            *out.entry((newsletter.clone(), confirmed)).or_default() += n;
            if gone >= 0 {
                *out.entry((newsletter, gone)).or_default() -= n;
            }
        }
        Ok(out
            .into_iter()
            .map(|((newsletter, day), delta)| SubscriberChange {
                newsletter,
                day,
                delta,
            })
            .collect())
    }

    /// Confirmed subscribers of a newsletter now.
    pub async fn confirmed_count(&self, newsletter: &str) -> DbResult<i64> {
        sqlx::query(
            "SELECT COUNT(*) FROM subscriptions WHERE newsletter = $1 AND status = 'subscribed'",
        )
        .bind(newsletter)
        .fetch_one(&self.pool)
        .await
        .map_err(err)?
        .try_get(0)
        .map_err(err)
    }
}

fn stored_answer(r: &AnyRow) -> DbResult<StoredAnswer> {
    let status: i64 = r.try_get(1).map_err(err)?;
    Ok(StoredAnswer {
        fingerprint: r.try_get(0).map_err(err)?,
        status: u16::try_from(status).unwrap_or(500),
        body: r.try_get(2).map_err(err)?,
    })
}

fn outbox_row(r: &AnyRow) -> DbResult<OutboxEmail> {
    Ok(OutboxEmail {
        id: r.try_get(0).map_err(err)?,
        to: r.try_get(1).map_err(err)?,
        subject: r.try_get(2).map_err(err)?,
        body: r.try_get(3).map_err(err)?,
        link: r.try_get(4).map_err(err)?,
        created_at: r.try_get(5).map_err(err)?,
        sent_at: r.try_get(6).map_err(err)?,
    })
}

/// `sqlite://path` → `sqlite://path?mode=rwc`, creating the parent folder.
fn prepare_sqlite_url(url: &str) -> DbResult<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        return Err(
            "database_url: give SQLite a file path, e.g. sqlite://data/letterbox.db".into(),
        );
    }
    if let Some(parent) = std::path::Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
    }
    let query = if query.is_empty() {
        "mode=rwc".to_owned()
    } else if query.contains("mode=") {
        query.to_owned()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

/// A transaction on a pooled connection in plain SQL. Unless [`RawTx::commit`] succeeds (an
/// error, or the future dropped by a request timeout), the connection is closed instead of going
/// back to the pool, so no connection ever returns to the pool inside a transaction.
struct RawTx {
    conn: Option<PoolConnection<Any>>,
}

impl RawTx {
    async fn begin(pool: &AnyPool, sqlite: bool) -> DbResult<RawTx> {
        let mut tx = RawTx {
            conn: Some(pool.acquire().await.map_err(err)?),
        };
        let begin = if sqlite { "BEGIN IMMEDIATE" } else { "BEGIN" };
        sqlx::query(begin).execute(tx.conn()?).await.map_err(err)?;
        Ok(tx)
    }

    fn conn(&mut self) -> DbResult<&mut AnyConnection> {
        self.conn
            .as_deref_mut()
            .ok_or_else(|| "database: transaction already finished".to_owned())
    }

    async fn commit(mut self) -> DbResult<()> {
        sqlx::query("COMMIT")
            .execute(self.conn()?)
            .await
            .map_err(err)?;
        // Committed: the connection may go back to the pool.
        drop(self.conn.take());
        Ok(())
    }
}

impl Drop for RawTx {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // Closing the connection ends (rolls back) whatever transaction it was in.
            drop(conn.detach());
        }
    }
}

/// Builds the (status, body) stored under an idempotency key from a signup's result.
pub type AnswerFn = dyn Fn(&SignupResult) -> (u16, String) + Send + Sync;

/// A signup for [`Db::record_signup`], owned so that the writer task can hold it.
pub struct Signup {
    /// Normalised address, as typed (the email goes to it).
    pub email: String,
    /// Newsletter ids (known, deduplicated).
    pub newsletters: Vec<String>,
    /// `en` or `uk`.
    pub locale: String,
    /// `source.page`.
    pub page: String,
    /// `source.slot`.
    pub slot: String,
    /// The consent record, checked and re-serialised as compact JSON.
    pub consent: Option<String>,
    /// Idempotency key and request fingerprint.
    pub idempotency: Option<(String, String)>,
    /// Daily cap on emails per mailbox ([`mailbox_key`]); 0 = none.
    pub daily_cap: u32,
    /// When every chosen newsletter is already confirmed, email the owner a notice (and return
    /// [`SignupResult::OwnerNotified`]) instead of returning [`SignupResult::AlreadySubscribed`].
    pub notify_owner: bool,
    /// `public_url` without a trailing slash, for the links.
    pub base_url: String,
    /// Writes the emails.
    pub mail: Arc<dyn ConfirmationMail + Send + Sync>,
    /// Builds the answer stored under the idempotency key from the result.
    pub answer: Arc<AnswerFn>,
}

impl std::fmt::Debug for Signup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signup")
            .field("newsletters", &self.newsletters)
            .field("locale", &self.locale)
            .finish_non_exhaustive()
    }
}

/// What the writer task is asked to do.
enum Work {
    Signup(Arc<Signup>, oneshot::Sender<DbResult<SignupResult>>),
    Probe(oneshot::Sender<DbResult<()>>),
}

/// The most signups committed in one transaction.
const MAX_BATCH: usize = 256;

/// State shared by the writer tasks.
struct Writer {
    pool: AnyPool,
    sqlite: bool,
    write_lock: Arc<tokio::sync::Mutex<()>>,
    page_limit: Arc<AtomicU64>,
    queue: Arc<tokio::sync::Mutex<mpsc::Receiver<Work>>>,
    stop: Arc<Notify>,
}

/// A connection owned by one writer task, with the page limit it was last given.
struct WriterConn {
    conn: PoolConnection<Any>,
    page_limit: u64,
}

impl Writer {
    /// Takes what is queued (waiting for the first item), commits it, answers; until stopped
    /// and the queue is empty.
    async fn run(self) {
        let mut conn: Option<WriterConn> = None;
        loop {
            let mut batch = Vec::new();
            let mut probes = Vec::new();
            {
                let mut queue = self.queue.lock().await;
                let first = tokio::select! {
                    w = queue.recv() => w,
                    _ = self.stop.notified() => None,
                };
                let Some(first) = first else { break };
                let mut next = Some(first);
                while let Some(w) = next.take() {
                    match w {
                        Work::Signup(s, reply) => batch.push((s, reply)),
                        Work::Probe(reply) => probes.push(reply),
                    }
                    if batch.len() < MAX_BATCH {
                        next = queue.try_recv().ok();
                    }
                }
            }
            if !batch.is_empty() {
                self.commit_batch(&mut conn, batch).await;
            }
            for reply in probes {
                let r = self.with_tx(&mut conn, probe).await;
                let _ = reply.send(r);
            }
        }
        if let Some(c) = conn {
            drop(c.conn);
        }
    }

    async fn commit_batch(
        &self,
        conn: &mut Option<WriterConn>,
        mut batch: Vec<(Arc<Signup>, oneshot::Sender<DbResult<SignupResult>>)>,
    ) {
        // One order for every batch, so concurrent PostgreSQL batches lock rows alike.
        batch.sort_by_key(|a| email_key(&a.0.email));
        let signups: Vec<Arc<Signup>> = batch.iter().map(|(s, _)| s.clone()).collect();
        let together = self
            .with_tx(conn, move |c: &mut AnyConnection| {
                Box::pin(async move {
                    let now = now_ms();
                    let mut out = Vec::with_capacity(signups.len());
                    for s in &signups {
                        out.push(apply_signup(c, s, now).await?);
                    }
                    Ok(out)
                })
            })
            .await;
        match together {
            Ok(results) => {
                for ((_, reply), r) in batch.into_iter().zip(results) {
                    let _ = reply.send(Ok(r));
                }
            }
            Err(e) if batch.len() == 1 => {
                for (_, reply) in batch {
                    let _ = reply.send(Err(e.clone()));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, signups = batch.len(), "a batch of signups failed; storing them one by one");
                for (s, reply) in batch {
                    let r = self
                        .with_tx(conn, move |c: &mut AnyConnection| {
                            Box::pin(async move { apply_signup(c, &s, now_ms()).await })
                        })
                        .await;
                    let _ = reply.send(r);
                }
            }
        }
    }

    /// Runs `work` in one transaction on the writer's connection (opened if needed). The
    /// transaction is plain SQL (`BEGIN`, `COMMIT`, `ROLLBACK`), not sqlx's transaction
    /// tracking, and after any failure the connection is closed rather than reused: a
    /// connection whose transaction state is in doubt (SQLite may roll back by itself on a full
    /// disk) never carries a later signup.
    async fn with_tx<T>(
        &self,
        slot: &mut Option<WriterConn>,
        work: impl for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, DbResult<T>>,
    ) -> DbResult<T> {
        let _guard = if self.sqlite {
            Some(self.write_lock.lock().await)
        } else {
            None
        };
        if slot.is_none() {
            let conn = self.pool.acquire().await.map_err(err)?;
            *slot = Some(WriterConn {
                conn,
                page_limit: 0,
            });
        }
        let Some(wc) = slot.as_mut() else {
            return Err("database: no writer connection".into());
        };
        let result = async {
            let limit = self.page_limit.load(Ordering::SeqCst);
            if self.sqlite && limit != wc.page_limit {
                sqlx::query(&format!("PRAGMA max_page_count = {limit}"))
                    .execute(&mut *wc.conn)
                    .await
                    .map_err(err)?;
                wc.page_limit = limit;
            }
            let begin = if self.sqlite {
                "BEGIN IMMEDIATE"
            } else {
                "BEGIN"
            };
            sqlx::query(begin)
                .execute(&mut *wc.conn)
                .await
                .map_err(err)?;
            match work(&mut wc.conn).await {
                Ok(v) => {
                    sqlx::query("COMMIT")
                        .execute(&mut *wc.conn)
                        .await
                        .map_err(err)?;
                    Ok(v)
                }
                Err(e) => Err(e),
            }
        }
        .await;
        match result {
            Ok(v) => {
                self.healthy(true);
                Ok(v)
            }
            Err(e) => {
                self.healthy(false);
                if let Some(mut wc) = slot.take() {
                    let _ = sqlx::query("ROLLBACK").execute(&mut *wc.conn).await;
                    // Never back into the pool: its transaction state is in doubt.
                    let _ = wc.conn.close().await;
                }
                Err(e)
            }
        }
    }

    fn healthy(&self, ok: bool) {
        if !ok {
            tracing::error!("a database write failed; the writer connection was closed");
        }
    }
}

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// The health probe's transaction: a row that needs fresh pages, then its removal.
fn probe(c: &mut AnyConnection) -> BoxFuture<'_, DbResult<()>> {
    Box::pin(async move {
        let id = token()?;
        let pad = "letterbox health probe ".repeat(450);
        sqlx::query("INSERT INTO health_probe (id, pad, at) VALUES ($1, $2, $3)")
            .bind(&id)
            .bind(pad)
            .bind(now_ms())
            .execute(&mut *c)
            .await
            .map_err(err)?;
        sqlx::query("DELETE FROM health_probe WHERE id = $1")
            .bind(&id)
            .execute(&mut *c)
            .await
            .map_err(err)?;
        Ok(())
    })
}

/// The key of the mailbox an address delivers to, for the daily cap on emails and the
/// per-address rate limit: lower-cased, without a `+tag` in the local part, and for Gmail
/// (`gmail.com`, `googlemail.com`) without dots in the local part. Subscriptions stay stored
/// under [`email_key`], and the email goes to the address as typed.
///
/// ```
/// use letterbox_receiver::db::mailbox_key;
/// assert_eq!(mailbox_key("Jane.Doe+news@Example.com"), "jane.doe@example.com");
/// assert_eq!(mailbox_key("j.a.n.e+1@googlemail.com"), "jane@gmail.com");
/// assert_eq!(mailbox_key("+only@example.com"), "+only@example.com");
/// ```
pub fn mailbox_key(email: &str) -> String {
    let lower = email.to_lowercase();
    let Some((local, domain)) = lower.rsplit_once('@') else {
        return lower;
    };
    let local = match local.split_once('+') {
        Some((base, _)) if !base.is_empty() => base,
        _ => local,
    };
    match domain {
        "gmail.com" | "googlemail.com" => {
            let bare: String = local.chars().filter(|&c| c != '.').collect();
            if bare.is_empty() {
                format!("{local}@gmail.com")
            } else {
                format!("{bare}@gmail.com")
            }
        }
        _ => format!("{local}@{domain}"),
    }
}

/// One signup's statements, inside the writer's transaction.
async fn apply_signup(c: &mut AnyConnection, s: &Signup, now: i64) -> DbResult<SignupResult> {
    let key = email_key(&s.email);
    // The idempotency row first: a twin in another process waits here for this one's commit.
    if let Some((idem, fingerprint)) = &s.idempotency {
        let inserted = sqlx::query(
            "INSERT INTO idempotency (idem_key, fingerprint, status, body, created_at) \
             VALUES ($1, $2, 0, '', $3) ON CONFLICT (idem_key) DO NOTHING",
        )
        .bind(idem)
        .bind(fingerprint)
        .bind(now)
        .execute(&mut *c)
        .await
        .map_err(err)?
        .rows_affected();
        if inserted == 0 {
            let row = sqlx::query(
                "SELECT fingerprint, status, body FROM idempotency WHERE idem_key = $1",
            )
            .bind(idem)
            .fetch_one(&mut *c)
            .await
            .map_err(err)?;
            return Ok(SignupResult::Replay(stored_answer(&row)?));
        }
    }

    let new_token = token()?;
    // One statement: inserted, or the existing row (the no-op update makes RETURNING answer).
    let unsubscribe_token: String = sqlx::query(
        "INSERT INTO addresses (email_key, email, locale, unsubscribe_token, created_at) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (email_key) DO UPDATE SET email_key = excluded.email_key \
         RETURNING unsubscribe_token",
    )
    .bind(&key)
    .bind(&s.email)
    .bind(&s.locale)
    .bind(&new_token)
    .bind(now)
    .fetch_one(&mut *c)
    .await
    .and_then(|r| r.try_get(0))
    .map_err(err)?;

    let mut pending = Vec::new();
    for newsletter in &s.newsletters {
        let inserted = sqlx::query(
            "INSERT INTO subscriptions (email_key, newsletter, status, source_page, \
             source_slot, created_at, updated_at, consent) \
             VALUES ($1, $2, 'pending_confirmation', $3, $4, $5, $5, $6) \
             ON CONFLICT (email_key, newsletter) DO NOTHING",
        )
        .bind(&key)
        .bind(newsletter)
        .bind(&s.page)
        .bind(&s.slot)
        .bind(now)
        .bind(s.consent.as_deref())
        .execute(&mut *c)
        .await
        .map_err(err)?
        .rows_affected();
        if inserted == 1 {
            pending.push(newsletter.clone());
            continue;
        }
        // Asked for again (after unsubscribing, or while unconfirmed): this signup's source
        // and consent (or its lack of one) are what the confirmation will stand on.
        let updated = sqlx::query(
            "UPDATE subscriptions SET status = 'pending_confirmation', \
             updated_at = $3, source_page = $4, source_slot = $5, consent = $6 \
             WHERE email_key = $1 AND newsletter = $2 AND status <> 'subscribed'",
        )
        .bind(&key)
        .bind(newsletter)
        .bind(now)
        .bind(&s.page)
        .bind(&s.slot)
        .bind(s.consent.as_deref())
        .execute(&mut *c)
        .await
        .map_err(err)?
        .rows_affected();
        if updated == 1 {
            pending.push(newsletter.clone());
        }
    }

    let result = if pending.is_empty() && !s.notify_owner {
        SignupResult::AlreadySubscribed
    } else {
        let day = now / DAY_MS;
        let sent: i64 = sqlx::query(
            "INSERT INTO mail_counts (email_key, day, sent) VALUES ($1, $2, 1) \
             ON CONFLICT (email_key, day) DO UPDATE SET sent = mail_counts.sent + 1 \
             RETURNING sent",
        )
        .bind(mailbox_key(&s.email))
        .bind(day)
        .fetch_one(&mut *c)
        .await
        .and_then(|r| r.try_get(0))
        .map_err(err)?;
        let within_cap = s.daily_cap == 0 || sent <= i64::from(s.daily_cap);
        let unsubscribe = format!("{}/api/unsubscribe/{unsubscribe_token}", s.base_url);
        let email = if !within_cap {
            None
        } else if pending.is_empty() {
            let (subject, body) = s.mail.notice(&s.email, &s.newsletters, &unsubscribe);
            Some(write_outbox(c, &s.email, subject, body, String::new(), now).await?)
        } else {
            let token = token()?;
            sqlx::query(
                "INSERT INTO confirmations (token, email_key, newsletters, locale, \
                 created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&token)
            .bind(&key)
            .bind(pending.join(","))
            .bind(&s.locale)
            .bind(now)
            .bind(now + CONFIRMATION_TTL_MS)
            .execute(&mut *c)
            .await
            .map_err(err)?;
            let link = format!("{}/api/confirm/{token}", s.base_url);
            let (subject, body) = s.mail.compose(&s.email, &pending, &link, &unsubscribe);
            Some(write_outbox(c, &s.email, subject, body, link, now).await?)
        };
        if pending.is_empty() {
            SignupResult::OwnerNotified { email }
        } else {
            SignupResult::Pending { email }
        }
    };

    if let Some((idem, _)) = &s.idempotency {
        let (status, body) = (s.answer)(&result);
        sqlx::query("UPDATE idempotency SET status = $2, body = $3 WHERE idem_key = $1")
            .bind(idem)
            .bind(i64::from(status))
            .bind(body)
            .execute(&mut *c)
            .await
            .map_err(err)?;
    }
    Ok(result)
}

async fn write_outbox(
    c: &mut AnyConnection,
    to: &str,
    subject: String,
    body: String,
    link: String,
    now: i64,
) -> DbResult<OutboxEmail> {
    let email = OutboxEmail {
        id: token()?,
        to: to.to_owned(),
        subject,
        body,
        link,
        created_at: now,
        sent_at: None,
    };
    sqlx::query(
        "INSERT INTO outbox (id, to_address, subject, body, link, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&email.id)
    .bind(&email.to)
    .bind(&email.subject)
    .bind(&email.body)
    .bind(&email.link)
    .bind(now)
    .execute(&mut *c)
    .await
    .map_err(err)?;
    Ok(email)
}
