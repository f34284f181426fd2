//! The consent the slot asks for: a box to tick (with its own inline error), or a statement
//! that signing up is agreeing. Either carries the site's exact text and an optional privacy
//! link that opens in a new tab and says so. It stands before the email field, so the submit
//! button stays the form's last control.

use leptos::either::Either;
use leptos::prelude::*;
use letterbox_core::config::ConsentConfig;
use letterbox_core::messages::Key;
use letterbox_core::slot::submission::Event;

use super::slot::{part, Slot};

/// The consent box or statement for `consent`; its element id is `{id}-consent`.
#[component]
pub fn Consent(s: Slot, id: String, consent: ConsentConfig) -> impl IntoView {
    let privacy = consent.privacy_url.map(|url| {
        let label = consent
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
    let text = consent.text;
    if !consent.checkbox {
        return Either::Left(
            view! { <p class="lb-consent lb-hint" part="letterbox-consent" id=consent_id>{text}{privacy}</p> },
        );
    }
    Either::Right(view! {
        <div class="lb-consent" part="letterbox-consent" class:lb-field--error=move || !s.hides(part::consent_error)()>
            <p class="lb-error" part="letterbox-error" id=error_id.clone() hidden=s.hides(part::consent_error)>
                <span class="lb-visually-hidden">{s.error_prefix()}</span>
                {s.shows(part::consent_error)}
            </p>
            <div class="lb-checkbox">
                <input type="checkbox" class="lb-checkbox-input" part="letterbox-checkbox" id=consent_id.clone() name="consent"
                    aria-describedby=move || (!s.hides(part::consent_error)()).then(|| error_id.clone())
                    aria-invalid=move || if s.hides(part::consent_error)() { "false" } else { "true" }
                    node_ref=s.consent_box
                    prop:checked=move || s.state.with(|st| st.consented)
                    on:change=move |ev| s.dispatch(Event::ConsentToggled(event_target_checked(&ev)))/>
                <label class="lb-checkbox-label" part="letterbox-checkbox-label" for=consent_id>{text}</label>
            </div>
            // The link stands outside the label: the box's name is the site's consent text only.
            {privacy.map(|p| view! { <p class="lb-privacy-line">{p}</p> })}
        </div>
    })
}
