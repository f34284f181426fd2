//! The HTTP surface: routes, the signup handler (JSON contract and the no-JS form), the double
//! opt-in and unsubscribe pages, CORS, and the JSON error shape of `docs/endpoint-contract.md`.
//!
//! | route | what |
//! |---|---|
//! | `POST /api/subscribe` | a signup: JSON (the contract) or `application/x-www-form-urlencoded` (HTML answer) |
//! | `GET /api/newsletters` | the configured newsletters |
//! | `GET /api/confirm/{token}` | a page with a Confirm button (changes nothing) |
//! | `POST /api/confirm/{token}` | confirms the subscription |
//! | `GET /api/unsubscribe/{token}` | a page with an Unsubscribe button |
//! | `POST /api/unsubscribe/{token}` | unsubscribes (also RFC 8058 one-click) |
//! | `GET /api/outbox` | the latest confirmation emails, only with `demo = true` |
//! | `GET /healthz` | 200 when the database answers |
//! | `POST /api/stats` | anonymous daily slot counts from the widget ([`crate::stats`]) |
//! | `GET /api/count/{newsletter}` | confirmed subscribers, rounded; public and cacheable |
//! | `GET`/`POST /admin`, `GET /admin/stats.csv`, `POST /admin/logout` | the operator page ([`crate::admin`]) |

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use letterbox_core::email::{parse_email, Uts46};
use letterbox_core::messages::{Key, Lang};
use letterbox_core::signup::Consent;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::Notify;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;
use validator::ValidateEmail;

use crate::config::Config;
use crate::db::{email_key, mailbox_key, now_ms, Db, Signup, SignupResult};
use crate::limits::{ip_key, Limiter};
use crate::mail::Composer;
use crate::pages::{back_link, button_form, core_text, page, Msg};

/// The longest `source.page` stored (characters); longer ones are cut.
const MAX_PAGE_CHARS: usize = 2048;
/// The longest `source.slot` stored (characters).
const MAX_SLOT_CHARS: usize = 200;
/// The most newsletters one signup may name.
const MAX_NEWSLETTERS: usize = 64;
/// The longest Idempotency-Key accepted.
const MAX_KEY_LEN: usize = 200;

/// Shared state of the handlers.
#[derive(Debug)]
pub struct AppState {
    /// The configuration.
    pub config: Arc<Config>,
    /// The database.
    pub db: Db,
    /// Signups per client IP.
    pub per_ip: Limiter,
    /// Signups per address.
    pub per_address: Limiter,
    /// Wakes the SMTP sender when an email is written.
    pub mail_wake: Arc<Notify>,
    /// Idempotency keys being answered now: a retry of one waits for the first answer.
    in_flight: Arc<KeyLocks>,
    /// Statistics requests per client IP.
    stats_per_ip: Limiter,
    /// Operator login attempts per client IP.
    logins_per_ip: Limiter,
    /// The public counts, read at most once a minute per newsletter.
    counts: std::sync::Mutex<HashMap<String, (std::time::Instant, i64)>>,
    /// Operator sessions: a random id (the login cookie) → when it expires (ms). The cookie
    /// never holds the token itself, and a session ends on the server at its time or logout.
    admin_sessions: std::sync::Mutex<HashMap<String, i64>>,
}

/// One async lock per idempotency key in use, dropped when nobody holds or waits for it.
#[derive(Debug, Default)]
struct KeyLocks(std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

/// Held while a request with a given key is answered.
struct KeyGuard {
    locks: Arc<KeyLocks>,
    key: String,
    lock: Arc<tokio::sync::Mutex<()>>,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl KeyLocks {
    /// Waits until no other request with `key` is being answered, then holds it.
    async fn hold(locks: &Arc<KeyLocks>, key: &str) -> KeyGuard {
        let lock = {
            let mut map = match locks.0.lock() {
                Ok(m) => m,
                Err(poisoned) => poisoned.into_inner(),
            };
            map.entry(key.to_owned()).or_default().clone()
        };
        let guard = lock.clone().lock_owned().await;
        KeyGuard {
            locks: locks.clone(),
            key: key.to_owned(),
            lock,
            guard: Some(guard),
        }
    }
}

impl Drop for KeyGuard {
    fn drop(&mut self) {
        self.guard.take();
        let mut map = match self.locks.0.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Only the map and this guard still know the lock: nobody waits for it.
        if Arc::strong_count(&self.lock) == 2 {
            map.remove(&self.key);
        }
    }
}

impl AppState {
    /// State for `config` over `db`, with fresh rate limiters.
    pub fn new(config: Arc<Config>, db: Db, mail_wake: Arc<Notify>) -> AppState {
        AppState {
            per_ip: Limiter::new(config.limits.per_ip_per_minute, Duration::from_secs(60)),
            per_address: Limiter::new(
                config.limits.per_address_per_hour,
                Duration::from_secs(3600),
            ),
            stats_per_ip: Limiter::new(config.stats.per_ip_per_minute, Duration::from_secs(60)),
            logins_per_ip: Limiter::new(10, Duration::from_secs(60)),
            counts: Default::default(),
            admin_sessions: Default::default(),
            config,
            db,
            mail_wake,
            in_flight: Arc::default(),
        }
    }
}

type St = State<Arc<AppState>>;

/// The router with every route, CORS and request tracing.
pub fn router(state: Arc<AppState>) -> Router {
    let origins = &state.config.allowed_origins;
    let allow_origin = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok()),
        )
    };
    let cors = CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([Method::POST, Method::GET])
        .allow_headers([
            header::CONTENT_TYPE,
            header::ACCEPT,
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([header::RETRY_AFTER])
        .max_age(Duration::from_secs(600));
    let request_timeout = Duration::from_secs(state.config.timeouts.request_secs.max(1));
    // The public count may be read by any page (it is public and coarse).
    let public = Router::new()
        .route("/api/count/{newsletter}", get(count))
        .layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::any())
                .allow_methods([Method::GET])
                .max_age(Duration::from_secs(600)),
        );
    let site = Router::new()
        .route("/api/stats", post(post_stats))
        .route("/admin", get(admin_page).post(admin_login))
        .route("/admin/", get(admin_page))
        .route("/admin/stats.csv", get(admin_csv))
        .route("/admin/logout", post(admin_logout))
        .route("/api/subscribe", post(subscribe))
        .route("/api/newsletters", get(newsletters))
        .route("/api/confirm/{token}", get(confirm_page).post(confirm))
        .route(
            "/api/unsubscribe/{token}",
            get(unsubscribe_page).post(unsubscribe),
        )
        .route("/api/outbox", get(outbox))
        .route("/healthz", get(healthz))
        .layer(cors);
    Router::new()
        .merge(site)
        .merge(public)
        .fallback(not_found)
        // Bodies are read with our own limit so an oversized one gets the contract's JSON error.
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(
            request_timeout,
            timeout,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Answers `408` (and closes the connection) when a request is not read and answered within
/// `timeouts.request_secs`: a client that sends its body slowly cannot hold a connection.
async fn timeout(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    let lang = accept_language(req.headers());
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::info!(seconds = limit.as_secs(), "request timed out");
            let mut r = json_response(
                StatusCode::REQUEST_TIMEOUT,
                &json!({"error": {"field": null, "message": Msg::Unreadable.text(lang)}}),
            );
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            r
        }
    }
}

