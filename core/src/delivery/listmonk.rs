//! The `listmonk` adapter: listmonk's public subscription API, one JSON POST to
//! `{base}/api/public/subscription` with `{"email", "name", "list_uuids"}`.
//!
//! With `"discover": true`, a chosen newsletter that `lists` does not map is looked up first in
//! `GET {base}/api/public/lists` (listmonk's public lists, `[{"uuid", "name"}]`) by its name,
//! so a site can name its newsletters as its listmonk lists and skip copying UUIDs.
//!
//! listmonk answers `{"data": {"has_optin": true}}` when a list is double opt-in (the reader must
//! confirm), `{"data": …}` otherwise, and `{"message": "…"}` with a 4xx/5xx status on errors. A
//! repeated signup is harmless to listmonk (it adds the lists to the existing subscriber), so no
//! idempotency header is sent: it would only add a CORS preflight header listmonk does not need.

use super::{
    common_status, plain, wrong_kind, Envelope, Exchange, HttpReply, Method, Next, Reply, Request,
    Step,
};
use crate::json::{self, ObjectWriter, Value};
use crate::messages::Key;
use crate::signup::{FieldName, Outcome};

/// Delivery to a listmonk instance.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ListmonkAdapter {
    /// The instance's root URL, e.g. `https://lists.news.example`.
    pub base: String,
    /// List UUID per newsletter id. A newsletter without an entry is sent with its id as the
    /// UUID (for sites that use listmonk's UUIDs as newsletter ids), unless `discover` is on.
    pub lists: Vec<(String, String)>,
    /// Look unmapped newsletters up in listmonk's public lists, by name.
    pub discover: bool,
    /// Newsletter id → the name shown to readers (set from the slot's newsletters when
    /// `discover` is on): the listmonk list name it is looked up by.
    pub names: Vec<(String, String)>,
}

/// The step that asks listmonk for its public lists; the subscription is [`SUBSCRIBE`].
const LISTS: Step = Step(0);
/// The step that posts the subscription.
const SUBSCRIBE: Step = Step(1);

impl ListmonkAdapter {
    /// An adapter for the instance at `base`.
    pub fn new(base: &str) -> ListmonkAdapter {
        ListmonkAdapter {
            base: base.trim_end_matches('/').to_owned(),
            lists: Vec::new(),
            discover: false,
            names: Vec::new(),
        }
    }

    fn mapped(&self, id: &str) -> Option<&str> {
        self.lists
            .iter()
            .find(|(n, _)| n == id)
            .map(|(_, uuid)| uuid.as_str())
    }

    /// The list UUIDs for the chosen newsletters.
    pub fn list_uuids<'a>(&'a self, envelope: &'a Envelope) -> Vec<&'a str> {
        envelope
            .signup
            .newsletters
            .iter()
            .map(|id| self.mapped(id).unwrap_or(id))
            .collect()
    }

