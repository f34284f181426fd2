//! Delivery adapters: one normalised interface between a reader's signup and the service a site
//! already runs (the Letterbox JSON contract, a plain form endpoint, Mailchimp, listmonk, Ghost).
//!
//! This module owns request building and response interpretation, as pure data in and data out.
//! The widget's transport only executes the [`Request`]s it is given (a `fetch` or a JSONP script)
//! and hands back what happened as a [`Reply`]; it never builds a URL or reads a body itself.
//!
//! # The flow
//!
//! Every adapter is driven the same way, whether it needs one request or several (Ghost fetches an
//! integrity token first):
//!
//! ```text
//! let mut next = adapter.start(&envelope);
//! loop {
//!     match next {
//!         Next::Send(exchange) => {
//!             let reply = transport.execute(&exchange.request).await;   // the browser's part
//!             next = adapter.next(&envelope, exchange.step, &reply);
//!         }
//!         Next::Done(outcome) => break outcome,                       // feed to `transition`
//!     }
//! }
//! ```
//!
//! Adapters keep no state between calls: the [`Step`] in each [`Exchange`] says where the flow is.
//! Every flow ends: a step either sends the next (later) step or finishes, and no adapter has more
//! than [`MAX_STEPS`] steps.
//!
//! # Outcomes
//!
//! Every reply, including network errors, timeouts, empty bodies, HTML error pages from proxies
//! and bodies of the wrong content type, becomes one [`Outcome`]. Server text is always reduced to
//! plain text with [`clean_server_text`]; where a service answers with a code or a fixed English
//! phrase for an address problem, the reader gets the catalogue's own wording in their language.
//!
//! ```
//! use letterbox_core::delivery::{Adapter, Envelope, JsonAdapter, Next, Reply, HttpReply};
//! use letterbox_core::signup::Outcome;
//! let adapter = Adapter::Json(JsonAdapter { endpoint: "https://news.example/api/subscribe".into() });
//! let envelope = Envelope::example();
//! let Next::Send(exchange) = adapter.start(&envelope) else { panic!() };
//! let reply = Reply::Http(HttpReply { status: 200, content_type: Some("application/json"),
//!     retry_after: None, body: r#"{"status":"pending_confirmation"}"# });
//! assert_eq!(adapter.next(&envelope, exchange.step, &reply), Next::Done(Outcome::PendingConfirmation));
//! ```

pub mod contract;
pub mod encode;
pub mod form;
pub mod ghost;
pub mod json;
pub mod listmonk;
pub mod mailchimp;
pub mod retry;

pub use form::FormAdapter;
pub use ghost::GhostAdapter;
pub use json::JsonAdapter;
pub use listmonk::ListmonkAdapter;
pub use mailchimp::{MailchimpAdapter, MailchimpGroup};

use crate::messages::{Key, Lang};
pub use crate::signup::{Outcome, Signup};
pub use contract::{clean_server_text, CHALLENGE_TIMEOUT_MS, TIMEOUT_MS};

/// No adapter needs more requests than this for one submission.
pub const MAX_STEPS: u8 = 2;

/// One signup as one request sends it: the [`Signup`] itself, plus what belongs to this request
/// only (a fresh challenge token, the bot signals). Never stored: a queued signup gets a new
/// envelope, and a new token, each time it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The signup.
    pub signup: Signup,
    /// A challenge token (Turnstile, hCaptcha, proof of work) from the site's provider, if any.
    pub challenge: Option<String>,
    /// The bot signals, sent only when the slot flags rather than drops (`"bots": "flag"`).
    pub signals: Option<crate::bots::Signals>,
}

impl Envelope {
    /// The envelope of `signup` with no token and no signals.
    pub fn new(signup: Signup) -> Envelope {
        Envelope {
            signup,
            challenge: None,
            signals: None,
        }
    }

    /// A sample envelope for examples and tests: [`Signup::example`].
    pub fn example() -> Envelope {
        Envelope::new(Signup::example())
    }

    fn lang(&self) -> Lang {
        Lang::from_tag(&self.signup.locale).unwrap_or_default()
    }

