//! The Leptos components of one slot. They render [`letterbox_core::slot::screen::Screen`] (derived
//! from the submission state in core) and turn reader actions into [`Event`]s; they hold no rules
//! of their own. Every element exists from the first render; what changes is text and the
//! `hidden` attribute, which keeps the live regions present and the wasm small.
//!
//! Accessibility follows the design guide: visible labels and hints, an error summary that takes
//! focus and links to each field, inline errors tied by `aria-describedby` (hint first, then
//! error) and `aria-invalid`, a polite live region present from the first render, and a result
//! panel whose heading takes focus only after the reader's own submit.

use std::time::Duration;

use leptos::either::Either;
use leptos::html;
use leptos::prelude::*;
use letterbox_core::bots::{verdict, Signals, Verdict};
use letterbox_core::config::{Config, ConfigError};
use letterbox_core::delivery::Envelope;
use letterbox_core::messages::{Catalogue, Key};
use letterbox_core::signup::Outcome;
use letterbox_core::slot::events::{self, HostEvent};
use letterbox_core::slot::screen::{screen, Screen};
use letterbox_core::slot::submission::{transition, Context, Effect, Event, State, Status};
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

use crate::idn::BrowserIdn;
use crate::{outbox, remembered, transport};

/// Renders a slot into `container` (inside `host`'s shadow root): the form for a good
/// configuration, a clear error panel for a broken one. `id` prefixes every element id of this
/// instance; `slot` is sent with signups and events; `lang` is the error panel's language.
/// Dropping the returned handle unmounts it.
pub fn render(
    host: &HtmlElement,
    container: HtmlElement,
    config: Result<Config, ConfigError>,
    lang: letterbox_core::messages::Lang,
    id: String,
    slot: String,
) -> Box<dyn std::any::Any> {
    match config {
        Ok(config) => {
            let host = host.clone();
            Box::new(leptos::mount::mount_to(container, move || {
                view! { <Widget host config id slot_name=slot/> }
            }))
        }
        Err(error) => {
            let texts = Catalogue::new(lang, Default::default());
            Box::new(leptos::mount::mount_to(container, move || {
                view! { <ConfigProblem texts error/> }
            }))
        }
    }
}

/// Shown instead of the form when the slot's configuration cannot be used.
#[component]
fn ConfigProblem(texts: Catalogue, error: ConfigError) -> impl IntoView {
    view! {
        <div class="lb-root lb-config-error" part="letterbox-config-error" lang=texts.lang().tag()>
            <p class="lb-result-title">{texts.text(Key::ConfigErrorTitle).to_owned()}</p>
            // The detail is for the site's developers and always English.
            <p class="lb-config-detail" lang="en">{format!("Letterbox configuration: {error}")}</p>
        </div>
    }
}

/// Everything one slot needs to dispatch events; cheap to copy into closures.
#[derive(Clone, Copy)]
struct Slot {
    host: StoredValue<HtmlElement, LocalStorage>,
    state: RwSignal<State>,
    screen: Memo<Screen>,
    config: StoredValue<Config>,
    slot: StoredValue<String>,
    summary: NodeRef<html::Div>,
    failure_heading: NodeRef<html::H2>,
    success_heading: NodeRef<html::H2>,
    queued_heading: NodeRef<html::H2>,
    honeypot: NodeRef<html::Input>,
    /// When the form appeared (`Date.now()`), for the minimum fill time.
    opened_ms: f64,
    email_input: NodeRef<html::Input>,
    consent_box: NodeRef<html::Input>,
    fieldset: NodeRef<html::Fieldset>,
}

