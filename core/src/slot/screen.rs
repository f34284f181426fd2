//! What a slot shows, as plain text: one pure function, [`screen`], from the submission
//! [`State`] and the slot's [`Config`] to every changing text of the view.
//!
//! The widget renders a fixed set of elements and binds their text and visibility to a
//! [`Screen`]; which message belongs to which error, failure or outcome is decided here, where it
//! is tested natively, and never in a component.

use crate::config::Config;
use crate::messages::{Catalogue, Key};
use crate::slot::submission::{EmailProblem, Failure, NewsletterProblem, State, Status, Success};

/// The success panel's texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuccessText {
    /// Which success, for styling and the host page (`pending`, `subscribed`, `already`).
    pub outcome: &'static str,
    /// The panel's heading.
    pub title: String,
    /// The sentence that echoes the address and the newsletters.
    pub body: String,
}

/// A typo suggestion's texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuggestionText {
    /// "Did you mean …?"
    pub text: String,
    /// `text` cut around the part of the suggested address that differs from what was typed
    /// ([`crate::suggest::Suggestion::changed_in`]): before it, the part to mark, after it.
    /// Joined, the three are `text`.
    pub marked: [String; 3],
    /// The button that applies it.
    pub apply: String,
}

/// Every changing text of a slot. `None` means the part is hidden.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Screen {
    /// The email field's error (also its summary link).
    pub email_error: Option<String>,
    /// The newsletter fieldset's error (also its summary link).
    pub newsletters_error: Option<String>,
    /// The consent box's error (also its summary link).
    pub consent_error: Option<String>,
    /// Each configured field's error (also its summary link), one per field in the slot's order.
    pub field_errors: Vec<Option<String>>,
    /// The failure panel's reason.
    pub failure: Option<String>,
    /// The success panel, which replaces the form.
    pub success: Option<SuccessText>,
    /// The typo suggestion.
    pub suggestion: Option<SuggestionText>,
    /// While a submission waits to be sent again by itself: "Not sent yet. Trying again in 3
    /// seconds.", counting down each second (shown under the button; not live, so the
    /// countdown is not read every second).
    pub retry_note: Option<String>,
    /// The polite live region's text (empty when there is nothing to announce). While a retry
    /// waits it is the note with the whole wait, so it is announced once.
    pub status: String,
    /// A signup is on its way: the form is `aria-busy` and the button says so.
    pub busy: bool,
    /// The submit button's label: "Sign up", "Sending…" while busy, "Try again" after a
    /// failure that sending again may mend.
    pub submit: String,
    /// Visually hidden after "Sign up", what it signs up to (" to The Daily Briefing"), so
    /// each slot's button has its own name; empty with the other labels.
    pub submit_for: String,
    /// Every newsletter of the slot is already subscribed in this browser: this short text
    /// replaces the form.
    pub remembered_all: Option<String>,
    /// Some are: this note stands above the form, whose checkboxes offer only the others.
    pub remembered_some: Option<String>,
    /// The submission waits in the browser: the queued panel's text (it replaces the form).
    pub queued: Option<String>,
    /// The error summary is shown: errors in a form with more than one field (a one-field
    /// slot shows the inline message only).
    pub summary: bool,
    /// The queued signup was withdrawn: the note above the form.
    pub withdrawn: Option<String>,
    /// The slot's title, intro and image stand above the form (not over a success, a signup
    /// kept for later, or the note that replaces an all-remembered form).
    pub heading: bool,
    /// The hint under the legend ("Select all that you want") is shown: more than one
    /// newsletter is still offered.
    pub choice_hint: bool,
}

impl Screen {
    /// True when the error summary is shown.
    pub fn has_errors(&self) -> bool {
        self.email_error.is_some()
            || self.newsletters_error.is_some()
            || self.consent_error.is_some()
            || self.field_errors.iter().any(Option::is_some)
    }
}

/// The text for an email problem.
pub fn email_problem_text(texts: &Catalogue, problem: &EmailProblem) -> String {
    match problem {
        EmailProblem::Rule(e) => texts.text(Key::for_email_error(*e)).to_owned(),
        EmailProblem::Server(message) => message.clone(),
    }
}