/// How the answer is written: JSON for the widget, HTML for the no-JS form.
#[derive(Debug, Clone)]
struct Answer {
    html: bool,
    lang: Lang,
    referer: Option<String>,
    site: String,
}

impl Answer {
    fn error(&self, status: StatusCode, field: Option<&str>, message: &str) -> Response {
        if self.html {
            let title = core_text(self.lang, Key::ErrorSummaryTitle, &[]);
            let body = page(
                self.lang,
                &self.site,
                &title,
                &[message.to_owned()],
                &back_link(self.lang, self.referer.as_deref()),
            );
            html(status, body)
        } else {
            json_response(
                status,
                &json!({"error": {"field": field, "message": message}}),
            )
        }
    }

    fn unreadable(&self, status: StatusCode) -> Response {
        self.error(status, None, Msg::Unreadable.text(self.lang))
    }

    fn rate_limited(&self, seconds: u64) -> Response {
        let secs = seconds.to_string();
        let mut r = self.error(
            StatusCode::TOO_MANY_REQUESTS,
            None,
            &Msg::RateLimited.format(self.lang, &[("seconds", &secs)]),
        );
        if let Ok(v) = HeaderValue::from_str(&secs) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    }

    fn server_error(&self) -> Response {
        self.error(
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
            Msg::ServerProblem.text(self.lang),
        )
    }
}

fn json_response(status: StatusCode, value: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
            ),
            (HeaderName::from_static("x-robots-tag"), "noindex"),
        ],
        body,
    )
        .into_response()
}

fn header_str(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The language from `Accept-Language` (first supported tag), else English.
fn accept_language(headers: &HeaderMap) -> Lang {
    header_str(headers, header::ACCEPT_LANGUAGE)
        .and_then(|v| {
            v.split(',')
                .filter_map(|part| Lang::from_tag(part.split(';').next().unwrap_or("")))
                .next()
        })
        .unwrap_or_default()
}

/// The client's address. Behind `hops` trusted proxies (`trusted_proxies`, or 1 with
/// `trust_forwarded_for`) it is read from `X-Forwarded-For`: every line of the header, in order,
/// as one comma-separated list (a proxy may append its own line rather than extend the last),
/// and the entry `hops` places from the right, the one the outermost trusted proxy wrote. Entries
/// further left were written by the client and are ignored. A list shorter than that, or an
/// entry that is not an address, gives the peer's address (so a forged header cannot pick a
/// fresh address for every request).
pub fn client_ip(hops: usize, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
    if hops == 0 {
        return peer.ip();
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    entries
        .len()
        .checked_sub(hops)
        .and_then(|i| entries.get(i))
        .and_then(|v| parse_forwarded_ip(v))
        .unwrap_or_else(|| peer.ip())
}

/// `192.0.2.1`, `2001:db8::1`, `[2001:db8::1]`, `192.0.2.1:4711` or `[2001:db8::1]:4711`.
fn parse_forwarded_ip(v: &str) -> Option<IpAddr> {
    if let Ok(ip) = v.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sa) = v.parse::<SocketAddr>() {
        return Some(sa.ip());
    }
    v.strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|r| r.parse().ok())
}

/// A signup as received, before validation.
#[derive(Debug)]
struct Input {
    email: Option<String>,
    email_wrong_type: bool,
    newsletters: Option<Vec<String>>,
    newsletters_wrong_type: bool,
    locale: Option<String>,
    page: String,
    slot: String,
    honeypot_filled: bool,
    fill_ms: Option<f64>,
    /// The consent record, re-serialised; `Err` when one was sent but is not a record.
    consent: Result<Option<String>, ()>,
}

