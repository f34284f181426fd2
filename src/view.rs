//! The Leptos components of one slot. They render [`letterbox_core::submission::State`] and turn
//! reader actions into [`Event`]s; they hold no rules of their own.
//!
//! Accessibility follows the design guide: visible labels and hints, an error summary that takes
//! focus and links to each field, inline errors tied by `aria-describedby` (hint first, then
//! error) and `aria-invalid`, a polite live region present from the first render, and a result
//! panel whose heading takes focus only after the reader's own submit.

use std::time::Duration;

use leptos::html;
use leptos::prelude::*;
use letterbox_core::config::{Config, ConfigError};
use letterbox_core::messages::{Catalogue, Key};
use letterbox_core::submission::{
    transition, Context, Effect, EmailProblem, Event, Failure, NewsletterProblem, State, Status,
    Success,
};
use web_sys::HtmlElement;

use crate::idn::BrowserIdn;
use crate::transport;

/// Renders a slot into `host`: the form for a good configuration, a clear error panel for a
/// broken one. `id` prefixes every element id of this instance; `slot` is sent with signups.
pub fn render(host: HtmlElement, config: Result<Config, ConfigError>, id: String, slot: String) {
    match config {
        Ok(config) => {
            let handle =
                leptos::mount::mount_to(host, move || view! { <Widget config id slot_name=slot/> });
            handle.forget();
        }
        Err(error) => {
            let lang = crate_lang_of(&host);
            let texts = Catalogue::new(lang, Default::default());
            let handle =
                leptos::mount::mount_to(host, move || view! { <ConfigProblem texts error/> });
            handle.forget();
        }
    }
}

fn crate_lang_of(host: &HtmlElement) -> letterbox_core::messages::Lang {
    let data = host.get_attribute("data-lang");
    let nearest = host
        .closest("[lang]")
        .ok()
        .flatten()
        .and_then(|e| e.get_attribute("lang"));
    letterbox_core::config::resolve_lang(data.as_deref(), None, nearest.as_deref())
}

/// Shown instead of the form when the slot's configuration cannot be used.
#[component]
fn ConfigProblem(texts: Catalogue, error: ConfigError) -> impl IntoView {
    view! {
        <div class="lb-root lb-config-error" part="letterbox-config-error">
            <p class="lb-result-title">{texts.text(Key::ConfigErrorTitle).to_owned()}</p>
            <p class="lb-config-detail">{format!("Letterbox configuration: {error}")}</p>
        </div>
    }
}

/// Everything one slot needs to dispatch events; cheap to copy into closures.
#[derive(Clone, Copy)]
struct Slot {
    state: RwSignal<State>,
    config: StoredValue<Config>,
    slot: StoredValue<String>,
    summary: NodeRef<html::Div>,
    result_heading: NodeRef<html::H2>,
    email_input: NodeRef<html::Input>,
    first_checkbox: NodeRef<html::Input>,
}

impl Slot {
    fn dispatch(self, event: Event) {
        let page = web_sys::window()
            .and_then(|w| w.location().href().ok())
            .unwrap_or_default();
        let current = self.state.get_untracked();
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
        self.state.set(next);
        for effect in effects {
            match effect {
                Effect::Send(attempt) => {
                    let endpoint = self.config.with_value(|c| c.endpoint.clone());
                    leptos::task::spawn_local(async move {
                        let outcome = transport::send(&endpoint, &attempt).await;
                        self.dispatch(Event::Answered(outcome));
                    });
                }
                Effect::FocusErrorSummary => {
                    let summary = self.summary;
                    focus_later(move || summary.get_untracked().map(Into::into));
                }
                Effect::FocusResult => {
                    let heading = self.result_heading;
                    focus_later(move || heading.get_untracked().map(Into::into));
                }
            }
        }
    }

    fn texts<R>(self, f: impl FnOnce(&Catalogue) -> R) -> R {
        self.config.with_value(|c| f(&c.texts))
    }

    fn text(self, key: Key) -> String {
        self.texts(|t| t.text(key).to_owned())
    }
}

