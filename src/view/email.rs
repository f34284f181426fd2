//! The email field: visible label, a hint saying what the address is for, the inline error, the
//! submit button beside it, and the typo suggestion with its one-tap fix (a warning, never a
//! block). Also the honeypot, which people never see or fill.

use leptos::prelude::*;
use letterbox_core::messages::Key;
use letterbox_core::slot::submission::Event;

use super::slot::{focus, part, Slot};

/// The email field and the submit button; `statement` is the id of a consent statement the
/// button is described by (signing up is agreeing to it).
#[component]
pub fn EmailField(s: Slot, email_id: String, statement: Option<String>) -> impl IntoView {
    let hint_id = format!("{email_id}-hint");
    let error_id = format!("{email_id}-error");
    // Each slot's field names what it signs up to (visually hidden), not only "Email address".
    let label_for = s.config.with_value(|c| {
        c.texts
            .format(Key::EmailLabelFor, &[("subject", &c.subject())])
    });
    let hint = s.config.with_value(|c| {
        if c.is_single() {
            c.texts.format(
                Key::EmailHintSingle,
                &[("newsletter", &c.texts.join_names(&[&c.newsletters[0].name]))],
            )
        } else {
            c.texts.text(Key::EmailHint).to_owned()
        }
    });
    view! {
        <div class="lb-field" class:lb-field--error=move || !s.hides(part::email_error)()>
            <label class="lb-label" part="letterbox-label" for=email_id.clone()>
                {s.text(Key::EmailLabel)}<span class="lb-visually-hidden">{label_for}</span>
            </label>
            <div class="lb-hint" part="letterbox-hint" id=hint_id.clone()>{hint}</div>
            <p class="lb-error" part="letterbox-error" id=error_id.clone() hidden=s.hides(part::email_error)>
                <span class="lb-visually-hidden">{s.error_prefix()}</span>
                {s.shows(part::email_error)}
            </p>
            <div class="lb-inline">
                <input type="email" class="lb-input" part="letterbox-email" id=email_id name="email"
                    autocomplete="email" spellcheck="false" autocapitalize="off"
                    aria-describedby=s.described(hint_id, error_id, part::email_error)
                    aria-invalid=move || if s.hides(part::email_error)() { "false" } else { "true" }
                    node_ref=s.email_input
                    prop:value=move || s.state.with(|st| st.email.clone())
                    on:input=move |ev| s.dispatch(Event::EmailEdited(event_target_value(&ev)))
                    on:change=move |ev| s.dispatch(Event::EmailEdited(event_target_value(&ev)))
                    on:blur=move |_| s.dispatch(Event::EmailLeft)/>
                // A consent statement is what pressing the button agrees to: read with it.
                // While sending it says so (a static label, no animation) and repeat submits
                // are ignored by core; it is never disabled.
                <button type="submit" class="lb-button" part="letterbox-submit"
                    class:lb-button--busy=move || s.screen.with(|v| v.busy)
                    aria-describedby=statement>
                    {move || s.screen.with(|v| v.submit.clone())}
                    <span class="lb-visually-hidden">{move || s.screen.with(|v| v.submit_for.clone())}</span>
                </button>
            </div>
            <p class="lb-hint lb-retry-note" part="letterbox-retry-note" hidden=s.hides(part::retry_note)>{s.shows(part::retry_note)}</p>
            <div class="lb-suggestion" aria-live="polite">
                // The changed part of the address is marked for the eye; a screen reader reads
                // the sentence whole, the address as one word, from the hidden copy.
                <p class="lb-suggestion-text" hidden=s.hides(part::suggestion)>
                    <span aria-hidden="true">{s.shows(part::suggestion_before)}<mark part="letterbox-suggestion-change">{s.shows(part::suggestion_changed)}</mark>{s.shows(part::suggestion_after)}</span>
                    <span class="lb-visually-hidden">{s.shows(part::suggestion)}</span>
                </p>
                <button type="button" class="lb-button lb-button--link" part="letterbox-suggestion"
                    hidden=s.hides(part::suggestion)
                    on:click=move |_| { s.dispatch(Event::SuggestionAccepted); focus(s.email_input); }>
                    {s.shows(part::suggestion_apply)}
                </button>
            </div>
        </div>
    }
}

/// A honeypot: off-screen, skipped by keyboards (tabindex -1), screen readers (aria-hidden) and
/// autofill (autocomplete off, a name no profile fills).
#[component]
pub fn Honeypot(s: Slot, id: String) -> impl IntoView {
    view! {
        <div class="lb-hp" aria-hidden="true">
            <label for=format!("{id}-hp")>"Leave this empty"</label>
            <input type="text" id=format!("{id}-hp") name="lb-website" tabindex="-1" autocomplete="off"
                node_ref=s.honeypot/>
        </div>
    }
}
