//! The Letterbox JSON endpoint contract: how a signup is encoded and how every possible answer is
//! interpreted. The full contract, for a site's backend team, is in `docs/endpoint-contract.md`.
//!
//! The widget's transport only moves bytes; it never reads a response itself. It hands
//! [`interpret`] a [`Response`] (or reports a network error / timeout as an
//! [`Outcome`] directly) and the state machine takes it from there.

use super::Envelope;
use crate::json::{self, ObjectWriter, Value};
use crate::signup::{FieldName, Outcome};

/// How long the widget waits for an answer to one request before it counts the attempt as timed
/// out (then it retries or queues, see [`crate::delivery::retry`]).
pub const TIMEOUT_MS: u32 = 15_000;

/// How long the widget waits for the site's challenge provider (`Letterbox.challenge`) to give a
/// token. Longer than [`TIMEOUT_MS`]: an interactive challenge may wait for the reader.
pub const CHALLENGE_TIMEOUT_MS: u32 = 60_000;

/// The longest server message the widget will show; longer ones are cut at a character boundary.
pub const MAX_SERVER_MESSAGE_CHARS: usize = 300;

/// The body POSTed to the endpoint: `{"email", "newsletters", "locale", "source": {"page",
/// "slot"}}`, plus `"consent"` (the consent record), `"challenge"` (the token) and `"honeypot"`
/// and `"fill_ms"` (the bot signals) when the envelope has them.
///
/// ```
/// use letterbox_core::delivery::{contract, Envelope};
/// assert_eq!(contract::body(&Envelope::example()),
///     r#"{"email":"jane+news@example.com","newsletters":["daily"],"locale":"en","source":{"page":"https://news.example/article","slot":"in-article"}}"#);
/// ```
pub fn body(envelope: &Envelope) -> String {
    let signup = &envelope.signup;
    let mut out = String::with_capacity(128 + signup.source.page.len());
    let mut o = ObjectWriter::new(&mut out);
    o.string("email", &signup.email)
        .strings("newsletters", &signup.newsletters)
        .string("locale", &signup.locale)
        .object("source", |s| {
            s.string("page", &signup.source.page)
                .string("slot", &signup.source.slot);
        });
    if let Some(consent) = &signup.consent {
        o.object("consent", |c| consent.write(c));
    }
    o.optional_string("challenge", envelope.challenge.as_deref());
    if let Some(signals) = &envelope.signals {
        o.string("honeypot", &signals.honeypot)
            .number("fill_ms", signals.fill_ms);
    }
    o.end();
    out
}

/// An HTTP answer as the transport received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response<'a> {
    /// The status code.
    pub status: u16,
    /// The `Retry-After` header, if present.
    pub retry_after: Option<&'a str>,
    /// The body as text (may be empty, HTML from a proxy, or anything else).
    pub body: &'a str,
}

/// Maps an endpoint's answer to an [`Outcome`], whatever the body holds.
///
/// ```
/// use letterbox_core::delivery::contract::{interpret, Response};
/// use letterbox_core::signup::Outcome;
/// let r = Response { status: 200, retry_after: None, body: r#"{"status":"pending_confirmation"}"# };
/// assert_eq!(interpret(&r), Outcome::PendingConfirmation);
/// ```
pub fn interpret(response: &Response<'_>) -> Outcome {
    let body = || json::parse(response.body).ok();
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    match response.status {
        200..=299 => match text(body().as_ref().and_then(|b| b.get("status"))).as_deref() {
            Some("pending_confirmation") => Outcome::PendingConfirmation,
            Some("already_subscribed") => Outcome::AlreadySubscribed,
            // 2xx is success whatever the body says: `subscribed`, no body, or a body we do not know.
            _ => Outcome::Subscribed,
        },
        409 => Outcome::AlreadySubscribed,
        429 => Outcome::RateLimited {
            retry_after_secs: response.retry_after.and_then(parse_retry_after),
        },
        400 | 422 => {
            let body = body();
            let error = body.as_ref().and_then(|b| b.get("error"));
            let message = text(error.and_then(|e| e.get("message")))
                .map(|m| clean_server_text(&m))
                .filter(|m| !m.is_empty());
            let field = match text(error.and_then(|e| e.get("field"))).as_deref() {
                Some("email") => Some(FieldName::Email),
                Some("newsletters") => Some(FieldName::Newsletters),
                _ => None,
            };
            match (field, message) {
                (Some(field), Some(message)) => Outcome::FieldError { field, message },
                (_, message) => Outcome::Rejected {
                    status: response.status,
                    message,
                },
            }
        }
        500..=599 => Outcome::ServerError {
            status: response.status,
        },
        status => Outcome::Rejected {
            status,
            message: None,
        },
    }
}

/// `Retry-After` in delta-seconds form; an HTTP date (rare from APIs) gives `None`, and the
/// reader is told to wait a few minutes.
pub fn parse_retry_after(value: &str) -> Option<u32> {
    value.trim().parse::<u32>().ok()
}

