//! The signup: what one reader asked for, and every way its delivery can end.
//!
//! These nouns are shared by the slot's state machine ([`crate::slot`]), delivery
//! ([`crate::delivery`]) and the browser's queue ([`crate::pending`]), so they live here, below
//! all three: one [`Signup`] type from the reader's submit to the last retry a week later, one
//! [`Outcome`] for whatever the service or the network did, and one rule for "the same signup"
//! ([`Signup::is_same_as`]).
//!
//! ```
//! use letterbox_core::signup::Signup;
//! let a = Signup::example();
//! let mut b = Signup::example();
//! b.key = "another key".into();
//! b.newsletters.reverse();
//! assert!(a.is_same_as(&b), "the key and the order of newsletters do not make another signup");
//! ```

use crate::json::ObjectWriter;

/// One signup, as the reader submitted it: the same value is sent, retried, queued in the
/// browser and sent again later, always with its idempotency [`Signup::key`].
///
/// With the `serde` feature it serializes as the endpoint contract's body
/// ([`crate::delivery::contract::body`] without the per-request members): the key travels in the
/// `Idempotency-Key` header, so it is neither written nor read (it reads as empty).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Signup {
    /// The normalised address (domain in lower-case ASCII).
    pub email: String,
    /// The ids of the chosen newsletters, in the site's order.
    pub newsletters: Vec<String>,
    /// The reader's language tag (`en`, `uk`).
    pub locale: String,
    /// The page and slot the signup came from.
    pub source: Source,
    /// The consent record, when the slot asks for consent.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub consent: Option<Consent>,
    /// The other fields the reader filled in (`FNAME` → `Jane`), in the slot's order; an
    /// optional field left empty is not here. The contract's body does not carry them (only the
    /// `form` and `mailchimp` providers send fields), so serde neither writes nor needs them.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub fields: Vec<(String, String)>,
    /// The `Idempotency-Key`, the same on every retry and on a later send from the queue.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing))]
    pub key: String,
    /// When the reader submitted, in milliseconds since the Unix epoch (`Date.now()`); services
    /// that attribute a member to a page visit get it (Ghost's `urlHistory`).
    #[cfg_attr(feature = "serde", serde(default, skip_serializing))]
    pub at_ms: u64,
}

impl Signup {
    /// True when `other` asks for the same thing: the same address (the domain is already
    /// lower-case; the part before `@` is compared exactly, as servers do), the same newsletters in
    /// any order, the same language, the same other fields and the same consent wording (text and version; not the
    /// moment or page it was given on). The idempotency key is not compared: two submits of the
    /// same signup have different keys until one joins the other.
    ///
    /// This is the one rule behind both "two slots make one request" and "the queue keeps one
    /// entry per signup"; both also require the same delivery (see
    /// [`crate::delivery::Adapter::destination`]).
    pub fn is_same_as(&self, other: &Signup) -> bool {
        let sorted = |v: &[String]| {
            let mut v = v.to_vec();
            v.sort();
            v.dedup();
            v
        };
        let wording = |c: &Option<Consent>| c.as_ref().map(|c| (c.text.clone(), c.version.clone()));
        self.email == other.email
            && self.locale == other.locale
            && sorted(&self.newsletters) == sorted(&other.newsletters)
            && wording(&self.consent) == wording(&other.consent)
            && self.fields == other.fields
    }

    /// A sample signup for examples and tests: `jane+news@example.com`, newsletter `daily`.
    pub fn example() -> Signup {
        Signup {
            email: "jane+news@example.com".into(),
            newsletters: vec!["daily".into()],
            locale: "en".into(),
            consent: None,
            fields: Vec::new(),
            source: Source {
                page: "https://news.example/article".into(),
                slot: "in-article".into(),
            },
            key: "5f0c6a1e-9b7d-4c51-8d1e-2a6f3b9c7e10".into(),
            at_ms: 0,
        }
    }
}

