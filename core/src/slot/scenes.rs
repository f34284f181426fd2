//! The playground's states of a slot: each one a [`Scene`] reached from a slot's first state by a
//! list of [`Event`]s (the reader's actions and the answers a service gives), so that the
//! designer's "pick a state" control goes through [`super::submission::transition`] and
//! [`super::screen::screen`] exactly as a reader's session does, and never fakes the page.
//!
//! Used by the playground build of the widget (the `playground` cargo feature) and by the tests;
//! the release bundle never calls it, so it costs readers nothing.
//!
//! ```
//! use letterbox_core::config::{Config, HostInput};
//! use letterbox_core::email::Uts46;
//! use letterbox_core::slot::scenes::{Scene, replay};
//! use letterbox_core::slot::submission::{Status, Success};
//! let json = r#"{"endpoint": "/s", "newsletters": [{"id": "daily", "name": "Daily"}]}"#;
//! let config = Config::from_host(&HostInput { json: Some(json), ..Default::default() }).unwrap();
//! let scene = Scene::from_name("confirm").unwrap();
//! let (state, _) = replay(&config, scene, &Uts46, "https://news.example/", "0");
//! assert_eq!(state.status, Status::Succeeded(Success::PendingConfirmation));
//! ```

use crate::config::Config;
use crate::email::DomainToAscii;
use crate::signup::{FieldName, Outcome};

use super::submission::{transition, Context, Effect, Event, State};

/// The address every scene types: a reserved example domain, never a reader's.
pub const EMAIL: &str = "reader@example.com";
/// The address with a typo that the suggestion scene types.
pub const TYPO: &str = "reader@gmial.com";
/// The Retry-After, in seconds, of the rate-limited scene (long enough to see it count down).
pub const RATE_LIMIT_SECS: u32 = 45;

/// One state of a slot that the playground can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scene {
    /// The form as it first renders.
    First,
    /// Submitted empty: the errors (summary in multi-field slots, inline messages).
    Errors,
    /// An address with a typo, the field left: the suggestion.
    Suggestion,
    /// Submitted, no answer yet: the busy button.
    Sending,
    /// Subscribed at once.
    Subscribed,
    /// Subscribed, waiting for the reader to confirm by email.
    Confirm,
    /// The address was already subscribed.
    Already,
    /// The server refused the address with its own message.
    ServerFieldError,
    /// The network failed (offline, DNS, connection reset).
    NetworkFailure,
    /// No answer in time.
    Timeout,
    /// A 5xx answer.
    ServerFailure,
    /// No answer from a service where a repeat has a cost: check your inbox first.
    MaybeSent,
    /// A permanent refusal: no Try again.
    Rejected,
    /// Turned away as likely spam.
    Spam,
    /// The site's delivery setup is wrong.
    Misconfigured,
    /// Too many attempts, with a Retry-After that counts down.
    RateLimited,
    /// Kept in the browser to be sent when it is back online.
    Queued,
    /// The queued signup withdrawn by the reader.
    Withdrawn,
    /// This browser remembers the reader subscribed to the slot's first newsletter.
    RememberedSome,
    /// This browser remembers the reader subscribed to every newsletter of the slot.
    Remembered,
}

impl Scene {
    /// Every scene, in the playground's order.
    pub const ALL: [Scene; 20] = [
        Scene::First,
        Scene::Errors,
        Scene::Suggestion,
        Scene::Sending,
        Scene::Subscribed,
        Scene::Confirm,
        Scene::Already,
        Scene::ServerFieldError,
        Scene::NetworkFailure,
        Scene::Timeout,
        Scene::ServerFailure,
        Scene::MaybeSent,
        Scene::Rejected,
        Scene::Spam,
        Scene::Misconfigured,
        Scene::RateLimited,
        Scene::Queued,
        Scene::Withdrawn,
        Scene::RememberedSome,
        Scene::Remembered,
    ];

