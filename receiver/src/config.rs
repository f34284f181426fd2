//! The receiver's configuration: one TOML file plus environment overrides, validated as a whole.
//!
//! [`Config::load`] reads the file named by `--config PATH` or `LETTERBOX_CONFIG` (optional: every
//! setting has a default but the newsletters), then applies the environment variables listed in
//! [`ENV_OVERRIDES`], then [`Config::validate`]s the result. `letterbox-receiver check` runs exactly
//! this and prints the outcome.
//!
//! ```
//! use letterbox_receiver::config::Config;
//! let config = Config::from_toml(r#"
//!     database_url = "sqlite://subscribers.db"
//!     allowed_origins = ["https://news.example"]
//!     [[newsletters]]
//!     id = "daily"
//!     name = "The Daily Briefing"
//! "#).unwrap();
//! assert!(config.validate().is_ok());
//! ```

use std::net::SocketAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Environment variables that override the file, with the setting each one replaces.
pub const ENV_OVERRIDES: &[(&str, &str)] = &[
    ("LETTERBOX_LISTEN", "listen"),
    ("DATABASE_URL", "database_url"),
    ("LETTERBOX_PUBLIC_URL", "public_url"),
    (
        "LETTERBOX_ALLOWED_ORIGINS",
        "allowed_origins (comma-separated)",
    ),
    ("LETTERBOX_DEMO", "demo (true/false)"),
    (
        "LETTERBOX_TRUST_FORWARDED_FOR",
        "trust_forwarded_for (true/false)",
    ),
    (
        "LETTERBOX_TRUSTED_PROXIES",
        "trusted_proxies (a number of proxies)",
    ),
    (
        "LETTERBOX_DISCLOSE_SUBSCRIPTIONS",
        "disclose_subscriptions (true/false)",
    ),
    ("LETTERBOX_MIN_FILL_MS", "min_fill_ms"),
    ("LETTERBOX_PER_IP_PER_MINUTE", "limits.per_ip_per_minute"),
    (
        "LETTERBOX_PER_ADDRESS_PER_HOUR",
        "limits.per_address_per_hour",
    ),
    (
        "LETTERBOX_CONFIRMATIONS_PER_DAY",
        "limits.confirmations_per_address_per_day",
    ),
    (
        "LETTERBOX_SHARED_PER_IP_LIMIT",
        "limits.shared_per_ip (true/false, PostgreSQL only)",
    ),
    ("LETTERBOX_IPV6_PREFIX", "limits.ipv6_prefix"),
    ("LETTERBOX_MAX_CONNECTIONS", "connections.total"),
    (
        "LETTERBOX_MAX_CONNECTIONS_PER_CLIENT",
        "connections.per_client",
    ),
    ("LETTERBOX_HEADER_READ_SECS", "timeouts.header_read_secs"),
    ("LETTERBOX_REQUEST_SECS", "timeouts.request_secs"),
    ("SMTP_URL", "mail.smtp_url"),
    ("LETTERBOX_MAIL_FROM", "mail.from"),
    ("LOG_FORMAT", "log_format (text or json)"),
    ("LETTERBOX_ADMIN_TOKEN", "admin_token"),
];

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on, e.g. `127.0.0.1:8787` (behind a proxy) or `0.0.0.0:8787`.
    pub listen: String,
    /// `sqlite://PATH` (created and migrated on start, WAL mode) or `postgres://…`.
    pub database_url: String,
    /// The public base URL of the receiver, used in confirmation and unsubscribe links
    /// (`{public_url}/api/confirm/{token}`).
    pub public_url: String,
    /// Origins whose pages may post signups (`https://news.example`); `"*"` allows any origin.
    /// A request carrying an `Origin` header that is not listed is refused with 403.
    pub allowed_origins: Vec<String>,
    /// Serves `GET /api/outbox` (the confirmation emails written so far) for the playground.
    /// Never enable it on a public deployment: it shows every reader's confirmation link.
    pub demo: bool,
    /// Take the client IP from `X-Forwarded-For` (only behind a proxy that sets it); the same as
    /// `trusted_proxies = 1` when that is 0.
    pub trust_forwarded_for: bool,
    /// How many proxies in front of the receiver append to `X-Forwarded-For` (all its header
    /// lines read as one list, in order): the client is the entry this many places from the
    /// right. 0 (the default) with `trust_forwarded_for = false` ignores the header.
    pub trusted_proxies: u32,
    /// Answer a signup for an address that already receives every chosen newsletter with
    /// `200 {"status":"already_subscribed"}`. Off by default: it tells anyone who types an
    /// address what that address receives, so the receiver answers exactly as for a new signup
    /// and emails the address's owner instead.
    pub disclose_subscriptions: bool,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// A form submitted sooner than this after it was shown (`fill_ms`) is treated as a bot.
    pub min_fill_ms: u64,
    /// Name of the site, used in confirmation emails and pages.
    pub site_name: String,
    /// The newsletters readers can subscribe to.
    pub newsletters: Vec<Newsletter>,
    /// Abuse limits.
    pub limits: Limits,
    /// Outgoing mail.
    pub mail: Mail,
    /// Limits on slow clients.
    pub timeouts: Timeouts,
    /// Caps on open connections.
    pub connections: Connections,
    /// How long old rows are kept.
    pub retention: Retention,
    /// `text` (human-readable, the default) or `json` (one JSON object per line).
    pub log_format: LogFormat,
    /// The token that opens the operator page (`/admin`); unset, the page does not exist (404).
    /// At least 24 characters; keep it out of the file with `LETTERBOX_ADMIN_TOKEN`.
    pub admin_token: Option<String>,
    /// The anonymous slot statistics (`POST /api/stats`) and the public count.
    pub stats: Stats,
}

