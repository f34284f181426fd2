//! The `listmonk` adapter: listmonk's public subscription API, one JSON POST to
//! `{base}/api/public/subscription` with `{"email", "name", "list_uuids"}`.
//!
//! listmonk answers `{"data": {"has_optin": true}}` when a list is double opt-in (the reader must
//! confirm), `{"data": …}` otherwise, and `{"message": "…"}` with a 4xx/5xx status on errors. A
//! repeated signup is harmless to listmonk (it adds the lists to the existing subscriber), so no
//! idempotency header is sent: it would only add a CORS preflight header listmonk does not need.

use super::{
    common_status, plain, wrong_kind, Exchange, HttpReply, Intent, Method, Next, Reply, Request,
    Step,
};
use crate::json::{self, write_string, Value};
use crate::messages::Key;
use crate::submission::{FieldName, Outcome};

/// Delivery to a listmonk instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListmonkAdapter {
    /// The instance's root URL, e.g. `https://lists.news.example`.
    pub base: String,
    /// List UUID per newsletter id. A newsletter without an entry is sent with its id as the
    /// UUID (for sites that use listmonk's UUIDs as newsletter ids).
    pub lists: Vec<(String, String)>,
}

impl ListmonkAdapter {
    /// An adapter for the instance at `base`.
    pub fn new(base: &str) -> ListmonkAdapter {
        ListmonkAdapter {
            base: base.trim_end_matches('/').to_owned(),
            lists: Vec::new(),
        }
    }

    /// The list UUIDs for the chosen newsletters.
    pub fn list_uuids<'a>(&'a self, intent: &'a Intent) -> Vec<&'a str> {
        intent
            .newsletters
            .iter()
            .map(|id| {
                self.lists
                    .iter()
                    .find(|(n, _)| n == id)
                    .map_or(id.as_str(), |(_, uuid)| uuid.as_str())
            })
            .collect()
    }

    /// The request body: `{"email","name","list_uuids"}` (`name` empty: listmonk then uses the
    /// part of the address before the `@`).
    ///
    /// ```
    /// use letterbox_core::adapters::{Intent, ListmonkAdapter};
    /// let mut a = ListmonkAdapter::new("https://lists.example");
    /// a.lists = vec![("daily".into(), "e6b6a7d2-61c4-4b5e-9e1a-0c1c2f7d9a10".into())];
    /// assert_eq!(a.body(&Intent::example()),
    ///     r#"{"email":"jane+news@example.com","name":"","list_uuids":["e6b6a7d2-61c4-4b5e-9e1a-0c1c2f7d9a10"]}"#);
    /// ```
    pub fn body(&self, intent: &Intent) -> String {
        let mut out = String::from("{\"email\":");
        write_string(&mut out, &intent.email);
        out.push_str(",\"name\":\"\",\"list_uuids\":[");
        for (i, uuid) in self.list_uuids(intent).into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_string(&mut out, uuid);
        }
        out.push_str("]}");
        out
    }

    pub(super) fn start(&self, intent: &Intent) -> Next {
        Next::Send(Exchange {
            step: Step(0),
            request: Request::Fetch {
                method: Method::Post,
                url: format!("{}/api/public/subscription", self.base),
                headers: vec![
                    ("Content-Type".into(), "application/json".into()),
                    ("Accept".into(), "application/json".into()),
                ],
                body: Some(self.body(intent)),
            },
        })
    }

    pub(super) fn next(&self, intent: &Intent, _step: Step, reply: &Reply<'_>) -> Next {
        Next::Done(match reply {
            Reply::Http(http) => interpret(intent, http),
            _ => wrong_kind("listmonk"),
        })
    }
}

fn interpret(intent: &Intent, reply: &HttpReply<'_>) -> Outcome {
    if let Some(outcome) = common_status(reply) {
        return outcome;
    }
    let body = json::parse(reply.body).ok();
    let message = body
        .as_ref()
        .and_then(|b| b.get("message"))
        .and_then(Value::as_str);
    match reply.status {
        200..=299 => match body.as_ref().and_then(|b| b.get("data")) {
            Some(data) if data.get("has_optin") == Some(&Value::Bool(true)) => {
                Outcome::PendingConfirmation
            }
            Some(_) => Outcome::Subscribed,
            // A 2xx that is not listmonk's JSON: the base URL points at something else (a site's
            // page, a proxy), and nothing was subscribed.
            None => Outcome::ConfigurationError {
                message: format!(
                    "the listmonk URL answered {} without listmonk's JSON; check the base URL",
                    reply.status
                ),
            },
        },
        409 => Outcome::AlreadySubscribed,
        400 | 422 => match message {
            Some(m) => classify(intent, m, reply.status),
            None => Outcome::Rejected {
                status: reply.status,
                message: None,
            },
        },
        404 => Outcome::ConfigurationError {
            message: "listmonk answered 404: check the base URL (is this a listmonk instance?)"
                .into(),
        },
        status => Outcome::Rejected {
            status,
            message: message.and_then(plain),
        },
    }
}