impl Default for Input {
    fn default() -> Input {
        Input {
            email: None,
            email_wrong_type: false,
            newsletters: None,
            newsletters_wrong_type: false,
            locale: None,
            page: String::new(),
            slot: String::new(),
            honeypot_filled: false,
            fill_ms: None,
            consent: Ok(None),
        }
    }
}

/// The longest consent text kept.
const MAX_CONSENT_TEXT_CHARS: usize = 4000;

/// A consent record as the widget sends it (`{"text","version","locale","page","at_ms"}`), read
/// as core's [`Consent`] (the `serde` feature of `letterbox-core`), checked and re-serialised as
/// compact JSON with only those members; `Err` if it is not one.
fn consent_record(value: &Value) -> Result<Option<String>, ()> {
    match value {
        Value::Null => return Ok(None),
        Value::Object(_) => {}
        // serde would also read a struct from an array; the contract sends an object.
        _ => return Err(()),
    }
    let given = Consent::deserialize(value).map_err(|_| ())?;
    let text = |s: &str, max: usize| {
        if s.trim().is_empty() {
            Err(())
        } else {
            Ok(cut(s, max))
        }
    };
    let record = Consent {
        text: text(&given.text, MAX_CONSENT_TEXT_CHARS)?,
        version: text(&given.version, MAX_SLOT_CHARS)?,
        locale: text(&given.locale, MAX_SLOT_CHARS)?,
        page: text(&given.page, MAX_PAGE_CHARS)?,
        at_ms: given.at_ms,
    };
    serde_json::to_string(&record).map(Some).map_err(|_| ())
}

/// At most `max` characters of `text`, control characters dropped (PostgreSQL text cannot hold
/// NUL, and nothing shown to an operator should carry terminal escapes).
fn cut(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}

fn parse_json(bytes: &[u8]) -> Option<Input> {
    let value: Value = serde_json::from_slice(bytes).ok()?;
    let obj = value.as_object()?;
    let mut input = Input::default();
    match obj.get("email") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => input.email = Some(s.clone()),
        Some(_) => input.email_wrong_type = true,
    }
    match obj.get("newsletters") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            let ids: Option<Vec<String>> = items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect();
            match ids {
                Some(ids) => input.newsletters = Some(ids),
                None => input.newsletters_wrong_type = true,
            }
        }
        Some(_) => input.newsletters_wrong_type = true,
    }
    input.locale = obj.get("locale").and_then(Value::as_str).map(str::to_owned);
    if let Some(source) = obj.get("source").and_then(Value::as_object) {
        input.page = cut(
            source.get("page").and_then(Value::as_str).unwrap_or(""),
            MAX_PAGE_CHARS,
        );
        input.slot = cut(
            source.get("slot").and_then(Value::as_str).unwrap_or(""),
            MAX_SLOT_CHARS,
        );
    }
    input.honeypot_filled = match obj.get("honeypot") {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    };
    input.fill_ms = obj.get("fill_ms").and_then(Value::as_f64);
    input.consent = obj.get("consent").map_or(Ok(None), consent_record);
    Some(input)
}

fn parse_form(bytes: &[u8]) -> Option<Input> {
    std::str::from_utf8(bytes).ok()?;
    let mut input = Input::default();
    let mut newsletters = Vec::new();
    for (k, v) in form_urlencoded::parse(bytes) {
        match k.as_ref() {
            "email" => input.email = Some(v.into_owned()),
            "newsletters" | "newsletter" => newsletters.push(v.into_owned()),
            "locale" | "lang" => input.locale = Some(v.into_owned()),
            "page" => input.page = cut(&v, MAX_PAGE_CHARS),
            "slot" => input.slot = cut(&v, MAX_SLOT_CHARS),
            "honeypot" => input.honeypot_filled |= !v.is_empty(),
            "fill_ms" => input.fill_ms = v.trim().parse().ok(),
            // The form provider's `consent_field` carries the record as JSON.
            "consent" => {
                input.consent = serde_json::from_str(&v)
                    .map_err(|_| ())
                    .and_then(|value| consent_record(&value))
            }
            _ => {}
        }
    }
    input.newsletters = Some(newsletters);
    Some(input)
}