fn email_problem_text(texts: &Catalogue, problem: &EmailProblem) -> String {
    match problem {
        EmailProblem::Rule(e) => texts.text(Key::for_email_error(*e)).to_owned(),
        EmailProblem::Server(message) => message.clone(),
    }
}

fn newsletter_problem_text(texts: &Catalogue, problem: &NewsletterProblem) -> String {
    match problem {
        NewsletterProblem::NoneChosen => texts.text(Key::NewslettersNone).to_owned(),
        NewsletterProblem::Server(message) => message.clone(),
    }
}

/// One signup slot.
#[component]
fn Widget(config: Config, id: String, slot_name: String) -> impl IntoView {
    let state = RwSignal::new(State::new(&config));
    let single = config.is_single();
    let s = Slot {
        state,
        config: StoredValue::new(config),
        slot: StoredValue::new(slot_name),
        summary: NodeRef::new(),
        result_heading: NodeRef::new(),
        email_input: NodeRef::new(),
        first_checkbox: NodeRef::new(),
    };
    let succeeded = move || matches!(state.with(|st| st.status.clone()), Status::Succeeded(_));
    let root_class = if single {
        "lb-root lb-root--single"
    } else {
        "lb-root"
    };

    view! {
        <div class=root_class part="letterbox-root">
            <Show when=succeeded fallback=move || view! { <SignupForm s id=id.clone() single/> }>
                <SuccessPanel s/>
            </Show>
        </div>
    }
}

