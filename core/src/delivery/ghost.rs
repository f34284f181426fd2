//! The `ghost` adapter: Ghost's members API, in two steps, as Ghost's own embeddable signup form
//! (`apps/signup-form` in TryGhost/Ghost) does it:
//!
//! 1. `GET {site}/members/api/integrity-token/` → the token as plain text;
//! 2. `POST {site}/members/api/send-magic-link/` with `{"email", "emailType": "signup",
//!    "newsletters": [{"name"}], "labels", "honeypot": "", "integrityToken"}` → `201` with JSON: `{}`, or `{"inboxLinks": …}`
//!    when Ghost recognises the reader's mail provider (Ghost 6; older Ghosts answered the text
//!    `Created.`)
//!
//! Ghost always confirms by email (the magic link), so success is "check your inbox". Errors come
//! as `{"errors": [{"message": "…"}]}`; 429 is Ghost's spam prevention ("Too many sign-up attempts
//! try again in …"). Both requests carry the same `app-pragma` and `x-ghost-version` headers as
//! Ghost's signup form, which Ghost's CORS setup allows.

use super::{
    common_status, plain, wait_in_words, wrong_kind, Envelope, Exchange, HttpReply, Method, Next,
    Reply, Request, Step,
};
use crate::json::{self, ObjectWriter, Value};
use crate::messages::Key;
use crate::signup::{FieldName, Outcome};

/// The longest integrity token accepted; anything longer is not a token (an HTML page, say).
const MAX_TOKEN_LEN: usize = 4096;

const TOKEN: Step = Step(0);
const MAGIC_LINK: Step = Step(1);

/// Delivery to a Ghost site's members.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GhostAdapter {
    /// The site's URL, e.g. `https://news.example` (or with its subdirectory).
    pub site: String,
    /// The Ghost newsletter name per newsletter id (Ghost matches newsletters by name). A
    /// newsletter without an entry is sent with its id as the name.
    pub newsletters: Vec<(String, String)>,
    /// Member labels to add.
    pub labels: Vec<String>,
}

impl GhostAdapter {
    /// An adapter for the Ghost site at `site`.
    pub fn new(site: &str) -> GhostAdapter {
        GhostAdapter {
            site: site.trim_end_matches('/').to_owned(),
            newsletters: Vec::new(),
            labels: Vec::new(),
        }
    }

    fn url(&self, resource: &str) -> String {
        format!("{}/members/api/{resource}/", self.site)
    }

    fn headers(json: bool) -> Vec<(String, String)> {
        let mut headers = vec![
            ("app-pragma".to_owned(), "no-cache".to_owned()),
            ("x-ghost-version".to_owned(), "5.90".to_owned()),
        ];
        if json {
            headers.push(("Content-Type".into(), "application/json".into()));
        }
        headers
    }

    /// The send-magic-link body for `envelope` with `token`. `urlHistory` attributes the member
    /// to the page they signed up on, as Ghost's own embeddable form does from another site: the
    /// page without its query or fragment, its host as the source, `"Embed"` as the medium.
    ///
    /// ```
    /// use letterbox_core::delivery::{GhostAdapter, Envelope};
    /// let mut g = GhostAdapter::new("https://ghost.example");
    /// g.newsletters = vec![("daily".into(), "The Daily Briefing".into())];
    /// let body = g.body(&Envelope::example(), "t0k");
    /// assert!(body.contains(r#""emailType":"signup","newsletters":[{"name":"The Daily Briefing"}]"#));
    /// assert!(body.contains(r#""urlHistory":[{"time":0,"referrerSource":"news.example","referrerMedium":"Embed","referrerUrl":"https://news.example/article"}]"#));
    /// assert!(body.ends_with(r#""honeypot":"","integrityToken":"t0k"}"#));
    /// ```
    pub fn body(&self, envelope: &Envelope, token: &str) -> String {
        let signup = &envelope.signup;
        let names = signup.newsletters.iter().map(|id| {
            self.newsletters
                .iter()
                .find(|(n, _)| n == id)
                .map_or(id.as_str(), |(_, name)| name.as_str())
        });
        let page = signup.source.page.as_str();
        let url = page.split(['?', '#']).next().unwrap_or_default();
        let host = url
            .split_once("://")
            .map_or("", |(_, rest)| rest.split('/').next().unwrap_or_default());
        let mut out = String::with_capacity(256);
        let mut o = ObjectWriter::new(&mut out);
        o.string("email", &signup.email)
            .string("emailType", "signup")
            .objects("newsletters", names, |name, n| {
                n.string("name", name);
            })
            .strings("labels", &self.labels);
        if url.starts_with("http") && !host.is_empty() {
            o.objects("urlHistory", [()], |_, h| {
                h.number("time", signup.at_ms)
                    .string("referrerSource", host)
                    .string("referrerMedium", "Embed")
                    .string("referrerUrl", url);
            });
        } else {
            o.strings::<&str>("urlHistory", []);
        }
        o.string("honeypot", "").string("integrityToken", token);
        o.end();
        out
    }

