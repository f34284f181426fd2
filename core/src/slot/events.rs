//! The events a slot sends to its host page, derived from each state transition.
//!
//! The widget dispatches them as bubbling, composed `CustomEvent`s on the host element
//! (`letterbox:ready`, `letterbox:submit`, `letterbox:success`, `letterbox:error`,
//! `letterbox:suggestion`) with the JSON from [`HostEvent::detail_json`] as `detail`. The address is
//! never included unless the site opts in with `"events_include_email": true`.

use crate::json::ObjectWriter;
use crate::slot::submission::{Event, Failure, State, Status, Success};

/// Which event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// The slot is mounted and ready.
    Ready,
    /// A signup is being sent.
    Submit,
    /// A signup succeeded.
    Success,
    /// A signup was refused: invalid fields, or a failure the reader cannot fix.
    Error,
    /// A typo suggestion was shown or accepted.
    Suggestion,
}

impl EventKind {
    /// The DOM event name.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Ready => "letterbox:ready",
            EventKind::Submit => "letterbox:submit",
            EventKind::Success => "letterbox:success",
            EventKind::Error => "letterbox:error",
            EventKind::Suggestion => "letterbox:suggestion",
        }
    }
}

/// One event for the host page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEvent {
    /// Which event.
    pub kind: EventKind,
    /// The newsletter ids concerned.
    pub newsletters: Vec<String>,
    /// What happened: `pending`, `subscribed`, `already` (success); `invalid`, `network`,
    /// `timeout`, `server`, `rate_limited`, `rejected`, `spam`, `configuration`, `queued` (error: not
    /// delivered yet, kept in the browser); `shown`, `accepted` (suggestion).
    pub outcome: Option<&'static str>,
    /// The fields in error, for `invalid`.
    pub fields: Vec<&'static str>,
    /// The suggested domain, for suggestions.
    pub domain: Option<String>,
    /// The address, only when the site opted in.
    pub email: Option<String>,
}

impl HostEvent {
    fn new(kind: EventKind, newsletters: Vec<String>, outcome: &'static str) -> HostEvent {
        HostEvent {
            kind,
            newsletters,
            outcome: Some(outcome),
            fields: Vec::new(),
            domain: None,
            email: None,
        }
    }

    /// A `letterbox:ready` event.
    pub fn ready() -> HostEvent {
        HostEvent {
            kind: EventKind::Ready,
            newsletters: Vec::new(),
            outcome: None,
            fields: Vec::new(),
            domain: None,
            email: None,
        }
    }

    /// The event's `detail` as JSON: `{"slot", "newsletters", "outcome"?, "fields"?, "domain"?,
    /// "email"?}`.
    pub fn detail_json(&self, slot: &str) -> String {
        let mut out = String::new();
        let mut o = ObjectWriter::new(&mut out);
        o.string("slot", slot)
            .strings("newsletters", &self.newsletters)
            .optional_string("outcome", self.outcome);
        if !self.fields.is_empty() {
            o.strings("fields", &self.fields);
        }
        o.optional_string("domain", self.domain.as_deref())
            .optional_string("email", self.email.as_deref());
        o.end();
        out
    }
}

fn success_name(s: Success) -> &'static str {
    match s {
        Success::PendingConfirmation => "pending",
        Success::Subscribed => "subscribed",
        Success::AlreadySubscribed => "already",
    }
}

fn failure_name(f: &Failure) -> &'static str {
    match f {
        Failure::Network => "network",
        Failure::Timeout => "timeout",
        Failure::MaybeSent => "maybe_sent",
        Failure::Server => "server",
        Failure::RateLimited(_) => "rate_limited",
        Failure::Rejected(_) => "rejected",
        Failure::Spam => "spam",
        Failure::Challenge(_) => "challenge",
        Failure::Configuration(_) => "configuration",
    }
}