impl Slot {
    fn dispatch(self, event: Event) {
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
                            // Not sent; the same visible success as a real signup.
                            Verdict::Drop => Outcome::Subscribed,
                            Verdict::Send(signals) => {
                                let envelope = Envelope {
                                    signals,
                                    ..Envelope::new(*signup)
                                };
                                outbox::send(&adapter, &envelope, attempts, pending_days).await
                            }
                        };
                        if let Outcome::ConfigurationError { message }
                        | Outcome::ChallengeFailed { message } = &outcome
                        {
                            web_sys::console::error_1(&format!("Letterbox: {message}").into());
                        }
                        self.dispatch(Event::Answered(outcome.clone()));
                        outbox::landed(&key, &outcome);
                    });
                }
                Effect::Remember(ids) => {
                    let key = self.config.with_value(|c| c.destination());
                    remembered::remember(&key, &ids);
                }
                Effect::Withdraw(key) => outbox::withdraw(&key),
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

    /// What this slot does with the answer to a submission it waits for (its queued one, or
    /// another slot's identical one): `None` means it was withdrawn in the other slot.
    fn answer(self) -> outbox::Delivered {
        std::rc::Rc::new(move |outcome: Option<Outcome>| {
            self.dispatch(outcome.map_or(Event::WithdrawnElsewhere, Event::Answered))
        })
    }

    fn text(self, key: Key) -> String {
        self.config.with_value(|c| c.texts.text(key).to_owned())
    }

    /// A reactive text from the screen.
    fn shows(self, f: fn(&Screen) -> Option<&str>) -> impl Fn() -> String + Copy {
        let screen = self.screen;
        move || screen.with(|v| f(v).unwrap_or_default().to_owned())
    }

    /// A reactive `hidden` flag: hidden while `f` finds nothing to show.
    fn hides(self, f: fn(&Screen) -> Option<&str>) -> impl Fn() -> bool + Copy {
        let screen = self.screen;
        move || screen.with(|v| f(v).is_none())
    }
}