    /// The chosen newsletters' UUIDs, each from `lists`, else found by name (or UUID) among
    /// `public` (listmonk's public lists as `(uuid, name)`); an error names the first newsletter
    /// that matches none.
    fn discovered<'a>(
        &'a self,
        envelope: &'a Envelope,
        public: &'a [(String, String)],
    ) -> Result<Vec<&'a str>, Outcome> {
        envelope
            .signup
            .newsletters
            .iter()
            .map(|id| {
                if let Some(uuid) = self.mapped(id) {
                    return Ok(uuid);
                }
                let name = self
                    .names
                    .iter()
                    .find(|(n, _)| n == id)
                    .map_or(id.as_str(), |(_, name)| name.as_str());
                public
                    .iter()
                    .find(|(uuid, list)| list.trim() == name.trim() || uuid == id)
                    .or_else(|| {
                        public
                            .iter()
                            .find(|(_, list)| list.trim().eq_ignore_ascii_case(name.trim()))
                    })
                    .map(|(uuid, _)| uuid.as_str())
                    .ok_or_else(|| {
                        let known: Vec<&str> = public.iter().map(|(_, n)| n.as_str()).collect();
                        Outcome::ConfigurationError {
                            message: format!(
                                "newsletter \"{id}\" (\"{name}\") matches none of listmonk's \
                                 public lists ({}); rename it or map it in listmonk.lists",
                                known.join(", ")
                            ),
                        }
                    })
            })
            .collect()
    }

    /// The request body: `{"email","name","list_uuids"}` (`name` empty: listmonk then uses the
    /// part of the address before the `@`).
    ///
    /// ```
    /// use letterbox_core::delivery::{Envelope, ListmonkAdapter};
    /// let mut a = ListmonkAdapter::new("https://lists.example");
    /// a.lists = vec![("daily".into(), "e6b6a7d2-61c4-4b5e-9e1a-0c1c2f7d9a10".into())];
    /// assert_eq!(a.body(&Envelope::example()),
    ///     r#"{"email":"jane+news@example.com","name":"","list_uuids":["e6b6a7d2-61c4-4b5e-9e1a-0c1c2f7d9a10"]}"#);
    /// ```
    pub fn body(&self, envelope: &Envelope) -> String {
        body(envelope, &self.list_uuids(envelope))
    }

    fn subscribe(&self, envelope: &Envelope, uuids: &[&str]) -> Next {
        Next::Send(Exchange {
            step: SUBSCRIBE,
            request: Request::Fetch {
                method: Method::Post,
                url: format!("{}/api/public/subscription", self.base),
                headers: vec![
                    ("Content-Type".into(), "application/json".into()),
                    ("Accept".into(), "application/json".into()),
                ],
                body: Some(body(envelope, uuids)),
            },
        })
    }

    pub(super) fn start(&self, envelope: &Envelope) -> Next {
        let unmapped = envelope
            .signup
            .newsletters
            .iter()
            .any(|id| self.mapped(id).is_none());
        if !(self.discover && unmapped) {
            return self.subscribe(envelope, &self.list_uuids(envelope));
        }
        Next::Send(Exchange {
            step: LISTS,
            request: Request::Fetch {
                method: Method::Get,
                url: format!("{}/api/public/lists", self.base),
                headers: vec![("Accept".into(), "application/json".into())],
                body: None,
            },
        })
    }

    pub(super) fn next(&self, envelope: &Envelope, step: Step, reply: &Reply<'_>) -> Next {
        let Reply::Http(http) = reply else {
            return Next::Done(wrong_kind("listmonk"));
        };
        if step != LISTS {
            return Next::Done(interpret(envelope, http));
        }
        match public_lists(http).map(|public| {
            self.discovered(envelope, &public)
                .map(|uuids| self.subscribe(envelope, &uuids))
        }) {
            Ok(Ok(next)) => next,
            Ok(Err(outcome)) | Err(outcome) => Next::Done(outcome),
        }
    }
}

/// listmonk's public lists as `(uuid, name)`, from `GET /api/public/lists`: a JSON array of
/// `{"uuid", "name"}` (accepted inside `{"data": …}` too).
fn public_lists(reply: &HttpReply<'_>) -> Result<Vec<(String, String)>, Outcome> {
    if let Some(outcome) = common_status(reply) {
        return Err(outcome);
    }
    let not_lists = || Outcome::ConfigurationError {
        message: format!(
            "listmonk's public lists (GET /api/public/lists) answered {} without the list of \
             lists; check the base URL",
            reply.status
        ),
    };
    if !(200..300).contains(&reply.status) {
        return Err(not_lists());
    }
    let body = json::parse(reply.body).map_err(|_| not_lists())?;
    let items = match &body {
        Value::Array(items) => items,
        other => match other.get("data") {
            Some(Value::Array(items)) => items,
            _ => return Err(not_lists()),
        },
    };
    Ok(items
        .iter()
        .filter_map(|item| {
            let text = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_owned);
            Some((text("uuid")?, text("name")?))
        })
        .collect())
}

/// The subscription body for `uuids`.
fn body(envelope: &Envelope, uuids: &[&str]) -> String {
    let mut out = String::new();
    let mut o = ObjectWriter::new(&mut out);
    o.string("email", &envelope.signup.email)
        .string("name", "")
        .strings("list_uuids", uuids);
    o.end();
    out
}