    /// The scene's name in URLs and in `Letterbox.playground.show` (`rate-limited`).
    pub fn name(self) -> &'static str {
        self.describe().0
    }

    /// What the designer reads in the picker.
    pub fn label(self) -> &'static str {
        self.describe().1
    }

    fn describe(self) -> (&'static str, &'static str) {
        match self {
            Scene::First => ("first", "First render"),
            Scene::Errors => ("errors", "Errors: submitted empty"),
            Scene::Suggestion => ("suggestion", "Typo suggestion"),
            Scene::Sending => ("sending", "Sending"),
            Scene::Subscribed => ("subscribed", "Success: subscribed"),
            Scene::Confirm => ("confirm", "Success: check your inbox"),
            Scene::Already => ("already", "Already subscribed"),
            Scene::ServerFieldError => ("server-field-error", "Address refused by the server"),
            Scene::NetworkFailure => ("network-failure", "Failure: network"),
            Scene::Timeout => ("timeout", "Failure: no answer in time"),
            Scene::ServerFailure => ("server-failure", "Failure: server error"),
            Scene::MaybeSent => ("maybe-sent", "Failure: maybe sent"),
            Scene::Rejected => ("rejected", "Failure: refused (permanent)"),
            Scene::Spam => ("spam", "Failure: turned away as spam"),
            Scene::Misconfigured => ("misconfigured", "Failure: the site's setup"),
            Scene::RateLimited => ("rate-limited", "Rate limited, counting down"),
            Scene::Queued => ("queued", "Queued until online"),
            Scene::Withdrawn => ("withdrawn", "Queued, then withdrawn"),
            Scene::RememberedSome => ("remembered-some", "Remembered: one newsletter"),
            Scene::Remembered => ("remembered", "Remembered: all"),
        }
    }

    /// The scene called `name`.
    pub fn from_name(name: &str) -> Option<Scene> {
        Scene::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The events that take a fresh slot with `config` to this scene: what a reader does, then
    /// what the service answers.
    pub fn events(self, config: &Config) -> Vec<Event> {
        let answered = |outcome: Outcome| {
            let mut events = filled(config, EMAIL);
            events.push(submitted());
            events.push(Event::Answered(outcome));
            events
        };
        match self {
            Scene::First => Vec::new(),
            Scene::Errors => vec![submitted()],
            Scene::Suggestion => vec![Event::EmailEdited(TYPO.into()), Event::EmailLeft],
            Scene::Sending => {
                let mut events = filled(config, EMAIL);
                events.push(submitted());
                events
            }
            Scene::Subscribed => answered(Outcome::Subscribed),
            Scene::Confirm => answered(Outcome::PendingConfirmation),
            Scene::Already => answered(Outcome::AlreadySubscribed),
            Scene::ServerFieldError => answered(Outcome::FieldError {
                field: FieldName::Email,
                message: "This address cannot receive our emails.".into(),
            }),
            Scene::NetworkFailure => answered(Outcome::NetworkError),
            Scene::Timeout => answered(Outcome::Timeout),
            Scene::ServerFailure => answered(Outcome::ServerError { status: 503 }),
            Scene::MaybeSent => answered(Outcome::MaybeSent),
            Scene::Rejected => answered(Outcome::Rejected {
                status: 422,
                message: None,
            }),
            Scene::Spam => answered(Outcome::RejectedAsSpam),
            Scene::Misconfigured => answered(Outcome::ConfigurationError {
                message: "playground: the list does not exist".into(),
            }),
            Scene::RateLimited => answered(Outcome::RateLimited {
                retry_after_secs: Some(RATE_LIMIT_SECS),
            }),
            Scene::Queued => answered(Outcome::Queued),
            Scene::Withdrawn => {
                let mut events = answered(Outcome::Queued);
                events.push(Event::Withdrawn);
                events
            }
            Scene::RememberedSome => vec![Event::Remembered(
                config
                    .newsletters
                    .iter()
                    .take(1)
                    .map(|n| n.id.clone())
                    .collect(),
            )],
            Scene::Remembered => vec![Event::Remembered(
                config.newsletters.iter().map(|n| n.id.clone()).collect(),
            )],
        }
    }
}

/// A reader filling the form in: the address, the first newsletter when none is chosen, every
/// required field, the consent box.
fn filled(config: &Config, email: &str) -> Vec<Event> {
    let mut events = vec![Event::EmailEdited(email.into())];
    let chosen = State::new(config).chosen;
    if chosen.is_empty() {
        if let Some(first) = config.newsletters.first() {
            events.push(Event::NewsletterToggled {
                id: first.id.clone(),
                checked: true,
            });
        }
    }
    for field in config.fields.iter().filter(|f| f.required) {
        let value = field
            .options
            .first()
            .map_or_else(|| "Olena".to_owned(), |(value, _)| value.clone());
        events.push(Event::FieldEdited {
            name: field.name.clone(),
            value,
        });
    }
    if config.consent.is_some() {
        events.push(Event::ConsentToggled(true));
    }
    events
}

fn submitted() -> Event {
    Event::Submitted {
        fresh_key: "playground".into(),
        at_ms: 0,
    }
}