/// The anonymous slot statistics the widget sends (`POST /api/stats`) and the public
/// subscriber count (`GET /api/count/{newsletter}`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Stats {
    /// Accept statistics at all (off: `POST /api/stats` answers 404).
    pub enabled: bool,
    /// Statistics requests accepted per client IP per minute (0: no limit).
    pub per_ip_per_minute: u32,
    /// The largest statistics body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Distinct (slot, page, newsletter, event) rows kept per UTC day; events for new rows
    /// beyond it are dropped (counts of rows already there still grow), so nobody can fill the
    /// database with invented slot or page names.
    pub max_rows_per_day: u32,
    /// Serve `GET /api/count/{newsletter}` (confirmed subscribers, rounded).
    pub public_count: bool,
    /// The public count is rounded to the nearest multiple of this (1, 10, 100 or 1000).
    pub count_round_to: u32,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            enabled: true,
            per_ip_per_minute: 30,
            max_body_bytes: 8 * 1024,
            max_rows_per_day: 20_000,
            public_count: true,
            count_round_to: 100,
        }
    }
}

/// The log line format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line (for a log collector).
    Json,
}

impl LogFormat {
    /// `text` or `json`.
    pub fn name(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

/// Limits on slow clients (slowloris), in seconds; each at least 1.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timeouts {
    /// A connection must deliver a request's whole header within this time, counted from when
    /// the connection opens or the previous answer was written (so it also closes idle
    /// keep-alive connections); otherwise it is closed.
    pub header_read_secs: u64,
    /// A request must be read and answered within this time, counted from its header; otherwise
    /// it is answered `408` and the connection closed.
    pub request_secs: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            header_read_secs: 10,
            request_secs: 30,
        }
    }
}

/// Caps on open connections (0 turns a cap off). A connection over a cap is closed at once.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Connections {
    /// Open connections in total; lowered at start to fit the open-file limit.
    pub total: u32,
    /// Open connections from one client address (an IPv6 client by its `limits.ipv6_prefix`).
    /// Behind a proxy every connection comes from the proxy: set it above the proxy's own
    /// connection count, or 0.
    pub per_client: u32,
}

impl Default for Connections {
    fn default() -> Self {
        Connections {
            total: 8192,
            per_client: 256,
        }
    }
}

