//! The submission state machine: one [`Status`], one [`transition`] function.
//!
//! The widget keeps a [`State`] per slot, feeds every reader action and every transport result in as
//! an [`Event`], renders the new state, and performs the returned [`Effect`]s (send a request, move
//! focus). All rules live here: when to validate, which errors to show, when a second submit is
//! ignored, which idempotency key a retry reuses.
//!
//! ```
//! use letterbox_core::config::{Config, HostInput};
//! use letterbox_core::email::Uts46;
//! use letterbox_core::slot::submission::{transition, Context, Effect, Event, State, Status};
//! let json = r#"{"endpoint": "/s", "newsletters": [{"id": "daily", "name": "Daily"}]}"#;
//! let config = Config::from_host(&HostInput { json: Some(json), ..Default::default() }).unwrap();
//! let ctx = Context { config: &config, idn: &Uts46, page: "https://news.example/", slot: "0" };
//! let state = State::new(&config);
//! let (state, _) = transition(state, Event::EmailEdited("jane@example.com".into()), &ctx);
//! let (state, effects) = transition(state, Event::Submitted { fresh_key: "k1".into(), at_ms: 0 }, &ctx);
//! assert_eq!(state.status, Status::Submitting);
//! assert!(matches!(&effects[0], Effect::Send(a) if a.key == "k1"));
//! ```

use crate::config::Config;
use crate::email::{parse_email, DomainToAscii, EmailError};
use crate::signup::{Consent, FieldName, Outcome, Signup, Source};
use crate::suggest::{suggest, Suggestion};

/// A problem with the email field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailProblem {
    /// The address broke the email rule.
    Rule(EmailError),
    /// The endpoint refused it with this message.
    Server(String),
}

/// A problem with the newsletter choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewsletterProblem {
    /// Several newsletters are offered and none is chosen.
    NoneChosen,
    /// The endpoint refused the choice with this message.
    Server(String),
}

/// The errors currently shown, one slot per field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Errors {
    /// The email field's error.
    pub email: Option<EmailProblem>,
    /// The newsletter fieldset's error.
    pub newsletters: Option<NewsletterProblem>,
    /// The slot asks for consent with a checkbox and it is not ticked.
    pub consent_missing: bool,
    /// The names of the required fields left empty, in the slot's order.
    pub fields_missing: Vec<String>,
}

impl Errors {
    /// True when no field is in error.
    pub fn is_empty(&self) -> bool {
        self.email.is_none()
            && self.newsletters.is_none()
            && !self.consent_missing
            && self.fields_missing.is_empty()
    }
}

/// How a successful submission ended; each has its own copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Success {
    /// "You're subscribed".
    Subscribed,
    /// "Check your inbox".
    PendingConfirmation,
    /// "You were already subscribed".
    AlreadySubscribed,
}

/// Why a submission failed in a way the reader cannot fix by editing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No answer.
    Network,
    /// No answer in time.
    Timeout,
    /// No answer from a service that must not get a repeat: check the inbox first.
    MaybeSent,
    /// A 5xx answer.
    Server,
    /// 429, with the server's wait in seconds if given.
    RateLimited(Option<u32>),
    /// Another refusal, with the server's message if it gave one.
    Rejected(Option<String>),
    /// Turned away as likely spam.
    Spam,
    /// The site's challenge provider gave no token; the message is for the console.
    Challenge(String),
    /// The site's delivery setup is wrong; the message is for the console, not the reader.
    Configuration(String),
}

impl Failure {
    /// True for a refusal that sending the same signup again cannot change (the service did
    /// not accept it, or the site's setup is wrong): the form offers no "Try again".
    pub fn is_permanent(&self) -> bool {
        matches!(self, Failure::Rejected(_) | Failure::Configuration(_))
    }
}

/// The one status of a slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The form is shown and waits for the reader.
    Editing,
    /// A request is in flight; further submits are ignored.
    Submitting,
    /// The form is replaced by a success panel.
    Succeeded(Success),
    /// The form is shown with a failure panel and "Try again".
    Failed(Failure),
    /// The submission waits in the browser to be sent ("We'll send this when you're back
    /// online"); its answer, when it comes, moves the slot on as any answer would.
    Queued,
}

/// Everything a slot shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// Where the slot is in its life.
    pub status: Status,
    /// The email field's text, exactly as typed (never cleared).
    pub email: String,
    /// The ids of the chosen newsletters.
    pub chosen: Vec<String>,
    /// The field errors shown.
    pub errors: Errors,
    /// A typo suggestion for the address, if one applies.
    pub suggestion: Option<Suggestion>,
    /// The latest signup sent, if any: "Try again" sends it again, with its key.
    pub sent: Option<Signup>,
    /// Offered newsletters this browser remembers the reader subscribed to (in any slot or tab);
    /// they are not offered again.
    pub remembered: Vec<String>,
    /// The consent box is ticked (never ticked until the reader ticks it).
    pub consented: bool,
    /// The other fields' values, one per configured field, in the slot's order.
    pub values: Vec<String>,
    /// The consent choices ticked (one per `consent.choices`), never ticked until the reader does.
    pub permissions: Vec<bool>,
    /// The queued signup was withdrawn (here or in a slot that shared it) and nothing was
    /// submitted since: the form says it was not sent.
    pub withdrawn: bool,
    /// Seconds left of the server's wait while a rate-limit failure counts down, or of the wait
    /// before the next automatic attempt while a submission is retried ([`Event::RetryWaiting`]).
    pub wait_left: u32,
    /// The whole wait before the next automatic attempt, in seconds (0 when none is waiting):
    /// announced once, while the visible note counts [`State::wait_left`] down.
    pub retry_wait: u32,
    /// A [`Effect::TickLater`] is on its way: one countdown runs at a time, however many
    /// rate-limit answers arrive while it does.
    pub ticking: bool,
}