    /// The catalogue's built-in text for `key` in the reader's language.
    fn text(&self, key: Key) -> String {
        key.default_text(self.lang()).to_owned()
    }
}

/// An HTTP method the adapters use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
}

impl Method {
    /// The method's name for `fetch`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// One request for the transport to execute, as plain data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// A `fetch` (CORS mode, no credentials). The transport reports the status, the
    /// `Content-Type` and `Retry-After` headers and the body text.
    Fetch {
        /// `GET` or `POST`.
        method: Method,
        /// The full URL.
        url: String,
        /// Headers to set, in order.
        headers: Vec<(String, String)>,
        /// The body, if any (its type is in `headers`).
        body: Option<String>,
    },
    /// A JSONP call: the transport makes a unique global callback name, appends
    /// `&{callback_param}={name}` to `url` (see [`Request::jsonp_url`]), injects a `<script>`,
    /// and reports `JSON.stringify` of the callback's argument as [`Reply::Jsonp`]. It removes the
    /// script and the callback on success, on the script's error event and on timeout.
    Jsonp {
        /// The URL with its query, without the callback parameter.
        url: String,
        /// The name of the callback parameter (`c` for Mailchimp).
        callback_param: &'static str,
    },
}

impl Request {
    /// The request as a page may make it: a JSONP script from `http://` on an `https:` page
    /// (`page_is_https`) would be blocked as mixed content, so it is loaded over `https://`
    /// (Mailchimp's list-manage.com serves both). The page that sends a request is not always
    /// the one the signup was made on: a signup queued on an `http:` page may be sent later from
    /// an `https:` one, so the transport applies this with the sending page's scheme.
    ///
    /// ```
    /// use letterbox_core::delivery::Request;
    /// let r = Request::Jsonp { url: "http://x.us1.list-manage.com/p?u=1".into(), callback_param: "c" };
    /// assert_eq!(r.clone().for_page(true), Request::Jsonp {
    ///     url: "https://x.us1.list-manage.com/p?u=1".into(), callback_param: "c" });
    /// assert_eq!(r.clone().for_page(false), r);
    /// ```
    pub fn for_page(self, page_is_https: bool) -> Request {
        match self {
            Request::Jsonp {
                url,
                callback_param,
            } if page_is_https && url.starts_with("http://") => Request::Jsonp {
                url: format!("https://{}", &url["http://".len()..]),
                callback_param,
            },
            other => other,
        }
    }

    /// For a JSONP request, the URL to load with `callback` as the callback's name.
    ///
    /// ```
    /// use letterbox_core::delivery::Request;
    /// let r = Request::Jsonp { url: "https://x.example/p?u=1".into(), callback_param: "c" };
    /// assert_eq!(r.jsonp_url("__lb7").as_deref(), Some("https://x.example/p?u=1&c=__lb7"));
    /// ```
    pub fn jsonp_url(&self, callback: &str) -> Option<String> {
        match self {
            Request::Jsonp {
                url,
                callback_param,
            } => {
                let mut out = url.clone();
                out.push(if url.contains('?') { '&' } else { '?' });
                out.push_str(callback_param);
                out.push('=');
                encode::percent_encode(&mut out, callback);
                Some(out)
            }
            Request::Fetch { .. } => None,
        }
    }
}

/// An HTTP answer as the transport received it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpReply<'a> {
    /// The status code.
    pub status: u16,
    /// The `Content-Type` header, if present.
    pub content_type: Option<&'a str>,
    /// The `Retry-After` header, if present (and exposed by CORS).
    pub retry_after: Option<&'a str>,
    /// The body as text (may be empty, HTML from a proxy, or anything else).
    pub body: &'a str,
}

impl<'a> HttpReply<'a> {
    fn contract(&self) -> crate::delivery::contract::Response<'a> {
        crate::delivery::contract::Response {
            status: self.status,
            retry_after: self.retry_after,
            body: self.body,
        }
    }

    /// True when the body claims to be JSON (`application/json`, `…+json`).
    fn says_json(&self) -> bool {
        self.content_type.is_some_and(|t| {
            let t = t
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            t == "application/json" || t.ends_with("+json")
        })
    }
}