/// Server text made safe to show as plain text: control characters dropped, whitespace folded,
/// length capped. It is rendered as a text node, never as HTML.
pub fn clean_server_text(text: &str) -> String {
    let folded: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    match folded.char_indices().nth(MAX_SERVER_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &folded[..cut]),
        None => folded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signup::{Signup, Source};

    fn r(status: u16, body: &str) -> Outcome {
        interpret(&Response {
            status,
            retry_after: None,
            body,
        })
    }

    #[test]
    fn request_body_has_exactly_the_contract_fields() {
        let signup = Signup {
            email: "jane@example.com".into(),
            newsletters: vec!["daily".into(), "culture".into()],
            locale: "uk".into(),
            source: Source {
                page: "https://news.example/a?b=1".into(),
                slot: "footer".into(),
            },
            ..Signup::example()
        };
        let v: serde_json::Value = serde_json::from_str(&body(&Envelope::new(signup))).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "email": "jane@example.com",
                "newsletters": ["daily", "culture"],
                "locale": "uk",
                "source": {"page": "https://news.example/a?b=1", "slot": "footer"}
            })
        );
    }

    #[test]
    fn success_statuses_map_to_their_outcomes() {
        assert_eq!(
            r(200, r#"{"status":"pending_confirmation"}"#),
            Outcome::PendingConfirmation
        );
        assert_eq!(r(201, r#"{"status":"subscribed"}"#), Outcome::Subscribed);
        assert_eq!(
            r(200, r#"{"status":"already_subscribed"}"#),
            Outcome::AlreadySubscribed
        );
        assert_eq!(r(204, ""), Outcome::Subscribed);
        assert_eq!(r(200, "<html>OK</html>"), Outcome::Subscribed);
        assert_eq!(r(200, r#"{"status":"something_new"}"#), Outcome::Subscribed);
    }

    #[test]
    fn conflict_means_already_subscribed() {
        assert_eq!(r(409, ""), Outcome::AlreadySubscribed);
    }

    #[test]
    fn field_errors_carry_field_and_plain_text_message() {
        assert_eq!(
            r(
                422,
                r#"{"error":{"field":"email","message":"This domain does not accept mail"}}"#
            ),
            Outcome::FieldError {
                field: FieldName::Email,
                message: "This domain does not accept mail".into()
            }
        );
        assert_eq!(
            r(
                400,
                r#"{"error":{"field":"newsletters","message":"Unknown newsletter"}}"#
            ),
            Outcome::FieldError {
                field: FieldName::Newsletters,
                message: "Unknown newsletter".into()
            }
        );
    }

    #[test]
    fn html_in_a_server_message_stays_text() {
        let out = r(
            422,
            r#"{"error":{"field":"email","message":"<b>bad</b>\u0000 <script>x</script>"}}"#,
        );
        assert_eq!(
            out,
            Outcome::FieldError {
                field: FieldName::Email,
                message: "<b>bad</b> <script>x</script>".into()
            }
        );
    }

    #[test]
    fn client_errors_without_a_usable_body_are_rejections() {
        assert_eq!(
            r(400, "<html>Bad Request</html>"),
            Outcome::Rejected {
                status: 400,
                message: None
            }
        );
        assert_eq!(
            r(
                422,
                r#"{"error":{"field":"captcha","message":"Solve the challenge"}}"#
            ),
            Outcome::Rejected {
                status: 422,
                message: Some("Solve the challenge".into())
            }
        );
        assert_eq!(
            r(422, r#"{"error":{"field":"email","message":"  "}}"#),
            Outcome::Rejected {
                status: 422,
                message: None
            }
        );
        assert_eq!(
            r(404, "Not found"),
            Outcome::Rejected {
                status: 404,
                message: None
            }
        );
        assert_eq!(
            r(301, ""),
            Outcome::Rejected {
                status: 301,
                message: None
            }
        );
    }

    #[test]
    fn rate_limits_honour_retry_after_seconds() {
        let out = interpret(&Response {
            status: 429,
            retry_after: Some(" 120 "),
            body: "",
        });
        assert_eq!(
            out,
            Outcome::RateLimited {
                retry_after_secs: Some(120)
            }
        );
        let date = interpret(&Response {
            status: 429,
            retry_after: Some("Wed, 21 Oct 2015 07:28:00 GMT"),
            body: "",
        });
        assert_eq!(
            date,
            Outcome::RateLimited {
                retry_after_secs: None
            }
        );
    }

    #[test]
    fn server_errors_map_to_the_failure_panel() {
        assert_eq!(
            r(500, "<html>Internal</html>"),
            Outcome::ServerError { status: 500 }
        );
        assert_eq!(r(503, ""), Outcome::ServerError { status: 503 });
    }

    #[test]
    fn long_server_messages_are_cut_on_a_character_boundary() {
        let long = "ї".repeat(400);
        let body = format!(r#"{{"error":{{"field":"email","message":"{long}"}}}}"#);
        match r(422, &body) {
            Outcome::FieldError { message, .. } => {
                assert_eq!(message.chars().count(), MAX_SERVER_MESSAGE_CHARS + 1);
                assert!(message.ends_with('…'));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