/// Where on the site a signup came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Source {
    /// `location.href` of the page.
    pub page: String,
    /// The host element's id, or its index among the page's slots.
    pub slot: String,
}

/// The reader's consent as it was given: exactly what they agreed to, where and when.
///
/// With the `serde` feature it reads and writes the record as [`Consent::to_json`] does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Consent {
    /// The exact consent text shown next to the checkbox.
    pub text: String,
    /// The site's version id of that text.
    pub version: String,
    /// The language it was shown in.
    pub locale: String,
    /// `location.href` where it was given.
    pub page: String,
    /// When it was given, in milliseconds since the Unix epoch (`Date.now()`).
    pub at_ms: u64,
}

impl Consent {
    /// The record as compact JSON: `{"text","version","locale","page","at_ms"}`.
    ///
    /// ```
    /// use letterbox_core::signup::Consent;
    /// let c = Consent { text: "Send me news".into(), version: "v2".into(), locale: "en".into(),
    ///     page: "https://news.example/".into(), at_ms: 1 };
    /// assert_eq!(c.to_json(),
    ///     r#"{"text":"Send me news","version":"v2","locale":"en","page":"https://news.example/","at_ms":1}"#);
    /// ```
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(96 + self.text.len() + self.page.len());
        let mut o = ObjectWriter::new(&mut out);
        self.write(&mut o);
        o.end();
        out
    }

    /// Writes the record's members into an open object.
    pub fn write(&self, o: &mut ObjectWriter<'_>) {
        o.string("text", &self.text)
            .string("version", &self.version)
            .string("locale", &self.locale)
            .string("page", &self.page)
            .number("at_ms", self.at_ms);
    }
}

/// A form field the endpoint can report an error on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldName {
    /// The email field.
    Email,
    /// The newsletter choice.
    Newsletters,
}

