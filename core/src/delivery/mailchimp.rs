//! The `mailchimp` adapter: Mailchimp's classic hosted signup form, called through its JSONP
//! endpoint (`/subscribe/post-json`), which needs no API key and no server of the site's own.
//!
//! The request is a GET: `u`, `id` (and `f_id`), `EMAIL`, one `group[gid][bit]` per chosen
//! newsletter, the empty `b_<u>_<id>` honeypot, and the callback parameter `c` added by the
//! transport. Every value is percent-encoded, so `jane+news@example.com` arrives with its `+`.
//!
//! Mailchimp answers `{"result": "success" | "error", "msg": "…"}`, `msg` often holding HTML and
//! always English (or the audience's form language). The adapter reads the known messages:
//! "already subscribed", "too many subscribe attempts" / "too many recent signup requests" (rate
//! limited, with the wait it names), "signed up to a lot of lists very recently" (spam guard),
//! `N - message` field errors (`0` is the email; any other index is a required merge field the
//! widget does not send, so a configuration error), and `captcha` (the audience has reCAPTCHA
//! turned on, which a JSONP signup cannot pass: a configuration error). Anything else is shown as
//! plain text.

use super::encode::{form_encode, html_to_text, percent_decode};
use super::{plain, wait_in_words, wrong_kind, Envelope, Exchange, Next, Reply, Request, Step};
use crate::json;
use crate::messages::Key;
use crate::signup::{FieldName, Outcome};

/// How one newsletter maps to a Mailchimp interest group field.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MailchimpGroup {
    /// The Letterbox newsletter id.
    pub newsletter: String,
    /// The form field name, e.g. `group[21][1]`.
    pub field: String,
    /// The value sent when the newsletter is chosen (the bit, for checkbox groups).
    pub value: String,
}

impl MailchimpGroup {
    /// A checkbox interest: field `group[{group}][{bit}]`, value `{bit}`, as in the embed code.
    ///
    /// ```
    /// use letterbox_core::delivery::MailchimpGroup;
    /// let g = MailchimpGroup::checkbox("daily", "21", "1");
    /// assert_eq!((g.field.as_str(), g.value.as_str()), ("group[21][1]", "1"));
    /// ```
    pub fn checkbox(newsletter: &str, group: &str, bit: &str) -> MailchimpGroup {
        MailchimpGroup {
            newsletter: newsletter.to_owned(),
            field: format!("group[{group}][{bit}]"),
            value: bit.to_owned(),
        }
    }
}

/// Delivery to a Mailchimp audience's hosted signup form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MailchimpAdapter {
    /// The form's origin, e.g. `https://example.us1.list-manage.com`.
    pub host: String,
    /// The account id (`u`).
    pub u: String,
    /// The audience id (`id`).
    pub id: String,
    /// The form id (`f_id`), when the embed code has one.
    pub f_id: Option<String>,
    /// Interest groups per newsletter. Empty: the audience itself is the one newsletter. When
    /// not empty, every chosen newsletter must have a group.
    pub groups: Vec<MailchimpGroup>,
    /// Extra hidden fields from the embed code, sent as they are (e.g. `tags`).
    pub hidden: Vec<(String, String)>,
    /// The GDPR marketing-permission field (`gdpr[123]`), sent as `Y` with a consent record.
    pub consent_field: Option<String>,
    /// Whether the audience uses double opt-in. `None`: read it from the success message
    /// ("Thank you for subscribing" means subscribed; anything else means check your inbox).
    pub confirms_by_email: Option<bool>,
}

impl MailchimpAdapter {
    /// An adapter for the audience `id` of account `u` at `host`.
    pub fn new(host: &str, u: &str, id: &str) -> MailchimpAdapter {
        MailchimpAdapter {
            host: host.trim_end_matches('/').to_owned(),
            u: u.to_owned(),
            id: id.to_owned(),
            f_id: None,
            groups: Vec::new(),
            hidden: Vec::new(),
            consent_field: None,
            confirms_by_email: None,
        }
    }