/// The text for a newsletter problem.
pub fn newsletter_problem_text(texts: &Catalogue, problem: &NewsletterProblem) -> String {
    match problem {
        NewsletterProblem::NoneChosen => texts.text(Key::NewslettersNone).to_owned(),
        NewsletterProblem::Server(message) => message.clone(),
    }
}

/// The failure panel's reason for `failure`.
pub fn failure_text(texts: &Catalogue, failure: &Failure) -> String {
    match failure {
        Failure::Network => texts.text(Key::FailureNetwork).to_owned(),
        Failure::Timeout => texts.text(Key::FailureTimeout).to_owned(),
        Failure::MaybeSent => texts.text(Key::FailureMaybeSent).to_owned(),
        Failure::Server => texts.text(Key::FailureServer).to_owned(),
        Failure::RateLimited(Some(secs)) => rate_limited_text(texts, *secs, *secs),
        Failure::RateLimited(None) => texts.text(Key::FailureRateLimitedNoWait).to_owned(),
        Failure::Rejected(Some(message)) => message.clone(),
        Failure::Rejected(None) => texts.text(Key::FailureRejected).to_owned(),
        Failure::Spam => texts.text(Key::FailureSpam).to_owned(),
        Failure::Challenge(_) => texts.text(Key::FailureChallenge).to_owned(),
        Failure::Configuration(_) => texts.text(Key::FailureConfiguration).to_owned(),
    }
}

/// How long `secs` is, as a reader says it: whole minutes (rounded up) above a minute,
/// else seconds.
pub fn wait_text(texts: &Catalogue, secs: u32) -> String {
    let n = match secs {
        0..=60 => secs,
        _ => secs.div_ceil(60),
    };
    let key = match (secs > 60, n) {
        (false, 1) => Key::WaitSecond,
        (false, _) => Key::WaitSeconds,
        (true, _) => Key::WaitMinutes,
    };
    if secs == 60 {
        return texts.text(Key::WaitMinute).to_owned();
    }
    texts.format(key, &[("n", &n.to_string())])
}

/// The suggestion's text in three parts around the changed part of the address (see
/// [`SuggestionText::marked`]). A site's own wording without `{email}` has nothing to mark.
fn marked(texts: &Catalogue, s: &crate::suggest::Suggestion, typed: &str) -> [String; 3] {
    const HERE: &str = "\u{1}";
    let text = texts.format(Key::SuggestionText, &[("email", HERE)]);
    let Some((before, after)) = text.split_once(HERE) else {
        return [text, String::new(), String::new()];
    };
    let range = s.changed_in(typed);
    [
        format!("{before}{}", &s.full[..range.start]),
        s.full[range.clone()].to_owned(),
        format!("{}{after}", &s.full[range.end..]),
    ]
}

/// The note while a submission waits `left` seconds before it is sent again by itself.
///
/// ```
/// use letterbox_core::messages::{Catalogue, Lang};
/// use letterbox_core::slot::screen::retry_text;
/// assert_eq!(retry_text(&Catalogue::new(Lang::En, Vec::new()), 3), "Not sent yet. Trying again in 3 seconds.");
/// assert_eq!(retry_text(&Catalogue::new(Lang::Uk, Vec::new()), 3), "Ще не надіслано. Пробуємо ще раз через 3 с.");
/// ```
pub fn retry_text(texts: &Catalogue, left: u32) -> String {
    texts.format(Key::RetryWaiting, &[("wait", &wait_text(texts, left))])
}

/// The rate-limit failure's text with `left` of the server's `wait` seconds to go: "Try again in
/// 2 minutes", then "You can try again now".
pub fn rate_limited_text(texts: &Catalogue, wait: u32, left: u32) -> String {
    if left == 0 {
        return texts.text(Key::FailureRateLimitedOver).to_owned();
    }
    texts.format(
        Key::FailureRateLimited,
        &[
            ("wait", &wait_text(texts, left)),
            ("seconds", &wait.to_string()),
        ],
    )
}