    pub(super) fn start(&self, _intent: &Envelope) -> Next {
        Next::Send(Exchange {
            step: TOKEN,
            request: Request::Fetch {
                method: Method::Get,
                url: self.url("integrity-token"),
                headers: Self::headers(false),
                body: None,
            },
        })
    }

    pub(super) fn next(&self, envelope: &Envelope, step: Step, reply: &Reply<'_>) -> Next {
        let Reply::Http(http) = reply else {
            return Next::Done(wrong_kind("ghost"));
        };
        match step {
            TOKEN => match token(http) {
                Ok(token) => Next::Send(Exchange {
                    step: MAGIC_LINK,
                    request: Request::Fetch {
                        method: Method::Post,
                        url: self.url("send-magic-link"),
                        headers: Self::headers(true),
                        body: Some(self.body(envelope, token)),
                    },
                }),
                Err(outcome) => Next::Done(outcome),
            },
            _ => Next::Done(interpret(envelope, http)),
        }
    }
}

/// The integrity token from step 1, or why there is none.
fn token<'a>(reply: &HttpReply<'a>) -> Result<&'a str, Outcome> {
    if let Some(outcome) = common_status(reply) {
        return Err(outcome);
    }
    let token = reply.body.trim();
    let looks_like_token = !token.is_empty()
        && token.len() <= MAX_TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'"');
    match reply.status {
        200..=299 if looks_like_token => Ok(token),
        200..=299 => Err(Outcome::ConfigurationError {
            message: format!(
                "the Ghost site answered the integrity-token request with {} that is not a \
                 token; check the site URL (Ghost 5.91+ is needed)",
                if token.is_empty() {
                    "an empty body"
                } else {
                    "a body"
                }
            ),
        }),
        404 => Err(Outcome::ConfigurationError {
            message: "no Ghost members API at this site URL (integrity-token answered 404)".into(),
        }),
        status => Err(Outcome::Rejected {
            status,
            message: first_error(reply.body).as_deref().and_then(plain),
        }),
    }
}

fn first_error(body: &str) -> Option<String> {
    let value = json::parse(body).ok()?;
    match value.get("errors")? {
        Value::Array(errors) => errors.first()?.get("message")?.as_str().map(str::to_owned),
        _ => None,
    }
}

fn interpret(envelope: &Envelope, reply: &HttpReply<'_>) -> Outcome {
    let message = first_error(reply.body);
    if reply.status == 429 {
        let from_header = reply
            .retry_after
            .and_then(crate::delivery::contract::parse_retry_after);
        return Outcome::RateLimited {
            retry_after_secs: from_header.or_else(|| message.as_deref().and_then(wait_in_words)),
        };
    }
    if let Some(outcome) = common_status(reply) {
        return outcome;
    }
    match reply.status {
        // 201 (`{}` or `{"inboxLinks": …}`): the magic link is on its way. (A filled honeypot
        // gets `201 {}` too.)
        200..=299 => Outcome::PendingConfirmation,
        400 | 422 => match message {
            Some(m) => classify(envelope, &m, reply.status),
            None => Outcome::Rejected {
                status: reply.status,
                message: None,
            },
        },
        404 => Outcome::ConfigurationError {
            message: "no Ghost members API at this site URL (send-magic-link answered 404)".into(),
        },
        status => Outcome::Rejected {
            status,
            message: message.as_deref().and_then(plain),
        },
    }
}

