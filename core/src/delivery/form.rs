//! The `form` adapter: one `application/x-www-form-urlencoded` POST with configurable field
//! names, for a site's own endpoint and for Sendy-style services.
//!
//! The request is a CORS "simple request" (form content type, no custom headers) unless the site
//! turns on `key_header`, so it works with endpoints that do not answer a preflight. The
//! idempotency key goes in the body when `key_field` is set.
//!
//! Success is decided by the status and, when configured, by the body: with `success_texts` a 2xx
//! is a success only if its body is one of them (texts of four or more characters may also appear
//! inside a longer body). Without them, answers are read as the Letterbox contract reads them.

use super::encode::form_encode;
use super::{plain, wrong_kind, Envelope, Exchange, HttpReply, Method, Next, Reply, Request, Step};
use crate::delivery::contract::interpret;
use crate::signup::Outcome;

/// Delivery as an HTML form would post it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FormAdapter {
    /// The form's `action` URL.
    pub action: String,
    /// The name of the email field (`email`, `EMAIL`).
    pub email_field: String,
    /// The name of the newsletter field, repeated once per chosen newsletter id (`list`,
    /// `newsletters[]`); `None` to send no newsletter field.
    pub newsletter_field: Option<String>,
    /// Extra hidden fields, sent as they are (`boolean=true` for Sendy, an API list id).
    pub hidden: Vec<(String, String)>,
    /// The field that carries the idempotency key, if any.
    pub key_field: Option<String>,
    /// Also send the `Idempotency-Key` header (makes the request need a CORS preflight).
    pub key_header: bool,
    /// The field that carries the challenge token, if any (`cf-turnstile-response`).
    pub challenge_field: Option<String>,
    /// The field that carries the consent record as JSON, if any.
    pub consent_field: Option<String>,
    /// Bodies that mean success; empty to decide by status (and the contract's JSON) alone.
    pub success_texts: Vec<String>,
    /// The service emails a confirmation link: success means "check your inbox".
    pub confirms_by_email: bool,
}

impl FormAdapter {
    /// A form adapter posting `email` (and nothing else) to `action`.
    ///
    /// ```
    /// use letterbox_core::delivery::FormAdapter;
    /// let f = FormAdapter::new("https://news.example/subscribe");
    /// assert_eq!(f.email_field, "email");
    /// ```
    pub fn new(action: &str) -> FormAdapter {
        FormAdapter {
            action: action.to_owned(),
            email_field: "email".into(),
            newsletter_field: None,
            hidden: Vec::new(),
            key_field: None,
            key_header: false,
            challenge_field: None,
            consent_field: None,
            success_texts: Vec::new(),
            confirms_by_email: false,
        }
    }

