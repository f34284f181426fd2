//! The newsletter choice: a fieldset with a legend, its hint and inline error, and one checkbox
//! per newsletter (left of its label, its frequency and description as hints). Remembered
//! newsletters are hidden. A slot with one newsletter renders none of this.

use leptos::prelude::*;
use letterbox_core::messages::Key;
use letterbox_core::slot::submission::Event;

use super::slot::{part, Slot};

/// The fieldset of checkboxes; `id` prefixes its element ids.
#[component]
pub fn Newsletters(s: Slot, id: String) -> impl IntoView {
    let state = s.state;
    let hint_id = format!("{id}-newsletters-hint");
    let error_id = format!("{id}-newsletters-error");
    let items = s.config.with_value(|c| c.newsletters.clone());
    // Under the slot's title the legend is not a second heading: it is set like the email
    // field's label (still the fieldset's name for screen readers).
    let under_title = s.config.with_value(|c| c.title.is_some());
    let list = items
        .into_iter()
        .enumerate()
        .map(|(i, n)| {
            let box_id = format!("{id}-nl-{i}");
            let item_hint_id = format!("{id}-nl-{i}-hint");
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
                    <input type="checkbox" class="lb-checkbox-input" part="letterbox-checkbox" id=box_id.clone() name="newsletters"
                        value=n.id
                        aria-describedby=has_hint.then(|| item_hint_id.clone())
                        prop:checked=checked
                        on:change=move |ev| s.dispatch(Event::NewsletterToggled { id: nid.clone(), checked: event_target_checked(&ev) })/>
                    <label class="lb-checkbox-label" part="letterbox-checkbox-label" for=box_id>
                        <span class="lb-name">{n.name}</span>
                        <span class="lb-frequency" hidden=n.frequency.is_none()>{n.frequency.clone().unwrap_or_default()}</span>
                    </label>
                    <div class="lb-hint lb-item-hint" part="letterbox-hint" id=item_hint_id hidden=!has_hint>{n.description.unwrap_or_default()}</div>
                </div>
            }
        })
        .collect_view();
    // The hint is read only while it is shown (more than one newsletter left to choose).
    let described = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        move || {
            s.screen.with(|v| {
                let mut ids = Vec::new();
                if v.choice_hint {
                    ids.push(hint_id.as_str());
                }
                if v.newsletters_error.is_some() {
                    ids.push(error_id.as_str());
                }
                ids.join(" ")
            })
        }
    };
    view! {
        <fieldset class="lb-fieldset" node_ref=s.fieldset class:lb-fieldset--error=move || !s.hides(part::news_error)()
            aria-describedby=described>
            <legend class="lb-legend" class:lb-legend--under-title=under_title part="letterbox-legend">{s.text(Key::Legend)}</legend>
            <div class="lb-hint" part="letterbox-hint" id=hint_id hidden=s.hides(part::choice_hint)>{s.text(Key::LegendHint)}</div>
            <p class="lb-error" part="letterbox-error" id=error_id hidden=s.hides(part::news_error)>
                <span class="lb-visually-hidden">{s.error_prefix()}</span>
                {s.shows(part::news_error)}
            </p>
            <div class="lb-checkboxes">{list}</div>
        </fieldset>
    }
}