/// Ghost's messages (`RouterController.js`) for the cases the reader or the site must act on.
fn classify(envelope: &Envelope, message: &str, status: u16) -> Outcome {
    let lower = message.to_ascii_lowercase();
    if lower.starts_with("email is not valid") || lower.starts_with("email is required") {
        return Outcome::FieldError {
            field: FieldName::Email,
            message: envelope.text(Key::EmailDomainInvalid),
        };
    }
    if lower.contains("email domain") {
        return Outcome::FieldError {
            field: FieldName::Email,
            message: plain(message).unwrap_or_else(|| envelope.text(Key::EmailDomainInvalid)),
        };
    }
    if lower.contains("newsletters")
        || lower.contains("invite-only")
        || lower.contains("paid members")
    {
        return Outcome::ConfigurationError {
            message: format!(
                "Ghost refused the signup: {} (check the newsletter names and that the site \
                 allows free signups)",
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

    fn adapter() -> GhostAdapter {
        let mut g = GhostAdapter::new("https://ghost.news.example/");
        g.newsletters = vec![
            ("daily".into(), "The Daily Briefing".into()),
            ("culture".into(), "Culture".into()),
        ];
        g
    }

    /// Runs both steps: the recorded token, then `status`/`body` for the magic link.
    fn answer_in(locale: &str, status: u16, content_type: Option<&str>, body: &str) -> Outcome {
        let a = Adapter::Ghost(adapter());
        let mut envelope = Envelope::example();
        envelope.signup.locale = locale.into();
        let first = sent(a.start(&envelope));
        let token = fixture("ghost/integrity-token.txt");
        let second = sent(a.next(
            &envelope,
            first.step,
            &http(200, Some("text/plain"), &token),
        ));
        done(a.next(&envelope, second.step, &http(status, content_type, body)))
    }

    fn answer(status: u16, content_type: Option<&str>, body: &str) -> Outcome {
        answer_in("en", status, content_type, body)
    }

    const JSON: Option<&str> = Some("application/json; charset=utf-8");

    #[test]
    fn the_flow_fetches_a_token_then_posts_the_recorded_magic_link_request() {
        let a = Adapter::Ghost(adapter());
        let mut envelope = Envelope::example();
        envelope.signup.newsletters = vec!["daily".into(), "culture".into()];
        let first = sent(a.start(&envelope));
        assert_eq!(
            first.request,
            Request::Fetch {
                method: Method::Get,
                url: "https://ghost.news.example/members/api/integrity-token/".into(),
                headers: vec![
                    ("app-pragma".into(), "no-cache".into()),
                    ("x-ghost-version".into(), "5.90".into())
                ],
                body: None
            }
        );
        let token = fixture("ghost/integrity-token.txt");
        let second = sent(a.next(
            &envelope,
            first.step,
            &http(200, Some("text/plain"), &token),
        ));
        let Request::Fetch {
            method, url, body, ..
        } = second.request
        else {
            panic!("a fetch")
        };
        assert_eq!(method, Method::Post);
        assert_eq!(
            url,
            "https://ghost.news.example/members/api/send-magic-link/"
        );
        let ours: serde_json::Value = serde_json::from_str(&body.unwrap()).unwrap();
        let recorded: serde_json::Value =
            serde_json::from_str(&fixture("ghost/send-magic-link-request.json")).unwrap();
        assert_eq!(ours, recorded);
    }

    #[test]
    fn created_means_check_your_inbox() {
        // Ghost 6: 201 with JSON (`{}`, or `{"inboxLinks": …}`); recorded from the real Ghost.
        assert_eq!(
            answer(201, JSON, &fixture("ghost/send-magic-link-created.json")),
            Outcome::PendingConfirmation
        );
        let with_links = r#"{"inboxLinks":{"provider":"gmail","desktop":"https://mail.google.com/mail/u/0/#search/from%3A(noreply%40news.example)","android":"intent://"}}"#;
        assert_eq!(answer(201, JSON, with_links), Outcome::PendingConfirmation);
        // Older Ghosts answered the text `Created.`.
        assert_eq!(
            answer(201, Some("text/plain"), "Created."),
            Outcome::PendingConfirmation
        );
    }

    #[test]
    fn ghost_errors_map_to_field_and_configuration_errors() {
        assert_eq!(
            answer_in("uk", 400, JSON, &fixture("ghost/error-invalid-email.json")),
            Outcome::FieldError {
                field: FieldName::Email,
                message: Key::EmailDomainInvalid
                    .default_text(crate::messages::Lang::Uk)
                    .into()
            }
        );
        assert_eq!(
            answer(400, JSON, &fixture("ghost/error-blocked-domain.json")),
            Outcome::FieldError {
                field: FieldName::Email,
                message: "Signups from this email domain are currently restricted.".into()
            }
        );
        assert!(matches!(
            answer(400, JSON, &fixture("ghost/error-invalid-newsletters.json")),
            Outcome::ConfigurationError { message } if message.contains("Cannot subscribe")
        ));
        assert!(matches!(
            answer(400, JSON, &fixture("ghost/error-invite-only.json")),
            Outcome::ConfigurationError { .. }
        ));
    }

    #[test]
    fn too_many_attempts_honours_retry_after_or_the_wait_in_the_message() {
        // Recorded: Ghost 6.65 sends no Retry-After; the wait is in the message ("10 minutes").
        assert_eq!(
            answer(429, JSON, &fixture("ghost/error-429.json")),
            Outcome::RateLimited {
                retry_after_secs: Some(600)
            }
        );
        assert_eq!(
            answer(
                429,
                JSON,
                r#"{"errors":[{"message":"Too many sign-in attempts try again in an hour"}]}"#
            ),
            Outcome::RateLimited {
                retry_after_secs: Some(3600)
            }
        );
        let a = Adapter::Ghost(adapter());
        let envelope = Envelope::example();
        let first = sent(a.start(&envelope));
        let reply = Reply::Http(HttpReply {
            status: 429,
            content_type: JSON,
            retry_after: Some("120"),
            body: "{}",
        });
        assert_eq!(
            done(a.next(&envelope, first.step, &reply)),
            Outcome::RateLimited {
                retry_after_secs: Some(120)
            },
            "a 429 on the token request ends the flow"
        );
    }

    #[test]
    fn a_token_step_that_is_not_a_token_never_reaches_the_magic_link() {
        let a = Adapter::Ghost(adapter());
        let envelope = Envelope::example();
        let first = sent(a.start(&envelope));
        let portal = fixture("common/captive-portal-200.html");
        for reply in [
            http(200, Some("text/html"), &portal),
            http(200, Some("text/plain"), ""),
            http(200, Some("text/plain"), "   \n"),
        ] {
            assert!(matches!(
                done(a.next(&envelope, first.step, &reply)),
                Outcome::ConfigurationError { .. }
            ));
        }
        assert!(matches!(
            done(a.next(
                &envelope,
                first.step,
                &http(404, Some("text/html"), "<h1>Not found</h1>")
            )),
            Outcome::ConfigurationError { .. }
        ));
        assert_eq!(
            done(a.next(
                &envelope,
                first.step,
                &http(503, Some("text/html"), &fixture("common/nginx-502.html"))
            )),
            Outcome::ServerError { status: 503 }
        );
        assert_eq!(
            done(a.next(
                &envelope,
                first.step,
                &http(403, JSON, r#"{"errors":[{"message":"Forbidden <x>"}]}"#)
            )),
            Outcome::Rejected {
                status: 403,
                message: Some("Forbidden <x>".into())
            }
        );
    }

    #[test]
    fn malformed_and_foreign_error_bodies_are_plain_rejections() {
        for body in [
            "",
            "{",
            r#"{"errors":"x"}"#,
            r#"{"errors":[]}"#,
            "<html>Bad</html>",
        ] {
            assert_eq!(
                answer(400, Some("text/html"), body),
                Outcome::Rejected {
                    status: 400,
                    message: None
                },
                "{body:?}"
            );
        }
        assert_eq!(
            answer(502, Some("text/html"), &fixture("common/nginx-502.html")),
            Outcome::ServerError { status: 502 }
        );
    }
}