fn success_text(state: &State, config: &Config, success: Success) -> SuccessText {
    let texts = &config.texts;
    let (email, ids): (&str, &[String]) = state
        .sent
        .as_ref()
        .map_or(("", &[]), |a| (a.email.as_str(), a.newsletters.as_slice()));
    let (outcome, title, body) = match success {
        // Ghost emails an existing member a sign-in link, not a confirmation (see the key).
        Success::PendingConfirmation
            if matches!(config.adapter, crate::delivery::Adapter::Ghost(_)) =>
        {
            ("pending", Key::PendingTitle, Key::GhostPendingBody)
        }
        Success::PendingConfirmation => ("pending", Key::PendingTitle, Key::PendingBody),
        Success::Subscribed => ("subscribed", Key::SubscribedTitle, Key::SubscribedBody),
        Success::AlreadySubscribed => ("already", Key::AlreadyTitle, Key::AlreadyBody),
    };
    SuccessText {
        outcome,
        title: texts.text(title).to_owned(),
        body: texts.format(
            body,
            &[("email", email), ("newsletters", &names(config, ids))],
        ),
    }
}

/// Everything that changes on screen, for `state`.
///
/// ```
/// use letterbox_core::config::{Config, HostInput};
/// use letterbox_core::slot::screen::screen;
/// use letterbox_core::slot::submission::State;
/// let json = r#"{"endpoint": "/s", "newsletters": [{"id": "a", "name": "A"}]}"#;
/// let config = Config::from_host(&HostInput { json: Some(json), ..Default::default() }).unwrap();
/// assert!(!screen(&State::new(&config), &config).has_errors());
/// ```
pub fn screen(state: &State, config: &Config) -> Screen {
    let texts = &config.texts;
    Screen {
        email_error: state
            .errors
            .email
            .as_ref()
            .map(|p| email_problem_text(texts, p)),
        newsletters_error: state
            .errors
            .newsletters
            .as_ref()
            .map(|p| newsletter_problem_text(texts, p)),
        consent_error: state
            .errors
            .consent_missing
            .then(|| texts.text(Key::ConsentMissing).to_owned()),
        field_errors: config
            .fields
            .iter()
            .map(|f| {
                state.errors.fields_missing.contains(&f.name).then(|| {
                    let key = if f.options.is_empty() {
                        Key::FieldMissing
                    } else {
                        Key::FieldChoose
                    };
                    texts.format(key, &[("field", f.label.trim_end_matches([' ', '*']))])
                })
            })
            .collect(),
        failure: match &state.status {
            Status::Failed(Failure::RateLimited(Some(secs))) => {
                Some(rate_limited_text(texts, *secs, state.wait_left))
            }
            Status::Failed(f) => Some(failure_text(texts, f)),
            _ => None,
        },
        success: match state.status {
            Status::Succeeded(kind) => Some(success_text(state, config, kind)),
            _ => None,
        },
        suggestion: state.suggestion.as_ref().map(|s| SuggestionText {
            text: texts.format(Key::SuggestionText, &[("email", &s.full)]),
            marked: marked(texts, s, &state.email),
            apply: texts.format(Key::SuggestionApply, &[("email", &s.full)]),
        }),
        // Once the wait has run out the retry is under way: no "Trying again in 0 seconds".
        retry_note: (state.status == Status::Submitting
            && state.retry_wait > 0
            && state.wait_left > 0)
            .then(|| retry_text(texts, state.wait_left)),
        status: if state.status == Status::Submitting && state.retry_wait > 0 {
            retry_text(texts, state.retry_wait)
        } else if state.status == Status::Submitting {
            texts.text(Key::Sending).to_owned()
        } else if state.withdrawn {
            texts.text(Key::WithdrawnNote).to_owned()
        } else {
            String::new()
        },
        busy: state.status == Status::Submitting,
        submit: texts
            .text(match &state.status {
                Status::Submitting => Key::SubmitBusy,
                // One button: after a failure that sending again may mend it says so (the
                // failure panel has none of its own); after a permanent refusal it does not.
                Status::Failed(f) if !f.is_permanent() => Key::TryAgain,
                _ => Key::Submit,
            })
            .to_owned(),
        summary: !state.errors.is_empty() && config.has_summary(),
        submit_for: match &state.status {
            Status::Submitting => String::new(),
            Status::Failed(f) if !f.is_permanent() => String::new(),
            _ => texts.format(Key::SubmitFor, &[("subject", &config.subject())]),
        },
        withdrawn: state
            .withdrawn
            .then(|| texts.text(Key::WithdrawnNote).to_owned()),
        heading: !matches!(state.status, Status::Succeeded(_) | Status::Queued)
            && state.remembered.len() < config.newsletters.len(),
        choice_hint: config.newsletters.len() - state.remembered.len() > 1,
        queued: (state.status == Status::Queued).then(|| {
            let (email, ids): (&str, &[String]) = state
                .sent
                .as_ref()
                .map_or(("", &[]), |a| (a.email.as_str(), a.newsletters.as_slice()));
            texts.format(
                Key::QueuedBody,
                &[("email", email), ("newsletters", &names(config, ids))],
            )
        }),
        remembered_all: (!state.remembered.is_empty()
            && state.remembered.len() == config.newsletters.len()
            && !matches!(state.status, Status::Succeeded(_)))
        .then(|| {
            texts.format(
                Key::RememberedAll,
                &[("newsletters", &names(config, &state.remembered))],
            )
        }),
        remembered_some: (!state.remembered.is_empty()
            && state.remembered.len() < config.newsletters.len())
        .then(|| {
            texts.format(
                Key::RememberedSome,
                &[("newsletters", &names(config, &state.remembered))],
            )
        }),
    }
}