/// Every way a submission can end, normalised from whatever the endpoint or network did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The subscription is active.
    Subscribed,
    /// The reader must confirm through an email.
    PendingConfirmation,
    /// The address was already subscribed.
    AlreadySubscribed,
    /// The endpoint refused a field, with a message to show as text.
    FieldError {
        /// Which field.
        field: FieldName,
        /// What to show, already cleaned by [`crate::delivery::clean_server_text`].
        message: String,
    },
    /// Too many attempts; the server's wait, if it gave one.
    RateLimited {
        /// `Retry-After` in seconds.
        retry_after_secs: Option<u32>,
    },
    /// A 5xx answer.
    ServerError {
        /// The status code.
        status: u16,
    },
    /// Any other non-success answer the reader cannot fix by editing a field.
    Rejected {
        /// The status code.
        status: u16,
        /// The server's explanation, if it gave a usable one.
        message: Option<String>,
    },
    /// The request never got an answer (offline, DNS, CORS, connection reset).
    NetworkError,
    /// No answer within [`crate::delivery::TIMEOUT_MS`].
    Timeout,
    /// No answer to a request that only reads (Ghost's integrity token, listmonk's list lookup):
    /// nothing that could sign anyone up left the browser, so it may be repeated or kept for
    /// later at any service.
    Unreached,
    /// No answer from a service where a repeat has a visible cost (it sends an email each time,
    /// and honours no idempotency key): the request may have been processed, so it is neither
    /// repeated nor kept for later, and the reader is asked to check their inbox first.
    MaybeSent,
    /// Offline, or every attempt spent on a passing failure: the widget kept the submission in
    /// the browser and will send it when the browser is back online or on the next page view.
    Queued,
    /// The service turned the signup away as likely spam (a failed challenge, an address that
    /// signed up to too many lists). Not retried.
    RejectedAsSpam,
    /// The site's challenge provider (`Letterbox.challenge`) gave no token: it threw, rejected,
    /// answered something other than a string, or took longer than
    /// [`crate::delivery::CHALLENGE_TIMEOUT_MS`]. Nothing was sent. `message` is for the
    /// console, in English.
    ChallengeFailed {
        /// What the provider did.
        message: String,
    },
    /// The site's delivery setup is wrong (unknown list, disabled public signup, a captcha the
    /// widget cannot show). `message` is for the site's developers (logged to the console), in
    /// English; the reader sees a catalogue text.
    ConfigurationError {
        /// What is wrong and where to fix it.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "serde")]
    #[test]
    fn with_serde_a_signup_writes_and_reads_the_contracts_body() {
        let signup = Signup {
            consent: consent("Send me \"news\"", "v1", 1_764_000_000_000),
            ..Signup::example()
        };
        let body = crate::delivery::contract::body(&crate::delivery::Envelope::new(signup.clone()));
        assert_eq!(serde_json::to_string(&signup).unwrap(), body);
        let read: Signup = serde_json::from_str(&body).unwrap();
        assert_eq!(
            read,
            Signup {
                key: String::new(),
                at_ms: 0,
                ..signup
            },
            "everything but the key, which is a header, and the submit time, which the contract does not carry"
        );
        let consent = read.consent.unwrap();
        assert_eq!(serde_json::to_string(&consent).unwrap(), consent.to_json());
        let without: Signup = serde_json::from_str(
            r#"{"email":"a@example.com","newsletters":[],"locale":"en","source":{"page":"","slot":""}}"#,
        )
        .unwrap();
        assert_eq!(without.consent, None);
    }

    fn consent(text: &str, version: &str, at_ms: u64) -> Option<Consent> {
        Some(Consent {
            text: text.into(),
            version: version.into(),
            locale: "en".into(),
            page: "https://news.example/a".into(),
            at_ms,
        })
    }

    #[test]
    fn the_same_address_and_newsletters_in_another_order_is_the_same_signup() {
        let a = Signup {
            newsletters: vec!["daily".into(), "culture".into()],
            ..Signup::example()
        };
        let b = Signup {
            newsletters: vec!["culture".into(), "daily".into(), "daily".into()],
            key: "other".into(),
            source: Source {
                page: "https://news.example/b".into(),
                slot: "footer".into(),
            },
            ..Signup::example()
        };
        assert!(a.is_same_as(&b) && b.is_same_as(&a));
    }

    #[test]
    fn another_address_newsletter_language_or_consent_wording_is_another_signup() {
        let a = Signup::example();
        let changed = [
            Signup {
                email: "Jane+news@example.com".into(),
                ..Signup::example()
            },
            Signup {
                newsletters: vec!["weekly".into()],
                ..Signup::example()
            },
            Signup {
                locale: "uk".into(),
                ..Signup::example()
            },
            Signup {
                consent: consent("Send me news", "v1", 0),
                ..Signup::example()
            },
        ];
        for other in &changed {
            assert!(!a.is_same_as(other), "{other:?}");
        }
        let v1 = Signup {
            consent: consent("Send me news", "v1", 0),
            ..Signup::example()
        };
        let v2 = Signup {
            consent: consent("Send me news", "v2", 0),
            ..Signup::example()
        };
        let text = Signup {
            consent: consent("Send me offers", "v1", 0),
            ..Signup::example()
        };
        let later = Signup {
            consent: consent("Send me news", "v1", 99),
            ..Signup::example()
        };
        assert!(!v1.is_same_as(&v2) && !v1.is_same_as(&text));
        assert!(
            v1.is_same_as(&later),
            "the moment consent was given is not its wording"
        );
    }

    #[test]
    fn consent_text_is_escaped_in_its_record() {
        let c = Consent {
            text: "Say \"yes\"\n<b>".into(),
            version: "1".into(),
            locale: "uk".into(),
            page: "https://x/".into(),
            at_ms: 1_700_000_000_000,
        };
        let v: serde_json::Value = serde_json::from_str(&c.to_json()).unwrap();
        assert_eq!(v["text"], "Say \"yes\"\n<b>");
        assert_eq!(v["at_ms"], 1_700_000_000_000u64);
    }
}