/// Runs `scene`'s events through [`transition`] from a fresh slot with `config`, and returns the
/// state reached with the effects of the last event. The caller performs none of the sending
/// effects: nothing leaves the browser.
pub fn replay(
    config: &Config,
    scene: Scene,
    idn: &dyn DomainToAscii,
    page: &str,
    slot: &str,
) -> (State, Vec<Effect>) {
    let ctx = Context {
        config,
        idn,
        page,
        slot,
    };
    let mut state = State::new(config);
    let mut effects = Vec::new();
    for event in scene.events(config) {
        (state, effects) = transition(state, event, &ctx);
    }
    (state, effects)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HostInput;
    use crate::email::Uts46;
    use crate::slot::screen::screen;
    use crate::slot::submission::{Failure, Status, Success};

    fn config(json: &str) -> Config {
        Config::from_host(&HostInput {
            json: Some(json),
            ..Default::default()
        })
        .expect("a good configuration")
    }

    fn many() -> Config {
        config(
            r#"{"endpoint": "/s", "newsletters": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}],
                "consent": {"text": "I agree.", "version": "1"}}"#,
        )
    }

    fn one() -> Config {
        config(r#"{"endpoint": "/s", "newsletters": [{"id": "a", "name": "A"}]}"#)
    }

    fn status(config: &Config, scene: Scene) -> Status {
        replay(config, scene, &Uts46, "https://news.example/", "0")
            .0
            .status
    }

    #[test]
    fn every_scene_has_a_unique_name_that_finds_it_again() {
        for scene in Scene::ALL {
            assert_eq!(Scene::from_name(scene.name()), Some(scene));
            assert!(!scene.label().is_empty());
        }
        let mut names: Vec<&str> = Scene::ALL.iter().map(|s| s.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Scene::ALL.len());
        assert_eq!(Scene::from_name("nonsense"), None);
    }

    #[test]
    fn each_scene_reaches_its_status_through_the_state_machine_in_every_layout() {
        for config in [many(), one()] {
            let expect = [
                (Scene::First, Status::Editing),
                (Scene::Errors, Status::Editing),
                (Scene::Suggestion, Status::Editing),
                (Scene::Sending, Status::Submitting),
                (Scene::Subscribed, Status::Succeeded(Success::Subscribed)),
                (
                    Scene::Confirm,
                    Status::Succeeded(Success::PendingConfirmation),
                ),
                (
                    Scene::Already,
                    Status::Succeeded(Success::AlreadySubscribed),
                ),
                (Scene::ServerFieldError, Status::Editing),
                (Scene::NetworkFailure, Status::Failed(Failure::Network)),
                (Scene::Timeout, Status::Failed(Failure::Timeout)),
                (Scene::ServerFailure, Status::Failed(Failure::Server)),
                (Scene::MaybeSent, Status::Failed(Failure::MaybeSent)),
                (Scene::Rejected, Status::Failed(Failure::Rejected(None))),
                (Scene::Spam, Status::Failed(Failure::Spam)),
                (Scene::Queued, Status::Queued),
                (Scene::Withdrawn, Status::Editing),
                (
                    Scene::RateLimited,
                    Status::Failed(Failure::RateLimited(Some(RATE_LIMIT_SECS))),
                ),
            ];
            for (scene, want) in expect {
                assert_eq!(status(&config, scene), want, "{scene:?}");
            }
            assert!(matches!(
                status(&config, Scene::Misconfigured),
                Status::Failed(Failure::Configuration(_))
            ));
        }
    }

    #[test]
    fn each_scene_shows_what_it_is_named_for() {
        let config = many();
        let shown = |scene| {
            let (state, _) = replay(&config, scene, &Uts46, "https://news.example/", "0");
            screen(&state, &config)
        };
        let errors = shown(Scene::Errors);
        assert!(errors.email_error.is_some() && errors.newsletters_error.is_some());
        assert!(errors.consent_error.is_some());
        assert!(shown(Scene::Suggestion).suggestion.is_some());
        assert!(shown(Scene::ServerFieldError).email_error.is_some());
        assert!(shown(Scene::Subscribed).success.is_some());
        assert!(shown(Scene::NetworkFailure).failure.is_some());
        assert!(shown(Scene::Queued).queued.is_some());
        assert!(shown(Scene::Withdrawn).withdrawn.is_some());
        assert!(shown(Scene::RememberedSome).remembered_some.is_some());
        assert!(shown(Scene::Remembered).remembered_all.is_some());
        // Nothing is in error once the form was filled in.
        let sending = shown(Scene::Sending);
        assert!(sending.email_error.is_none() && sending.consent_error.is_none());
    }

    #[test]
    fn the_rate_limited_scene_asks_for_the_countdown_and_sending_asks_to_send() {
        let config = one();
        let (_, effects) = replay(&config, Scene::RateLimited, &Uts46, "p", "0");
        assert!(effects.contains(&Effect::TickLater), "{effects:?}");
        let (state, effects) = replay(&config, Scene::Sending, &Uts46, "p", "0");
        assert_eq!(state.email, EMAIL);
        assert!(matches!(&effects[..], [Effect::Send(s)] if s.newsletters == ["a"]));
    }
}