/// The names of `ids` in the slot's order, joined as a reader would say them.
fn names(config: &Config, ids: &[String]) -> String {
    let names: Vec<&str> = config
        .newsletters
        .iter()
        .filter(|n| ids.contains(&n.id))
        .map(|n| n.name.as_str())
        .collect();
    if names.is_empty() {
        // A signup to the list alone, its groups all optional and none chosen.
        return config.texts.text(Key::NewsletterFallback).to_owned();
    }
    config.texts.join_names(&names)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::config::HostInput;
    use crate::email::{EmailError, Uts46};
    use crate::signup::Outcome;
    use crate::slot::submission::{transition, Context, Event};

    fn config(json: &str) -> Config {
        Config::from_host(&HostInput {
            json: Some(json),
            ..Default::default()
        })
        .unwrap()
    }

    const THREE: &str = r#"{"endpoint": "/s", "newsletters": [
        {"id": "daily", "name": "The Daily Briefing"}, {"id": "culture", "name": "Culture"},
        {"id": "alerts", "name": "Alerts"}]}"#;

    fn after(config: &Config, events: Vec<Event>) -> Screen {
        let ctx = Context {
            config,
            idn: &Uts46,
            page: "https://news.example/",
            slot: "0",
        };
        let state = events
            .into_iter()
            .fold(State::new(config), |s, e| transition(s, e, &ctx).0);
        screen(&state, config)
    }

    #[test]
    fn a_fresh_slot_shows_no_error_panel_or_announcement() {
        let c = config(THREE);
        assert_eq!(
            after(&c, vec![]),
            Screen {
                submit: "Sign up".into(),
                submit_for: " to The Daily Briefing, Culture and Alerts".into(),
                heading: true,
                choice_hint: true,
                ..Screen::default()
            }
        );
    }

    #[test]
    fn an_unticked_consent_box_is_an_error_of_its_own_in_the_readers_language() {
        let c = config(
            r#"{"endpoint": "/s", "lang": "uk", "newsletters": [{"id": "a", "name": "A"}],
                "consent": {"text": "Я погоджуюся", "version": "1"}}"#,
        );
        let submit = || Event::Submitted {
            fresh_key: "k".into(),
            at_ms: 0,
        };
        let s = after(
            &c,
            vec![Event::EmailEdited("olena@example.com".into()), submit()],
        );
        assert_eq!(
            s.consent_error.as_deref(),
            Some("Позначте згоду, щоб підписатися")
        );
        assert_eq!((&s.email_error, &s.newsletters_error), (&None, &None));
        assert!(s.has_errors());
        let ticked = after(
            &c,
            vec![
                Event::EmailEdited("olena@example.com".into()),
                submit(),
                Event::ConsentToggled(true),
            ],
        );
        assert!(!ticked.has_errors());
    }

    #[test]
    fn each_field_error_has_its_catalogue_text() {
        let c = config(THREE);
        let s = after(
            &c,
            vec![Event::Submitted {
                fresh_key: "k".into(),
                at_ms: 0,
            }],
        );
        assert_eq!(s.email_error.as_deref(), Some("Enter your email address"));
        assert_eq!(
            s.newsletters_error.as_deref(),
            Some("Select at least one newsletter")
        );
        assert!(s.has_errors());
        let texts = &c.texts;
        assert_eq!(
            email_problem_text(texts, &EmailProblem::Rule(EmailError::DomainIncomplete)),
            "Enter the full domain after the @, like example.com"
        );
    }

    #[test]
    fn sending_is_announced_and_success_echoes_address_and_newsletters() {
        let c = config(THREE);
        let mut events = vec![
            Event::EmailEdited("jane@example.com".into()),
            Event::NewsletterToggled {
                id: "alerts".into(),
                checked: true,
            },
            Event::NewsletterToggled {
                id: "daily".into(),
                checked: true,
            },
            Event::Submitted {
                fresh_key: "k".into(),
                at_ms: 0,
            },
        ];
        assert_eq!(after(&c, events.clone()).status, "Sending your signup…");
        assert!(after(&c, events.clone()).busy);
        assert_eq!(after(&c, events.clone()).submit, "Sending…");
        events.push(Event::Answered(Outcome::PendingConfirmation));
        let s = after(&c, events);
        assert_eq!(s.status, "");
        let success = s.success.expect("success");
        assert_eq!(success.outcome, "pending");
        assert_eq!(success.title, "Check your inbox");
        assert_eq!(
            success.body,
            "We’ve sent an email to jane@example.com. Open the link in it to confirm your subscription to The Daily Briefing and Alerts."
        );
    }

    #[test]
    fn a_ghost_site_says_an_existing_member_gets_a_sign_in_link_and_no_newsletter() {
        // Ghost answers 201 to a new reader and to an existing member alike; the member gets a
        // sign-in email and no newsletter (seen on the real Ghost 6.65 in `cargo xtask test`).
        let c = config(
            r#"{"provider": "ghost", "ghost": {"site": "https://ghost.news.example"},
                "newsletters": [{"id": "daily", "name": "The Daily Briefing"}]}"#,
        );
        let s = after(
            &c,
            vec![
                Event::EmailEdited("jane@example.com".into()),
                Event::Submitted {
                    fresh_key: "k".into(),
                    at_ms: 0,
                },
                Event::Answered(Outcome::PendingConfirmation),
            ],
        );
        let success = s.success.expect("success");
        assert_eq!(success.title, "Check your inbox");
        assert_eq!(
            success.body,
            "We’ve sent an email to jane@example.com. If you’re new here, open the link in it to confirm your subscription to The Daily Briefing. If you already have an account, the email signs you in instead: choose The Daily Briefing in your account."
        );
    }

    #[test]
    fn every_failure_has_plain_words() {
        let c = config(THREE);
        let t = &c.texts;
        assert!(failure_text(t, &Failure::Network).contains("internet connection"));
        assert!(failure_text(t, &Failure::Timeout).contains("too long"));
        assert!(failure_text(t, &Failure::Server).contains("problem"));
        assert!(failure_text(t, &Failure::RateLimited(Some(30))).contains("30 seconds"));
        assert!(failure_text(t, &Failure::RateLimited(None)).contains("few minutes"));
        assert_eq!(
            failure_text(t, &Failure::Rejected(Some("Closed list".into()))),
            "Closed list"
        );
        assert!(failure_text(t, &Failure::Rejected(None)).contains("did not accept"));
        assert!(failure_text(t, &Failure::Spam).contains("automated"));
        let config = failure_text(t, &Failure::Configuration("list uuid unknown".into()));
        assert!(config.contains("cannot send"), "{config}");
        assert!(
            !config.contains("uuid"),
            "the developer message stays out of the reader's view"
        );
    }

    #[test]
    fn remembered_newsletters_replace_the_form_or_stand_as_a_note() {
        let c = config(THREE);
        let s = after(
            &c,
            vec![Event::Remembered(vec!["alerts".into(), "daily".into()])],
        );
        assert_eq!(
            s.remembered_some.as_deref(),
            Some("You’re already signed up to The Daily Briefing and Alerts.")
        );
        assert_eq!(s.remembered_all, None);
        let s = after(
            &c,
            vec![Event::Remembered(vec![
                "alerts".into(),
                "daily".into(),
                "culture".into(),
            ])],
        );
        assert_eq!(
            s.remembered_all.as_deref(),
            Some("You’re signed up to The Daily Briefing, Culture and Alerts.")
        );
    }

    #[test]
    fn a_queued_submission_says_what_will_be_sent_and_when() {
        let c = config(THREE);
        let s = after(
            &c,
            vec![
                Event::EmailEdited("jane@example.com".into()),
                Event::NewsletterToggled {
                    id: "culture".into(),
                    checked: true,
                },
                Event::Submitted {
                    fresh_key: "k".into(),
                    at_ms: 0,
                },
                Event::Answered(Outcome::Queued),
            ],
        );
        assert_eq!(
            s.queued.as_deref(),
            Some("We could not reach the newsletter service just now. We’ll send your signup for Culture with jane@example.com automatically: on this page when your connection is back, or the next time you visit this site.")
        );
        assert_eq!(s.failure, None);
    }

    #[test]
    fn a_missing_field_is_named_by_its_label_and_a_missing_choice_asks_to_choose() {
        let c = config(
            r#"{"provider": "form", "form": {"action": "/s"}, "newsletters": [{"id": "a", "name": "A"}],
            "fields": [{"name": "FNAME", "label": "First name *", "required": true},
                       {"name": "LNAME", "label": "Last name"},
                       {"name": "KIND", "label": "Membership", "required": true, "options": [{"value": "x"}]}]}"#,
        );
        let ctx = Context {
            config: &c,
            idn: &Uts46,
            page: "https://news.example/",
            slot: "0",
        };
        let (state, _) = transition(
            State::new(&c),
            Event::EmailEdited("a@example.com".into()),
            &ctx,
        );
        let (state, _) = transition(
            state,
            Event::Submitted {
                fresh_key: "k".into(),
                at_ms: 0,
            },
            &ctx,
        );
        let v = screen(&state, &c);
        assert_eq!(
            v.field_errors,
            [
                Some("Enter your First name".to_owned()),
                None,
                Some("Choose an option for Membership".to_owned())
            ]
        );
        assert!(v.has_errors());
    }

    #[test]
    fn a_retry_wait_is_shown_counting_down_and_announced_once_in_both_languages() {
        for (lang, three, two) in [
            (
                "en",
                "Not sent yet. Trying again in 3 seconds.",
                "Not sent yet. Trying again in 2 seconds.",
            ),
            (
                "uk",
                "Ще не надіслано. Пробуємо ще раз через 3 с.",
                "Ще не надіслано. Пробуємо ще раз через 2 с.",
            ),
        ] {
            let c = config(&THREE.replacen('{', &format!(r#"{{"lang": "{lang}", "#), 1));
            let mut events = vec![
                Event::EmailEdited("jane@example.com".into()),
                Event::NewsletterToggled {
                    id: "daily".into(),
                    checked: true,
                },
                Event::Submitted {
                    fresh_key: "k".into(),
                    at_ms: 0,
                },
            ];
            assert_eq!(
                after(&c, events.clone()).retry_note,
                None,
                "no note before a wait"
            );
            events.push(Event::RetryWaiting { delay_ms: 3_000 });
            let v = after(&c, events.clone());
            assert_eq!(
                (v.retry_note.as_deref(), v.status.as_str(), v.busy),
                (Some(three), three, true)
            );
            events.push(Event::Ticked);
            let v = after(&c, events.clone());
            // The note counts down; the live region keeps its text, so it is not read again.
            assert_eq!(
                (v.retry_note.as_deref(), v.status.as_str()),
                (Some(two), three)
            );
            // The wait runs out while the retry is sent: the note goes, the live region stays.
            let mut ran_out = events.clone();
            ran_out.extend([Event::Ticked, Event::Ticked]);
            let v = after(&c, ran_out);
            assert_eq!(
                (v.retry_note.as_deref(), v.status.as_str(), v.busy),
                (None, three, true)
            );
            events.push(Event::Answered(Outcome::Subscribed));
            assert_eq!(after(&c, events).retry_note, None);
        }
    }

    #[test]
    fn a_suggestion_has_its_prompt_and_button_text() {
        let c = config(THREE);
        let s = after(
            &c,
            vec![
                Event::EmailEdited("jane@gmial.com".into()),
                Event::EmailLeft,
            ],
        );
        let sug = s.suggestion.expect("a suggestion");
        assert_eq!(sug.text, "Did you mean jane@gmail.com?");
        assert_eq!(
            sug.marked,
            ["Did you mean jane@gm", "ai", "l.com?"].map(String::from)
        );
        assert_eq!(sug.apply, "Use jane@gmail.com");
    }

    #[test]
    fn a_suggestion_in_ukrainian_or_in_the_sites_words_marks_the_same_part() {
        let typed = vec![
            Event::EmailEdited("jane@gmail.con".into()),
            Event::EmailLeft,
        ];
        let uk = config(&THREE.replacen('{', r#"{"lang": "uk", "#, 1));
        let sug = after(&uk, typed.clone()).suggestion.expect("a suggestion");
        assert_eq!(
            sug.marked,
            ["Можливо, ви мали на увазі jane@gmail.co", "m", "?"].map(String::from)
        );
        assert_eq!(sug.marked.concat(), sug.text);
        let own = config(&THREE.replacen(
            '{',
            r#"{"texts": {"suggestion_text": "Check your address"}, "#,
            1,
        ));
        let sug = after(&own, typed).suggestion.expect("a suggestion");
        assert_eq!(sug.marked, ["Check your address", "", ""].map(String::from));
    }

    const ONE: &str =
        r#"{"endpoint": "/s", "newsletters": [{"id": "daily", "name": "The Daily Briefing"}]}"#;

    fn submit() -> Event {
        Event::Submitted {
            fresh_key: "k".into(),
            at_ms: 0,
        }
    }

    #[test]
    fn a_one_field_slot_shows_the_inline_error_only_and_focuses_its_field() {
        let one = config(ONE);
        let ctx = Context {
            config: &one,
            idn: &Uts46,
            page: "https://news.example/",
            slot: "0",
        };
        let (state, effects) = transition(State::new(&one), submit(), &ctx);
        let s = screen(&state, &one);
        assert_eq!(s.email_error.as_deref(), Some("Enter your email address"));
        assert!(!s.summary, "no summary box over a one-field form");
        assert_eq!(effects, vec![crate::slot::submission::Effect::FocusEmail]);
        // Several fields keep the summary.
        assert!(after(&config(THREE), vec![submit()]).summary);
        let with_box = config(
            r#"{"endpoint": "/s", "newsletters": [{"id": "a", "name": "A"}],
                "consent": {"text": "I agree", "version": "1"}}"#,
        );
        assert!(after(&with_box, vec![submit()]).summary);
        // One newsletter and a required first name (an upgraded embed): the summary names the
        // field that is missing even when the address is right.
        let with_name = config(
            r#"{"provider": "form", "form": {"action": "/s"}, "newsletters": [{"id": "a", "name": "A"}],
                "fields": [{"name": "FNAME", "label": "First name", "required": true}]}"#,
        );
        let s = after(
            &with_name,
            vec![Event::EmailEdited("jane@example.com".into()), submit()],
        );
        assert!(
            s.summary,
            "a field that is not the address is named in the summary"
        );
    }

    #[test]
    fn the_one_button_says_try_again_after_a_failure_unless_the_refusal_is_permanent() {
        let c = config(ONE);
        let failed = |outcome: Outcome| {
            after(
                &c,
                vec![
                    Event::EmailEdited("jane@example.com".into()),
                    submit(),
                    Event::Answered(outcome),
                ],
            )
        };
        let s = failed(Outcome::ServerError { status: 503 });
        assert!(s.failure.is_some());
        assert_eq!(s.submit, "Try again");
        let s = failed(Outcome::Rejected {
            status: 403,
            message: None,
        });
        assert_eq!(s.submit, "Sign up", "no Try again for a permanent refusal");
        assert!(!s.failure.unwrap_or_default().contains("Try again"));
    }

    #[test]
    fn a_rate_limit_counts_down_in_minutes_then_seconds() {
        let c = config(ONE);
        let s = after(
            &c,
            vec![
                Event::EmailEdited("jane@example.com".into()),
                submit(),
                Event::Answered(Outcome::RateLimited {
                    retry_after_secs: Some(120),
                }),
            ],
        );
        assert_eq!(
            s.failure.as_deref(),
            Some("Too many signups were sent from here. Try again in 2 minutes.")
        );
        let t = &c.texts;
        // Each second the view feeds a tick back; the text follows.
        let ticks = |n: usize| {
            let mut events = vec![
                Event::EmailEdited("jane@example.com".into()),
                submit(),
                Event::Answered(Outcome::RateLimited {
                    retry_after_secs: Some(120),
                }),
            ];
            events.extend(std::iter::repeat_n(Event::Ticked, n));
            after(&c, events).failure.unwrap_or_default()
        };
        assert!(ticks(60).ends_with("in 1 minute."), "{}", ticks(60));
        assert!(ticks(119).ends_with("in 1 second."));
        assert!(ticks(125).ends_with("You can try again now."));
        assert!(rate_limited_text(t, 120, 61).ends_with("in 2 minutes."));
        assert!(rate_limited_text(t, 120, 60).ends_with("in 1 minute."));
        assert!(rate_limited_text(t, 120, 45).ends_with("in 45 seconds."));
        assert!(rate_limited_text(t, 120, 1).ends_with("in 1 second."));
        assert_eq!(
            rate_limited_text(t, 120, 0),
            "Too many signups were sent from here. You can try again now."
        );
        let uk = Catalogue::new(crate::messages::Lang::Uk, Vec::new());
        assert!(rate_limited_text(&uk, 300, 290).ends_with("через 5 хв."));
        // A site's own text written for the whole wait still reads.
        let own = Catalogue::new(
            crate::messages::Lang::En,
            vec![(Key::FailureRateLimited, "Wait {seconds} s.".into())],
        );
        assert_eq!(rate_limited_text(&own, 30, 10), "Wait 30 s.");
    }

    #[test]
    fn withdrawing_a_queued_signup_says_it_was_not_sent_until_the_next_submit() {
        let c = config(ONE);
        let mut events = vec![
            Event::EmailEdited("jane@example.com".into()),
            submit(),
            Event::Answered(Outcome::Queued),
            Event::Withdrawn,
        ];
        let s = after(&c, events.clone());
        let note = "Your signup was not sent. You can sign up again here.";
        assert_eq!(s.withdrawn.as_deref(), Some(note));
        assert_eq!(s.status, note, "announced politely");
        assert_eq!(s.queued, None);
        events.push(submit());
        let s = after(&c, events);
        assert_eq!(s.withdrawn, None);
    }
}
