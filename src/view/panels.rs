//! The panels that replace or accompany the form: the failure (its wait counting down), the signup kept
//! for later (with "Do not send it"), the success, and the notes about newsletters this browser
//! already signed up to. Their headings take focus only after the reader's own action.

use leptos::prelude::*;
use leptos::prelude::IntervalHandle;
use letterbox_core::messages::Key;
use letterbox_core::slot::screen::rate_limited_text;
use letterbox_core::slot::submission::Event;

use super::slot::{part, Slot};

/// The failure panel inside the form: what went wrong, in neutral colours (it is not the
/// reader's mistake). It has no button of its own: the form's one button says "Try again" when
/// sending again may help (core's `Screen::submit`). A server's wait counts down, live.
#[component]
pub fn FailurePanel(s: Slot, id: String) -> impl IntoView {
    let wait = Memo::new(move |_| s.screen.with(|v| v.wait_secs));
    let left = RwSignal::new(0u32);
    let ticking = StoredValue::new(None::<IntervalHandle>);
    let stop = move || {
        if let Some(h) = ticking.try_update_value(Option::take).flatten() {
            h.clear();
        }
    };
    Effect::new(move |_| {
        stop();
        let Some(secs) = wait.get() else { return };
        let started = js_sys::Date::now();
        left.set(secs);
        let handle = set_interval_with_handle(
            move || {
                let gone = ((js_sys::Date::now() - started) / 1000.0) as u32;
                let rest = secs.saturating_sub(gone);
                if left.try_set(rest).is_some() || rest == 0 {
                    stop();
                }
            },
            std::time::Duration::from_secs(1),
        )
        .ok();
        ticking.set_value(handle);
    });
    on_cleanup(stop);
    let reason = move || match wait.get() {
        Some(secs) => s
            .config
            .with_value(|c| rate_limited_text(&c.texts, secs, left.get())),
        None => s.shows(part::failure)(),
    };
    view! {
        <div class="lb-failure" part="letterbox-failure" hidden=s.hides(part::failure)>
            <h2 class="lb-result-title" part="letterbox-heading" id=format!("{id}-failure-title") tabindex="-1" node_ref=s.failure_heading>
                {s.text(Key::FailureTitle)}
            </h2>
            <p class="lb-failure-reason">{reason}</p>
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
pub fn QueuedPanel(s: Slot) -> impl IntoView {
    view! {
        <div class="lb-queued" part="letterbox-queued" hidden=s.hides(part::queued)>
            <h2 class="lb-result-title" part="letterbox-heading" tabindex="-1" node_ref=s.queued_heading>{s.text(Key::QueuedTitle)}</h2>
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
            <h2 class="lb-result-title" part="letterbox-heading" tabindex="-1" node_ref=s.success_heading>{s.shows(part::success_title)}</h2>
            <p class="lb-success-body">{s.shows(part::success_body)}</p>
        </div>
    }
}