/// `POST /api/subscribe`.
async fn subscribe(
    State(st): St,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let config = &st.config;
    let content_type = header_str(&headers, header::CONTENT_TYPE)
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let form = content_type == "application/x-www-form-urlencoded";
    let mut answer = Answer {
        html: form,
        lang: accept_language(&headers),
        referer: header_str(&headers, header::REFERER).map(str::to_owned),
        site: config.site_name.clone(),
    };

    if let Some(origin) = header_str(&headers, header::ORIGIN) {
        if !config.origin_allowed(origin) {
            tracing::info!(origin, "signup refused: origin not allowed");
            return answer.error(
                StatusCode::FORBIDDEN,
                None,
                Msg::OriginRefused.text(answer.lang),
            );
        }
    }
    if !form && content_type != "application/json" {
        return answer.unreadable(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    let limit = config.max_body_bytes;
    let declared = header_str(&headers, header::CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        drain(body).await;
        return answer.unreadable(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let Ok(bytes) = to_bytes(body, limit).await else {
        return answer.unreadable(StatusCode::PAYLOAD_TOO_LARGE);
    };
    let parsed = if form {
        parse_form(&bytes)
    } else {
        parse_json(&bytes)
    };
    let Some(input) = parsed else {
        return answer.unreadable(StatusCode::BAD_REQUEST);
    };
    // A consent record that is there but unreadable is refused, never stored half.
    let Ok(consent) = input.consent.clone() else {
        return answer.unreadable(StatusCode::BAD_REQUEST);
    };
    if let Some(lang) = input.locale.as_deref().and_then(Lang::from_tag) {
        answer.lang = lang;
    }
    let lang = answer.lang;

    // A retried request is answered exactly as the first one, before any limit applies.
    let idem_key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => match v.to_str() {
            Ok(k) if !k.trim().is_empty() && k.len() <= MAX_KEY_LEN => Some(k.trim().to_owned()),
            _ => return answer.unreadable(StatusCode::BAD_REQUEST),
        },
    };
    // What makes two requests "the same submission": the address, the newsletters, the locale
    // and the consent record (without its `at_ms`, which a resend may renew). The same key with
    // any of them changed is refused with 422, like a changed body.
    let fingerprint = {
        let mut ids = input.newsletters.clone().unwrap_or_default();
        ids.sort();
        ids.dedup();
        let consent_fp = consent
            .as_deref()
            .and_then(|c| serde_json::from_str::<Value>(c).ok())
            .map(|mut v| {
                if let Some(obj) = v.as_object_mut() {
                    obj.remove("at_ms");
                }
                v.to_string()
            })
            .unwrap_or_default();
        format!(
            "{}\n{}\n{}\n{}",
            email_key(input.email.as_deref().unwrap_or("").trim()),
            ids.join(","),
            // Without control characters: PostgreSQL text cannot hold NUL.
            cut(input.locale.as_deref().unwrap_or("").trim(), MAX_SLOT_CHARS).to_ascii_lowercase(),
            consent_fp
        )
    };
    // A retry of a key being answered now waits for that answer (and then replays it), so
    // concurrent retries spend no rate-limit tokens and never race each other.
    let _key_guard = match &idem_key {
        Some(key) => Some(KeyLocks::hold(&st.in_flight, key).await),
        None => None,
    };
    if let Some(key) = &idem_key {
        match st.db.idempotent_answer(key).await {
            Ok(Some(stored)) => return replay(&answer, &stored, &fingerprint),
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "idempotency lookup failed");
                return answer.server_error();
            }
        }
    }

    let ip = client_ip(config.forwarded_hops(), &headers, peer);
    let ip_bucket = ip_key(ip, config.limits.ipv6_prefix);
    let per_ip = if config.limits.shared_per_ip {
        match st
            .db
            .take_token(
                &format!("ip:{ip_bucket}"),
                config.limits.per_ip_per_minute,
                60_000,
            )
            .await
        {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "shared rate limit unavailable; using this process's");
                st.per_ip.check(&ip_bucket)
            }
        }
    } else {
        st.per_ip.check(&ip_bucket)
    };
    if let Err(wait) = per_ip {
        tracing::info!(%ip, wait, "signup rate limited (client IP)");
        return answer.rate_limited(wait);
    }

    // Validation: the widget's own rule, then the validator crate as a second opinion.
    if input.email_wrong_type {
        return answer.error(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("email"),
            Msg::EmailFormat.text(lang),
        );
    }
    let email = match parse_email(input.email.as_deref().unwrap_or(""), &Uts46) {
        Ok(email) => email,
        Err(e) => {
            return answer.error(
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("email"),
                &core_text(lang, Key::for_email_error(e), &[]),
            )
        }
    };
    if !email.as_str().validate_email() {
        return answer.error(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("email"),
            Msg::EmailFormat.text(lang),
        );
    }
    if input.newsletters_wrong_type {
        return answer.error(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("newsletters"),
            Msg::NewsletterUnknown.text(lang),
        );
    }
    let chosen = input.newsletters.unwrap_or_default();
    if chosen.is_empty() {
        return answer.error(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("newsletters"),
            &core_text(lang, Key::NewslettersNone, &[]),
        );
    }
    if chosen.len() > MAX_NEWSLETTERS || chosen.iter().any(|id| config.newsletter(id).is_none()) {
        return answer.error(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("newsletters"),
            Msg::NewsletterUnknown.text(lang),
        );
    }
    // In the site's order, each once.
    let newsletters: Vec<String> = config
        .newsletters
        .iter()
        .filter(|n| chosen.contains(&n.id))
        .map(|n| n.id.clone())
        .collect();

    // Bot signals: answered like a signup so a bot learns nothing, but nothing is stored.
    let too_fast = input
        .fill_ms
        .is_some_and(|ms| ms < config.min_fill_ms as f64);
    if input.honeypot_filled || too_fast {
        tracing::info!(%ip, honeypot = input.honeypot_filled, too_fast, "signup dropped as a bot");
        return success(
            &answer,
            &Outcome::Pending,
            email.as_str(),
            &newsletters,
            config,
        );
    }

    // Per mailbox: `jane+1@` and `jane+2@` (and Gmail's `j.ane@`) fill one inbox.
    if let Err(wait) = st.per_address.check(&mailbox_key(email.as_str())) {
        tracing::info!(wait, "signup rate limited (address)");
        return answer.rate_limited(wait);
    }

    let signup = Signup {
        email: email.as_str().to_owned(),
        newsletters: newsletters.clone(),
        locale: lang.tag().to_owned(),
        page: input.page.clone(),
        slot: input.slot.clone(),
        consent: consent.clone(),
        idempotency: idem_key.clone().map(|k| (k, fingerprint.clone())),
        daily_cap: config.limits.confirmations_per_address_per_day,
        notify_owner: !config.disclose_subscriptions,
        base_url: config.base_url().to_owned(),
        mail: Arc::new(Composer {
            lang,
            config: config.clone(),
        }),
        answer: Arc::new(|r: &SignupResult| {
            let (status, body) = json_answer(&outcome(r));
            (status.as_u16(), body.to_string())
        }),
    };
    let result = st.db.record_signup(signup).await;
    match result {
        Ok(SignupResult::Replay(stored)) => replay(&answer, &stored, &fingerprint),
        Ok(r) => {
            if let SignupResult::Pending { email: Some(mail) } = &r {
                if config.mail.smtp_url.is_some() {
                    st.mail_wake.notify_one();
                } else {
                    tracing::info!(to = %mail.to, link = %mail.link, "confirmation email written to the outbox (no SMTP_URL)");
                }
            } else if let SignupResult::Pending { email: None }
            | SignupResult::OwnerNotified { email: None } = &r
            {
                tracing::info!("daily email cap reached for a mailbox; no email sent");
            } else if let SignupResult::OwnerNotified { email: Some(_) } = &r {
                if config.mail.smtp_url.is_some() {
                    st.mail_wake.notify_one();
                }
                tracing::info!("already subscribed: answered like a new signup, owner notified");
            }
            success(&answer, &outcome(&r), email.as_str(), &newsletters, config)
        }
        Err(e) => {
            tracing::error!(error = %e, "storing a signup failed");
            answer.server_error()
        }
    }
}

