//! The `json` adapter: the Letterbox endpoint contract (`docs/endpoint-contract.md`), one POST.
//!
//! The body is exactly [`contract::body`]: the signup, plus `"consent"` (the consent record) and
//! `"challenge"` (the challenge token) when the signup has them. Answers are read by
//! [`crate::delivery::contract::interpret`], so this adapter and the contract can never disagree.

use super::contract::{self, interpret};
use super::{wrong_kind, Envelope, Exchange, Method, Next, Reply, Request, Step};

/// Delivery to an endpoint that implements the Letterbox contract.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JsonAdapter {
    /// Where signups are POSTed.
    pub endpoint: String,
}

impl JsonAdapter {
    /// The request body.
    ///
    /// ```
    /// use letterbox_core::delivery::{Envelope, JsonAdapter};
    /// let body = JsonAdapter { endpoint: "/s".into() }.body(&Envelope::example());
    /// assert!(body.starts_with(r#"{"email":"jane+news@example.com","newsletters":["daily"]"#));
    /// ```
    pub fn body(&self, envelope: &Envelope) -> String {
        contract::body(envelope)
    }

    pub(super) fn start(&self, envelope: &Envelope) -> Next {
        Next::Send(Exchange {
            step: Step(0),
            request: Request::Fetch {
                method: Method::Post,
                url: self.endpoint.clone(),
                headers: vec![
                    ("Content-Type".into(), "application/json".into()),
                    ("Accept".into(), "application/json".into()),
                    ("Idempotency-Key".into(), envelope.signup.key.clone()),
                ],
                body: Some(self.body(envelope)),
            },
        })
    }

    pub(super) fn next(&self, _intent: &Envelope, _step: Step, reply: &Reply<'_>) -> Next {
        Next::Done(match reply {
            Reply::Http(http) => interpret(&http.contract()),
            _ => wrong_kind("json"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{Adapter, HttpReply};
    use super::*;
    use crate::signup::Consent;
    use crate::signup::{FieldName, Outcome};

    fn adapter() -> Adapter {
        Adapter::Json(JsonAdapter {
            endpoint: "https://news.example/api/subscribe".into(),
        })
    }

    fn answer(status: u16, content_type: Option<&str>, body: &str) -> Outcome {
        let envelope = Envelope::example();
        let a = adapter();
        let ex = sent(a.start(&envelope));
        done(a.next(&envelope, ex.step, &http(status, content_type, body)))
    }

    #[test]
    fn posts_the_contract_body_with_the_idempotency_key_header() {
        let envelope = Envelope::example();
        let ex = sent(adapter().start(&envelope));
        let Request::Fetch {
            method,
            url,
            headers,
            body,
        } = ex.request
        else {
            panic!("a fetch")
        };
        assert_eq!(method, Method::Post);
        assert_eq!(url, "https://news.example/api/subscribe");
        assert!(headers.contains(&("Idempotency-Key".into(), envelope.signup.key.clone())));
        let body = body.unwrap();
        let expected = contract::body(&Envelope::new(envelope.signup.clone()));
        assert_eq!(body, expected, "no extras: exactly the contract's body");
        let recorded: serde_json::Value =
            serde_json::from_str(&fixture("json/request.json")).unwrap();
        let ours: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(ours, recorded);
    }

    #[test]
    fn consent_and_challenge_are_added_as_members_when_present() {
        let mut envelope = Envelope::example();
        envelope.signup.consent = Some(Consent {
            text: "Email me".into(),
            version: "2024-06".into(),
            locale: "en".into(),
            page: "https://news.example/article".into(),
            at_ms: 1_718_000_000_000,
        });
        envelope.challenge = Some("0.turnstile-token".into());
        let body = JsonAdapter {
            endpoint: "/s".into(),
        }
        .body(&envelope);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["consent"]["version"], "2024-06");
        assert_eq!(v["challenge"], "0.turnstile-token");
        assert_eq!(v["email"], "jane+news@example.com");
    }

    #[test]
    fn recorded_answers_map_exactly_as_the_contract_says() {
        assert_eq!(
            answer(200, Some("application/json"), &fixture("json/pending.json")),
            Outcome::PendingConfirmation
        );
        assert_eq!(
            answer(
                422,
                Some("application/json"),
                &fixture("json/field-error.json")
            ),
            Outcome::FieldError {
                field: FieldName::Email,
                message: "Enter an address at a domain that receives email".into()
            }
        );
        assert_eq!(
            answer(502, Some("text/html"), &fixture("common/nginx-502.html")),
            Outcome::ServerError { status: 502 }
        );
        assert_eq!(answer(200, None, ""), Outcome::Subscribed);
        assert_eq!(
            answer(
                400,
                Some("text/html"),
                &fixture("common/cloudflare-403.html")
            ),
            Outcome::Rejected {
                status: 400,
                message: None
            }
        );
        assert_eq!(
            answer(422, Some("application/json"), "{\"error\":"),
            Outcome::Rejected {
                status: 422,
                message: None
            }
        );
    }

    #[test]
    fn retry_after_travels_from_the_reply_to_the_outcome() {
        let envelope = Envelope::example();
        let a = adapter();
        let ex = sent(a.start(&envelope));
        let reply = Reply::Http(HttpReply {
            status: 429,
            content_type: Some("text/plain"),
            retry_after: Some("17"),
            body: "slow down",
        });
        assert_eq!(
            done(a.next(&envelope, ex.step, &reply)),
            Outcome::RateLimited {
                retry_after_secs: Some(17)
            }
        );
    }
}