/// Something that happened: a reader action or a transport result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The reader changed the email text (typing, pasting, autofill).
    EmailEdited(String),
    /// The reader left the email field: time to look for a typo.
    EmailLeft,
    /// The reader ticked or unticked a newsletter.
    NewsletterToggled {
        /// The newsletter's id.
        id: String,
        /// Whether it is now ticked.
        checked: bool,
    },
    /// The reader changed another field (by its name): typed in it or chose one of its options.
    FieldEdited {
        /// The field's name.
        name: String,
        /// Its new value.
        value: String,
    },
    /// The reader ticked (true) or unticked one of the consent choices, by its position.
    PermissionToggled {
        /// Which of `consent.choices`.
        index: usize,
        /// Whether it is now ticked.
        ticked: bool,
    },
    /// The reader applied the typo suggestion.
    SuggestionAccepted,
    /// The reader ticked (true) or unticked the consent box.
    ConsentToggled(bool),
    /// The reader submitted (button, Enter, or "Try again"). `fresh_key` is a new random key the
    /// widget made; it is used only if this is a new submission, not a retry of the last one.
    Submitted {
        /// A new idempotency key.
        fresh_key: String,
        /// The moment of the submit, in milliseconds since the Unix epoch (`Date.now()`), for
        /// the consent record.
        at_ms: u64,
    },
    /// The transport finished the in-flight request.
    Answered(Outcome),
    /// The browser's record of past signups changed (or was read on mount): these of the slot's
    /// newsletters are already subscribed.
    Remembered(Vec<String>),
    /// The reader chose not to send a queued submission after all.
    Withdrawn,
    /// The in-flight submission joined another slot's identical one (the same address,
    /// newsletters, delivery, language and consent), which carries the idempotency `key`: from
    /// now on this slot's submission is that one (its queued entry, its withdrawal).
    Joined {
        /// The other submission's idempotency key.
        key: String,
    },
    /// A second passed while a rate-limit failure or a retry's wait counts down.
    Ticked,
    /// The in-flight submission got no usable answer and will be sent again by itself after
    /// `delay_ms` ([`crate::delivery::retry::Decision::Retry`]): the slot says so and counts down.
    RetryWaiting {
        /// The wait before the next attempt, in milliseconds.
        delay_ms: u32,
    },
    /// The queued submission this slot shared with another slot (the same address and
    /// newsletters, submitted at the same moment) was withdrawn there: the form is back, and
    /// nothing moves focus here.
    WithdrawnElsewhere,
}

/// Work the widget must do after a transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Deliver this signup, then feed the result back as [`Event::Answered`].
    Send(Box<Signup>),
    /// Remember that these newsletters are subscribed, and tell the other slots and tabs.
    Remember(Vec<String>),
    /// Drop the queued submission with this idempotency key.
    Withdraw(String),
    /// Move focus to the error summary (a slot with one field has none: [`Effect::FocusEmail`]
    /// instead).
    FocusErrorSummary,
    /// Move focus to the email field.
    FocusEmail,
    /// Move focus to the heading of the success or failure panel.
    FocusResult,
    /// Feed [`Event::Ticked`] back in a second: the server's wait is counting down.
    TickLater,
}

/// What the transition function needs besides the state and the event.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// The slot's configuration.
    pub config: &'a Config,
    /// The IDN converter (browser URL parser in the widget, `idna` natively).
    pub idn: &'a dyn DomainToAscii,
    /// `location.href`.
    pub page: &'a str,
    /// The slot's id or index.
    pub slot: &'a str,
}

impl State {
    /// The first state of a slot: nothing typed; newsletters the site marked `checked` chosen;
    /// a single newsletter always chosen.
    pub fn new(config: &Config) -> State {
        let chosen = config
            .newsletters
            .iter()
            .filter(|n| n.checked || config.is_single())
            .map(|n| n.id.clone())
            .collect();
        State {
            status: Status::Editing,
            email: String::new(),
            chosen,
            errors: Errors::default(),
            suggestion: None,
            sent: None,
            remembered: Vec::new(),
            consented: false,
            values: config.fields.iter().map(|f| f.value.clone()).collect(),
            permissions: config
                .consent
                .as_ref()
                .map_or_else(Vec::new, |c| vec![false; c.choices.len()]),
            withdrawn: false,
            wait_left: 0,
            retry_wait: 0,
            ticking: false,
        }
    }
}