fn interpret(envelope: &Envelope, reply: &HttpReply<'_>) -> Outcome {
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
            Some(m) => classify(envelope, m, reply.status),
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
fn classify(envelope: &Envelope, message: &str, status: u16) -> Outcome {
    let lower = message.to_ascii_lowercase();
    if lower.contains("captcha") {
        return Outcome::RejectedAsSpam;
    }
    if lower.contains("email") && (lower.contains("invalid") || lower.contains("not valid")) {
        return Outcome::FieldError {
            field: FieldName::Email,
            message: envelope.text(Key::EmailDomainInvalid),
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
        let envelope = Envelope::example();
        let ex = sent(a.start(&envelope));
        done(a.next(&envelope, ex.step, &http(status, content_type, body)))
    }

    const JSON: Option<&str> = Some("application/json; charset=utf-8");

    #[test]
    fn the_request_is_the_recorded_public_subscription_post() {
        let a = Adapter::Listmonk(adapter());
        let mut envelope = Envelope::example();
        envelope.signup.newsletters = vec!["daily".into(), "culture".into()];
        let Request::Fetch {
            method,
            url,
            headers,
            body,
        } = sent(a.start(&envelope)).request
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

    /// A discovering adapter for newsletters named as the lists in `public-lists.json`.
    fn discovering() -> ListmonkAdapter {
        let mut a = ListmonkAdapter::new("https://lists.news.example");
        a.discover = true;
        a.names = vec![
            ("daily".into(), "The Daily Briefing".into()),
            ("culture".into(), "culture notes".into()),
            ("alerts".into(), "Breaking news alerts".into()),
        ];
        a
    }

    fn uuids_sent(next: Next) -> Vec<String> {
        let Request::Fetch {
            method, url, body, ..
        } = sent(next).request
        else {
            panic!("a fetch")
        };
        assert_eq!(
            (method, url.as_str()),
            (
                Method::Post,
                "https://lists.news.example/api/public/subscription"
            )
        );
        let body: serde_json::Value = serde_json::from_str(&body.unwrap()).unwrap();
        body["list_uuids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn discovery_finds_unmapped_newsletters_by_name_in_the_public_lists() {
        let a = Adapter::Listmonk(discovering());
        let mut envelope = Envelope::example();
        envelope.signup.newsletters = vec!["daily".into(), "culture".into()];
        let ask = sent(a.start(&envelope));
        let Request::Fetch {
            method, url, body, ..
        } = &ask.request
        else {
            panic!("a fetch")
        };
        assert_eq!(
            (*method, url.as_str(), body),
            (
                Method::Get,
                "https://lists.news.example/api/public/lists",
                &None
            )
        );
        let lists = fixture("listmonk/public-lists.json");
        let post = a.next(&envelope, ask.step, &http(200, JSON, &lists));
        assert_eq!(
            uuids_sent(post.clone()),
            [
                "e6b6a7d2-61c4-4b5e-9e1a-0c1c2f7d9a10",
                "0f4c3b8e-2d7a-4c1b-9a6e-5b2d8c7e1f30"
            ],
            "exact name first, then the same name in another case"
        );
        let step = sent(post).step;
        assert_eq!(
            done(a.next(
                &envelope,
                step,
                &http(200, JSON, &fixture("listmonk/optin.json"))
            )),
            Outcome::PendingConfirmation
        );
        // Wrapped in listmonk's usual {"data": …} it is read the same.
        let wrapped = format!(r#"{{"data":{lists}}}"#);
        assert_eq!(
            uuids_sent(a.next(&envelope, ask.step, &http(200, JSON, &wrapped))).len(),
            2
        );
    }

    #[test]
    fn discovery_is_skipped_when_every_newsletter_is_mapped_and_mapping_wins() {
        let mut lm = discovering();
        lm.lists = vec![("daily".into(), "mapped-uuid".into())];
        let a = Adapter::Listmonk(lm);
        assert_eq!(uuids_sent(a.start(&Envelope::example())), ["mapped-uuid"]);
    }

    #[test]
    fn a_newsletter_that_matches_no_public_list_is_a_configuration_error() {
        let a = Adapter::Listmonk(discovering());
        let mut envelope = Envelope::example();
        envelope.signup.newsletters = vec!["daily".into(), "alerts".into()];
        let ask = sent(a.start(&envelope));
        let lists = fixture("listmonk/public-lists.json");
        assert!(matches!(
            done(a.next(&envelope, ask.step, &http(200, JSON, &lists))),
            Outcome::ConfigurationError { message }
                if message.contains("\"alerts\" (\"Breaking news alerts\")")
                    && message.contains("The Daily Briefing, Culture Notes")
        ));
        // Something that is not listmonk's list of lists never leads to a signup.
        for (status, body) in [
            (200, fixture("common/captive-portal-200.html")),
            (200, r#"{"data":{"uuid":"x"}}"#.to_owned()),
            (404, "404 page not found".to_owned()),
        ] {
            assert!(
                matches!(
                    done(a.next(&envelope, ask.step, &http(status, None, &body))),
                    Outcome::ConfigurationError { .. }
                ),
                "{status} {body}"
            );
        }
        assert_eq!(
            done(a.next(&envelope, ask.step, &http(503, None, ""))),
            Outcome::ServerError { status: 503 },
            "a passing failure stays retryable"
        );
    }

    #[test]
    fn unmapped_newsletters_are_sent_as_their_ids() {
        let a = ListmonkAdapter::new("https://l.example");
        assert_eq!(a.list_uuids(&Envelope::example()), ["daily"]);
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