/// The two successful answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Pending,
    Already,
}

fn outcome(r: &SignupResult) -> Outcome {
    match r {
        SignupResult::AlreadySubscribed => Outcome::Already,
        _ => Outcome::Pending,
    }
}

fn json_answer(outcome: &Outcome) -> (StatusCode, Value) {
    match outcome {
        Outcome::Pending => (
            StatusCode::ACCEPTED,
            json!({"status": "pending_confirmation"}),
        ),
        Outcome::Already => (StatusCode::OK, json!({"status": "already_subscribed"})),
    }
}

fn success(
    answer: &Answer,
    outcome: &Outcome,
    email: &str,
    newsletters: &[String],
    config: &Config,
) -> Response {
    let (status, body) = json_answer(outcome);
    if !answer.html {
        return json_response(status, &body);
    }
    let names = Composer {
        lang: answer.lang,
        config: Arc::new(config.clone()),
    }
    .names(newsletters);
    let args = [("email", email), ("newsletters", names.as_str())];
    let (title, text) = match outcome {
        Outcome::Pending => (Key::PendingTitle, Key::PendingBody),
        Outcome::Already => (Key::AlreadyTitle, Key::AlreadyBody),
    };
    html(
        status,
        page(
            answer.lang,
            &answer.site,
            &core_text(answer.lang, title, &[]),
            &[core_text(answer.lang, text, &args)],
            &back_link(answer.lang, answer.referer.as_deref()),
        ),
    )
}

/// Whether a stored fingerprint is the same submission. One stored before locale and consent
/// were part of it (two lines) is compared on address and newsletters only.
fn same_submission(stored: &str, now: &str) -> bool {
    if stored.split('\n').count() == 2 {
        let mut parts = now.split('\n');
        let (a, b) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        return stored == format!("{a}\n{b}");
    }
    stored == now
}

fn replay(answer: &Answer, stored: &crate::db::StoredAnswer, fingerprint: &str) -> Response {
    if !same_submission(&stored.fingerprint, fingerprint) {
        return answer.error(
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Msg::KeyReused.text(answer.lang),
        );
    }
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut r = (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        stored.body.clone(),
    )
        .into_response();
    r.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    r
}

/// `GET /api/newsletters`.
async fn newsletters(State(st): St) -> Response {
    json_response(
        StatusCode::OK,
        &json!({"newsletters": st.config.newsletters}),
    )
}

/// `GET /healthz`.
async fn healthz(State(st): St) -> Response {
    let database = if st.db.is_sqlite() {
        "sqlite"
    } else {
        "postgres"
    };
    let check = match st.db.ping().await {
        Ok(()) => st.db.probe_write().await,
        Err(e) => Err(e),
    };
    match check {
        Ok(()) => json_response(
            StatusCode::OK,
            &json!({"status": "ok", "database": database}),
        ),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                &json!({"status": "unavailable", "database": database, "problem": "the database cannot write"}),
            )
        }
    }
}

/// `GET /api/outbox` (demo only).
async fn outbox(State(st): St) -> Response {
    if !st.config.demo {
        return not_found().await;
    }
    match st.db.outbox(50).await {
        Ok(emails) => json_response(StatusCode::OK, &json!({"emails": emails})),
        Err(e) => {
            tracing::error!(error = %e, "reading the outbox failed");
            json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({"error": {"field": null, "message": "outbox unavailable"}}),
            )
        }
    }
}

/// How much of a refused body is read and thrown away before answering.
const DRAIN_LIMIT: usize = 1024 * 1024;

/// Reads and discards what is left of a refused body, up to [`DRAIN_LIMIT`] bytes, so a client
/// still sending it receives the 413 rather than a connection reset ("lingering close", as nginx
/// does). The request timeout bounds a client that sends slowly.
async fn drain(mut body: Body) {
    use http_body_util::BodyExt;
    let mut seen = 0;
    while let Some(Ok(frame)) = body.frame().await {
        seen += frame.data_ref().map_or(0, |d| d.len());
        if seen > DRAIN_LIMIT {
            break;
        }
    }
}

async fn not_found() -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &json!({"error": {"field": null, "message": "Not found"}}),
    )
}