/// How long old rows are kept. A value of 0 keeps that kind of row forever.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Retention {
    /// Answers stored under idempotency keys, kept this many hours (a retry after that is
    /// treated as a new request).
    pub idempotency_hours: u64,
    /// Confirmation links, kept this many days after they expire.
    pub expired_links_days: u64,
    /// Outbox emails, kept this many days after they were sent (or, never sent, after their
    /// link expired).
    pub sent_emails_days: u64,
    /// Daily slot statistics (`stats_daily`), kept this many days (the operator page and the
    /// CSV cannot show older periods).
    pub stats_days: u64,
    /// The cleanup runs on start and then every this many seconds (0: never).
    pub interval_secs: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            idempotency_hours: 24,
            expired_links_days: 30,
            sent_emails_days: 30,
            stats_days: 800,
            interval_secs: 3600,
        }
    }
}

/// One newsletter, as `GET /api/newsletters` returns it (the widget's configuration shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Newsletter {
    /// Stable id, as the widget sends it.
    pub id: String,
    /// Name shown to readers.
    pub name: String,
    /// Optional one-line description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Optional frequency ("Every weekday").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency: Option<String>,
}

/// Rate limits and caps. A value of 0 turns that limit off.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Signups accepted per client IP per minute (a burst of this size, refilled evenly).
    pub per_ip_per_minute: u32,
    /// Signups accepted per address per hour.
    pub per_address_per_hour: u32,
    /// Confirmation emails sent to one address per day (UTC); further signups are answered as
    /// usual but send nothing.
    pub confirmations_per_address_per_day: u32,
    /// Keep the per-IP buckets in the database (PostgreSQL only) so that several receiver
    /// processes share one limit; otherwise each process has its own.
    pub shared_per_ip: bool,
    /// IPv6 clients are limited per network of this prefix length (64: a /64, usually one
    /// household or server); 128 limits single addresses.
    pub ipv6_prefix: u8,
}

/// Outgoing mail settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Mail {
    /// `smtps://user:pass@host:465`, `smtp://host:587?tls=required`, `smtp://127.0.0.1:25`.
    /// Unset: emails are only written to the outbox table and the log.
    pub smtp_url: Option<String>,
    /// The From header, e.g. `News Example <newsletters@news.example>`.
    pub from: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8787".into(),
            database_url: "sqlite://letterbox.db".into(),
            public_url: "http://127.0.0.1:8787".into(),
            allowed_origins: Vec::new(),
            demo: false,
            trust_forwarded_for: false,
            trusted_proxies: 0,
            disclose_subscriptions: false,
            max_body_bytes: 16 * 1024,
            min_fill_ms: 800,
            site_name: "Letterbox".into(),
            newsletters: Vec::new(),
            limits: Limits::default(),
            mail: Mail {
                smtp_url: None,
                from: "Letterbox <newsletters@localhost>".into(),
            },
            timeouts: Timeouts::default(),
            connections: Connections::default(),
            retention: Retention::default(),
            log_format: LogFormat::Text,
            admin_token: None,
            stats: Stats::default(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_ip_per_minute: 20,
            per_address_per_hour: 6,
            confirmations_per_address_per_day: 3,
            shared_per_ip: false,
            ipv6_prefix: 64,
        }
    }
}