#[component]
fn SignupForm(s: Slot, id: String, single: bool) -> impl IntoView {
    let state = s.state;
    let email_id = format!("{id}-email");
    let email_hint_id = format!("{id}-email-hint");
    let email_error_id = format!("{id}-email-error");
    let news_id = format!("{id}-newsletters");
    let news_hint_id = format!("{id}-newsletters-hint");
    let news_error_id = format!("{id}-newsletters-error");
    let summary_title_id = format!("{id}-summary-title");
    let result_title_id = format!("{id}-result-title");

    let email_error = move || state.with(|st| st.errors.email.clone());
    let news_error = move || state.with(|st| st.errors.newsletters.clone());
    let has_errors = move || state.with(|st| !st.errors.is_empty());

    let email_hint = s.texts(|t| {
        if single {
            s.config.with_value(|c| {
                t.format(
                    Key::EmailHintSingle,
                    &[("newsletter", &c.newsletters[0].name)],
                )
            })
        } else {
            t.text(Key::EmailHint).to_owned()
        }
    });

    let describedby = {
        let (hint, error) = (email_hint_id.clone(), email_error_id.clone());
        move || {
            if email_error().is_some() {
                format!("{hint} {error}")
            } else {
                hint.clone()
            }
        }
    };
    let news_describedby = {
        let (hint, error) = (news_hint_id.clone(), news_error_id.clone());
        move || {
            if news_error().is_some() {
                format!("{hint} {error}")
            } else {
                hint.clone()
            }
        }
    };

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        s.dispatch(Event::Submitted {
            fresh_key: transport::new_key(),
        });
    };
    let on_email =
        move |ev: leptos::ev::Event| s.dispatch(Event::EmailEdited(event_target_value(&ev)));

    let summary = {
        let summary_title_id = summary_title_id.clone();
        move || {
            has_errors().then(|| {
                let email_link = email_error().map(|p| {
                    let text = s.texts(|t| email_problem_text(t, &p));
                    view! { <li><a href="#" on:click=move |ev| { ev.prevent_default(); focus(s.email_input); }>{text}</a></li> }
                });
                let news_link = news_error().map(|p| {
                    let text = s.texts(|t| newsletter_problem_text(t, &p));
                    view! { <li><a href="#" on:click=move |ev| { ev.prevent_default(); focus(s.first_checkbox); }>{text}</a></li> }
                });
                view! {
                    <div class="lb-summary" part="letterbox-error-summary" role="alert" tabindex="-1"
                        aria-labelledby=summary_title_id.clone() node_ref=s.summary>
                        <h2 class="lb-summary-title" id=summary_title_id.clone()>{s.text(Key::ErrorSummaryTitle)}</h2>
                        <ul class="lb-summary-list">{news_link}{email_link}</ul>
                    </div>
                }
            })
        }
    };

    let failure = {
        let result_title_id = result_title_id.clone();
        move || {
            let Status::Failed(failure) = state.with(|st| st.status.clone()) else {
                return None;
            };
            let reason = s.texts(|t| match &failure {
                Failure::Network => t.text(Key::FailureNetwork).to_owned(),
                Failure::Timeout => t.text(Key::FailureTimeout).to_owned(),
                Failure::Server => t.text(Key::FailureServer).to_owned(),
                Failure::RateLimited(Some(secs)) => {
                    t.format(Key::FailureRateLimited, &[("seconds", &secs.to_string())])
                }
                Failure::RateLimited(None) => t.text(Key::FailureRateLimitedNoWait).to_owned(),
                Failure::Rejected(Some(message)) => message.clone(),
                Failure::Rejected(None) => t.text(Key::FailureRejected).to_owned(),
            });
            Some(view! {
                <div class="lb-failure" part="letterbox-failure" aria-labelledby=result_title_id.clone()>
                    <h2 class="lb-result-title" id=result_title_id.clone() tabindex="-1" node_ref=s.result_heading>
                        {s.text(Key::FailureTitle)}
                    </h2>
                    <p class="lb-failure-reason">{reason}</p>
                    <button type="button" class="lb-button lb-button--secondary" part="letterbox-retry"
                        on:click=move |_| s.dispatch(Event::Submitted { fresh_key: transport::new_key() })>
                        {s.text(Key::TryAgain)}
                    </button>
                </div>
            })
        }
    };

    let newsletters = (!single).then(|| {
        let items = s.config.with_value(|c| c.newsletters.clone());
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
                let node_ref = if i == 0 { s.first_checkbox } else { NodeRef::new() };
                let frequency = n.frequency.clone().map(|f| view! { <span class="lb-frequency">{f}</span> });
                let hint = n.description.clone().map(|d| view! { <div class="lb-hint lb-item-hint" id=hint_id.clone()>{d}</div> });
                let has_hint = n.description.is_some();
                view! {
                    <div class="lb-checkbox">
                        <input type="checkbox" class="lb-checkbox-input" id=box_id.clone() name="newsletters"
                            value=n.id.clone() node_ref=node_ref
                            aria-describedby=has_hint.then(|| hint_id.clone())
                            prop:checked=checked
                            on:change=move |ev| s.dispatch(Event::NewsletterToggled { id: nid.clone(), checked: event_target_checked(&ev) })/>
                        <label class="lb-checkbox-label" for=box_id>
                            <span class="lb-name">{n.name.clone()}</span>
                            {frequency}
                        </label>
                        {hint}
                    </div>
                }
            })
            .collect_view();
        let news_error_id = news_error_id.clone();
        view! {
            <fieldset class="lb-fieldset" class:lb-fieldset--error=move || news_error().is_some()
                id=news_id.clone() aria-describedby=news_describedby>
                <legend class="lb-legend">{s.text(Key::Legend)}</legend>
                <div class="lb-hint" id=news_hint_id.clone()>{s.text(Key::LegendHint)}</div>
                {move || news_error().map(|p| view! {
                    <p class="lb-error" id=news_error_id.clone()>
                        <span class="lb-visually-hidden">{s.text(Key::ErrorPrefix)}" "</span>
                        {s.texts(|t| newsletter_problem_text(t, &p))}
                    </p>
                })}
                <div class="lb-checkboxes">{list}</div>
            </fieldset>
        }
    });

    let suggestion = move || {
        state.with(|st| st.suggestion.clone()).map(|sug| {
            let text = s.texts(|t| t.format(Key::SuggestionText, &[("email", &sug.full)]));
            let apply = s.texts(|t| t.format(Key::SuggestionApply, &[("email", &sug.full)]));
            view! {
                <p class="lb-suggestion-text">{text}</p>
                <button type="button" class="lb-button lb-button--link" part="letterbox-suggestion"
                    on:click=move |_| { s.dispatch(Event::SuggestionAccepted); focus(s.email_input); }>
                    {apply}
                </button>
            }
        })
    };

    let status_text = move || {
        if state.with(|st| st.status == Status::Submitting) {
            s.text(Key::Sending)
        } else {
            String::new()
        }
    };

    view! {
        <form class="lb-form" part="letterbox-form" novalidate=true on:submit=on_submit>
            {summary}
            {failure}
            {newsletters}
            <div class="lb-field" class:lb-field--error=move || email_error().is_some()>
                <label class="lb-label" for=email_id.clone()>{s.text(Key::EmailLabel)}</label>
                <div class="lb-hint" id=email_hint_id.clone()>{email_hint}</div>
                {move || email_error().map(|p| view! {
                    <p class="lb-error" id=email_error_id.clone()>
                        <span class="lb-visually-hidden">{s.text(Key::ErrorPrefix)}" "</span>
                        {s.texts(|t| email_problem_text(t, &p))}
                    </p>
                })}
                <div class="lb-inline">
                    <input type="email" class="lb-input" part="letterbox-email" id=email_id name="email"
                        autocomplete="email" spellcheck="false" autocapitalize="off"
                        aria-describedby=describedby
                        aria-invalid=move || if email_error().is_some() { "true" } else { "false" }
                        node_ref=s.email_input
                        prop:value=move || state.with(|st| st.email.clone())
                        on:input=on_email
                        on:change=on_email
                        on:blur=move |_| s.dispatch(Event::EmailLeft)/>
                    <button type="submit" class="lb-button" part="letterbox-submit">{s.text(Key::Submit)}</button>
                </div>
                <div class="lb-suggestion" aria-live="polite">{suggestion}</div>
            </div>
            <div class="lb-visually-hidden lb-status" role="status" aria-live="polite">{status_text}</div>
        </form>
    }
}