/// One signup slot.
#[component]
fn Widget(host: HtmlElement, config: Config, id: String, slot_name: String) -> impl IntoView {
    // Start from what this browser remembers, so a slot never flashes a form it will not offer.
    let offered: Vec<String> = config.newsletters.iter().map(|n| n.id.clone()).collect();
    let (key, days) = (config.destination(), config.remember_days);
    let remembered_now = move || remembered::remembered(&key, &offered, days);
    let initial = {
        let ctx = Context {
            config: &config,
            idn: &BrowserIdn,
            page: "",
            slot: "",
        };
        transition(
            State::new(&config),
            Event::Remembered(remembered_now()),
            &ctx,
        )
        .0
    };
    let state = RwSignal::new(initial);
    let single = config.is_single();
    let lang = config.texts.lang().tag();
    let config = StoredValue::new(config);
    let s = Slot {
        host: StoredValue::new_local(host),
        state,
        screen: Memo::new(move |_| state.with(|st| config.with_value(|c| screen(st, c)))),
        config,
        slot: StoredValue::new(slot_name),
        summary: NodeRef::new(),
        failure_heading: NodeRef::new(),
        success_heading: NodeRef::new(),
        queued_heading: NodeRef::new(),
        honeypot: NodeRef::new(),
        opened_ms: js_sys::Date::now(),
        email_input: NodeRef::new(),
        consent_box: NodeRef::new(),
        fieldset: NodeRef::new(),
    };
    config.with_value(|c| outbox::register_adapter(c.adapter.clone()));
    // Tied to this slot's lifetime: the watcher goes when the slot is unmounted.
    let watch = remembered::watch(std::rc::Rc::new(move || {
        s.dispatch(Event::Remembered(remembered_now()))
    }));
    on_cleanup(move || remembered::unwatch(watch));
    let root_class = if single {
        "lb-root lb-root--single"
    } else {
        "lb-root"
    };
    let email_id = format!("{id}-email");
    let email_hint_id = format!("{id}-email-hint");
    let email_error_id = format!("{id}-email-error");
    let news_hint_id = format!("{id}-newsletters-hint");
    let news_error_id = format!("{id}-newsletters-error");
    let summary_title_id = format!("{id}-summary-title");
    let failure_title_id = format!("{id}-failure-title");
    let summary_labelledby = summary_title_id.clone();

    fn email_error(v: &Screen) -> Option<&str> {
        v.email_error.as_deref()
    }
    fn news_error(v: &Screen) -> Option<&str> {
        v.newsletters_error.as_deref()
    }
    fn consent_error(v: &Screen) -> Option<&str> {
        v.consent_error.as_deref()
    }
    fn failure(v: &Screen) -> Option<&str> {
        v.failure.as_deref()
    }
    fn success_title(v: &Screen) -> Option<&str> {
        v.success.as_ref().map(|t| t.title.as_str())
    }
    fn success_body(v: &Screen) -> Option<&str> {
        v.success.as_ref().map(|t| t.body.as_str())
    }
    fn suggestion(v: &Screen) -> Option<&str> {
        v.suggestion.as_ref().map(|t| t.text.as_str())
    }
    fn suggestion_apply(v: &Screen) -> Option<&str> {
        v.suggestion.as_ref().map(|t| t.apply.as_str())
    }
    fn status(v: &Screen) -> Option<&str> {
        Some(v.status.as_str())
    }
    fn remembered_all(v: &Screen) -> Option<&str> {
        v.remembered_all.as_deref()
    }
    fn remembered_some(v: &Screen) -> Option<&str> {
        v.remembered_some.as_deref()
    }
    fn queued(v: &Screen) -> Option<&str> {
        v.queued.as_deref()
    }

    let email_hint = config.with_value(|c| {
        if single {
            c.texts.format(
                Key::EmailHintSingle,
                &[("newsletter", &c.newsletters[0].name)],
            )
        } else {
            c.texts.text(Key::EmailHint).to_owned()
        }
    });
    let described = move |hint: String, error: String, f: fn(&Screen) -> Option<&str>| {
        move || {
            if s.hides(f)() {
                hint.clone()
            } else {
                format!("{hint} {error}")
            }
        }
    };
    let error_prefix = format!("{} ", s.text(Key::ErrorPrefix));
    let submit = move || {
        s.dispatch(Event::Submitted {
            fresh_key: transport::new_key(),
            at_ms: js_sys::Date::now().max(0.0) as u64,
        })
    };

    let newsletters = (!single).then(|| {
        let items = config.with_value(|c| c.newsletters.clone());
        let list = items
            .into_iter()
            .enumerate()
            .map(|(i, n)| {
                let box_id = format!("{id}-nl-{i}");
                let hint_id = format!("{id}-nl-{i}-hint");
                let nid = n.id.clone();
                let checked = {
                    let nid = nid.clone();
                    move || state.with(|st| st.chosen.contains(&nid))
                };
                let is_remembered = {
                    let nid = nid.clone();
                    move || state.with(|st| st.remembered.contains(&nid))
                };
                let has_hint = n.description.is_some();
                view! {
                    <div class="lb-checkbox" hidden=is_remembered>
                        <input type="checkbox" class="lb-checkbox-input" id=box_id.clone() name="newsletters"
                            value=n.id
                            aria-describedby=has_hint.then(|| hint_id.clone())
                            prop:checked=checked
                            on:change=move |ev| s.dispatch(Event::NewsletterToggled { id: nid.clone(), checked: event_target_checked(&ev) })/>
                        <label class="lb-checkbox-label" for=box_id>
                            <span class="lb-name">{n.name}</span>
                            " "
                            <span class="lb-frequency" hidden=n.frequency.is_none()>{n.frequency.clone().unwrap_or_default()}</span>
                        </label>
                        <div class="lb-hint lb-item-hint" id=hint_id hidden=!has_hint>{n.description.unwrap_or_default()}</div>
                    </div>
                }
            })
            .collect_view();
        view! {
            <fieldset class="lb-fieldset" node_ref=s.fieldset class:lb-fieldset--error=move || !s.hides(news_error)()
                aria-describedby=described(news_hint_id.clone(), news_error_id.clone(), news_error)>
                <legend class="lb-legend">{s.text(Key::Legend)}</legend>
                <div class="lb-hint" id=news_hint_id.clone()>{s.text(Key::LegendHint)}</div>
                <p class="lb-error" id=news_error_id.clone() hidden=s.hides(news_error)>
                    <span class="lb-visually-hidden">{error_prefix.clone()}</span>
                    {s.shows(news_error)}
                </p>
                <div class="lb-checkboxes">{list}</div>
            </fieldset>
        }
    });

    // The consent the slot asks for: a box to tick, or a statement that signing up is agreeing.
    // It stands before the email field, so the submit button stays the form's last control.
    let statement = config.with_value(|c| {
        c.consent
            .as_ref()
            .is_some_and(|c| !c.checkbox)
            .then(|| format!("{id}-consent"))
    });
    let consent = config.with_value(|c| c.consent.clone()).map(|c| {
        let privacy = c.privacy_url.map(|url| {
            let label = c
                .privacy_label
                .unwrap_or_else(|| s.text(Key::PrivacyLink));
            view! {
                " "
                <a class="lb-privacy" href=url target="_blank" rel="noopener">
                    {label}<span class="lb-visually-hidden">{format!(" {}", s.text(Key::NewTab))}</span>
                </a>
            }
        });
        let consent_id = format!("{id}-consent");
        let error_id = format!("{id}-consent-error");
        let text = c.text;
        if !c.checkbox {
            return Either::Left(view! { <p class="lb-consent lb-hint" id=consent_id>{text}{privacy}</p> });
        }
        Either::Right(view! {
            <div class="lb-consent" class:lb-field--error=move || !s.hides(consent_error)()>
                <p class="lb-error" id=error_id.clone() hidden=s.hides(consent_error)>
                    <span class="lb-visually-hidden">{error_prefix.clone()}</span>
                    {s.shows(consent_error)}
                </p>
                <div class="lb-checkbox">
                    <input type="checkbox" class="lb-checkbox-input" id=consent_id.clone() name="consent"
                        aria-describedby=move || (!s.hides(consent_error)()).then(|| error_id.clone())
                        aria-invalid=move || if s.hides(consent_error)() { "false" } else { "true" }
                        node_ref=s.consent_box
                        prop:checked=move || state.with(|st| st.consented)
                        on:change=move |ev| s.dispatch(Event::ConsentToggled(event_target_checked(&ev)))/>
                    <label class="lb-checkbox-label" for=consent_id>{text}{privacy}</label>
                </div>
            </div>
        })
    });

    view! {
        // The slot's language, so screen readers use the right voice when it differs from the page's.
        <div class=root_class part="letterbox-root" lang=lang>
            <div class="lb-remembered" part="letterbox-remembered" hidden=s.hides(remembered_all)>
                <p class="lb-remembered-text">{s.shows(remembered_all)}</p>
            </div>
            <form class="lb-form" part="letterbox-form" novalidate=true
                hidden=move || !s.hides(success_title)() || !s.hides(remembered_all)() || !s.hides(queued)()
                on:submit=move |ev| { ev.prevent_default(); submit(); }>
                <div class="lb-summary" part="letterbox-error-summary" role="alert" tabindex="-1"
                    aria-labelledby=summary_labelledby node_ref=s.summary
                    hidden=move || s.screen.with(|v| !v.has_errors())>
                    <h2 class="lb-summary-title" id=summary_title_id>{s.text(Key::ErrorSummaryTitle)}</h2>
                    <ul class="lb-summary-list">
                        <li hidden=s.hides(news_error)>
                            <a href=format!("#{id}-nl-0") on:click=move |ev| { ev.prevent_default(); focus_first_offered(s.fieldset); }>
                                {s.shows(news_error)}
                            </a>
                        </li>
                        <li hidden=s.hides(consent_error)>
                            <a href=format!("#{id}-consent") on:click=move |ev| { ev.prevent_default(); focus(s.consent_box); }>
                                {s.shows(consent_error)}
                            </a>
                        </li>
                        <li hidden=s.hides(email_error)>
                            <a href=format!("#{email_id}") on:click=move |ev| { ev.prevent_default(); focus(s.email_input); }>
                                {s.shows(email_error)}
                            </a>
                        </li>
                    </ul>
                </div>
                <div class="lb-failure" part="letterbox-failure"
                    hidden=s.hides(failure)>
                    <h2 class="lb-result-title" id=failure_title_id tabindex="-1" node_ref=s.failure_heading>
                        {s.text(Key::FailureTitle)}
                    </h2>
                    <p class="lb-failure-reason">{s.shows(failure)}</p>
                    <button type="button" class="lb-button lb-button--secondary" part="letterbox-retry"
                        on:click=move |_| submit()>
                        {s.text(Key::TryAgain)}
                    </button>
                </div>
                <p class="lb-remembered-note" hidden=s.hides(remembered_some)>{s.shows(remembered_some)}</p>
                {newsletters}
                {consent}
                <div class="lb-field" class:lb-field--error=move || !s.hides(email_error)()>
                    <label class="lb-label" for=email_id.clone()>{s.text(Key::EmailLabel)}</label>
                    <div class="lb-hint" id=email_hint_id.clone()>{email_hint}</div>
                    <p class="lb-error" id=email_error_id.clone() hidden=s.hides(email_error)>
                        <span class="lb-visually-hidden">{error_prefix}</span>
                        {s.shows(email_error)}
                    </p>
                    <div class="lb-inline">
                        <input type="email" class="lb-input" part="letterbox-email" id=email_id.clone() name="email"
                            autocomplete="email" spellcheck="false" autocapitalize="off"
                            aria-describedby=described(email_hint_id, email_error_id, email_error)
                            aria-invalid=move || if s.hides(email_error)() { "false" } else { "true" }
                            node_ref=s.email_input
                            prop:value=move || state.with(|st| st.email.clone())
                            on:input=move |ev| s.dispatch(Event::EmailEdited(event_target_value(&ev)))
                            on:change=move |ev| s.dispatch(Event::EmailEdited(event_target_value(&ev)))
                            on:blur=move |_| s.dispatch(Event::EmailLeft)/>
                        // A consent statement is what pressing the button agrees to: read with it.
                        <button type="submit" class="lb-button" part="letterbox-submit"
                            aria-describedby=statement>{s.text(Key::Submit)}</button>
                    </div>
                    <div class="lb-suggestion" aria-live="polite">
                        <p class="lb-suggestion-text" hidden=s.hides(suggestion)>{s.shows(suggestion)}</p>
                        <button type="button" class="lb-button lb-button--link" part="letterbox-suggestion"
                            hidden=s.hides(suggestion)
                            on:click=move |_| { s.dispatch(Event::SuggestionAccepted); focus(s.email_input); }>
                            {s.shows(suggestion_apply)}
                        </button>
                    </div>
                </div>
                // A honeypot: off-screen, skipped by keyboards (tabindex -1), screen readers
                // (aria-hidden) and autofill (autocomplete off, a name no profile fills).
                <div class="lb-hp" aria-hidden="true">
                    <label for=format!("{id}-hp")>"Leave this empty"</label>
                    <input type="text" id=format!("{id}-hp") name="lb-website" tabindex="-1" autocomplete="off"
                        node_ref=s.honeypot/>
                </div>
                <div class="lb-visually-hidden lb-status" role="status" aria-live="polite">{s.shows(status)}</div>
            </form>
            <div class="lb-queued" part="letterbox-queued" hidden=s.hides(queued)>
                <h2 class="lb-result-title" tabindex="-1" node_ref=s.queued_heading>{s.text(Key::QueuedTitle)}</h2>
                <p class="lb-queued-body">{s.shows(queued)}</p>
                <button type="button" class="lb-button lb-button--secondary" part="letterbox-withdraw"
                    on:click=move |_| s.dispatch(Event::Withdrawn)>
                    {s.text(Key::Withdraw)}
                </button>
            </div>
            <div class="lb-success" part="letterbox-success" hidden=s.hides(success_title)
                data-outcome=move || s.screen.with(|v| v.success.as_ref().map_or("", |t| t.outcome))>
                <h2 class="lb-result-title" tabindex="-1" node_ref=s.success_heading>{s.shows(success_title)}</h2>
                <p class="lb-success-body">{s.shows(success_body)}</p>
            </div>
        </div>
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
fn focus_first_offered(fieldset: NodeRef<html::Fieldset>) {
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

fn focus(target: NodeRef<html::Input>) {
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
