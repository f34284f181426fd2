//! The panels that replace or accompany the form: the failure (with Try again), the signup kept
//! for later (with "Do not send it"), the success, and the notes about newsletters this browser
//! already signed up to. Their headings take focus only after the reader's own action.

use leptos::prelude::*;
use letterbox_core::messages::Key;
use letterbox_core::slot::submission::Event;

use super::slot::{part, Slot};

/// The failure panel inside the form: what went wrong and Try again.
#[component]
pub fn FailurePanel(s: Slot, id: String) -> impl IntoView {
    view! {
        <div class="lb-failure" part="letterbox-failure" hidden=s.hides(part::failure)>
            <h2 class="lb-result-title" id=format!("{id}-failure-title") tabindex="-1" node_ref=s.failure_heading>
                {s.text(Key::FailureTitle)}
            </h2>
            <p class="lb-failure-reason">{s.shows(part::failure)}</p>
            <button type="button" class="lb-button lb-button--secondary" part="letterbox-retry"
                on:click=move |_| s.submit()>
                {s.text(Key::TryAgain)}
            </button>
        </div>
    }
}

/// Every newsletter offered is already subscribed in this browser.
#[component]
pub fn RememberedPanel(s: Slot) -> impl IntoView {
    view! {
        <div class="lb-remembered" part="letterbox-remembered" hidden=s.hides(part::remembered_all)>
            <p class="lb-remembered-text">{s.shows(part::remembered_all)}</p>
        </div>
    }
}

/// Some of the newsletters offered are already subscribed: a note above the choice.
#[component]
pub fn RememberedNote(s: Slot) -> impl IntoView {
    view! {
        <p class="lb-remembered-note" hidden=s.hides(part::remembered_some)>{s.shows(part::remembered_some)}</p>
    }
}

/// The signup waits in the browser to be sent; the reader may withdraw it.
#[component]
pub fn QueuedPanel(s: Slot) -> impl IntoView {
    view! {
        <div class="lb-queued" part="letterbox-queued" hidden=s.hides(part::queued)>
            <h2 class="lb-result-title" tabindex="-1" node_ref=s.queued_heading>{s.text(Key::QueuedTitle)}</h2>
            <p class="lb-queued-body">{s.shows(part::queued)}</p>
            <button type="button" class="lb-button lb-button--secondary" part="letterbox-withdraw"
                on:click=move |_| s.dispatch(Event::Withdrawn)>
                {s.text(Key::Withdraw)}
            </button>
        </div>
    }
}

/// The success panel that replaces the form.
#[component]
pub fn SuccessPanel(s: Slot) -> impl IntoView {
    view! {
        <div class="lb-success" part="letterbox-success" hidden=s.hides(part::success_title)
            data-outcome=move || s.screen.with(|v| v.success.as_ref().map_or("", |t| t.outcome))>
            <h2 class="lb-result-title" tabindex="-1" node_ref=s.success_heading>{s.shows(part::success_title)}</h2>
            <p class="lb-success-body">{s.shows(part::success_body)}</p>
        </div>
    }
}