    /// The urlencoded body for `envelope`, fields in a fixed order: email, the reader's other
    /// fields (under their names), newsletters, hidden fields, key, challenge, consent.
    ///
    /// ```
    /// use letterbox_core::delivery::{FormAdapter, Envelope};
    /// let mut f = FormAdapter::new("/s");
    /// f.newsletter_field = Some("list".into());
    /// f.hidden = vec![("boolean".into(), "true".into())];
    /// assert_eq!(f.body(&Envelope::example()), "email=jane%2Bnews%40example.com&list=daily&boolean=true");
    /// ```
    pub fn body(&self, envelope: &Envelope) -> String {
        let mut pairs: Vec<(&str, &str)> = vec![(&self.email_field, &envelope.signup.email)];
        pairs.extend(
            envelope
                .signup
                .fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        if let Some(field) = &self.newsletter_field {
            pairs.extend(
                envelope
                    .signup
                    .newsletters
                    .iter()
                    .map(|id| (field.as_str(), id.as_str())),
            );
        }
        pairs.extend(self.hidden.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        if let Some(field) = &self.key_field {
            pairs.push((field, &envelope.signup.key));
        }
        if let (Some(field), Some(token)) = (&self.challenge_field, &envelope.challenge) {
            pairs.push((field, token));
        }
        let consent = envelope.signup.consent.as_ref().map(|c| c.to_json());
        if let (Some(field), Some(record)) = (&self.consent_field, &consent) {
            pairs.push((field, record));
        }
        form_encode(pairs)
    }

    pub(super) fn start(&self, envelope: &Envelope) -> Next {
        let mut headers = vec![
            (
                "Content-Type".to_owned(),
                "application/x-www-form-urlencoded".to_owned(),
            ),
            (
                "Accept".to_owned(),
                "application/json, text/plain, */*".to_owned(),
            ),
        ];
        if self.key_header {
            headers.push(("Idempotency-Key".into(), envelope.signup.key.clone()));
        }
        Next::Send(Exchange {
            step: Step(0),
            request: Request::Fetch {
                method: Method::Post,
                url: self.action.clone(),
                headers,
                body: Some(self.body(envelope)),
            },
        })
    }

    pub(super) fn next(&self, _intent: &Envelope, _step: Step, reply: &Reply<'_>) -> Next {
        Next::Done(match reply {
            Reply::Http(http) => self.interpret(http),
            _ => wrong_kind("form"),
        })
    }

    fn success(&self) -> Outcome {
        if self.confirms_by_email {
            Outcome::PendingConfirmation
        } else {
            Outcome::Subscribed
        }
    }

    fn interpret(&self, reply: &HttpReply<'_>) -> Outcome {
        let body = reply.body.trim();
        let ok = (200..=299).contains(&reply.status);
        if ok && !self.success_texts.is_empty() {
            let lower = body.to_ascii_lowercase();
            // A page (a proxy's, a captive portal's) or a JSON document may contain any word:
            // only plain text is searched.
            let page = looks_like_markup(body) || body.starts_with(['{', '[']);
            let matches = self.success_texts.iter().any(|t| {
                let t = t.trim().to_ascii_lowercase();
                lower == t || (!page && t.chars().count() >= 4 && lower.contains(&t))
            });
            if matches {
                return self.success();
            }
            if says_already_subscribed(&lower) {
                return Outcome::AlreadySubscribed;
            }
            return Outcome::Rejected {
                status: reply.status,
                message: text_message(reply),
            };
        }
        match interpret(&reply.contract()) {
            Outcome::Subscribed => self.success(),
            Outcome::Rejected {
                status,
                message: None,
            } if says_already_subscribed(&body.to_ascii_lowercase()) && status < 500 => {
                Outcome::AlreadySubscribed
            }
            Outcome::Rejected {
                status,
                message: None,
            } => Outcome::Rejected {
                status,
                message: text_message(reply),
            },
            other => other,
        }
    }
}

fn says_already_subscribed(lower: &str) -> bool {
    lower.contains("already subscribed") || lower.contains("already a subscriber")
}

fn looks_like_markup(body: &str) -> bool {
    body.starts_with('<') || body.to_ascii_lowercase().contains("<html")
}

/// A short plain-text body is a message worth showing; HTML pages and long bodies are not.
fn text_message(reply: &HttpReply<'_>) -> Option<String> {
    let body = reply.body.trim();
    // Decided by the body, not the content type: Sendy sends its plain-text answers as text/html.
    if looks_like_markup(body)
        || reply.says_json()
        || body.starts_with(['{', '['])
        || body.chars().count() > 200
    {
        return None;
    }
    plain(body)
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::Adapter;
    use super::*;
    use crate::signup::Consent;
    use crate::signup::FieldName;

    fn sendy() -> FormAdapter {
        let mut f = FormAdapter::new("https://sendy.news.example/subscribe");
        f.newsletter_field = Some("list".into());
        f.hidden = vec![("boolean".into(), "true".into())];
        f.success_texts = vec!["1".into(), "true".into()];
        f
    }

    fn answer(f: &FormAdapter, status: u16, content_type: Option<&str>, body: &str) -> Outcome {
        let a = Adapter::Form(f.clone());
        let envelope = Envelope::example();
        let ex = sent(a.start(&envelope));
        done(a.next(&envelope, ex.step, &http(status, content_type, body)))
    }

    #[test]
    fn the_readers_other_fields_follow_the_address_under_their_names() {
        let mut f = FormAdapter::new("https://app.convertkit.com/landing_pages/1/subscribe");
        f.hidden = vec![("captcha2_h".into(), String::new())];
        let mut envelope = Envelope::example();
        envelope.signup.fields = vec![("firstname".into(), "Jane".into())];
        assert_eq!(
            f.body(&envelope),
            "email=jane%2Bnews%40example.com&firstname=Jane&captcha2_h="
        );
    }

    #[test]
    fn the_request_matches_the_recorded_sendy_request() {
        let a = Adapter::Form(sendy());
        let mut envelope = Envelope::example();
        envelope.signup.newsletters = vec!["kT892Gv763V2mBYJ9UFSeg".into()];
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
        assert_eq!(url, "https://sendy.news.example/subscribe");
        assert!(
            headers.iter().all(|(name, _)| name != "Idempotency-Key"),
            "a simple request: no custom header"
        );
        let recorded = fixture("form/sendy-request.txt");
        assert_eq!(body.as_deref(), Some(recorded.trim()));
    }

    #[test]
    fn newsletters_repeat_the_field_and_extras_follow_in_order() {
        let mut f = FormAdapter::new("/s");
        f.email_field = "EMAIL".into();
        f.newsletter_field = Some("newsletters[]".into());
        f.key_field = Some("idempotency_key".into());
        f.challenge_field = Some("cf-turnstile-response".into());
        f.consent_field = Some("consent".into());
        let mut envelope = Envelope::example();
        envelope.signup.newsletters = vec!["daily".into(), "culture".into()];
        envelope.challenge = Some("tok en".into());
        envelope.signup.consent = Some(Consent {
            text: "Yes".into(),
            version: "1".into(),
            locale: "en".into(),
            page: "https://x/".into(),
            at_ms: 5,
        });
        let body = f.body(&envelope);
        assert!(body.starts_with(
            "EMAIL=jane%2Bnews%40example.com&newsletters%5B%5D=daily&newsletters%5B%5D=culture&idempotency_key=5f0c6a1e"
        ), "{body}");
        assert!(body.contains("&cf-turnstile-response=tok%20en&consent=%7B%22text%22"));
    }

    #[test]
    fn the_key_header_is_sent_only_when_asked_for() {
        let mut f = FormAdapter::new("/s");
        f.key_header = true;
        let Request::Fetch { headers, .. } =
            sent(Adapter::Form(f).start(&Envelope::example())).request
        else {
            panic!()
        };
        assert!(headers.iter().any(|(n, _)| n == "Idempotency-Key"));
    }

    #[test]
    fn sendy_answers_map_by_their_recorded_texts() {
        let f = sendy();
        assert_eq!(
            answer(
                &f,
                200,
                Some("text/html"),
                &fixture("form/sendy-success.txt")
            ),
            Outcome::Subscribed
        );
        assert_eq!(
            answer(&f, 200, Some("text/html"), "true"),
            Outcome::Subscribed
        );
        assert_eq!(
            answer(
                &f,
                200,
                Some("text/html"),
                &fixture("form/sendy-already.txt")
            ),
            Outcome::AlreadySubscribed
        );
        assert_eq!(
            answer(
                &f,
                200,
                Some("text/html"),
                &fixture("form/sendy-invalid-email.txt")
            ),
            Outcome::Rejected {
                status: 200,
                message: Some("Invalid email address.".into())
            }
        );
        assert_eq!(
            answer(&f, 200, Some("text/html"), "Error 1 happened"),
            Outcome::Rejected {
                status: 200,
                message: Some("Error 1 happened".into())
            },
            "a one-character success text must match the whole body"
        );
    }

    #[test]
    fn a_confirming_service_turns_success_into_check_your_inbox() {
        let mut f = sendy();
        f.confirms_by_email = true;
        assert_eq!(answer(&f, 200, None, "1"), Outcome::PendingConfirmation);
        let mut plain_form = FormAdapter::new("/s");
        plain_form.confirms_by_email = true;
        assert_eq!(
            answer(&plain_form, 204, None, ""),
            Outcome::PendingConfirmation
        );
    }

    #[test]
    fn proxy_pages_empty_bodies_and_wrong_types_never_become_success_with_success_texts() {
        let f = sendy();
        assert_eq!(
            answer(
                &f,
                200,
                Some("text/html"),
                &fixture("common/captive-portal-200.html")
            ),
            Outcome::Rejected {
                status: 200,
                message: None
            }
        );
        assert_eq!(
            answer(&f, 200, None, ""),
            Outcome::Rejected {
                status: 200,
                message: None
            }
        );
        assert_eq!(
            answer(&f, 200, Some("application/json"), "{\"ok\":true}"),
            Outcome::Rejected {
                status: 200,
                message: None
            }
        );
        assert_eq!(
            answer(
                &f,
                502,
                Some("text/html"),
                &fixture("common/nginx-502.html")
            ),
            Outcome::ServerError { status: 502 }
        );
    }

    #[test]
    fn without_success_texts_answers_are_read_like_the_contract() {
        let f = FormAdapter::new("/s");
        assert_eq!(
            answer(&f, 200, Some("text/html"), "<html>Thanks!</html>"),
            Outcome::Subscribed
        );
        assert_eq!(answer(&f, 409, None, ""), Outcome::AlreadySubscribed);
        assert_eq!(
            answer(
                &f,
                422,
                Some("application/json"),
                r#"{"error":{"field":"email","message":"Use your work address"}}"#
            ),
            Outcome::FieldError {
                field: FieldName::Email,
                message: "Use your work address".into()
            }
        );
        assert_eq!(
            answer(&f, 400, Some("text/plain"), "Already subscribed."),
            Outcome::AlreadySubscribed
        );
        assert_eq!(
            answer(&f, 403, Some("text/plain"), "  Closed\n list  "),
            Outcome::Rejected {
                status: 403,
                message: Some("Closed list".into())
            }
        );
        assert_eq!(
            answer(
                &f,
                403,
                Some("text/html"),
                &fixture("common/cloudflare-403.html")
            ),
            Outcome::Rejected {
                status: 403,
                message: None
            }
        );
    }
}