/// What happened to a [`Request`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply<'a> {
    /// A `fetch` got an HTTP answer.
    Http(HttpReply<'a>),
    /// A JSONP callback was called; this is `JSON.stringify` of its argument.
    Jsonp(&'a str),
    /// No answer: offline, DNS, CORS refused, connection reset, or the JSONP script failed to load.
    NetworkError,
    /// No answer within [`crate::delivery::contract::TIMEOUT_MS`].
    Timeout,
    /// No answer to a cross-origin read (`GET`) twice, while the same URL answers a plain
    /// request without CORS: the server refuses this page's cross-origin requests. Most often
    /// the configured URL redirects (http→https, apex→www, a missing or extra path), which a
    /// request with a preflight cannot follow, or sends no CORS headers, and can never work; but
    /// a proxy's error page (a 502 while the service restarts) or a captive portal looks exactly
    /// the same to the page. So the widget reports it on the console as a likely configuration
    /// error ([`redirected`]), and the signup, of which nothing was sent, is kept for later like
    /// an unreached one: a misconfigured site finds out from its console, and a reader behind a
    /// restarting proxy loses nothing.
    Redirected,
}

/// Where a multi-request flow is. Adapters are stateless; the step travels with the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Step(pub u8);

/// A request to send, and the step whose reply it produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// Pass this back to [`Adapter::next`] with the reply.
    pub step: Step,
    /// What to send.
    pub request: Request,
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Execute this request, then call [`Adapter::next`] with its reply.
    Send(Exchange),
    /// The flow is over.
    Done(Outcome),
}

/// A configured delivery adapter (`data-provider`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Adapter {
    /// `json`: the Letterbox endpoint contract (the default).
    Json(JsonAdapter),
    /// `form`: an `application/x-www-form-urlencoded` POST (a site's own endpoint, Sendy).
    Form(FormAdapter),
    /// `mailchimp`: the classic list-manage signup form through JSONP.
    Mailchimp(MailchimpAdapter),
    /// `listmonk`: listmonk's public subscription API.
    Listmonk(ListmonkAdapter),
    /// `ghost`: Ghost's members API (integrity token, then magic link).
    Ghost(GhostAdapter),
}

