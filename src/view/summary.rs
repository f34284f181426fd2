//! The error summary (after the GOV.UK pattern): "There is a problem" at the top of the form,
//! focused after a submit with errors, with a link to each field in error that moves focus to it
//! (links resolve inside the shadow root, so they are handled here).

use leptos::prelude::*;
use letterbox_core::messages::Key;

use super::slot::{focus, focus_first_offered, part, Slot};

/// The summary; `email_id` is the email field's id.
#[component]
pub fn ErrorSummary(s: Slot, id: String, email_id: String) -> impl IntoView {
    let title_id = format!("{id}-summary-title");
    let labelledby = title_id.clone();
    view! {
        // Focused after the submit, which reads it; not also role=alert (read twice). A form with
        // one field has none (core's `Screen::summary`): its inline error is enough.
        <div class="lb-summary" part="letterbox-error-summary" tabindex="-1"
            role="group" aria-labelledby=labelledby node_ref=s.summary
            hidden=move || s.screen.with(|v| !v.summary)>
            {view! { <h2 class="lb-summary-title" part="letterbox-heading" id=title_id>{s.text(Key::ErrorSummaryTitle)}</h2> }.attr("aria-level", s.level(true))}
            <ul class="lb-summary-list">
                <li hidden=s.hides(part::news_error)>
                    <a href=format!("#{id}-nl-0") on:click=move |ev| { ev.prevent_default(); focus_first_offered(s.fieldset); }>
                        {s.shows(part::news_error)}
                    </a>
                </li>
                <li hidden=s.hides(part::consent_error)>
                    <a href=format!("#{id}-consent") on:click=move |ev| { ev.prevent_default(); focus(s.consent_box); }>
                        {s.shows(part::consent_error)}
                    </a>
                </li>
                <super::fields::FieldLinks s id=id.clone()/>
                <li hidden=s.hides(part::email_error)>
                    <a href=format!("#{email_id}") on:click=move |ev| { ev.prevent_default(); focus(s.email_input); }>
                        {s.shows(part::email_error)}
                    </a>
                </li>
            </ul>
        </div>
    }
}
