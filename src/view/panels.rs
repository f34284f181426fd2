//! The panels that replace or accompany the form: the failure (its wait counting down), the signup kept
//! for later (with "Do not send it"), the success, and the notes about newsletters this browser
//! already signed up to. Their headings take focus only after the reader's own action.

use leptos::prelude::*;
use letterbox_core::messages::Key;
use letterbox_core::slot::submission::Event;

use super::slot::{part, Slot};

/// The failure panel inside the form: what went wrong, in neutral colours (it is not the
/// reader's mistake). It has no button of its own: the form's one button says "Try again" when
/// sending again may help (core's `Screen::submit`). A server's wait counts down, live.
#[component]
pub fn FailurePanel(s: Slot, id: String) -> impl IntoView {
    view! {
        <div class="lb-failure" part="letterbox-failure" hidden=s.hides(part::failure)>
            {view! { <h2 class="lb-result-title" part="letterbox-heading" id=format!("{id}-failure-title") tabindex="-1" node_ref=s.failure_heading
                aria-describedby=format!("{id}-failure-reason")>
                {s.text(Key::FailureTitle)}
            </h2> }.attr("aria-level", s.level(true))}
            <p class="lb-failure-reason" id=format!("{id}-failure-reason")>{s.shows(part::failure)}</p>
        </div>
    }
}

/// The note above the form after the reader withdrew a signup that waited to be sent.
#[component]
pub fn WithdrawnNote(s: Slot) -> impl IntoView {
    view! {
        <p class="lb-withdrawn-note" part="letterbox-note" hidden=s.hides(part::withdrawn)>{s.shows(part::withdrawn)}</p>
    }
}

/// The slot's own image, title and intro (each only if the site configured it), above the
/// form; hidden where a panel replaces the form.
#[component]
pub fn Heading(s: Slot, id: String) -> impl IntoView {
    let (title, intro, image) = s
        .config
        .with_value(|c| (c.title.clone(), c.intro.clone(), c.image.clone()));
    if title.is_none() && intro.is_none() && image.is_none() {
        return None;
    }
    Some(view! {
        <div class="lb-heading" hidden=s.hides(part::heading)>
            {image.map(|src| view! { <img class="lb-image" part="letterbox-image" src=src alt=""/> })}
            {title.map(|t| view! {
                {view! { <h2 class="lb-title" part="letterbox-title" id=format!("{id}-title")>{t}</h2> }.attr("aria-level", s.level(false))}
            })}
            {intro.map(|t| view! { <p class="lb-intro" part="letterbox-intro">{t}</p> })}
        </div>
    })
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
        <p class="lb-remembered-note" part="letterbox-note" hidden=s.hides(part::remembered_some)>{s.shows(part::remembered_some)}</p>
    }
}

/// The signup waits in the browser to be sent; the reader may withdraw it.
#[component]
pub fn QueuedPanel(s: Slot, id: String) -> impl IntoView {
    view! {
        <div class="lb-queued" part="letterbox-queued" hidden=s.hides(part::queued)>
            {view! { <h2 class="lb-result-title" part="letterbox-heading" tabindex="-1" node_ref=s.queued_heading
                aria-describedby=format!("{id}-queued-body")>{s.text(Key::QueuedTitle)}</h2> }.attr("aria-level", s.level(false))}
            <p class="lb-queued-body" id=format!("{id}-queued-body")>{s.shows(part::queued)}</p>
            <button type="button" class="lb-button lb-button--secondary" part="letterbox-withdraw"
                on:click=move |_| s.dispatch(Event::Withdrawn)>
                {s.text(Key::Withdraw)}
            </button>
        </div>
    }
}

/// The success panel that replaces the form.
#[component]
pub fn SuccessPanel(s: Slot, id: String) -> impl IntoView {
    view! {
        <div class="lb-success" part="letterbox-success" hidden=s.hides(part::success_title)
            data-outcome=move || s.screen.with(|v| v.success.as_ref().map_or("", |t| t.outcome))>
            // Focused after the reader's submit; the address and newsletters are read with it.
            {view! { <h2 class="lb-result-title" part="letterbox-heading" tabindex="-1" node_ref=s.success_heading
                aria-describedby=format!("{id}-success-body")>{s.shows(part::success_title)}</h2> }.attr("aria-level", s.level(false))}
            <p class="lb-success-body" id=format!("{id}-success-body")>{s.shows(part::success_body)}</p>
        </div>
    }
}
