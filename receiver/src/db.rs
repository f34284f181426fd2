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
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::{AnyPool, Connection, Row};

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

/// The connection pool and what the receiver needs to know about the backend.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    sqlite: bool,
    write_lock: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// What a signup did to the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignupResult {
    /// Every chosen newsletter was already confirmed.
    AlreadySubscribed,
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
    /// Idle shared rate-limit buckets.
    pub rate_buckets: u64,
}

impl Cleaned {
    /// All rows deleted.
    pub fn total(&self) -> u64 {
        self.idempotency + self.confirmations + self.outbox + self.mail_counts + self.rate_buckets
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
        Ok(Db {
            pool,
            sqlite,
            write_lock: Default::default(),
        })
    }

    /// Whether this is SQLite (else PostgreSQL).
    pub fn is_sqlite(&self) -> bool {
        self.sqlite
    }

    /// Closes the pool (after the server has stopped).
    pub async fn close(&self) {
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

    /// Records a signup in one transaction: the address, one subscription per newsletter (never
    /// twice), a confirmation token and outbox email when something awaits confirmation (within
    /// the daily cap), and the answer under the idempotency key. `answer` builds the stored
    /// answer from the result.
    pub async fn record_signup(
        &self,
        s: &NewSignup<'_>,
        base_url: &str,
        mail: &(dyn ConfirmationMail + Sync),
        answer: impl Fn(&SignupResult) -> (u16, String),
    ) -> DbResult<SignupResult> {
        let _guard = self.write_guard().await;
        let now = now_ms();
        let key = email_key(s.email);
        let mut conn = self.pool.acquire().await.map_err(err)?;
        let mut tx = conn.begin().await.map_err(err)?;

        // The idempotency row first: it takes the write lock, and a concurrent twin waits here.
        if let Some((idem, fingerprint)) = s.idempotency {
            let inserted = sqlx::query(
                "INSERT INTO idempotency (idem_key, fingerprint, status, body, created_at) \
                 VALUES ($1, $2, 0, '', $3) ON CONFLICT (idem_key) DO NOTHING",
            )
            .bind(idem)
            .bind(fingerprint)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected();
            if inserted == 0 {
                let row = sqlx::query(
                    "SELECT fingerprint, status, body FROM idempotency WHERE idem_key = $1",
                )
                .bind(idem)
                .fetch_one(&mut *tx)
                .await
                .map_err(err)?;
                let stored = stored_answer(&row)?;
                tx.rollback().await.map_err(err)?;
                return Ok(SignupResult::Replay(stored));
            }
        }

        let new_token = token()?;
        sqlx::query(
            "INSERT INTO addresses (email_key, email, locale, unsubscribe_token, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email_key) DO NOTHING",
        )
        .bind(&key)
        .bind(s.email)
        .bind(s.locale)
        .bind(&new_token)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        let unsubscribe_token: String =
            sqlx::query("SELECT unsubscribe_token FROM addresses WHERE email_key = $1")
                .bind(&key)
                .fetch_one(&mut *tx)
                .await
                .and_then(|r| r.try_get(0))
                .map_err(err)?;

        let mut pending = Vec::new();
        for newsletter in s.newsletters {
            let inserted = sqlx::query(
                "INSERT INTO subscriptions (email_key, newsletter, status, source_page, \
                 source_slot, created_at, updated_at, consent) \
                 VALUES ($1, $2, 'pending_confirmation', $3, $4, $5, $5, $6) \
                 ON CONFLICT (email_key, newsletter) DO NOTHING",
            )
            .bind(&key)
            .bind(newsletter)
            .bind(s.page)
            .bind(s.slot)
            .bind(now)
            .bind(s.consent)
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected();
            if inserted == 1 {
                pending.push(newsletter.clone());
                continue;
            }
            let status: String = sqlx::query(
                "SELECT status FROM subscriptions WHERE email_key = $1 AND newsletter = $2",
            )
            .bind(&key)
            .bind(newsletter)
            .fetch_one(&mut *tx)
            .await
            .and_then(|r| r.try_get(0))
            .map_err(err)?;
            if status == "subscribed" {
                continue;
            }
            // Asked for again (after unsubscribing, or while unconfirmed): this signup's source
            // and consent (or its lack of one) are what the confirmation will stand on.
            sqlx::query(
                "UPDATE subscriptions SET status = 'pending_confirmation', \
                 updated_at = $3, source_page = $4, source_slot = $5, consent = $6 \
                 WHERE email_key = $1 AND newsletter = $2",
            )
            .bind(&key)
            .bind(newsletter)
            .bind(now)
            .bind(s.page)
            .bind(s.slot)
            .bind(s.consent)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
            pending.push(newsletter.clone());
        }

        let result = if pending.is_empty() {
            SignupResult::AlreadySubscribed
        } else {
            let day = now / (24 * 3600 * 1000);
            let sent: i64 = sqlx::query(
                "INSERT INTO mail_counts (email_key, day, sent) VALUES ($1, $2, 1) \
                 ON CONFLICT (email_key, day) DO UPDATE SET sent = mail_counts.sent + 1 \
                 RETURNING sent",
            )
            .bind(&key)
            .bind(day)
            .fetch_one(&mut *tx)
            .await
            .and_then(|r| r.try_get(0))
            .map_err(err)?;
            let within_cap = s.daily_cap == 0 || sent <= i64::from(s.daily_cap);
            let email = if within_cap {
                let token = token()?;
                sqlx::query(
                    "INSERT INTO confirmations (token, email_key, newsletters, locale, \
                     created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&token)
                .bind(&key)
                .bind(pending.join(","))
                .bind(s.locale)
                .bind(now)
                .bind(now + CONFIRMATION_TTL_MS)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
                let link = format!("{base_url}/api/confirm/{token}");
                let unsubscribe = format!("{base_url}/api/unsubscribe/{unsubscribe_token}");
                let (subject, body) = mail.compose(s.email, &pending, &link, &unsubscribe);
                let email = OutboxEmail {
                    id: self::token()?,
                    to: s.email.to_owned(),
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
                .execute(&mut *tx)
                .await
                .map_err(err)?;
                Some(email)
            } else {
                None
            };
            SignupResult::Pending { email }
        };

        if let Some((idem, _)) = s.idempotency {
            let (status, body) = answer(&result);
            sqlx::query("UPDATE idempotency SET status = $2, body = $3 WHERE idem_key = $1")
                .bind(idem)
                .bind(i64::from(status))
                .bind(body)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
        }
        tx.commit().await.map_err(err)?;
        Ok(result)
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
        let mut conn = self.pool.acquire().await.map_err(err)?;
        let mut tx = conn.begin().await.map_err(err)?;
        sqlx::query(
            "UPDATE confirmations SET confirmed_at = $2 WHERE token = $1 AND confirmed_at IS NULL",
        )
        .bind(token)
        .bind(now)
        .execute(&mut *tx)
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
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        }
        tx.commit().await.map_err(err)
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
    /// daily email counts of days before yesterday; shared rate-limit buckets idle for an hour
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