    /// Reads the `action` of Mailchimp's embed form (`…/subscribe/post?u=…&amp;id=…&amp;f_id=…`).
    ///
    /// ```
    /// use letterbox_core::delivery::MailchimpAdapter;
    /// let a = MailchimpAdapter::from_form_action(
    ///     "https://example.us1.list-manage.com/subscribe/post?u=8d6e&amp;id=3b1f&amp;f_id=00a1").unwrap();
    /// assert_eq!((a.u.as_str(), a.id.as_str(), a.f_id.as_deref()), ("8d6e", "3b1f", Some("00a1")));
    /// assert!(MailchimpAdapter::from_form_action("https://example.com/join").is_err());
    /// ```
    pub fn from_form_action(action: &str) -> Result<MailchimpAdapter, String> {
        let action = action.trim().replace("&amp;", "&");
        let (host, query) = action.split_once("/subscribe/post").ok_or_else(|| {
            format!("\"{action}\" is not a Mailchimp form action (…/subscribe/post?u=…&id=…)")
        })?;
        if !(host.starts_with("https://") || host.starts_with("http://")) {
            return Err(format!("\"{action}\" must start with https://"));
        }
        let query = query.split_once('?').map_or("", |(_, q)| q);
        let param = |name: &str| {
            query
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .find(|(k, _)| *k == name)
                .map(|(_, v)| percent_decode(v))
                .filter(|v| !v.is_empty())
        };
        let u = param("u").ok_or_else(|| format!("\"{action}\" has no u= (account id)"))?;
        let id = param("id").ok_or_else(|| format!("\"{action}\" has no id= (audience id)"))?;
        let mut adapter = MailchimpAdapter::new(host, &u, &id);
        adapter.f_id = param("f_id");
        Ok(adapter)
    }

