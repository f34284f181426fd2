//! One slot's handle ([`Slot`]): its state, the screen derived from it, and the references its
//! components need. Every reader action goes through [`Slot::dispatch`] into core's
//! `transition`; the effects it returns are performed here (sending through the outbox,
//! remembering, moving focus), and nothing else decides.

use std::time::Duration;

use leptos::html;
use leptos::prelude::*;
use letterbox_core::bots::{verdict, Signals, Verdict};
use letterbox_core::config::Config;
use letterbox_core::delivery::Envelope;
use letterbox_core::messages::Key;
use letterbox_core::signup::Outcome;
use letterbox_core::slot::events;
use letterbox_core::slot::screen::Screen;
use letterbox_core::slot::submission::{transition, Context, Effect, Event, State, Status};
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

use crate::idn::BrowserIdn;
use crate::{outbox, remembered, transport};
use letterbox_core::slot::events::HostEvent;

/// Everything one slot needs to dispatch events; cheap to copy into closures.
#[derive(Clone, Copy)]
pub struct Slot {
    pub host: StoredValue<HtmlElement, LocalStorage>,
    pub state: RwSignal<State>,
    pub screen: Memo<Screen>,
    pub config: StoredValue<Config>,
    pub slot: StoredValue<String>,
    pub summary: NodeRef<html::Div>,
    pub failure_heading: NodeRef<html::H2>,
    pub success_heading: NodeRef<html::H2>,
    pub queued_heading: NodeRef<html::H2>,
    pub honeypot: NodeRef<html::Input>,
    /// When the form appeared (`Date.now()`), for the minimum fill time.
    pub opened_ms: f64,
    pub email_input: NodeRef<html::Input>,
    pub consent_box: NodeRef<html::Input>,
    pub fieldset: NodeRef<html::Fieldset>,
}

impl Slot {
    /// Feeds `event` to core's state machine, renders the new state, raises the host events
    /// and performs the effects.
    pub fn dispatch(self, event: Event) {
        // An answer can arrive after the slot was removed from the page (infinite scroll,
        // client-side navigation): its state is gone, and touching it would abort the module.
        if self.state.is_disposed() || self.config.is_disposed() || self.slot.is_disposed() {
            return;
        }
        let page = web_sys::window()
            .and_then(|w| w.location().href().ok())
            .unwrap_or_default();
        let current = self.state.get_untracked();
        let current_copy = current.clone();
        let event_copy = event.clone();
        let (next, effects) = self.config.with_value(|config| {
            self.slot.with_value(|slot| {
                let ctx = Context {
                    config,
                    idn: &BrowserIdn,
                    page: &page,
                    slot,
                };
                transition(current, event, &ctx)
            })
        });
        let succeeded = matches!(next.status, Status::Succeeded(_));
        let queued = next.status == Status::Queued;
        let newly_queued = queued && current_copy.status != Status::Queued;
        let queued_key = next.sent.as_ref().map(|a| a.key.clone());
        let raised = self.config.with_value(|c| {
            events::between(&current_copy, &event_copy, &next, c.events_include_email)
        });
        self.state.set(next);
        self.host.with_value(|host| {
            self.slot
                .with_value(|slot| raised.iter().for_each(|e| emit(host, e, slot)))
        });
        self.config.with_value(|c| {
            self.slot.with_value(|slot| {
                for e in &raised {
                    crate::stats::count(c.stats_endpoint.as_deref(), slot, e);
                }
            })
        });
        if let (true, Some(key)) = (newly_queued, queued_key) {
            // The queued signup's answer, when a later flush delivers it, completes this slot.
            outbox::wait_for_delivery(&key, self.answer());
        }
        for effect in effects {
            match effect {
                Effect::Send(signup) => {
                    let (adapter, attempts, min_fill_ms, policy, pending_days) =
                        self.config.with_value(|c| {
                            (
                                c.adapter.clone(),
                                c.attempts,
                                c.min_fill_ms,
                                c.bots,
                                c.pending_days,
                            )
                        });
                    let signals = Signals {
                        honeypot: self
                            .honeypot
                            .get_untracked()
                            .map(|i| i.value())
                            .unwrap_or_default(),
                        fill_ms: (js_sys::Date::now() - self.opened_ms).max(0.0) as u64,
                    };
                    let verdict = verdict(signals, min_fill_ms, policy);
                    // Two slots sending the same signup through the same settings at the same
                    // moment make one request; the second shares the first one's answer.
                    let fingerprint = adapter.fingerprint();
                    if let Some(key) = outbox::join_or_lead(&fingerprint, &signup, self.answer()) {
                        self.dispatch(Event::Joined { key });
                        continue;
                    }
                    leptos::task::spawn_local(async move {
                        let key = signup.key.clone();
                        let outcome = match verdict {
                            // Not sent; what a real signup at this service shows.
                            Verdict::Drop => adapter.dropped_outcome(),
                            Verdict::Send(signals) => {
                                let envelope = Envelope {
                                    signals,
                                    ..Envelope::new(*signup)
                                };
                                // Each wait before a retry is shown in this slot, counting down.
                                let waiting =
                                    move |delay_ms| self.dispatch(Event::RetryWaiting { delay_ms });
                                let (outcome, kept) = outbox::send(
                                    &adapter,
                                    &envelope,
                                    attempts,
                                    pending_days,
                                    &waiting,
                                )
                                .await;
                                // The same signup already waited under another key: it is
                                // this slot's signup from now on (its answer, its withdrawal).
                                if let Some(kept) = kept.filter(|k| *k != key) {
                                    self.dispatch(Event::Joined { key: kept });
                                }
                                outcome
                            }
                        };
                        if let Outcome::ConfigurationError { message }
                        | Outcome::ChallengeFailed { message } = &outcome
                        {
                            web_sys::console::error_1(&format!("Letterbox: {message}").into());
                        }
                        // To this slot and every slot that joined it, through their `answer()`.
                        outbox::landed(&key, &outcome);
                    });
                }
                Effect::Remember(ids) => {
                    let key = self.config.with_value(|c| c.destination());
                    remembered::remember(&key, &ids);
                }
                Effect::Withdraw(key) => outbox::withdraw(&key),
                Effect::TickLater => {
                    set_timeout(move || self.dispatch(Event::Ticked), Duration::from_secs(1))
                }
                Effect::FocusEmail => {
                    let email = self.email_input;
                    focus_later(email);
                }
                Effect::FocusErrorSummary => focus_later(self.summary),
                Effect::FocusResult if succeeded => focus_later(self.success_heading),
                Effect::FocusResult if queued => focus_later(self.queued_heading),
                Effect::FocusResult => focus_later(self.failure_heading),
            }
        }
    }