impl Adapter {
    /// The `data-provider` name.
    pub fn provider(&self) -> &'static str {
        match self {
            Adapter::Json(_) => "json",
            Adapter::Form(_) => "form",
            Adapter::Mailchimp(_) => "mailchimp",
            Adapter::Listmonk(_) => "listmonk",
            Adapter::Ghost(_) => "ghost",
        }
    }

    /// Which service a submission goes to: the provider and its address, e.g.
    /// `json https://news.example/api/subscribe`. Pending submissions are keyed by it, so an entry
    /// queued for one endpoint is never sent to another.
    ///
    /// ```
    /// use letterbox_core::delivery::{Adapter, JsonAdapter};
    /// let a = Adapter::Json(JsonAdapter { endpoint: "/api/subscribe".into() });
    /// assert_eq!(a.destination(), "json /api/subscribe");
    /// ```
    pub fn destination(&self) -> String {
        let target = match self {
            Adapter::Json(a) => a.endpoint.clone(),
            Adapter::Form(a) => a.action.clone(),
            Adapter::Mailchimp(a) => format!("{}?u={}&id={}", a.host, a.u, a.id),
            Adapter::Listmonk(a) => a.base.clone(),
            Adapter::Ghost(a) => a.site.clone(),
        };
        format!("{} {target}", self.provider())
    }

    /// A fingerprint of every setting of this adapter (FNV-1a over its derived `Hash`), as 16
    /// hex digits: two slots whose adapters have the same fingerprint send a signup identically.
    /// Stable within one build of the widget (not across versions, nor between native and wasm).
    ///
    /// ```
    /// use letterbox_core::delivery::{Adapter, JsonAdapter};
    /// let a = Adapter::Json(JsonAdapter { endpoint: "/a".into() });
    /// let b = Adapter::Json(JsonAdapter { endpoint: "/b".into() });
    /// assert_eq!(a.fingerprint(), a.clone().fingerprint());
    /// assert_ne!(a.fingerprint(), b.fingerprint());
    /// assert_eq!(a.fingerprint().len(), 16);
    /// ```
    pub fn fingerprint(&self) -> String {
        struct Fnv(u64);
        impl std::hash::Hasher for Fnv {
            fn finish(&self) -> u64 {
                self.0
            }
            fn write(&mut self, bytes: &[u8]) {
                for b in bytes {
                    self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
                }
            }
        }
        let mut hasher = Fnv(0xcbf2_9ce4_8422_2325);
        std::hash::Hash::hash(self, &mut hasher);
        format!("{:016x}", hasher.0)
    }

    /// True when the service can be sent the same signup again after a request that got no
    /// answer: the Letterbox contract, which honours the `Idempotency-Key`, and a form endpoint
    /// that is sent the key (`key_field` or `key_header`: the site says it honours it). Ghost,
    /// listmonk and Mailchimp send a confirmation email for every request they process, and a
    /// form endpoint without the key promises nothing, so an unanswered request to them is never
    /// repeated ([`retry::unrepeatable`]).
    ///
    /// ```
    /// use letterbox_core::delivery::{Adapter, GhostAdapter, JsonAdapter};
    /// assert!(Adapter::Json(JsonAdapter { endpoint: "/s".into() }).repeats_safely());
    /// assert!(!Adapter::Ghost(GhostAdapter::new("https://news.example")).repeats_safely());
    /// ```
    pub fn repeats_safely(&self) -> bool {
        match self {
            Adapter::Json(_) => true,
            Adapter::Form(f) => f.key_header || f.key_field.is_some(),
            Adapter::Mailchimp(_) | Adapter::Listmonk(_) | Adapter::Ghost(_) => false,
        }
    }

    /// How long one request waits for its answer: [`TIMEOUT_MS`] where a repeat is safe, twice
    /// that for services that may send an email before they answer (a slow mail server must not
    /// turn a signup that worked into one the reader is told may have failed).
    pub fn timeout_ms(&self) -> u32 {
        if self.repeats_safely() {
            TIMEOUT_MS
        } else {
            2 * TIMEOUT_MS
        }
    }

    /// What a reader judged a bot is shown ([`crate::bots::Verdict::Drop`]): what a real signup
    /// at this service shows, so a real reader taken for a bot is not told something false about
    /// a service that confirms by email. Ghost, listmonk and Mailchimp confirm by email ("check
    /// your inbox"), as does a form endpoint set with `confirms_by_email`; for the JSON contract
    /// and other form endpoints the widget cannot know, and shows "subscribed".
    pub fn dropped_outcome(&self) -> Outcome {
        match self {
            Adapter::Mailchimp(m) if m.confirms_by_email == Some(false) => Outcome::Subscribed,
            Adapter::Ghost(_) | Adapter::Listmonk(_) | Adapter::Mailchimp(_) => {
                Outcome::PendingConfirmation
            }
            Adapter::Form(f) if f.confirms_by_email => Outcome::PendingConfirmation,
            Adapter::Json(_) | Adapter::Form(_) => Outcome::Subscribed,
        }
    }

    /// True when requests to this service can carry a challenge token: the JSON contract always
    /// (`"challenge"`), a form endpoint when `form.challenge_field` names its field. The widget
    /// asks the site's challenge provider for a token only then.
    ///
    /// ```
    /// use letterbox_core::delivery::{Adapter, FormAdapter, JsonAdapter};
    /// assert!(Adapter::Json(JsonAdapter { endpoint: "/s".into() }).carries_challenge());
    /// let mut form = FormAdapter::new("/signup");
    /// assert!(!Adapter::Form(form.clone()).carries_challenge());
    /// form.challenge_field = Some("cf-turnstile-response".into());
    /// assert!(Adapter::Form(form).carries_challenge());
    /// ```
    pub fn carries_challenge(&self) -> bool {
        match self {
            Adapter::Json(_) => true,
            Adapter::Form(a) => a.challenge_field.is_some(),
            Adapter::Mailchimp(_) | Adapter::Listmonk(_) | Adapter::Ghost(_) => false,
        }
    }

    /// The first request of a submission, or an outcome straight away when the configuration
    /// cannot express the envelope (e.g. a newsletter with no Mailchimp group).
    pub fn start(&self, envelope: &Envelope) -> Next {
        match self {
            Adapter::Json(a) => a.start(envelope),
            Adapter::Form(a) => a.start(envelope),
            Adapter::Mailchimp(a) => a.start(envelope),
            Adapter::Listmonk(a) => a.start(envelope),
            Adapter::Ghost(a) => a.start(envelope),
        }
    }

    /// The reply to the request of `step`, turned into the next request or the outcome.
    pub fn next(&self, envelope: &Envelope, step: Step, reply: &Reply<'_>) -> Next {
        if let Some(outcome) = no_answer(reply) {
            // Ghost's and listmonk's first step only reads (the integrity token, the public
            // lists): no answer to it means nothing that signs anyone up was sent.
            let reads = matches!(self, Adapter::Ghost(_) | Adapter::Listmonk(_)) && step == Step(0);
            return Next::Done(if reads { Outcome::Unreached } else { outcome });
        }
        match self {
            Adapter::Json(a) => a.next(envelope, step, reply),
            Adapter::Form(a) => a.next(envelope, step, reply),
            Adapter::Mailchimp(a) => a.next(envelope, step, reply),
            Adapter::Listmonk(a) => a.next(envelope, step, reply),
            Adapter::Ghost(a) => a.next(envelope, step, reply),
        }
    }
}