impl Config {
    /// Parses TOML text (no environment overrides, no validation).
    pub fn from_toml(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| format!("config: {e}"))
    }

    /// Reads the file at `path` if given, applies the environment, validates.
    pub fn load(path: Option<&Path>) -> Result<Config, String> {
        let mut config = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                Config::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))?
            }
            None => Config::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        config.validate()?;
        Ok(config)
    }

    /// Applies the overrides in [`ENV_OVERRIDES`], reading variables through `get`.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), String> {
        fn flag(name: &str, v: &str) -> Result<bool, String> {
            match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Ok(true),
                "0" | "false" | "no" | "off" | "" => Ok(false),
                _ => Err(format!("{name}={v:?}: expected true or false")),
            }
        }
        fn number<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, String> {
            v.trim()
                .parse()
                .map_err(|_| format!("{name}={v:?}: expected a whole number"))
        }
        if let Some(v) = get("LETTERBOX_LISTEN") {
            self.listen = v;
        }
        if let Some(v) = get("DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = get("LETTERBOX_PUBLIC_URL") {
            self.public_url = v;
        }
        if let Some(v) = get("LETTERBOX_ALLOWED_ORIGINS") {
            self.allowed_origins = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(v) = get("LETTERBOX_DEMO") {
            self.demo = flag("LETTERBOX_DEMO", &v)?;
        }
        if let Some(v) = get("LETTERBOX_TRUST_FORWARDED_FOR") {
            self.trust_forwarded_for = flag("LETTERBOX_TRUST_FORWARDED_FOR", &v)?;
        }
        if let Some(v) = get("LETTERBOX_TRUSTED_PROXIES") {
            self.trusted_proxies = number("LETTERBOX_TRUSTED_PROXIES", &v)?;
        }
        if let Some(v) = get("LETTERBOX_DISCLOSE_SUBSCRIPTIONS") {
            self.disclose_subscriptions = flag("LETTERBOX_DISCLOSE_SUBSCRIPTIONS", &v)?;
        }
        if let Some(v) = get("LETTERBOX_IPV6_PREFIX") {
            self.limits.ipv6_prefix = number("LETTERBOX_IPV6_PREFIX", &v)?;
        }
        if let Some(v) = get("LETTERBOX_MAX_CONNECTIONS") {
            self.connections.total = number("LETTERBOX_MAX_CONNECTIONS", &v)?;
        }
        if let Some(v) = get("LETTERBOX_MAX_CONNECTIONS_PER_CLIENT") {
            self.connections.per_client = number("LETTERBOX_MAX_CONNECTIONS_PER_CLIENT", &v)?;
        }
        if let Some(v) = get("LETTERBOX_MIN_FILL_MS") {
            self.min_fill_ms = number("LETTERBOX_MIN_FILL_MS", &v)?;
        }
        if let Some(v) = get("LETTERBOX_PER_IP_PER_MINUTE") {
            self.limits.per_ip_per_minute = number("LETTERBOX_PER_IP_PER_MINUTE", &v)?;
        }
        if let Some(v) = get("LETTERBOX_PER_ADDRESS_PER_HOUR") {
            self.limits.per_address_per_hour = number("LETTERBOX_PER_ADDRESS_PER_HOUR", &v)?;
        }
        if let Some(v) = get("LETTERBOX_CONFIRMATIONS_PER_DAY") {
            self.limits.confirmations_per_address_per_day =
                number("LETTERBOX_CONFIRMATIONS_PER_DAY", &v)?;
        }
        if let Some(v) = get("LETTERBOX_SHARED_PER_IP_LIMIT") {
            self.limits.shared_per_ip = flag("LETTERBOX_SHARED_PER_IP_LIMIT", &v)?;
        }
        if let Some(v) = get("LETTERBOX_HEADER_READ_SECS") {
            self.timeouts.header_read_secs = number("LETTERBOX_HEADER_READ_SECS", &v)?;
        }
        if let Some(v) = get("LETTERBOX_REQUEST_SECS") {
            self.timeouts.request_secs = number("LETTERBOX_REQUEST_SECS", &v)?;
        }
        if let Some(v) = get("LOG_FORMAT") {
            self.log_format = match v.trim().to_ascii_lowercase().as_str() {
                "json" => LogFormat::Json,
                "text" | "" => LogFormat::Text,
                _ => return Err(format!("LOG_FORMAT={v:?}: expected text or json")),
            };
        }
        if let Some(v) = get("SMTP_URL") {
            self.mail.smtp_url = Some(v).filter(|v| !v.trim().is_empty());
        }
        if let Some(v) = get("LETTERBOX_MAIL_FROM") {
            self.mail.from = v;
        }
        if let Some(v) = get("LETTERBOX_ADMIN_TOKEN") {
            self.admin_token = Some(v).filter(|v| !v.trim().is_empty());
        }
        Ok(())
    }

    /// Checks the configuration as a whole; the error lists every problem, one per line.
    pub fn validate(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        if self.listen.parse::<SocketAddr>().is_err() {
            problems.push(format!(
                "listen = {:?}: expected IP:PORT, e.g. 127.0.0.1:8787",
                self.listen
            ));
        }
        let db = self.database_url.as_str();
        if !(db.starts_with("sqlite:")
            || db.starts_with("postgres://")
            || db.starts_with("postgresql://"))
        {
            problems.push("database_url: expected sqlite://PATH or postgres://…".to_owned());
        }
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            problems.push(format!(
                "public_url = {:?}: expected an http:// or https:// URL",
                self.public_url
            ));
        }
        for origin in &self.allowed_origins {
            let ok = origin == "*"
                || ((origin.starts_with("http://") || origin.starts_with("https://"))
                    && !origin.trim_end_matches('/').contains(['?', '#'])
                    && origin.matches('/').count() == 2);
            if !ok {
                problems.push(format!(
                    "allowed_origins: {origin:?} is not an origin like https://news.example"
                ));
            }
        }
        if self.limits.shared_per_ip && !self.is_postgres() {
            problems.push(
                "limits.shared_per_ip: needs PostgreSQL (one SQLite file is one process)"
                    .to_owned(),
            );
        }
        if self.timeouts.header_read_secs == 0 || self.timeouts.request_secs == 0 {
            problems.push("timeouts: header_read_secs and request_secs are at least 1".to_owned());
        }
        if !(1..=128).contains(&self.limits.ipv6_prefix) {
            problems.push("limits.ipv6_prefix: 1 to 128".to_owned());
        }
        if self.trusted_proxies > 16 {
            problems.push("trusted_proxies: at most 16".to_owned());
        }
        if self.max_body_bytes < 1024 {
            problems.push("max_body_bytes: at least 1024".to_owned());
        }
        if self.newsletters.is_empty() {
            problems.push("newsletters: configure at least one [[newsletters]] entry".to_owned());
        }
        let mut seen = std::collections::HashSet::new();
        for (i, n) in self.newsletters.iter().enumerate() {
            let id_ok = !n.id.is_empty()
                && n.id.len() <= 64
                && n.id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !id_ok {
                problems.push(format!(
                    "newsletters[{i}].id = {:?}: 1–64 letters, digits, - or _",
                    n.id
                ));
            }
            if n.name.trim().is_empty() {
                problems.push(format!("newsletters[{i}].name is empty"));
            }
            if !seen.insert(n.id.as_str()) {
                problems.push(format!("newsletters[{i}].id {:?} is used twice", n.id));
            }
        }
        if let Some(url) = &self.mail.smtp_url {
            if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                problems.push("mail.smtp_url: expected smtp://… or smtps://…".to_owned());
            }
        }
        if self.mail.from.parse::<lettre::message::Mailbox>().is_err() {
            problems.push(format!(
                "mail.from = {:?}: expected a mailbox like `News <news@example.com>`",
                self.mail.from
            ));
        }
        if let Some(token) = &self.admin_token {
            let ok = token.len() >= 24
                && token
                    .chars()
                    .all(|c| c.is_ascii_graphic() && !matches!(c, ';' | ',' | '"' | '\\'));
            if !ok {
                problems.push(
                    "admin_token: at least 24 characters: ASCII letters, digits and punctuation but no semicolon, comma, quote or backslash (openssl rand -hex 24 makes one)"
                        .to_owned(),
                );
            }
        }
        if ![1, 10, 100, 1000].contains(&self.stats.count_round_to) {
            problems.push("stats.count_round_to: 1, 10, 100 or 1000".to_owned());
        }
        if self.stats.max_body_bytes < 512 {
            problems.push("stats.max_body_bytes: at least 512".to_owned());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }

    /// Whether `database_url` names PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://")
    }

    /// The listen address (call after [`Config::validate`]).
    pub fn listen_addr(&self) -> Result<SocketAddr, String> {
        self.listen
            .parse()
            .map_err(|_| format!("listen = {:?} is not IP:PORT", self.listen))
    }

    /// The configured newsletter with this id.
    pub fn newsletter(&self, id: &str) -> Option<&Newsletter> {
        self.newsletters.iter().find(|n| n.id == id)
    }

    /// Whether a browser `Origin` may post to the receiver.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        let origin = origin.trim_end_matches('/');
        self.allowed_origins
            .iter()
            .any(|o| o == "*" || o.trim_end_matches('/').eq_ignore_ascii_case(origin))
            || self
                .public_url
                .trim_end_matches('/')
                .eq_ignore_ascii_case(origin)
    }

    /// How many proxies' `X-Forwarded-For` entries to trust (0: ignore the header).
    pub fn forwarded_hops(&self) -> usize {
        match (self.trusted_proxies, self.trust_forwarded_for) {
            (0, true) => 1,
            (n, _) => n as usize,
        }
    }

    /// The public URL without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Config {
        Config {
            newsletters: vec![Newsletter {
                id: "daily".into(),
                name: "Daily".into(),
                description: None,
                frequency: None,
            }],
            ..Config::default()
        }
    }

    #[test]
    fn environment_overrides_the_file() {
        let mut c = base();
        c.apply_env(|n| match n {
            "DATABASE_URL" => Some("postgres://u@127.0.0.1/db".into()),
            "LETTERBOX_ALLOWED_ORIGINS" => Some("https://a.example, https://b.example".into()),
            "LETTERBOX_DEMO" => Some("true".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.database_url, "postgres://u@127.0.0.1/db");
        assert_eq!(c.allowed_origins.len(), 2);
        assert!(c.demo);
        assert!(c.validate().is_ok());
    }

    #[test]
    fn validation_lists_every_problem() {
        let mut c = base();
        c.listen = "nowhere".into();
        c.allowed_origins = vec!["news.example".into()];
        c.newsletters.push(c.newsletters[0].clone());
        let err = c.validate().unwrap_err();
        assert_eq!(err.lines().count(), 3, "{err}");
    }

    #[test]
    fn log_format_timeouts_and_retention_parse_and_validate() {
        let mut c = Config::from_toml(
            r#"
            log_format = "json"
            [[newsletters]]
            id = "daily"
            name = "Daily"
            [timeouts]
            header_read_secs = 5
            [retention]
            idempotency_hours = 48
            interval_secs = 0
            "#,
        )
        .unwrap();
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(
            (c.timeouts.header_read_secs, c.timeouts.request_secs),
            (5, 30)
        );
        assert_eq!(
            (c.retention.idempotency_hours, c.retention.sent_emails_days),
            (48, 30)
        );
        assert!(c.validate().is_ok());
        c.apply_env(|n| (n == "LOG_FORMAT").then(|| "TEXT".into()))
            .unwrap();
        assert_eq!(c.log_format, LogFormat::Text);
        assert!(c
            .apply_env(|n| (n == "LOG_FORMAT").then(|| "xml".into()))
            .is_err());
        assert!(Config::from_toml("log_format = \"xml\"").is_err());
        c.timeouts.request_secs = 0;
        c.limits.shared_per_ip = true;
        assert_eq!(c.validate().unwrap_err().lines().count(), 2);
        c.timeouts.request_secs = 1;
        c.database_url = "postgres://u@127.0.0.1/db".into();
        assert!(c.validate().is_ok());
    }

    #[test]
    fn admin_token_and_stats_are_checked() {
        let mut c = base();
        c.apply_env(|n| (n == "LETTERBOX_ADMIN_TOKEN").then(|| "short".into()))
            .unwrap();
        assert_eq!(c.admin_token.as_deref(), Some("short"));
        assert!(c.validate().unwrap_err().contains("admin_token"));
        c.admin_token = Some("0123456789abcdef0123456;".into());
        assert!(c.validate().is_err(), "a ; cannot go into the cookie");
        c.admin_token = Some("0123456789abcdef01234567".into());
        assert!(c.validate().is_ok());
        c.stats.count_round_to = 7;
        assert!(c.validate().unwrap_err().contains("count_round_to"));
        let t = Config::from_toml(
            "[stats]\nper_ip_per_minute = 5\ncount_round_to = 10\n[[newsletters]]\nid = \"d\"\nname = \"D\"",
        )
        .unwrap();
        assert_eq!((t.stats.per_ip_per_minute, t.stats.count_round_to), (5, 10));
        assert!(t.stats.enabled && t.admin_token.is_none());
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(Config::from_toml("lissten = \"x\"").is_err());
    }
}