    /// The playground build: replaces the slot's state with `scene`'s, reached through core's
    /// `transition` from a fresh slot (`scenes::replay`). Nothing is sent, remembered or focused;
    /// a rate-limit countdown runs as it would for a reader (one at a time: a tick already on
    /// its way carries on the new countdown).
    #[cfg(feature = "playground")]
    pub fn show(self, scene: letterbox_core::slot::scenes::Scene) {
        if self.state.is_disposed() || self.config.is_disposed() || self.slot.is_disposed() {
            return;
        }
        let page = web_sys::window()
            .and_then(|w| w.location().href().ok())
            .unwrap_or_default();
        let (next, effects) = self.config.with_value(|c| {
            self.slot.with_value(|slot| {
                letterbox_core::slot::scenes::replay(c, scene, &BrowserIdn, &page, slot)
            })
        });
        let ticking = self.state.with_untracked(|s| s.ticking);
        self.state.set(next);
        if effects.contains(&Effect::TickLater) && !ticking {
            set_timeout(move || self.dispatch(Event::Ticked), Duration::from_secs(1));
        }
    }

    /// What this slot does with the answer to a submission it waits for (its queued one, or
    /// another slot's identical one): `None` means it was withdrawn in the other slot.
    fn answer(self) -> outbox::Delivered {
        std::rc::Rc::new(move |outcome: Option<Outcome>| {
            self.dispatch(outcome.map_or(Event::WithdrawnElsewhere, Event::Answered))
        })
    }

    /// The `aria-level` of a heading of this slot (`None` for the h2 it is written as): the
    /// configured level, one below when it stands `under_title` (the summary and the failure,
    /// which sit under a shown title).
    pub fn level(self, under_title: bool) -> Option<String> {
        let level = self
            .config
            .with_value(|c| c.heading_level + (under_title && c.title.is_some()) as u8);
        (level != 2).then(|| level.to_string())
    }

    /// The slot's text for `key`.
    pub fn text(self, key: Key) -> String {
        self.config.with_value(|c| c.texts.text(key).to_owned())
    }

    /// A reactive text from the screen.
    pub fn shows(self, f: fn(&Screen) -> Option<&str>) -> impl Fn() -> String + Copy {
        let screen = self.screen;
        move || screen.with(|v| f(v).unwrap_or_default().to_owned())
    }

    /// A reactive `hidden` flag: hidden while `f` finds nothing to show.
    pub fn hides(self, f: fn(&Screen) -> Option<&str>) -> impl Fn() -> bool + Copy {
        let screen = self.screen;
        move || screen.with(|v| f(v).is_none())
    }

    /// The reader submits (button, Enter, or Try again).
    pub fn submit(self) {
        self.dispatch(Event::Submitted {
            fresh_key: transport::new_key(),
            at_ms: js_sys::Date::now().max(0.0) as u64,
        })
    }