/// Network errors and timeouts are the same for every adapter.
fn no_answer(reply: &Reply<'_>) -> Option<Outcome> {
    match reply {
        // Only a read meets `Redirected` (the transport asks again only for a GET); at a step
        // that writes it counts as no answer.
        Reply::NetworkError | Reply::Redirected => Some(Outcome::NetworkError),
        Reply::Timeout => Some(Outcome::Timeout),
        _ => None,
    }
}

/// The console's message for a URL that answers, but not this page's cross-origin requests
/// ([`Reply::Redirected`]). The read that met it sent nothing that signs anyone up, so the
/// signup is kept for later ([`Outcome::Unreached`]), not refused.
///
/// ```
/// use letterbox_core::delivery::{redirected, Adapter, Envelope, GhostAdapter, Next, Reply};
/// use letterbox_core::signup::Outcome;
/// let ghost = Adapter::Ghost(GhostAdapter::new("http://news.example"));
/// let Next::Send(first) = ghost.start(&Envelope::example()) else { panic!() };
/// assert_eq!(
///     ghost.next(&Envelope::example(), first.step, &Reply::Redirected),
///     Next::Done(Outcome::Unreached)
/// );
/// assert!(redirected("http://news.example/members/api/integrity-token/").contains("redirects"));
/// ```
pub fn redirected(url: &str) -> String {
    format!(
        "{url} answers, but not this page's cross-origin requests, so no signup can reach it \
         (the signup is kept and tried again later): if this repeats, the address most likely \
         redirects (configure the address it redirects to: https://, www., or the path the \
         service really has) or sends no CORS headers; once, it may be a proxy's error page"
    )
}

/// A reply of the wrong kind (JSONP for a fetch, or the reverse): a wiring mistake.
fn wrong_kind(provider: &str) -> Outcome {
    Outcome::ConfigurationError {
        message: format!("the {provider} adapter got a reply of the wrong kind (fetch vs JSONP)"),
    }
}

/// The statuses every HTTP service means the same way: 429 and 5xx.
fn common_status(reply: &HttpReply<'_>) -> Option<Outcome> {
    match reply.status {
        429 => Some(Outcome::RateLimited {
            retry_after_secs: reply
                .retry_after
                .and_then(crate::delivery::contract::parse_retry_after),
        }),
        500..=599 => Some(Outcome::ServerError {
            status: reply.status,
        }),
        _ => None,
    }
}