fn token_ok(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

fn lang_of(tag: &str) -> Lang {
    Lang::from_tag(tag).unwrap_or_default()
}

fn expired_page(config: &Config, lang: Lang, status: StatusCode) -> Response {
    html(
        status,
        page(
            lang,
            &config.site_name,
            Msg::LinkExpiredTitle.text(lang),
            &[Msg::LinkExpiredBody.text(lang).to_owned()],
            "",
        ),
    )
}

fn db_error_page(config: &Config, lang: Lang, e: &str) -> Response {
    tracing::error!(error = %e, "database error on a link page");
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        page(
            lang,
            &config.site_name,
            &core_text(lang, Key::ErrorSummaryTitle, &[]),
            &[Msg::ServerProblem.text(lang).to_owned()],
            "",
        ),
    )
}

/// `GET /api/confirm/{token}`: shows the Confirm button; changes nothing.
async fn confirm_page(State(st): St, Path(token): Path<String>, headers: HeaderMap) -> Response {
    confirm_inner(&st, &token, &headers, false).await
}

/// `POST /api/confirm/{token}`: confirms.
async fn confirm(State(st): St, Path(token): Path<String>, headers: HeaderMap) -> Response {
    confirm_inner(&st, &token, &headers, true).await
}

async fn confirm_inner(st: &AppState, token: &str, headers: &HeaderMap, act: bool) -> Response {
    let config = &st.config;
    let fallback = accept_language(headers);
    if !token_ok(token) {
        return expired_page(config, fallback, StatusCode::NOT_FOUND);
    }
    let c = match st.db.confirmation(token).await {
        Ok(Some(c)) => c,
        Ok(None) => return expired_page(config, fallback, StatusCode::NOT_FOUND),
        Err(e) => return db_error_page(config, fallback, &e),
    };
    let lang = lang_of(&c.locale);
    if c.confirmed_at.is_none() && c.expires_at < now_ms() {
        return expired_page(config, lang, StatusCode::GONE);
    }
    let names = Composer {
        lang,
        config: config.clone(),
    }
    .names(&c.newsletters);
    let args = [("email", c.email.as_str()), ("newsletters", names.as_str())];
    if !act && c.confirmed_at.is_none() {
        return html(
            StatusCode::OK,
            page(
                lang,
                &config.site_name,
                Msg::ConfirmTitle.text(lang),
                &[Msg::ConfirmBody.format(lang, &args)],
                &button_form(token, Msg::ConfirmButton.text(lang)),
            ),
        );
    }
    if act {
        if let Err(e) = st.db.confirm(token, &c).await {
            return db_error_page(config, lang, &e);
        }
        tracing::info!("subscription confirmed");
    }
    html(
        StatusCode::OK,
        page(
            lang,
            &config.site_name,
            Msg::ConfirmedTitle.text(lang),
            &[core_text(lang, Key::SubscribedBody, &args)],
            "",
        ),
    )
}

/// `GET /api/unsubscribe/{token}`: shows the Unsubscribe button.
async fn unsubscribe_page(
    State(st): St,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    unsubscribe_inner(&st, &token, &headers, false).await
}

/// `POST /api/unsubscribe/{token}`: unsubscribes from everything (also RFC 8058 one-click).
async fn unsubscribe(State(st): St, Path(token): Path<String>, headers: HeaderMap) -> Response {
    unsubscribe_inner(&st, &token, &headers, true).await
}

async fn unsubscribe_inner(st: &AppState, token: &str, headers: &HeaderMap, act: bool) -> Response {
    let config = &st.config;
    let fallback = accept_language(headers);
    if !token_ok(token) {
        return expired_page(config, fallback, StatusCode::NOT_FOUND);
    }
    let s = match st.db.subscriber(token).await {
        Ok(Some(s)) => s,
        Ok(None) => return expired_page(config, fallback, StatusCode::NOT_FOUND),
        Err(e) => return db_error_page(config, fallback, &e),
    };
    let lang = lang_of(&s.locale);
    let email = s.email.as_str();
    if !act && !s.active.is_empty() {
        let names = Composer {
            lang,
            config: config.clone(),
        }
        .names(&s.active);
        return html(
            StatusCode::OK,
            page(
                lang,
                &config.site_name,
                Msg::UnsubscribeTitle.text(lang),
                &[Msg::UnsubscribeBody.format(lang, &[("email", email), ("newsletters", &names)])],
                &button_form(token, Msg::UnsubscribeButton.text(lang)),
            ),
        );
    }
    if act {
        if let Err(e) = st.db.unsubscribe(&s.email_key).await {
            return db_error_page(config, lang, &e);
        }
        tracing::info!("unsubscribed");
    }
    html(
        StatusCode::OK,
        page(
            lang,
            &config.site_name,
            Msg::UnsubscribedTitle.text(lang),
            &[Msg::UnsubscribedBody.format(lang, &[("email", email)])],
            "",
        ),
    )
}

/// A JSON error for the statistics and count routes (these have no reader-facing wording).
fn plain_error(status: StatusCode, message: &str) -> Response {
    json_response(
        status,
        &json!({"error": {"field": null, "message": message}}),
    )
}

/// Whether the browser asks not to be tracked (`Sec-GPC: 1` or `DNT: 1`). The widget sends
/// nothing then; the receiver also drops what arrives with either header.
fn opted_out(headers: &HeaderMap) -> bool {
    ["sec-gpc", "dnt"]
        .iter()
        .any(|h| header_str(headers, *h).is_some_and(|v| v.trim() == "1"))
}