    /// A reactive `aria-describedby`: the hint, then the error while `f` shows one.
    pub fn described(
        self,
        hint: String,
        error: String,
        f: fn(&Screen) -> Option<&str>,
    ) -> impl Fn() -> String {
        move || {
            if self.hides(f)() {
                hint.clone()
            } else {
                format!("{hint} {error}")
            }
        }
    }

    /// The visually hidden "Error: " before each inline error.
    pub fn error_prefix(self) -> String {
        format!("{} ", self.text(Key::ErrorPrefix))
    }
}

/// Focuses an element once Leptos has rendered the new state (it updates the DOM after the
/// current task).
fn focus_later<E>(target: NodeRef<E>)
where
    E: html::ElementType,
    E::Output: JsCast + Clone + 'static,
    NodeRef<E>: Copy + GetUntracked<Value = Option<E::Output>> + IsDisposed,
{
    set_timeout(
        move || {
            // The slot may have been removed before this runs.
            if target.is_disposed() {
                return;
            }
            if let Some(el) = target.get_untracked() {
                let _ = el.unchecked_ref::<HtmlElement>().focus();
            }
        },
        Duration::ZERO,
    );
}

/// Focuses the first checkbox still offered (remembered newsletters are hidden).
pub fn focus_first_offered(fieldset: NodeRef<html::Fieldset>) {
    let first = fieldset
        .get_untracked()
        .and_then(|f| {
            f.query_selector(".lb-checkbox:not([hidden]) input")
                .ok()
                .flatten()
        })
        .and_then(|e| e.dyn_into::<HtmlElement>().ok());
    if let Some(input) = first {
        let _ = input.focus();
    }
}

pub fn focus(target: NodeRef<html::Input>) {
    if let Some(input) = target.get_untracked() {
        let _ = input.focus();
    }
}

/// Dispatches a `letterbox:*` event on the host: bubbling and composed, so a listener on
/// `document` receives it.
pub fn emit(host: &HtmlElement, event: &HostEvent, slot: &str) {
    let detail =
        js_sys::JSON::parse(&event.detail_json(slot)).unwrap_or(wasm_bindgen::JsValue::NULL);
    let init = web_sys::CustomEventInit::new();
    init.set_bubbles(true);
    init.set_composed(true);
    init.set_detail(&detail);
    if let Ok(e) = web_sys::CustomEvent::new_with_event_init_dict(event.kind.name(), &init) {
        let _ = host.dispatch_event(&e);
    }
}

/// What each part of the slot shows, read from core's [`Screen`]: `Some` text to show, `None` to
/// hide the part.
pub mod part {
    use letterbox_core::slot::screen::Screen;

    pub fn email_error(v: &Screen) -> Option<&str> {
        v.email_error.as_deref()
    }
    pub fn news_error(v: &Screen) -> Option<&str> {
        v.newsletters_error.as_deref()
    }
    pub fn consent_error(v: &Screen) -> Option<&str> {
        v.consent_error.as_deref()
    }
    pub fn failure(v: &Screen) -> Option<&str> {
        v.failure.as_deref()
    }
    pub fn success_title(v: &Screen) -> Option<&str> {
        v.success.as_ref().map(|t| t.title.as_str())
    }
    pub fn success_body(v: &Screen) -> Option<&str> {
        v.success.as_ref().map(|t| t.body.as_str())
    }
    pub fn suggestion(v: &Screen) -> Option<&str> {
        v.suggestion.as_ref().map(|t| t.text.as_str())
    }
    pub fn suggestion_before(v: &Screen) -> Option<&str> {
        v.suggestion.as_ref().map(|t| t.marked[0].as_str())
    }
    pub fn suggestion_changed(v: &Screen) -> Option<&str> {
        v.suggestion.as_ref().map(|t| t.marked[1].as_str())
    }
    pub fn suggestion_after(v: &Screen) -> Option<&str> {
        v.suggestion.as_ref().map(|t| t.marked[2].as_str())
    }
    pub fn retry_note(v: &Screen) -> Option<&str> {
        v.retry_note.as_deref()
    }
    pub fn suggestion_apply(v: &Screen) -> Option<&str> {
        v.suggestion.as_ref().map(|t| t.apply.as_str())
    }
    pub fn status(v: &Screen) -> Option<&str> {
        Some(v.status.as_str())
    }
    pub fn remembered_all(v: &Screen) -> Option<&str> {
        v.remembered_all.as_deref()
    }
    pub fn remembered_some(v: &Screen) -> Option<&str> {
        v.remembered_some.as_deref()
    }
    pub fn queued(v: &Screen) -> Option<&str> {
        v.queued.as_deref()
    }
    pub fn heading(v: &Screen) -> Option<&str> {
        v.heading.then_some("")
    }
    pub fn choice_hint(v: &Screen) -> Option<&str> {
        v.choice_hint.then_some("")
    }
    pub fn withdrawn(v: &Screen) -> Option<&str> {
        v.withdrawn.as_deref()
    }
}