/// The events that the transition from `prev` through `event` to `next` should raise.
/// `include_email` adds the address to submit, success and error events.
pub fn between(prev: &State, event: &Event, next: &State, include_email: bool) -> Vec<HostEvent> {
    let mut events = Vec::new();
    let sent: Vec<String> = next
        .sent
        .as_ref()
        .map(|a| a.newsletters.clone())
        .unwrap_or_default();
    let email = || {
        if include_email {
            next.sent.as_ref().map(|a| a.email.clone())
        } else {
            None
        }
    };
    let changed = prev.status != next.status;
    match &next.status {
        Status::Submitting if changed => events.push(HostEvent {
            outcome: None,
            email: email(),
            ..HostEvent::new(EventKind::Submit, sent.clone(), "")
        }),
        Status::Succeeded(s) if changed => {
            events.push(HostEvent {
                email: email(),
                ..HostEvent::new(EventKind::Success, sent.clone(), success_name(*s))
            });
        }
        Status::Queued if changed => {
            events.push(HostEvent {
                email: email(),
                ..HostEvent::new(EventKind::Error, sent.clone(), "queued")
            });
        }
        Status::Failed(f) if changed || prev.sent != next.sent => {
            events.push(HostEvent {
                email: email(),
                ..HostEvent::new(EventKind::Error, sent.clone(), failure_name(f))
            });
        }
        // Field errors raise an event when a submit (or the server's answer to one) finds them,
        // not when editing one field leaves another in error.
        Status::Editing
            if !next.errors.is_empty()
                && matches!(event, Event::Submitted { .. } | Event::Answered(_)) =>
        {
            let mut fields = Vec::new();
            if next.errors.newsletters.is_some() {
                fields.push("newsletters");
            }
            if next.errors.consent_missing {
                fields.push("consent");
            }
            if !next.errors.fields_missing.is_empty() {
                fields.push("fields");
            }
            if next.errors.email.is_some() {
                fields.push("email");
            }
            events.push(HostEvent {
                fields,
                ..HostEvent::new(EventKind::Error, next.chosen.clone(), "invalid")
            });
        }
        _ => {}
    }
    match (&prev.suggestion, &next.suggestion) {
        (None, Some(s)) => events.push(HostEvent {
            domain: Some(s.domain.clone()),
            ..HostEvent::new(EventKind::Suggestion, Vec::new(), "shown")
        }),
        (Some(s), None) if next.email == s.full => events.push(HostEvent {
            domain: Some(s.domain.clone()),
            ..HostEvent::new(EventKind::Suggestion, Vec::new(), "accepted")
        }),
        _ => {}
    }
    events
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::config::{Config, HostInput};
    use crate::email::Uts46;
    use crate::signup::Outcome;
    use crate::slot::submission::{transition, Context, Event};

    const TWO: &str = r#"{"endpoint": "/s", "newsletters": [{"id": "daily", "name": "Daily"}, {"id": "culture", "name": "Culture"}]"#;

    fn run(events: Vec<Event>, include_email: bool) -> Vec<HostEvent> {
        run_with(&format!("{TWO}}}"), events, include_email)
    }

    /// The events raised by `events` in a slot configured by `json`.
    fn run_with(json: &str, events: Vec<Event>, include_email: bool) -> Vec<HostEvent> {
        let config = Config::from_host(&HostInput {
            json: Some(json),
            ..Default::default()
        })
        .unwrap();
        let ctx = Context {
            config: &config,
            idn: &Uts46,
            page: "https://news.example/",
            slot: "0",
        };
        let mut state = State::new(&config);
        let mut raised = Vec::new();
        for e in events {
            let (next, _) = transition(state.clone(), e.clone(), &ctx);
            raised.extend(between(&state, &e, &next, include_email));
            state = next;
        }
        raised
    }

    #[test]
    fn an_unticked_consent_box_is_named_among_the_invalid_fields() {
        let json = format!(r#"{TWO}, "consent": {{"text": "I agree", "version": "1"}}}}"#);
        let submit = Event::Submitted {
            fresh_key: "k".into(),
            at_ms: 0,
        };
        let raised = run_with(&json, vec![submit], false);
        assert_eq!(raised.len(), 1);
        assert_eq!(raised[0].fields, ["newsletters", "consent", "email"]);
    }

    #[test]
    fn a_successful_signup_raises_submit_then_success_without_the_address() {
        let raised = run(
            vec![
                Event::NewsletterToggled {
                    id: "culture".into(),
                    checked: true,
                },
                Event::EmailEdited("jane@example.com".into()),
                Event::Submitted {
                    fresh_key: "k".into(),
                    at_ms: 0,
                },
                Event::Answered(Outcome::PendingConfirmation),
            ],
            false,
        );
        let kinds: Vec<EventKind> = raised.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [EventKind::Submit, EventKind::Success]);
        assert_eq!(
            raised[1].detail_json("footer"),
            r#"{"slot":"footer","newsletters":["culture"],"outcome":"pending"}"#
        );
        assert!(raised.iter().all(|e| e.email.is_none()));
    }

    #[test]
    fn the_address_is_included_only_when_the_site_opts_in() {
        let raised = run(
            vec![
                Event::NewsletterToggled {
                    id: "daily".into(),
                    checked: true,
                },
                Event::EmailEdited("jane@example.com".into()),
                Event::Submitted {
                    fresh_key: "k".into(),
                    at_ms: 0,
                },
            ],
            true,
        );
        assert_eq!(
            raised[0].detail_json("s"),
            r#"{"slot":"s","newsletters":["daily"],"email":"jane@example.com"}"#
        );
    }

    #[test]
    fn invalid_fields_and_failures_raise_error_events() {
        let raised = run(
            vec![Event::Submitted {
                fresh_key: "k".into(),
                at_ms: 0,
            }],
            false,
        );
        assert_eq!(raised.len(), 1);
        assert_eq!(
            raised[0].detail_json("0"),
            r#"{"slot":"0","newsletters":[],"outcome":"invalid","fields":["newsletters","email"]}"#
        );
        let raised = run(
            vec![
                Event::NewsletterToggled {
                    id: "daily".into(),
                    checked: true,
                },
                Event::EmailEdited("jane@example.com".into()),
                Event::Submitted {
                    fresh_key: "k".into(),
                    at_ms: 0,
                },
                Event::Answered(Outcome::ServerError { status: 503 }),
            ],
            false,
        );
        assert_eq!(
            raised.last().map(|e| (e.kind, e.outcome)),
            Some((EventKind::Error, Some("server")))
        );
    }

    #[test]
    fn editing_after_a_refused_submit_raises_nothing_more() {
        let raised = run(
            vec![
                Event::Submitted {
                    fresh_key: "k".into(),
                    at_ms: 0,
                },
                Event::EmailEdited("jane@example.com".into()),
                Event::Submitted {
                    fresh_key: "k2".into(),
                    at_ms: 0,
                },
            ],
            false,
        );
        let outcomes: Vec<_> = raised
            .iter()
            .map(|e| (e.kind, e.outcome, e.fields.clone()))
            .collect();
        assert_eq!(
            outcomes,
            [
                (
                    EventKind::Error,
                    Some("invalid"),
                    vec!["newsletters", "email"]
                ),
                (EventKind::Error, Some("invalid"), vec!["newsletters"]),
            ]
        );
    }

    #[test]
    fn suggestions_raise_shown_and_accepted_with_the_domain_only() {
        let raised = run(
            vec![
                Event::EmailEdited("jane@gmial.com".into()),
                Event::EmailLeft,
                Event::SuggestionAccepted,
            ],
            false,
        );
        let details: Vec<String> = raised.iter().map(|e| e.detail_json("0")).collect();
        assert_eq!(
            details,
            [
                r#"{"slot":"0","newsletters":[],"outcome":"shown","domain":"gmail.com"}"#,
                r#"{"slot":"0","newsletters":[],"outcome":"accepted","domain":"gmail.com"}"#
            ]
        );
    }

    #[test]
    fn slot_names_are_escaped_in_the_detail() {
        assert_eq!(
            HostEvent::ready().detail_json("a\"b"),
            r#"{"slot":"a\"b","newsletters":[]}"#
        );
    }
}