#[component]
fn SuccessPanel(s: Slot) -> impl IntoView {
    let (success, email, names) = s.state.with_untracked(|st| {
        let success = match st.status {
            Status::Succeeded(kind) => kind,
            _ => Success::Subscribed,
        };
        let (email, ids) = st
            .attempt
            .as_ref()
            .map(|a| (a.request.email.clone(), a.request.newsletters.clone()))
            .unwrap_or_default();
        let names: Vec<String> = s.config.with_value(|c| {
            c.newsletters
                .iter()
                .filter(|n| ids.contains(&n.id))
                .map(|n| n.name.clone())
                .collect()
        });
        (success, email, names)
    });
    let (title, body) = match success {
        Success::PendingConfirmation => (Key::PendingTitle, Key::PendingBody),
        Success::Subscribed => (Key::SubscribedTitle, Key::SubscribedBody),
        Success::AlreadySubscribed => (Key::AlreadyTitle, Key::AlreadyBody),
    };
    let body = s.texts(|t| {
        t.format(
            body,
            &[("email", &email), ("newsletters", &t.join_list(&names))],
        )
    });
    let kind = match success {
        Success::PendingConfirmation => "pending",
        Success::Subscribed => "subscribed",
        Success::AlreadySubscribed => "already",
    };
    view! {
        <div class="lb-success" part="letterbox-success" data-outcome=kind>
            <h2 class="lb-result-title" tabindex="-1" node_ref=s.result_heading>{s.text(title)}</h2>
            <p class="lb-success-body">{body}</p>
        </div>
    }
}

/// Focuses an element once Leptos has rendered the new state (it updates the DOM after the
/// current task).
fn focus_later(target: impl FnOnce() -> Option<HtmlElement> + 'static) {
    set_timeout(
        move || {
            if let Some(el) = target() {
                let _ = el.focus();
            }
        },
        Duration::ZERO,
    );
}

fn focus(target: NodeRef<html::Input>) {
    if let Some(input) = target.get_untracked() {
        let _ = input.focus();
    }
}