/// Moves a slot from one state to the next.
pub fn transition(mut state: State, event: Event, ctx: &Context<'_>) -> (State, Vec<Effect>) {
    if matches!(state.status, Status::Succeeded(_)) {
        return (state, Vec::new());
    }
    let mut effects = Vec::new();
    match event {
        Event::EmailEdited(text) => {
            if text != state.email {
                state.email = text;
                state.errors.email = None;
                state.suggestion = None;
            }
        }
        Event::EmailLeft => {
            state.suggestion = suggest(state.email.trim());
        }
        Event::SuggestionAccepted => {
            if let Some(s) = state.suggestion.take() {
                state.email = s.full;
                state.errors.email = None;
            }
        }
        Event::NewsletterToggled { id, checked } => {
            if ctx.config.newsletters.iter().any(|n| n.id == id)
                && !ctx.config.is_single()
                && !state.remembered.contains(&id)
            {
                if !checked {
                    state.chosen.retain(|c| *c != id);
                } else if !state.chosen.contains(&id) {
                    state.chosen.push(id);
                }
                state.errors.newsletters = None;
            }
        }
        Event::FieldEdited { name, value } => {
            if let Some(i) = ctx.config.fields.iter().position(|f| f.name == name) {
                if let Some(slot) = state.values.get_mut(i) {
                    *slot = value;
                }
                state.errors.fields_missing.retain(|n| *n != name);
            }
        }
        Event::PermissionToggled { index, ticked } => {
            if let Some(p) = state.permissions.get_mut(index) {
                *p = ticked;
            }
        }
        Event::ConsentToggled(ticked) => {
            state.consented = ticked;
            if ticked {
                state.errors.consent_missing = false;
            }
        }
        Event::Submitted { fresh_key, at_ms } => {
            if state.status == Status::Submitting {
                return (state, effects);
            }
            state.withdrawn = false;
            let email = parse_email(&state.email, ctx.idn);
            state.errors.email = email.as_ref().err().map(|e| EmailProblem::Rule(*e));
            state.errors.newsletters = (state.chosen.is_empty() && !ctx.config.choice_optional)
                .then_some(NewsletterProblem::NoneChosen);
            let value_of = |i: usize| state.values.get(i).map_or("", |v| v.trim());
            state.errors.fields_missing = ctx
                .config
                .fields
                .iter()
                .enumerate()
                .filter(|(i, f)| f.required && value_of(*i).is_empty())
                .map(|(_, f)| f.name.clone())
                .collect();
            let fields: Vec<(String, String)> = ctx
                .config
                .fields
                .iter()
                .enumerate()
                .filter(|(i, _)| !value_of(*i).is_empty())
                .map(|(i, f)| (f.name.clone(), value_of(i).to_owned()))
                .collect();
            let asked = ctx.config.consent.as_ref();
            // Choices are each optional, as in the embed; a single box must be ticked.
            let choices = asked.map_or(&[][..], |c| &c.choices[..]);
            state.errors.consent_missing =
                asked.is_some_and(|c| c.checkbox && c.choices.is_empty()) && !state.consented;
            let ticked: Vec<&(String, String, String)> = choices
                .iter()
                .zip(&state.permissions)
                .filter(|(_, t)| **t)
                .map(|(c, _)| c)
                .collect();
            let mut fields = fields;
            fields.extend(ticked.iter().map(|(f, v, _)| (f.clone(), v.clone())));
            // The record holds the exact wording of what was given; none ticked, none given.
            let wording = if choices.is_empty() {
                asked.map(|c| c.text.clone())
            } else {
                (!ticked.is_empty()).then(|| {
                    ticked
                        .iter()
                        .map(|(_, _, t)| t.as_str())
                        .collect::<Vec<_>>()
                        .join("\n")
                })
            };
            match email {
                Ok(email) if state.errors.is_empty() => {
                    let locale = ctx.config.texts.lang().tag().to_owned();
                    let signup = Signup {
                        email: email.as_str().to_owned(),
                        newsletters: ctx
                            .config
                            .newsletters
                            .iter()
                            .filter(|n| state.chosen.contains(&n.id))
                            .map(|n| n.id.clone())
                            .collect(),
                        consent: asked.zip(wording).map(|(c, text)| Consent {
                            text,
                            version: c.version.clone(),
                            locale: locale.clone(),
                            page: ctx.page.to_owned(),
                            at_ms,
                        }),
                        locale,
                        fields,
                        source: Source {
                            page: ctx.page.to_owned(),
                            slot: ctx.slot.to_owned(),
                        },
                        key: fresh_key,
                        at_ms,
                    };
                    let signup = match state.sent.take() {
                        // "Try again", or a second submit of the same: the same signup, with
                        // its key and its consent record.
                        Some(last) if last.is_same_as(&signup) && last.source == signup.source => {
                            last
                        }
                        _ => signup,
                    };
                    state.sent = Some(signup.clone());
                    state.status = Status::Submitting;
                    effects.push(Effect::Send(Box::new(signup)));
                }
                _ => {
                    state.status = Status::Editing;
                    effects.push(Effect::FocusErrorSummary);
                }
            }
        }
        Event::Ticked => {
            state.ticking = false;
            let counting = matches!(state.status, Status::Failed(Failure::RateLimited(Some(_))))
                || (state.status == Status::Submitting && state.retry_wait > 0);
            if counting && state.wait_left > 0 {
                state.wait_left -= 1;
                if state.wait_left > 0 {
                    state.ticking = true;
                    effects.push(Effect::TickLater);
                }
            }
        }
        Event::RetryWaiting { delay_ms } => {
            if state.status == Status::Submitting {
                // Whole seconds, rounded up, so the note never says 0 while it still waits.
                let secs = delay_ms.div_ceil(1_000).max(1);
                state.retry_wait = secs;
                state.wait_left = secs;
                // One countdown at a time: a tick already on its way counts this wait too.
                if !state.ticking {
                    state.ticking = true;
                    effects.push(Effect::TickLater);
                }
            }
        }
        Event::Remembered(ids) => {
            // Only ids this slot offers; a remembered newsletter can no longer be chosen.
            state.remembered = ctx
                .config
                .newsletters
                .iter()
                .filter(|n| ids.contains(&n.id))
                .map(|n| n.id.clone())
                .collect();
            state.chosen.retain(|c| !state.remembered.contains(c));
            if ctx.config.is_single() && state.remembered.is_empty() {
                state.chosen = ctx
                    .config
                    .newsletters
                    .iter()
                    .map(|n| n.id.clone())
                    .collect();
            }
        }
        Event::Joined { key } => {
            if state.status == Status::Submitting {
                if let Some(signup) = &mut state.sent {
                    signup.key = key;
                }
            }
        }
        Event::WithdrawnElsewhere => {
            if state.status == Status::Queued {
                state.status = Status::Editing;
                state.withdrawn = true;
            }
        }
        Event::Withdrawn => {
            if state.status == Status::Queued {
                state.status = Status::Editing;
                state.withdrawn = true;
                if let Some(signup) = &state.sent {
                    effects.push(Effect::Withdraw(signup.key.clone()));
                }
                effects.push(Effect::FocusEmail);
            }
        }
        Event::Answered(outcome) => {
            if !matches!(state.status, Status::Submitting | Status::Queued) {
                return (state, effects);
            }
            let (status, effect) = match outcome {
                Outcome::Subscribed => {
                    (Status::Succeeded(Success::Subscribed), Effect::FocusResult)
                }
                Outcome::PendingConfirmation => (
                    Status::Succeeded(Success::PendingConfirmation),
                    Effect::FocusResult,
                ),
                Outcome::AlreadySubscribed => (
                    Status::Succeeded(Success::AlreadySubscribed),
                    Effect::FocusResult,
                ),
                Outcome::FieldError {
                    field: FieldName::Email,
                    message,
                } => {
                    state.errors.email = Some(EmailProblem::Server(message));
                    (Status::Editing, Effect::FocusErrorSummary)
                }
                Outcome::FieldError {
                    field: FieldName::Newsletters,
                    message,
                } => {
                    state.errors.newsletters = Some(NewsletterProblem::Server(message));
                    (Status::Editing, Effect::FocusErrorSummary)
                }
                Outcome::RateLimited { retry_after_secs } => (
                    Status::Failed(Failure::RateLimited(retry_after_secs)),
                    Effect::FocusResult,
                ),
                Outcome::ServerError { .. } => {
                    (Status::Failed(Failure::Server), Effect::FocusResult)
                }
                Outcome::Rejected { message, .. } => (
                    Status::Failed(Failure::Rejected(message)),
                    Effect::FocusResult,
                ),
                Outcome::NetworkError | Outcome::Unreached => {
                    (Status::Failed(Failure::Network), Effect::FocusResult)
                }
                Outcome::Timeout => (Status::Failed(Failure::Timeout), Effect::FocusResult),
                Outcome::MaybeSent => (Status::Failed(Failure::MaybeSent), Effect::FocusResult),
                Outcome::Queued => (Status::Queued, Effect::FocusResult),
                Outcome::RejectedAsSpam => (Status::Failed(Failure::Spam), Effect::FocusResult),
                Outcome::ChallengeFailed { message } => (
                    Status::Failed(Failure::Challenge(message)),
                    Effect::FocusResult,
                ),
                Outcome::ConfigurationError { message } => (
                    Status::Failed(Failure::Configuration(message)),
                    Effect::FocusResult,
                ),
            };
            if matches!(status, Status::Succeeded(_)) {
                if let Some(signup) = &state.sent {
                    effects.push(Effect::Remember(signup.newsletters.clone()));
                }
            }
            // A queued signup's answer comes later, while the reader may be typing elsewhere:
            // focus moves only on the reader's own action in this slot, so a late answer is
            // shown and announced in its place and nothing else.
            let late = state.status == Status::Queued;
            state.status = status;
            state.retry_wait = 0;
            state.wait_left = 0;
            if let Status::Failed(Failure::RateLimited(Some(secs))) = state.status {
                state.wait_left = secs;
                // The tick already on its way counts this wait down too.
                if !state.ticking {
                    state.ticking = true;
                    effects.push(Effect::TickLater);
                }
            }
            if !late {
                effects.push(effect);
            }
        }
    }
    // A slot with one field has no error summary: its inline error is enough, and focus goes
    // to the field.
    if !ctx.config.has_summary() {
        for effect in &mut effects {
            if *effect == Effect::FocusErrorSummary {
                *effect = Effect::FocusEmail;
            }
        }
    }
    (state, effects)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::config::HostInput;
    use crate::email::Uts46;

    const FIVE: &str = r#"{"endpoint": "/s", "lang": "uk", "newsletters": [
        {"id": "daily", "name": "Daily"}, {"id": "explainer", "name": "Explainer"},
        {"id": "culture", "name": "Culture", "checked": true}, {"id": "alerts", "name": "Alerts"},
        {"id": "uk", "name": "UK"}]}"#;
    const ONE: &str = r#"{"endpoint": "/s", "newsletters": [{"id": "daily", "name": "Daily"}]}"#;

    fn config(json: &str) -> Config {
        Config::from_host(&HostInput {
            json: Some(json),
            ..Default::default()
        })
        .unwrap()
    }

    fn run(config: &Config, events: Vec<Event>) -> (State, Vec<Effect>) {
        let ctx = Context {
            config,
            idn: &Uts46,
            page: "https://news.example/article",
            slot: "footer",
        };
        let mut state = State::new(config);
        let mut last = Vec::new();
        for e in events {
            let (s, fx) = transition(state, e, &ctx);
            state = s;
            last = fx;
        }
        (state, last)
    }

    #[test]
    fn a_second_rate_limit_while_the_first_counts_down_starts_no_second_countdown() {
        let c = config(ONE);
        let ctx = Context {
            config: &c,
            idn: &Uts46,
            page: "https://news.example/article",
            slot: "footer",
        };
        let limited = || {
            Event::Answered(Outcome::RateLimited {
                retry_after_secs: Some(30),
            })
        };
        let mut state = State::new(&c);
        let mut ticks_asked = 0;
        for event in [
            Event::EmailEdited("a@b.co".into()),
            Event::NewsletterToggled {
                id: "daily".into(),
                checked: true,
            },
            submit("k"),
            limited(),
            // The reader tries again at once and is limited again before the first tick lands.
            submit("k2"),
            limited(),
        ] {
            let (s, fx) = transition(state, event, &ctx);
            state = s;
            ticks_asked += fx.iter().filter(|e| **e == Effect::TickLater).count();
        }
        assert_eq!(
            ticks_asked, 1,
            "one countdown, so it runs at one second a second"
        );
        assert_eq!(state.wait_left, 30);
        let (state, fx) = transition(state, Event::Ticked, &ctx);
        assert_eq!((state.wait_left, fx), (29, vec![Effect::TickLater]));
    }

    #[test]
    fn a_retry_wait_counts_down_once_a_second_and_ends_with_the_answer() {
        let c = config(ONE);
        let sending = vec![Event::EmailEdited("a@b.co".into()), submit("k")];
        let mut events = sending.clone();
        events.push(Event::RetryWaiting { delay_ms: 2_500 });
        let (state, fx) = run(&c, events.clone());
        assert_eq!((state.retry_wait, state.wait_left), (3, 3), "rounded up");
        assert_eq!(fx, vec![Effect::TickLater]);
        events.push(Event::Ticked);
        let (state, fx) = run(&c, events.clone());
        assert_eq!((state.retry_wait, state.wait_left), (3, 2));
        assert_eq!(fx, vec![Effect::TickLater]);
        // A second wait while the first tick is on its way starts no second countdown.
        let mut twice = events.clone();
        twice.push(Event::RetryWaiting { delay_ms: 1_000 });
        let (state, fx) = run(&c, twice);
        assert_eq!((state.wait_left, fx), (1, vec![]));
        events.push(Event::Answered(Outcome::Subscribed));
        let (state, _) = run(&c, events);
        assert_eq!((state.retry_wait, state.wait_left), (0, 0));
    }

    #[test]
    fn a_retry_wait_outside_a_submission_changes_nothing() {
        let c = config(ONE);
        let (state, fx) = run(&c, vec![Event::RetryWaiting { delay_ms: 3_000 }]);
        assert_eq!((state.retry_wait, state.wait_left, fx), (0, 0, vec![]));
    }

    fn submit(key: &str) -> Event {
        Event::Submitted {
            fresh_key: key.into(),
            at_ms: 0,
        }
    }

    const WITH_CONSENT: &str = r#"{"endpoint": "/s", "lang": "uk", "newsletters": [{"id": "daily", "name": "Daily"}],
        "consent": {"text": "I agree to receive the Daily by email.", "version": "2026-03",
                    "privacy_url": "/privacy"}}"#;

    fn submit_at(key: &str, at_ms: u64) -> Event {
        Event::Submitted {
            fresh_key: key.into(),
            at_ms,
        }
    }

    const FIELDS: &str = r#"{"provider": "form", "form": {"action": "/s"}, "choice_optional": true,
        "newsletters": [{"id": "daily", "name": "Daily"}, {"id": "weekly", "name": "Weekly"}],
        "fields": [{"name": "FNAME", "label": "First name", "required": true},
                   {"name": "LNAME", "label": "Last name"},
                   {"name": "EMAILTYPE", "options": [{"value": "html"}, {"value": "text"}], "value": "html"}]}"#;

    #[test]
    fn a_required_field_left_empty_is_an_error_and_filled_fields_are_sent_by_name() {
        let c = config(FIELDS);
        let (state, effects) = run(
            &c,
            vec![Event::EmailEdited("jane@example.com".into()), submit("k")],
        );
        assert_eq!(state.errors.fields_missing, ["FNAME"]);
        assert_eq!(effects, [Effect::FocusErrorSummary]);

        let (state, effects) = run(
            &c,
            vec![
                Event::EmailEdited("jane@example.com".into()),
                submit("k"),
                Event::FieldEdited {
                    name: "FNAME".into(),
                    value: " Jane ".into(),
                },
                submit("k"),
            ],
        );
        assert!(state.errors.is_empty(), "{:?}", state.errors);
        let Some(Effect::Send(signup)) = effects.first() else {
            panic!("{effects:?}")
        };
        assert_eq!(
            signup.fields,
            [
                ("FNAME".to_owned(), "Jane".to_owned()),
                ("EMAILTYPE".to_owned(), "html".to_owned())
            ],
            "trimmed; the empty optional LNAME is not sent; the choice keeps its default"
        );
        assert!(
            signup.newsletters.is_empty(),
            "choice_optional: the list alone, no newsletter ticked"
        );
    }

    #[test]
    fn without_choice_optional_a_newsletter_must_still_be_ticked() {
        let c = config(&FIELDS.replace(r#""choice_optional": true,"#, ""));
        let (state, _) = run(
            &c,
            vec![
                Event::EmailEdited("jane@example.com".into()),
                Event::FieldEdited {
                    name: "FNAME".into(),
                    value: "Jane".into(),
                },
                submit("k"),
            ],
        );
        assert_eq!(
            state.errors.newsletters,
            Some(NewsletterProblem::NoneChosen)
        );
    }

    #[test]
    fn an_unticked_consent_box_is_an_error_that_sends_nothing() {
        let c = config(WITH_CONSENT);
        let (s, fx) = run(
            &c,
            vec![Event::EmailEdited("jane@example.com".into()), submit("k")],
        );
        assert!(s.errors.consent_missing);
        assert!(s.errors.email.is_none());
        assert_eq!(s.status, Status::Editing);
        assert_eq!(fx, vec![Effect::FocusErrorSummary]);
        assert!(s.sent.is_none());
        // Ticking clears the error at once; unticking again does not bring it back before a submit.
        let ctx = Context {
            config: &c,
            idn: &Uts46,
            page: "p",
            slot: "s",
        };
        let (s, _) = transition(s, Event::ConsentToggled(true), &ctx);
        assert!(!s.errors.consent_missing);
        let (s, _) = transition(s, Event::ConsentToggled(false), &ctx);
        assert!(!s.errors.consent_missing && !s.consented);
    }

    #[test]
    fn a_ticked_box_sends_the_consent_record_and_try_again_keeps_it() {
        let c = config(WITH_CONSENT);
        let (s, fx) = run(
            &c,
            vec![
                Event::EmailEdited("jane@example.com".into()),
                Event::ConsentToggled(true),
                submit_at("k1", 1_764_000_000_000),
            ],
        );
        let Some(Effect::Send(signup)) = fx.first() else {
            panic!("expected a send, got {fx:?}");
        };
        assert_eq!(
            signup.consent,
            Some(Consent {
                text: "I agree to receive the Daily by email.".into(),
                version: "2026-03".into(),
                locale: "uk".into(),
                page: "https://news.example/article".into(),
                at_ms: 1_764_000_000_000,
            })
        );
        // The network fails; "Try again" later is the same submission: same key, same record.
        let ctx = Context {
            config: &c,
            idn: &Uts46,
            page: "https://news.example/article",
            slot: "footer",
        };
        let (s, _) = transition(s, Event::Answered(Outcome::NetworkError), &ctx);
        let (_, fx) = transition(s, submit_at("k2", 1_764_000_099_000), &ctx);
        assert_eq!(fx, vec![Effect::Send(signup.clone())]);
    }

    #[test]
    fn a_consent_statement_without_a_box_needs_no_tick_and_is_recorded() {
        let c = config(
            &WITH_CONSENT.replace(r#""privacy_url""#, r#""checkbox": false, "privacy_url""#),
        );
        let (_, fx) = run(
            &c,
            vec![
                Event::EmailEdited("jane@example.com".into()),
                submit_at("k", 7),
            ],
        );
        let Some(Effect::Send(signup)) = fx.first() else {
            panic!("expected a send, got {fx:?}");
        };
        let consent = signup
            .consent
            .as_ref()
            .map(|c| (c.version.as_str(), c.at_ms));
        assert_eq!(consent, Some(("2026-03", 7)));
    }

    #[test]
    fn without_consent_settings_no_record_is_sent() {
        let (_, fx) = run(
            &config(ONE),
            vec![Event::EmailEdited("jane@example.com".into()), submit("k")],
        );
        assert!(matches!(&fx[..], [Effect::Send(a)] if a.consent.is_none()));
    }

    #[test]
    fn spam_and_configuration_errors_show_the_failure_panel_and_keep_the_input() {
        let c = config(ONE);
        for (outcome, failure) in [
            (Outcome::RejectedAsSpam, Failure::Spam),
            (
                Outcome::ChallengeFailed {
                    message: "the provider threw".into(),
                },
                Failure::Challenge("the provider threw".into()),
            ),
            (
                Outcome::ConfigurationError {
                    message: "unknown list".into(),
                },
                Failure::Configuration("unknown list".into()),
            ),
        ] {
            let (s, fx) = run(
                &c,
                vec![
                    Event::EmailEdited("jane@example.com".into()),
                    submit("k"),
                    Event::Answered(outcome),
                ],
            );
            assert_eq!(s.status, Status::Failed(failure));
            assert_eq!(s.email, "jane@example.com");
            assert_eq!(fx, vec![Effect::FocusResult]);
        }
    }

    #[test]
    fn starts_with_only_the_sites_checked_newsletters_chosen() {
        let s = State::new(&config(FIVE));
        assert_eq!(s.chosen.iter().collect::<Vec<_>>(), ["culture"]);
        assert_eq!(
            State::new(&config(ONE)).chosen.iter().collect::<Vec<_>>(),
            ["daily"]
        );
    }

    #[test]
    fn empty_submit_shows_email_and_newsletter_errors_and_focuses_the_summary() {
        let c = config(FIVE);
        let (s, fx) = run(
            &c,
            vec![
                Event::NewsletterToggled {
                    id: "culture".into(),
                    checked: false,
                },
                submit("k"),
            ],
        );
        assert_eq!(s.status, Status::Editing);
        assert_eq!(s.errors.email, Some(EmailProblem::Rule(EmailError::Empty)));
        assert_eq!(s.errors.newsletters, Some(NewsletterProblem::NoneChosen));
        assert_eq!(fx, vec![Effect::FocusErrorSummary]);
    }

    #[test]
    fn editing_a_field_clears_only_its_own_error() {
        let c = config(FIVE);
        let (s, _) = run(
            &c,
            vec![
                Event::NewsletterToggled {
                    id: "culture".into(),
                    checked: false,
                },
                submit("k"),
                Event::EmailEdited("j".into()),
            ],
        );
        assert_eq!(s.errors.email, None);
        assert_eq!(s.errors.newsletters, Some(NewsletterProblem::NoneChosen));
        let (s, _) = run(
            &c,
            vec![
                Event::NewsletterToggled {
                    id: "culture".into(),
                    checked: false,
                },
                submit("k"),
                Event::NewsletterToggled {
                    id: "daily".into(),
                    checked: true,
                },
            ],
        );
        assert_eq!(s.errors.newsletters, None);
        assert!(s.errors.email.is_some());
    }

    #[test]
    fn valid_submit_sends_the_normalised_request_in_config_order() {
        let c = config(FIVE);
        let (s, fx) = run(
            &c,
            vec![
                Event::EmailEdited("  Jane@MÜNCHEN.de ".into()),
                Event::NewsletterToggled {
                    id: "alerts".into(),
                    checked: true,
                },
                Event::NewsletterToggled {
                    id: "daily".into(),
                    checked: true,
                },
                submit("key-1"),
            ],
        );
        assert_eq!(s.status, Status::Submitting);
        assert_eq!(
            s.email, "  Jane@MÜNCHEN.de ",
            "what the reader typed is kept"
        );
        let Effect::Send(a) = &fx[0] else {
            panic!("{fx:?}")
        };
        assert_eq!(a.key, "key-1");
        assert_eq!(a.email, "Jane@xn--mnchen-3ya.de");
        assert_eq!(a.newsletters, ["daily", "culture", "alerts"]);
        assert_eq!(a.locale, "uk");
        assert_eq!(
            a.source,
            Source {
                page: "https://news.example/article".into(),
                slot: "footer".into()
            }
        );
    }

    #[test]
    fn a_second_submit_while_one_is_in_flight_is_ignored() {
        let c = config(ONE);
        let (s, fx) = run(
            &c,
            vec![
                Event::EmailEdited("a@b.co".into()),
                submit("k1"),
                submit("k2"),
            ],
        );
        assert_eq!(s.status, Status::Submitting);
        assert!(fx.is_empty());
        assert_eq!(s.sent.map(|a| a.key), Some("k1".into()));
    }

    #[test]
    fn success_outcomes_replace_the_form_and_focus_the_result() {
        let c = config(ONE);
        for (outcome, success) in [
            (Outcome::Subscribed, Success::Subscribed),
            (Outcome::PendingConfirmation, Success::PendingConfirmation),
            (Outcome::AlreadySubscribed, Success::AlreadySubscribed),
        ] {
            let (s, fx) = run(
                &c,
                vec![
                    Event::EmailEdited("a@b.co".into()),
                    submit("k"),
                    Event::Answered(outcome),
                ],
            );
            assert_eq!(s.status, Status::Succeeded(success));
            assert_eq!(
                fx,
                vec![Effect::Remember(vec!["daily".into()]), Effect::FocusResult]
            );
        }
    }

    #[test]
    fn nothing_changes_after_success() {
        let c = config(ONE);
        let (s, fx) = run(
            &c,
            vec![
                Event::EmailEdited("a@b.co".into()),
                submit("k"),
                Event::Answered(Outcome::Subscribed),
                submit("k2"),
            ],
        );
        assert_eq!(s.status, Status::Succeeded(Success::Subscribed));
        assert!(fx.is_empty());
    }

    #[test]
    fn try_again_after_a_failure_reuses_the_idempotency_key() {
        let c = config(ONE);
        let (s, fx) = run(
            &c,
            vec![
                Event::EmailEdited("a@b.co".into()),
                submit("k1"),
                Event::Answered(Outcome::ServerError { status: 503 }),
                submit("k2"),
            ],
        );
        assert_eq!(s.status, Status::Submitting);
        assert!(matches!(&fx[0], Effect::Send(a) if a.key == "k1"));
    }

    #[test]
    fn a_changed_submission_gets_a_new_key() {
        let c = config(ONE);
        let (_, fx) = run(
            &c,
            vec![
                Event::EmailEdited("a@b.co".into()),
                submit("k1"),
                Event::Answered(Outcome::NetworkError),
                Event::EmailEdited("b@b.co".into()),
                submit("k2"),
            ],
        );
        assert!(matches!(&fx[0], Effect::Send(a) if a.key == "k2"));
    }

    #[test]
    fn failures_keep_what_was_typed_and_show_the_failure_panel() {
        let c = config(ONE);
        for (outcome, failure) in [
            (Outcome::NetworkError, Failure::Network),
            (Outcome::Timeout, Failure::Timeout),
            (Outcome::MaybeSent, Failure::MaybeSent),
            (Outcome::ServerError { status: 500 }, Failure::Server),
            (
                Outcome::RateLimited {
                    retry_after_secs: Some(30),
                },
                Failure::RateLimited(Some(30)),
            ),
            (
                Outcome::Rejected {
                    status: 403,
                    message: None,
                },
                Failure::Rejected(None),
            ),
        ] {
            let (s, fx) = run(
                &c,
                vec![
                    Event::EmailEdited("a@b.co".into()),
                    submit("k"),
                    Event::Answered(outcome),
                ],
            );
            // A server's wait counts down: a tick is asked for each second.
            let counts_down = matches!(failure, Failure::RateLimited(Some(_)));
            assert_eq!(s.status, Status::Failed(failure));
            assert_eq!(s.email, "a@b.co");
            if counts_down {
                assert_eq!(fx, vec![Effect::TickLater, Effect::FocusResult]);
            } else {
                assert_eq!(fx, vec![Effect::FocusResult]);
            }
        }
    }

    #[test]
    fn server_field_errors_are_shown_on_their_field() {
        let c = config(FIVE);
        let (s, fx) = run(
            &c,
            vec![
                Event::EmailEdited("a@b.co".into()),
                submit("k"),
                Event::Answered(Outcome::FieldError {
                    field: FieldName::Email,
                    message: "No mail here".into(),
                }),
            ],
        );
        assert_eq!(s.status, Status::Editing);
        assert_eq!(
            s.errors.email,
            Some(EmailProblem::Server("No mail here".into()))
        );
        assert_eq!(fx, vec![Effect::FocusErrorSummary]);
    }

    #[test]
    fn a_stale_answer_when_nothing_is_in_flight_is_ignored() {
        let c = config(ONE);
        let (s, fx) = run(&c, vec![Event::Answered(Outcome::Subscribed)]);
        assert_eq!(s.status, Status::Editing);
        assert!(fx.is_empty());
    }

    #[test]
    fn the_single_newsletter_cannot_be_unchosen_and_unknown_ids_are_ignored() {
        let c = config(ONE);
        let (s, _) = run(
            &c,
            vec![Event::NewsletterToggled {
                id: "daily".into(),
                checked: false,
            }],
        );
        assert!(s.chosen.iter().any(|c| c == "daily"));
        let c = config(FIVE);
        let (s, _) = run(
            &c,
            vec![Event::NewsletterToggled {
                id: "nope".into(),
                checked: true,
            }],
        );
        assert!(!s.chosen.iter().any(|c| c == "nope"));
    }

    #[test]
    fn success_asks_to_remember_exactly_the_newsletters_sent() {
        let c = config(FIVE);
        let (_, fx) = run(
            &c,
            vec![
                Event::EmailEdited("a@b.co".into()),
                Event::NewsletterToggled {
                    id: "daily".into(),
                    checked: true,
                },
                submit("k"),
                Event::Answered(Outcome::PendingConfirmation),
            ],
        );
        assert_eq!(
            fx,
            vec![
                Effect::Remember(vec!["daily".into(), "culture".into()]),
                Effect::FocusResult
            ]
        );
        let (_, fx) = run(
            &c,
            vec![
                Event::EmailEdited("a@b.co".into()),
                submit("k"),
                Event::Answered(Outcome::NetworkError),
            ],
        );
        assert!(
            !fx.iter().any(|e| matches!(e, Effect::Remember(_))),
            "a failure remembers nothing"
        );
    }

    #[test]
    fn remembered_newsletters_are_no_longer_offered_or_sent() {
        let c = config(FIVE);
        let (s, fx) = run(
            &c,
            vec![
                Event::Remembered(vec![
                    "culture".into(),
                    "daily".into(),
                    "not-offered-here".into(),
                ]),
                Event::NewsletterToggled {
                    id: "daily".into(),
                    checked: true,
                },
                Event::NewsletterToggled {
                    id: "alerts".into(),
                    checked: true,
                },
                Event::EmailEdited("a@b.co".into()),
                submit("k"),
            ],
        );
        assert_eq!(
            s.remembered,
            ["daily", "culture"],
            "in the slot's order, only offered ids"
        );
        let Effect::Send(a) = &fx[0] else {
            panic!("{fx:?}")
        };
        assert_eq!(a.newsletters, ["alerts"]);
    }

    #[test]
    fn a_single_newsletter_slot_forgets_and_offers_again_when_the_record_is_cleared() {
        let c = config(ONE);
        let (s, _) = run(&c, vec![Event::Remembered(vec!["daily".into()])]);
        assert!(s.chosen.is_empty());
        let (s, _) = run(
            &c,
            vec![
                Event::Remembered(vec!["daily".into()]),
                Event::Remembered(vec![]),
            ],
        );
        assert_eq!(s.chosen, ["daily"]);
    }

    #[test]
    fn a_queued_submission_waits_and_its_later_answer_completes_it() {
        let c = config(ONE);
        let base = vec![
            Event::EmailEdited("a@b.co".into()),
            submit("k1"),
            Event::Answered(Outcome::Queued),
        ];
        let (s, fx) = run(&c, base.clone());
        assert_eq!(s.status, Status::Queued);
        assert_eq!(fx, vec![Effect::FocusResult]);
        let mut later = base.clone();
        later.push(Event::Answered(Outcome::PendingConfirmation));
        let (s, fx) = run(&c, later);
        assert_eq!(s.status, Status::Succeeded(Success::PendingConfirmation));
        assert!(fx.contains(&Effect::Remember(vec!["daily".into()])));
    }

    #[test]
    fn withdrawing_a_queued_submission_drops_it_and_keeps_what_was_typed() {
        let c = config(ONE);
        let (s, fx) = run(
            &c,
            vec![
                Event::EmailEdited("a@b.co".into()),
                submit("k1"),
                Event::Answered(Outcome::Queued),
                Event::Withdrawn,
            ],
        );
        assert_eq!(s.status, Status::Editing);
        assert_eq!(s.email, "a@b.co");
        assert_eq!(fx, vec![Effect::Withdraw("k1".into()), Effect::FocusEmail]);
        let (_, fx) = run(&c, vec![Event::Withdrawn]);
        assert!(fx.is_empty(), "nothing to withdraw unless queued");
        // Joined to another slot's submission: its key is this slot's from then on.
        let (s, fx) = run(
            &c,
            vec![
                Event::EmailEdited("a@b.co".into()),
                submit("k1"),
                Event::Joined { key: "k0".into() },
                Event::Answered(Outcome::Queued),
                Event::Withdrawn,
            ],
        );
        assert_eq!(s.status, Status::Editing);
        assert_eq!(fx, vec![Effect::Withdraw("k0".into()), Effect::FocusEmail]);
        // Withdrawn in the slot that shared it: the form is back, with no effect here.
        let (s, fx) = run(
            &c,
            vec![
                Event::EmailEdited("a@b.co".into()),
                submit("k1"),
                Event::Answered(Outcome::Queued),
                Event::WithdrawnElsewhere,
            ],
        );
        assert_eq!((s.status, fx), (Status::Editing, vec![]));
    }

    #[test]
    fn suggestion_appears_on_leaving_the_field_and_applies_without_blocking() {
        let c = config(ONE);
        let (s, _) = run(
            &c,
            vec![
                Event::EmailEdited("jane@gmial.com".into()),
                Event::EmailLeft,
            ],
        );
        let suggestion = s.suggestion.clone().expect("a suggestion for gmial.com");
        assert_eq!(suggestion.full, "jane@gmail.com");
        let (s, _) = run(
            &c,
            vec![
                Event::EmailEdited("jane@gmial.com".into()),
                Event::EmailLeft,
                Event::SuggestionAccepted,
            ],
        );
        assert_eq!(s.email, "jane@gmail.com");
        assert_eq!(s.suggestion, None);
        let (s, fx) = run(
            &c,
            vec![
                Event::EmailEdited("jane@gmial.com".into()),
                Event::EmailLeft,
                submit("k"),
            ],
        );
        assert_eq!(s.status, Status::Submitting, "a suggestion never blocks");
        assert!(matches!(&fx[0], Effect::Send(a) if a.email == "jane@gmial.com"));
    }

    #[test]
    fn a_queued_signup_answered_later_moves_no_focus() {
        let c = config(ONE);
        let queued = vec![
            Event::EmailEdited("jane@example.com".into()),
            submit("k1"),
            Event::Answered(Outcome::Queued),
        ];
        let (_, fx) = run(&c, queued.clone());
        assert_eq!(fx, vec![Effect::FocusResult], "the reader's own submit");
        for late in [
            Outcome::PendingConfirmation,
            Outcome::Rejected {
                status: 403,
                message: None,
            },
        ] {
            let mut events = queued.clone();
            events.push(Event::Answered(late.clone()));
            let (after, fx) = run(&c, events);
            assert!(
                !fx.iter().any(|e| matches!(
                    e,
                    Effect::FocusResult | Effect::FocusErrorSummary | Effect::FocusEmail
                )),
                "{late:?} moved focus: {fx:?}"
            );
            assert_ne!(after.status, Status::Queued, "the answer is still shown");
        }
    }
}