/// `POST /api/stats`: anonymous daily counts per slot, page and newsletter ([`crate::stats`]).
/// Answers 204 when counted (or dropped for `Sec-GPC`/`DNT`), 400/413/415/422 for a body it will
/// not count, 429 over `stats.per_ip_per_minute`. The client address is used for the rate limit
/// in memory only and never stored.
async fn post_stats(
    State(st): St,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let config = &st.config;
    if !config.stats.enabled {
        return not_found().await;
    }
    if let Some(origin) = header_str(&headers, header::ORIGIN) {
        if !config.origin_allowed(origin) {
            return plain_error(StatusCode::FORBIDDEN, "origin not allowed");
        }
    }
    let content_type = header_str(&headers, header::CONTENT_TYPE)
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    if content_type != "application/json" && content_type != "text/plain" {
        return plain_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send JSON as application/json or text/plain",
        );
    }
    let limit = config.stats.max_body_bytes;
    let declared = header_str(&headers, header::CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        drain(body).await;
        return plain_error(StatusCode::PAYLOAD_TOO_LARGE, "statistics body too large");
    }
    let Ok(bytes) = to_bytes(body, limit).await else {
        return plain_error(StatusCode::PAYLOAD_TOO_LARGE, "statistics body too large");
    };
    if opted_out(&headers) {
        return StatusCode::NO_CONTENT.into_response();
    }
    let ip = client_ip(config.forwarded_hops(), &headers, peer);
    if let Err(wait) = st
        .stats_per_ip
        .check(&ip_key(ip, config.limits.ipv6_prefix))
    {
        let mut r = plain_error(
            StatusCode::TOO_MANY_REQUESTS,
            "too many statistics requests",
        );
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    if serde_json::from_slice::<Value>(&bytes).is_err() {
        return plain_error(StatusCode::BAD_REQUEST, "the body is not JSON");
    }
    let report = match crate::stats::parse(&bytes, config) {
        Ok(r) => r,
        Err(crate::stats::Refused(why)) => {
            return plain_error(StatusCode::UNPROCESSABLE_ENTITY, &why)
        }
    };
    if report.events.is_empty() {
        return StatusCode::NO_CONTENT.into_response();
    }
    let day = now_ms().div_euclid(86_400_000);
    match st
        .db
        .record_stats(
            day,
            &report.page,
            &report.events,
            config.stats.max_rows_per_day,
        )
        .await
    {
        Ok(done) => {
            if done.dropped > 0 {
                tracing::warn!(
                    dropped = done.dropped,
                    max = config.stats.max_rows_per_day,
                    "statistics dropped: the day holds stats.max_rows_per_day rows"
                );
            }
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "storing statistics failed");
            plain_error(StatusCode::INTERNAL_SERVER_ERROR, "statistics not stored")
        }
    }
}

/// `GET /api/count/{newsletter}`: `{"count": n, "rounded_to": r}`, the confirmed subscribers
/// rounded to the nearest `stats.count_round_to`; read from the database at most once a minute
/// and cacheable for five minutes by anyone.
async fn count(State(st): St, Path(newsletter): Path<String>) -> Response {
    let config = &st.config;
    if !config.stats.public_count || config.newsletter(&newsletter).is_none() {
        return not_found().await;
    }
    let cached = {
        let map = match st.counts.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.get(&newsletter)
            .filter(|(at, _)| at.elapsed() < Duration::from_secs(60))
            .map(|(_, n)| *n)
    };
    let n = match cached {
        Some(n) => n,
        None => match st.db.confirmed_count(&newsletter).await {
            Ok(n) => {
                let mut map = match st.counts.lock() {
                    Ok(m) => m,
                    Err(poisoned) => poisoned.into_inner(),
                };
                map.insert(newsletter.clone(), (std::time::Instant::now(), n));
                n
            }
            Err(e) => {
                tracing::error!(error = %e, "reading a public count failed");
                return plain_error(StatusCode::SERVICE_UNAVAILABLE, "count unavailable");
            }
        },
    };
    let round = config.stats.count_round_to;
    let mut r = json_response(
        StatusCode::OK,
        &json!({"count": crate::stats::round_count(n, round), "rounded_to": round}),
    );
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    r
}

/// The request's `Cookie` header lines.
fn cookie_lines(headers: &HeaderMap) -> Vec<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect()
}

/// The configured operator token, or None (then every `/admin` URL is 404).
fn admin_token(st: &AppState) -> Option<&str> {
    st.config.admin_token.as_deref().filter(|t| !t.is_empty())
}

fn admin_authorized(st: &AppState, headers: &HeaderMap) -> bool {
    let Some(expected) = admin_token(st) else {
        return false;
    };
    let cookies = cookie_lines(headers);
    let now = now_ms();
    let sessions = st
        .admin_sessions
        .lock()
        .map(|mut s| {
            s.retain(|_, until| *until > now);
            s.keys().cloned().collect::<Vec<_>>()
        })
        .unwrap_or_default();
    crate::admin::authorized(
        expected,
        &sessions,
        &cookies,
        header_str(headers, header::AUTHORIZATION),
    )
}

fn admin_login_page(st: &AppState, status: StatusCode, problem: Option<&str>) -> Response {
    html(
        status,
        crate::admin::login_page(&st.config.site_name, problem),
    )
}

/// The query string's `from` and `to`.
fn period_of(query: Option<&str>) -> (i64, i64) {
    let mut from = None;
    let mut to = None;
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "from" => from = Some(v.into_owned()),
            "to" => to = Some(v.into_owned()),
            _ => {}
        }
    }
    crate::admin::period(
        from.as_deref(),
        to.as_deref(),
        now_ms().div_euclid(86_400_000),
    )
}