/// listmonk's English messages (`i18n/en.json`) for the cases the reader or the site must act on.
fn classify(intent: &Intent, message: &str, status: u16) -> Outcome {
    let lower = message.to_ascii_lowercase();
    if lower.contains("captcha") {
        return Outcome::RejectedAsSpam;
    }
    if lower.contains("email") && (lower.contains("invalid") || lower.contains("not valid")) {
        return Outcome::FieldError {
            field: FieldName::Email,
            message: intent.text(Key::EmailDomainInvalid),
        };
    }
    if lower.contains("already exists") || lower.contains("already subscribed") {
        return Outcome::AlreadySubscribed;
    }
    if lower.contains("list") || lower.contains("feature") || lower.contains("uuid") {
        return Outcome::ConfigurationError {
            message: format!(
                "listmonk refused the signup: {} (check the list UUIDs and that public \
                 subscription is enabled)",
                plain(message).unwrap_or_default()
            ),
        };
    }
    Outcome::Rejected {
        status,
        message: plain(message),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::Adapter;
    use super::*;

    fn adapter() -> ListmonkAdapter {
        let mut a = ListmonkAdapter::new("https://lists.news.example/");
        a.lists = vec![
            (
                "daily".into(),
                "e6b6a7d2-61c4-4b5e-9e1a-0c1c2f7d9a10".into(),
            ),
            (
                "culture".into(),
                "0f4c3b8e-2d7a-4c1b-9a6e-5b2d8c7e1f30".into(),
            ),
        ];
        a
    }

    fn answer(status: u16, content_type: Option<&str>, body: &str) -> Outcome {
        let a = Adapter::Listmonk(adapter());
        let intent = Intent::example();
        let ex = sent(a.start(&intent));
        done(a.next(&intent, ex.step, &http(status, content_type, body)))
    }

    const JSON: Option<&str> = Some("application/json; charset=utf-8");

    #[test]
    fn the_request_is_the_recorded_public_subscription_post() {
        let a = Adapter::Listmonk(adapter());
        let mut intent = Intent::example();
        intent.newsletters = vec!["daily".into(), "culture".into()];
        let Request::Fetch {
            method,
            url,
            headers,
            body,
        } = sent(a.start(&intent)).request
        else {
            panic!("a fetch")
        };
        assert_eq!(method, Method::Post);
        assert_eq!(url, "https://lists.news.example/api/public/subscription");
        assert!(headers.contains(&("Content-Type".into(), "application/json".into())));
        let ours: serde_json::Value = serde_json::from_str(&body.unwrap()).unwrap();
        let recorded: serde_json::Value =
            serde_json::from_str(&fixture("listmonk/request.json")).unwrap();
        assert_eq!(ours, recorded);
    }

    #[test]
    fn unmapped_newsletters_are_sent_as_their_ids() {
        let a = ListmonkAdapter::new("https://l.example");
        assert_eq!(a.list_uuids(&Intent::example()), ["daily"]);
    }

    #[test]
    fn opt_in_lists_mean_check_your_inbox() {
        assert_eq!(
            answer(200, JSON, &fixture("listmonk/optin.json")),
            Outcome::PendingConfirmation
        );
        assert_eq!(
            answer(200, JSON, &fixture("listmonk/single.json")),
            Outcome::Subscribed
        );
        assert_eq!(answer(200, JSON, r#"{"data":true}"#), Outcome::Subscribed);
    }

    #[test]
    fn error_messages_map_to_field_spam_configuration_and_plain_text() {
        assert_eq!(
            answer(400, JSON, &fixture("listmonk/error-invalid-email.json")),
            Outcome::FieldError {
                field: FieldName::Email,
                message: "Enter the part after the @ in the correct format, like example.com"
                    .into()
            }
        );
        assert!(matches!(
            answer(400, JSON, &fixture("listmonk/error-no-lists.json")),
            Outcome::ConfigurationError { message } if message.contains("No lists selected")
        ));
        assert!(matches!(
            answer(400, JSON, &fixture("listmonk/error-invalid-feature.json")),
            Outcome::ConfigurationError { .. }
        ));
        assert_eq!(
            answer(400, JSON, &fixture("listmonk/error-captcha.json")),
            Outcome::RejectedAsSpam
        );
        assert_eq!(
            answer(400, JSON, r#"{"message":"<b>Blocked</b> domain"}"#),
            Outcome::Rejected {
                status: 400,
                message: Some("<b>Blocked</b> domain".into())
            }
        );
        assert_eq!(
            answer(409, JSON, r#"{"message":"E-mail already exists"}"#),
            Outcome::AlreadySubscribed
        );
    }

    #[test]
    fn proxies_empty_bodies_and_wrong_types_are_never_success() {
        assert!(matches!(
            answer(
                200,
                Some("text/html"),
                &fixture("common/captive-portal-200.html")
            ),
            Outcome::ConfigurationError { .. }
        ));
        assert!(matches!(
            answer(200, None, ""),
            Outcome::ConfigurationError { .. }
        ));
        assert_eq!(
            answer(502, Some("text/html"), &fixture("common/nginx-502.html")),
            Outcome::ServerError { status: 502 }
        );
        assert_eq!(
            answer(
                403,
                Some("text/html"),
                &fixture("common/cloudflare-403.html")
            ),
            Outcome::Rejected {
                status: 403,
                message: None
            }
        );
        assert!(matches!(
            answer(404, Some("text/plain"), "404 page not found"),
            Outcome::ConfigurationError { .. }
        ));
        assert_eq!(
            answer(400, Some("text/plain"), "Bad Request"),
            Outcome::Rejected {
                status: 400,
                message: None
            }
        );
        assert_eq!(
            answer(429, JSON, r#"{"message":"Too many requests"}"#),
            Outcome::RateLimited {
                retry_after_secs: None
            }
        );
    }
}