    /// The JSONP URL for `envelope`, without the callback parameter; or the configuration error
    /// that stops it (a chosen newsletter without a group).
    ///
    /// ```
    /// use letterbox_core::delivery::{Envelope, MailchimpAdapter, MailchimpGroup};
    /// let mut a = MailchimpAdapter::new("https://example.us1.list-manage.com", "8d6e", "3b1f");
    /// a.groups = vec![MailchimpGroup::checkbox("daily", "21", "1")];
    /// assert_eq!(a.url(&Envelope::example()).unwrap(),
    ///     "https://example.us1.list-manage.com/subscribe/post-json?u=8d6e&id=3b1f\
    ///      &EMAIL=jane%2Bnews%40example.com&group%5B21%5D%5B1%5D=1&b_8d6e_3b1f=");
    /// ```
    pub fn url(&self, envelope: &Envelope) -> Result<String, Outcome> {
        let mut pairs: Vec<(&str, &str)> = vec![("u", &self.u), ("id", &self.id)];
        if let Some(f_id) = &self.f_id {
            pairs.push(("f_id", f_id));
        }
        pairs.push(("EMAIL", &envelope.signup.email));
        // Merge fields (`FNAME`) and one-of choices (`EMAILTYPE`), under their names.
        pairs.extend(
            envelope
                .signup
                .fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        if !self.groups.is_empty() {
            for id in &envelope.signup.newsletters {
                let group = self
                    .groups
                    .iter()
                    .find(|g| g.newsletter == *id)
                    .ok_or_else(|| Outcome::ConfigurationError {
                        message: format!(
                            "newsletter \"{id}\" has no Mailchimp group; add it to the Mailchimp groups"
                        ),
                    })?;
                pairs.push((&group.field, &group.value));
            }
        }
        pairs.extend(self.hidden.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        if let (Some(field), Some(_)) = (&self.consent_field, &envelope.signup.consent) {
            pairs.push((field, "Y"));
        }
        let honeypot = format!("b_{}_{}", self.u, self.id);
        pairs.push((&honeypot, ""));
        // An `http://` embed (older code) is called over https from an https page, where the
        // browser would block the script as mixed content; list-manage.com serves both.
        let host = match self.host.strip_prefix("http://") {
            Some(rest) if envelope.signup.source.page.starts_with("https:") => {
                format!("https://{rest}")
            }
            _ => self.host.clone(),
        };
        Ok(format!("{host}/subscribe/post-json?{}", form_encode(pairs)))
    }

    pub(super) fn start(&self, envelope: &Envelope) -> Next {
        match self.url(envelope) {
            Ok(url) => Next::Send(Exchange {
                step: Step(0),
                request: Request::Jsonp {
                    url,
                    callback_param: "c",
                },
            }),
            Err(outcome) => Next::Done(outcome),
        }
    }

    pub(super) fn next(&self, envelope: &Envelope, _step: Step, reply: &Reply<'_>) -> Next {
        Next::Done(match reply {
            Reply::Jsonp(text) => self.interpret(envelope, text),
            _ => wrong_kind("mailchimp"),
        })
    }

    fn interpret(&self, envelope: &Envelope, text: &str) -> Outcome {
        let value = json::parse(text).ok();
        let field = |name| {
            value
                .as_ref()
                .and_then(|v| v.get(name))
                .and_then(json::Value::as_str)
        };
        let msg = html_to_text(field("msg").unwrap_or(""));
        match field("result") {
            Some("success") => {
                let confirms = self.confirms_by_email.unwrap_or_else(|| {
                    !msg.to_ascii_lowercase()
                        .contains("thank you for subscribing")
                });
                if confirms {
                    Outcome::PendingConfirmation
                } else {
                    Outcome::Subscribed
                }
            }
            Some("error") => error_outcome(envelope, &msg),
            // Not Mailchimp's shape: the callback was called with something else.
            _ => Outcome::Rejected {
                status: 200,
                message: None,
            },
        }
    }
}

fn error_outcome(envelope: &Envelope, msg: &str) -> Outcome {
    let lower = msg.to_ascii_lowercase();
    if lower.trim() == "captcha" {
        return Outcome::ConfigurationError {
            message: "Mailchimp asks for a reCAPTCHA, which a JSONP signup cannot show: turn off \
                      reCAPTCHA in the audience's form settings, or use another adapter"
                .into(),
        };
    }
    if lower.contains("already subscribed") {
        return Outcome::AlreadySubscribed;
    }
    if lower.contains("too many subscribe attempts") || lower.contains("too many recent signup") {
        return Outcome::RateLimited {
            retry_after_secs: wait_in_words(msg),
        };
    }
    if lower.contains("signed up to a lot of lists") {
        return Outcome::RejectedAsSpam;
    }
    if let Some((index, text)) = numbered(msg) {
        if index != 0 {
            return Outcome::ConfigurationError {
                message: format!(
                    "Mailchimp requires merge field #{index}, which the widget does not send \
                     (make it optional in the audience): {}",
                    plain(text).unwrap_or_default()
                ),
            };
        }
        return Outcome::FieldError {
            field: FieldName::Email,
            message: email_text(envelope, text),
        };
    }
    if lower.contains("looks fake or invalid") || lower.contains("cannot be added to this list") {
        return Outcome::FieldError {
            field: FieldName::Email,
            message: plain(msg).unwrap_or_else(|| envelope.text(Key::EmailDomainInvalid)),
        };
    }
    Outcome::Rejected {
        status: 200,
        message: plain(msg),
    }
}

/// `"0 - An email address must contain a single @"` → `(0, "An email…")`.
fn numbered(msg: &str) -> Option<(u32, &str)> {
    let (index, text) = msg.trim_start().split_once(" - ")?;
    Some((index.parse().ok()?, text))
}

/// Mailchimp's fixed English phrases for address problems, in the reader's language; other
/// messages as plain text.
fn email_text(envelope: &Envelope, text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let key = if lower.contains("single @") {
        Some(Key::EmailMissingAt)
    } else if lower.contains("domain portion") {
        Some(Key::EmailDomainInvalid)
    } else if lower.contains("username portion") {
        Some(Key::EmailLocalPartInvalid)
    } else if lower.contains("enter a value") {
        Some(Key::EmailEmpty)
    } else {
        None
    };
    match key {
        Some(key) => envelope.text(key),
        None => plain(text).unwrap_or_else(|| envelope.text(Key::EmailDomainInvalid)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::Adapter;
    use super::*;
    use crate::signup::Consent;

    fn adapter() -> MailchimpAdapter {
        let mut a =
            MailchimpAdapter::from_form_action(fixture("mailchimp/embed-action.txt").trim())
                .unwrap();
        a.groups = vec![
            MailchimpGroup::checkbox("daily", "21", "1"),
            MailchimpGroup::checkbox("culture", "21", "2"),
        ];
        a
    }

    fn answer_in(a: &MailchimpAdapter, locale: &str, file: &str) -> Outcome {
        let adapter = Adapter::Mailchimp(a.clone());
        let mut envelope = Envelope::example();
        envelope.signup.locale = locale.into();
        let ex = sent(adapter.start(&envelope));
        let body = fixture(file);
        done(adapter.next(&envelope, ex.step, &Reply::Jsonp(body.trim())))
    }

    fn answer(file: &str) -> Outcome {
        answer_in(&adapter(), "en", file)
    }

    #[test]
    fn the_request_is_the_recorded_jsonp_get_with_plus_encoded() {
        let a = Adapter::Mailchimp(adapter());
        let mut envelope = Envelope::example();
        envelope.signup.newsletters = vec!["daily".into(), "culture".into()];
        let ex = sent(a.start(&envelope));
        let url = ex.request.jsonp_url("__letterbox_cb_1").unwrap();
        assert_eq!(url, fixture("mailchimp/request-url.txt").trim());
        assert!(url.contains("EMAIL=jane%2Bnews%40example.com"));
        assert!(matches!(
            ex.request,
            Request::Jsonp {
                callback_param: "c",
                ..
            }
        ));
    }

    #[test]
    fn a_newsletter_without_a_group_stops_before_sending() {
        let a = Adapter::Mailchimp(adapter());
        let mut envelope = Envelope::example();
        envelope.signup.newsletters = vec!["alerts".into()];
        assert!(matches!(
            done(a.start(&envelope)),
            Outcome::ConfigurationError { message } if message.contains("alerts")
        ));
    }

    #[test]
    fn merge_fields_the_reader_filled_in_are_sent_under_their_names() {
        let a = MailchimpAdapter::new("https://example.us1.list-manage.com", "u1", "l1");
        let mut envelope = Envelope::example();
        envelope.signup.fields = vec![
            ("FNAME".into(), "Jane & Jo".into()),
            ("EMAILTYPE".into(), "text".into()),
        ];
        assert_eq!(
            a.url(&envelope).unwrap(),
            "https://example.us1.list-manage.com/subscribe/post-json?u=u1&id=l1&EMAIL=jane%2Bnews%40example.com&FNAME=Jane%20%26%20Jo&EMAILTYPE=text&b_u1_l1="
        );
    }

    #[test]
    fn an_audience_without_groups_sends_no_group_fields_and_consent_adds_gdpr() {
        let mut a = MailchimpAdapter::new("https://example.us1.list-manage.com/", "u1", "l1");
        a.consent_field = Some("gdpr[5]".into());
        a.hidden = vec![("tags".into(), "2046".into())];
        let mut envelope = Envelope::example();
        envelope.signup.consent = Some(Consent {
            text: "Yes".into(),
            version: "1".into(),
            locale: "en".into(),
            page: "https://x/".into(),
            at_ms: 1,
        });
        assert_eq!(
            a.url(&envelope).unwrap(),
            "https://example.us1.list-manage.com/subscribe/post-json?u=u1&id=l1&EMAIL=jane%2Bnews%40example.com&tags=2046&gdpr%5B5%5D=Y&b_u1_l1="
        );
    }

    #[test]
    fn a_signup_queued_on_an_http_page_goes_over_https_when_an_https_page_sends_it() {
        let a = MailchimpAdapter::new("http://example.us1.list-manage.com", "u1", "l1");
        let mut envelope = Envelope::example();
        envelope.signup.source.page = "http://news.example/old-article".into();
        let Next::Send(ex) = a.start(&envelope) else {
            panic!("no request")
        };
        // Sent later from an https page: the transport gives the sending page's scheme.
        let url = |r: Request| match r {
            Request::Jsonp { url, .. } => url,
            other => panic!("{other:?}"),
        };
        assert!(url(ex.request.clone().for_page(true))
            .starts_with("https://example.us1.list-manage.com/subscribe/post-json?"));
        // From an http page it stays as the embed had it.
        assert!(url(ex.request.for_page(false)).starts_with("http://example.us1.list-manage.com/"));
    }

    #[test]
    fn form_actions_that_are_not_mailchimp_are_refused_with_a_reason() {
        assert!(MailchimpAdapter::from_form_action("ftp://x/subscribe/post?u=1&id=2").is_err());
        let no_id =
            MailchimpAdapter::from_form_action("https://x.list-manage.com/subscribe/post?u=1")
                .unwrap_err();
        assert!(no_id.contains("id="), "{no_id}");
    }

    #[test]
    fn success_messages_distinguish_double_opt_in_from_subscribed() {
        assert_eq!(
            answer("mailchimp/success-double-opt-in.json"),
            Outcome::PendingConfirmation
        );
        assert_eq!(
            answer("mailchimp/success-subscribed.json"),
            Outcome::Subscribed
        );
        let mut forced = adapter();
        forced.confirms_by_email = Some(true);
        assert_eq!(
            answer_in(&forced, "en", "mailchimp/success-subscribed.json"),
            Outcome::PendingConfirmation
        );
    }

    #[test]
    fn already_subscribed_is_recognised_through_its_html() {
        assert_eq!(
            answer("mailchimp/error-already-subscribed.json"),
            Outcome::AlreadySubscribed
        );
    }

    #[test]
    fn too_many_attempts_is_a_rate_limit_with_the_wait_mailchimp_names() {
        assert_eq!(
            answer("mailchimp/error-too-many-attempts.json"),
            Outcome::RateLimited {
                retry_after_secs: Some(300)
            }
        );
        assert_eq!(
            answer("mailchimp/error-too-many-recent-signups.json"),
            Outcome::RateLimited {
                retry_after_secs: None
            }
        );
    }

    #[test]
    fn signing_up_to_many_lists_is_rejected_as_spam() {
        assert_eq!(
            answer("mailchimp/error-many-lists.json"),
            Outcome::RejectedAsSpam
        );
    }

    #[test]
    fn email_field_errors_use_the_readers_language() {
        assert_eq!(
            answer("mailchimp/error-0-single-at.json"),
            Outcome::FieldError {
                field: FieldName::Email,
                message: "Enter an email address with an @, like name@example.com".into()
            }
        );
        assert_eq!(
            answer_in(&adapter(), "uk", "mailchimp/error-0-domain.json"),
            Outcome::FieldError {
                field: FieldName::Email,
                message: Key::EmailDomainInvalid
                    .default_text(crate::messages::Lang::Uk)
                    .into()
            }
        );
    }

    #[test]
    fn another_required_merge_field_is_a_configuration_error() {
        assert!(matches!(
            answer("mailchimp/error-1-required.json"),
            Outcome::ConfigurationError { message } if message.contains("#1")
        ));
    }

    #[test]
    fn the_captcha_answer_is_a_configuration_error() {
        assert!(matches!(
            answer("mailchimp/error-captcha.json"),
            Outcome::ConfigurationError { message } if message.contains("reCAPTCHA")
        ));
    }

    #[test]
    fn unknown_errors_are_shown_as_plain_text_without_their_html() {
        assert_eq!(
            answer("mailchimp/error-unknown-html.json"),
            Outcome::Rejected {
                status: 200,
                message: Some("This list is closed. Visit our site for details.".into())
            }
        );
    }

    #[test]
    fn malformed_callback_arguments_are_rejections_not_panics() {
        let a = Adapter::Mailchimp(adapter());
        let envelope = Envelope::example();
        for text in [
            "",
            "null",
            "\"captcha\"",
            "{",
            "[1,2]",
            r#"{"result":7}"#,
            "<html>",
        ] {
            let ex = sent(a.start(&envelope));
            assert_eq!(
                done(a.next(&envelope, ex.step, &Reply::Jsonp(text))),
                Outcome::Rejected {
                    status: 200,
                    message: None
                },
                "{text:?}"
            );
        }
        let ex = sent(a.start(&envelope));
        assert_eq!(
            done(a.next(&envelope, ex.step, &Reply::Jsonp(r#"{"result":"error"}"#))),
            Outcome::Rejected {
                status: 200,
                message: None
            }
        );
    }
}
