//! Separate consent choices (`consent.choices`: an upgraded Mailchimp embed's GDPR marketing
//! permissions): a group titled by the consent text, one unticked box per choice in its exact
//! wording, each optional as in the embed. Which are ticked, what is sent and what the consent
//! record says are decided in core.

use leptos::prelude::*;
use letterbox_core::config::ConsentConfig;
use letterbox_core::messages::Key;
use letterbox_core::slot::submission::Event;

use super::slot::Slot;

/// The group of choices; element ids `{id}-perm-{i}`.
#[component]
pub fn Permissions(s: Slot, id: String, consent: ConsentConfig) -> impl IntoView {
    let boxes = consent
        .choices
        .into_iter()
        .enumerate()
        .map(|(i, (_, _, text))| {
            let box_id = format!("{id}-perm-{i}");
            view! {
                <div class="lb-checkbox">
                    <input type="checkbox" class="lb-checkbox-input" id=box_id.clone()
                        prop:checked=move || s.state.with(|st| st.permissions.get(i).copied().unwrap_or(false))
                        on:change=move |ev| s.dispatch(Event::PermissionToggled { index: i, ticked: event_target_checked(&ev) })/>
                    <label class="lb-checkbox-label" for=box_id>{text}</label>
                </div>
            }
        })
        .collect_view();
    let privacy = consent.privacy_url.map(|url| {
        view! { <a class="lb-privacy" href=url target="_blank" rel="noopener">{consent.privacy_label.unwrap_or_else(|| s.text(Key::PrivacyLink))}</a> }
    });
    view! {
        <fieldset class="lb-fieldset lb-consent lb-permissions">
            <legend class="lb-legend">{consent.text}</legend>
            {boxes}
            {privacy}
        </fieldset>
    }
}