/// `GET /admin`: the operator page, or the login form (401) without the token.
async fn admin_page(State(st): St, headers: HeaderMap, uri: axum::http::Uri) -> Response {
    if admin_token(&st).is_none() {
        return not_found().await;
    }
    if !admin_authorized(&st, &headers) {
        return admin_login_page(&st, StatusCode::UNAUTHORIZED, None);
    }
    let (from, to) = period_of(uri.query());
    let data = async {
        let stats = st.db.stats_rows(from, to).await?;
        let slots = st.db.slot_days(from, to).await?;
        let changes = st.db.subscriber_changes().await?;
        Ok::<_, String>((stats, slots, changes))
    };
    match data.await {
        Ok((stats, slots, changes)) => {
            let newsletters: Vec<(String, String)> = st
                .config
                .newsletters
                .iter()
                .map(|n| (n.id.clone(), n.name.clone()))
                .collect();
            let funnels = crate::admin::funnels(&stats, &slots);
            let subscribers = crate::admin::subscribers(&changes, &newsletters, from, to);
            let mut r = html(
                StatusCode::OK,
                crate::admin::page(&st.config.site_name, from, to, &funnels, &subscribers),
            );
            // The figures are for the operator only: no shared or back-button cache keeps them.
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "reading the operator page's figures failed");
            html(
                StatusCode::INTERNAL_SERVER_ERROR,
                crate::admin::login_page(
                    &st.config.site_name,
                    Some("The database did not answer; try again."),
                ),
            )
        }
    }
}

/// `POST /admin`: the login form. The right token sets the cookie and goes to the page.
async fn admin_login(
    State(st): St,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(expected) = admin_token(&st).map(str::to_owned) else {
        return not_found().await;
    };
    let ip = client_ip(st.config.forwarded_hops(), &headers, peer);
    if let Err(wait) = st
        .logins_per_ip
        .check(&ip_key(ip, st.config.limits.ipv6_prefix))
    {
        let mut r = admin_login_page(
            &st,
            StatusCode::TOO_MANY_REQUESTS,
            Some(&format!(
                "Too many tries: wait {wait} seconds, then try again."
            )),
        );
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    let Ok(bytes) = to_bytes(body, 4096).await else {
        return admin_login_page(
            &st,
            StatusCode::PAYLOAD_TOO_LARGE,
            Some("That is not a token."),
        );
    };
    let given = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default();
    if !crate::admin::ct_eq(given.as_bytes(), expected.as_bytes()) {
        tracing::warn!(%ip, "operator login refused: wrong token");
        return admin_login_page(
            &st,
            StatusCode::UNAUTHORIZED,
            Some("That token is not right. Check admin_token in the receiver's configuration."),
        );
    }
    let secure = if st.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let session = match crate::db::token() {
        Ok(id) => id,
        Err(e) => {
            tracing::error!(error = %e, "no random session id for the operator");
            return admin_login_page(
                &st,
                StatusCode::INTERNAL_SERVER_ERROR,
                Some("The receiver could not start a session; try again."),
            );
        }
    };
    if let Ok(mut sessions) = st.admin_sessions.lock() {
        // Bounded: the oldest sessions go first when many logins pile up.
        if sessions.len() >= 1000 {
            sessions.clear();
        }
        sessions.insert(session.clone(), now_ms() + 43_200_000);
    }
    let cookie = format!(
        "{}={session}; HttpOnly; SameSite=Strict; Path=/admin; Max-Age=43200{secure}",
        crate::admin::COOKIE
    );
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, "/admin")]).into_response();
    match HeaderValue::from_str(&cookie) {
        Ok(v) => {
            r.headers_mut().insert(header::SET_COOKIE, v);
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(_) => admin_login_page(
            &st,
            StatusCode::INTERNAL_SERVER_ERROR,
            Some("The configured token cannot be kept in a cookie; use letters and digits."),
        ),
    }
}

/// `POST /admin/logout`: ends the session and forgets the cookie.
async fn admin_logout(State(st): St, headers: HeaderMap) -> Response {
    if admin_token(&st).is_none() {
        return not_found().await;
    }
    let cookies = cookie_lines(&headers);
    if let (Some(id), Ok(mut sessions)) = (
        crate::admin::session_cookie(&cookies),
        st.admin_sessions.lock(),
    ) {
        sessions.remove(id);
    }
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, "/admin")]).into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "letterbox_admin=; HttpOnly; SameSite=Strict; Path=/admin; Max-Age=0",
        ),
    );
    r
}

/// `GET /admin/stats.csv?from=…&to=…`: the daily counts of the period.
async fn admin_csv(State(st): St, headers: HeaderMap, uri: axum::http::Uri) -> Response {
    if admin_token(&st).is_none() {
        return not_found().await;
    }
    if !admin_authorized(&st, &headers) {
        return admin_login_page(&st, StatusCode::UNAUTHORIZED, None);
    }
    let (from, to) = period_of(uri.query());
    let data = async {
        let stats = st.db.stats_rows(from, to).await?;
        let slots = st.db.slot_days(from, to).await?;
        Ok::<_, String>((stats, slots))
    };
    match data.await {
        Ok((stats, slots)) => {
            let name = format!(
                "attachment; filename=\"letterbox-stats-{}-{}.csv\"",
                crate::admin::date(from),
                crate::admin::date(to)
            );
            let mut r = (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (header::CACHE_CONTROL, "no-store"),
                ],
                crate::admin::csv(&stats, &slots),
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&name) {
                r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "reading the statistics for the CSV failed");
            plain_error(StatusCode::INTERNAL_SERVER_ERROR, "statistics unavailable")
        }
    }
}