/// Server text made safe, or `None` when nothing is left.
fn plain(text: &str) -> Option<String> {
    Some(clean_server_text(text)).filter(|t| !t.is_empty())
}

/// A wait written in words by a service ("try again in about 5 minutes", "in an hour"), in
/// seconds.
///
/// ```
/// use letterbox_core::delivery::wait_in_words;
/// assert_eq!(wait_in_words("Please try again in about 5 minutes. (#8343)"), Some(300));
/// assert_eq!(wait_in_words("Too many sign-up attempts try again in an hour"), Some(3600));
/// assert_eq!(wait_in_words("Try later"), None);
/// ```
pub fn wait_in_words(text: &str) -> Option<u32> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find("again in ")? + "again in ".len();
    let mut words = lower[at..]
        .split(|c: char| c.is_whitespace() || c == '.' || c == ',' || c == ')')
        .filter(|w| !w.is_empty());
    let mut first = words.next()?;
    if first == "about" {
        first = words.next()?;
    }
    let (count, unit) = match first {
        "a" | "an" => match words.next()? {
            "few" => (30, "seconds"),
            unit => (1, unit),
        },
        n => (n.parse::<u32>().ok()?, words.next()?),
    };
    let per = match unit.trim_end_matches('s') {
        "second" => 1,
        "minute" => 60,
        "hour" => 3600,
        "day" => 86_400,
        _ => return None,
    };
    count.checked_mul(per)
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers shared by the adapter tests.
    use super::*;

    /// An HTTP reply.
    pub fn http<'a>(status: u16, content_type: Option<&'a str>, body: &'a str) -> Reply<'a> {
        Reply::Http(HttpReply {
            status,
            content_type,
            retry_after: None,
            body,
        })
    }

    /// The request of a `Next::Send`, or a panic.
    pub fn sent(next: Next) -> Exchange {
        match next {
            Next::Send(exchange) => exchange,
            Next::Done(outcome) => panic!("expected a request, got {outcome:?}"),
        }
    }

    /// The outcome of a `Next::Done`, or a panic.
    pub fn done(next: Next) -> Outcome {
        match next {
            Next::Done(outcome) => outcome,
            Next::Send(exchange) => panic!("expected an outcome, got {exchange:?}"),
        }
    }

    /// A recorded fixture file under `core/tests/fixtures/`.
    pub fn fixture(path: &str) -> String {
        let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    fn every_adapter() -> Vec<Adapter> {
        vec![
            Adapter::Json(JsonAdapter {
                endpoint: "https://news.example/api/subscribe".into(),
            }),
            Adapter::Form(FormAdapter::new("https://news.example/subscribe")),
            Adapter::Mailchimp(MailchimpAdapter::new(
                "https://example.us1.list-manage.com",
                "abc",
                "def",
            )),
            Adapter::Listmonk(ListmonkAdapter::new("https://lists.example")),
            Adapter::Ghost(GhostAdapter::new("https://ghost.example")),
        ]
    }

    #[test]
    fn only_the_json_contract_is_repeated_after_no_answer_and_the_others_wait_longer() {
        for adapter in every_adapter() {
            let json = matches!(adapter, Adapter::Json(_));
            assert_eq!(adapter.repeats_safely(), json, "{}", adapter.provider());
            assert!(adapter.timeout_ms() >= TIMEOUT_MS);
            assert_eq!(adapter.timeout_ms() > TIMEOUT_MS, !json);
        }
        let mut keyed = FormAdapter::new("https://news.example/subscribe");
        keyed.key_header = true;
        assert!(
            Adapter::Form(keyed).repeats_safely(),
            "the site honours the key"
        );
        let mut keyed = FormAdapter::new("https://news.example/subscribe");
        keyed.key_field = Some("idempotency_key".into());
        assert!(Adapter::Form(keyed).repeats_safely());
    }

    #[test]
    fn a_dropped_bot_sees_what_a_real_signup_at_its_service_shows() {
        let shown: Vec<(&str, Outcome)> = every_adapter()
            .iter()
            .map(|a| (a.provider(), a.dropped_outcome()))
            .collect();
        assert_eq!(
            shown,
            [
                ("json", Outcome::Subscribed),
                ("form", Outcome::Subscribed),
                ("mailchimp", Outcome::PendingConfirmation),
                ("listmonk", Outcome::PendingConfirmation),
                ("ghost", Outcome::PendingConfirmation),
            ]
        );
        let mut form = FormAdapter::new("https://news.example/subscribe");
        form.confirms_by_email = true;
        assert_eq!(
            Adapter::Form(form).dropped_outcome(),
            Outcome::PendingConfirmation
        );
        let mut single = MailchimpAdapter::new("https://a.us1.list-manage.com", "u", "l");
        single.confirms_by_email = Some(false);
        assert_eq!(
            Adapter::Mailchimp(single).dropped_outcome(),
            Outcome::Subscribed,
            "a single opt-in audience subscribes at once"
        );
    }

    #[test]
    fn network_errors_and_timeouts_mean_the_same_for_every_adapter_and_a_read_first_is_unreached() {
        let envelope = Envelope::example();
        for adapter in every_adapter() {
            let ex = sent(adapter.start(&envelope));
            // Ghost fetches its integrity token first, listmonk looks its lists up: reads.
            let reads = matches!(adapter, Adapter::Ghost(_))
                || matches!(&adapter, Adapter::Listmonk(_) if ex.step == Step(0));
            let (network, timeout) = match reads {
                true => (Outcome::Unreached, Outcome::Unreached),
                false => (Outcome::NetworkError, Outcome::Timeout),
            };
            assert_eq!(
                done(adapter.next(&envelope, ex.step, &Reply::NetworkError)),
                network,
                "{}",
                adapter.provider()
            );
            assert_eq!(
                done(adapter.next(&envelope, ex.step, &Reply::Timeout)),
                timeout,
                "{}",
                adapter.provider()
            );
        }
    }

    #[test]
    fn every_flow_ends_within_the_step_limit_whatever_the_replies() {
        let envelope = Envelope::example();
        let replies = [
            http(200, Some("text/plain"), "tok.en-1"),
            http(200, Some("application/json"), "{}"),
            http(201, None, ""),
            http(500, Some("text/html"), "<html>Bad gateway</html>"),
            Reply::Jsonp(r#"{"result":"success","msg":"ok"}"#),
            Reply::Jsonp("not json"),
        ];
        for adapter in every_adapter() {
            for reply in replies {
                let mut next = adapter.start(&envelope);
                let mut sent_count = 0;
                while let Next::Send(ex) = next {
                    sent_count += 1;
                    assert!(
                        sent_count <= usize::from(MAX_STEPS),
                        "{}",
                        adapter.provider()
                    );
                    next = adapter.next(&envelope, ex.step, &reply);
                }
            }
        }
    }

    #[test]
    fn a_reply_of_the_wrong_kind_is_a_configuration_error_not_a_panic() {
        let envelope = Envelope::example();
        for adapter in every_adapter() {
            let ex = sent(adapter.start(&envelope));
            let wrong = match ex.request {
                Request::Fetch { .. } => Reply::Jsonp("{}"),
                Request::Jsonp { .. } => http(200, None, ""),
            };
            assert!(matches!(
                done(adapter.next(&envelope, ex.step, &wrong)),
                Outcome::ConfigurationError { .. }
            ));
        }
    }

    #[test]
    fn identities_differ_by_provider_and_address() {
        let ids: std::collections::BTreeSet<String> =
            every_adapter().iter().map(Adapter::destination).collect();
        assert_eq!(ids.len(), 5);
    }

    #[test]
    fn waits_in_words_are_read_as_seconds() {
        assert_eq!(wait_in_words("try again in 30 seconds"), Some(30));
        assert_eq!(wait_in_words("try again in a minute"), Some(60));
        assert_eq!(wait_in_words("try again in a few seconds"), Some(30));
        assert_eq!(wait_in_words("try again in 2 days"), Some(172_800));
        assert_eq!(wait_in_words("try again in soon"), None);
        assert_eq!(wait_in_words("try again in 99999999999 hours"), None);
        assert_eq!(wait_in_words("try again in"), None);
    }
}
