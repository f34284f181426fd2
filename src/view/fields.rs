//! The fields a reader fills in besides the address (`"fields"`: an upgraded embed's merge
//! fields such as `FNAME`, or a choice of one such as `EMAILTYPE`): each with its visible label
//! (the embed's own), "(optional)" where it may be left empty, its inline error tied by
//! `aria-describedby` and `aria-invalid`, and a link in the error summary. Whether one is missing
//! is decided in core (`Errors::fields_missing`, `Screen::field_errors`).

use leptos::either::Either;
use leptos::prelude::*;
use letterbox_core::config::Field;
use letterbox_core::messages::Key;
use letterbox_core::slot::submission::Event;
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

use super::slot::Slot;

/// The element id of field `i`.
fn field_id(id: &str, i: usize) -> String {
    format!("{id}-f-{i}")
}

/// Field `i`'s error text, if it has one now.
fn error_of(s: Slot, i: usize) -> impl Fn() -> Option<String> + Copy {
    let screen = s.screen;
    move || screen.with(|v| v.field_errors.get(i).cloned().flatten())
}

/// A browser autofill hint for the usual name fields.
fn autocomplete(name: &str) -> &'static str {
    match name.to_ascii_lowercase().as_str() {
        "fname" | "firstname" | "first_name" | "first-name" | "name" => "given-name",
        "lname" | "lastname" | "last_name" | "last-name" => "family-name",
        _ => "on",
    }
}

/// Every configured field, in the site's order.
#[component]
pub fn Fields(s: Slot, id: String) -> impl IntoView {
    let fields = s.config.with_value(|c| c.fields.clone());
    let optional = s.text(Key::FieldOptional);
    fields
        .into_iter()
        .enumerate()
        .map(|(i, f)| one(s, field_id(&id, i), i, f, &optional))
        .collect_view()
}

fn one(s: Slot, fid: String, i: usize, f: Field, optional: &str) -> impl IntoView {
    let error_id = format!("{fid}-error");
    let error = error_of(s, i);
    let invalid = move || if error().is_some() { "true" } else { "false" };
    let described = {
        let error_id = error_id.clone();
        move || error().map(|_| error_id.clone())
    };
    let label = if f.required {
        f.label.clone()
    } else {
        format!("{} {optional}", f.label)
    };
    let name = f.name.clone();
    let edited = move |value: String| {
        s.dispatch(Event::FieldEdited {
            name: name.clone(),
            value,
        })
    };
    let value = move || {
        s.state
            .with(|st| st.values.get(i).cloned().unwrap_or_default())
    };
    let control = if f.options.is_empty() {
        let edited = edited.clone();
        Either::Left(view! {
            <input type="text" class="lb-input" id=fid.clone() name=f.name.clone()
                autocomplete=autocomplete(&f.name) aria-required=f.required.then_some("true")
                aria-describedby=described aria-invalid=invalid
                prop:value=value
                on:input=move |ev| edited(event_target_value(&ev))/>
        })
    } else {
        // An empty first choice unless the embed's own options start with one: nothing chosen
        // is allowed where the embed allowed it, and a required choice must be made.
        let blank = (!f.options.iter().any(|(v, _)| v.is_empty()))
            .then(|| view! { <option value="">""</option> });
        let options = f
            .options
            .iter()
            .map(|(v, l)| {
                let v2 = v.clone();
                view! { <option value=v.clone() selected=move || value() == v2>{l.clone()}</option> }
            })
            .collect_view();
        Either::Right(view! {
            <select class="lb-input lb-select" id=fid.clone() name=f.name.clone()
                aria-required=f.required.then_some("true")
                aria-describedby=described aria-invalid=invalid
                prop:value=value
                on:change=move |ev| edited(event_target_value(&ev))>
                {blank}{options}
            </select>
        })
    };
    view! {
        <div class="lb-field lb-extra" class:lb-field--error=move || error().is_some()>
            <label class="lb-label" for=fid>{label}</label>
            <p class="lb-error" id=error_id hidden=move || error().is_none()>
                <span class="lb-visually-hidden">{s.error_prefix()}</span>
                {move || error().unwrap_or_default()}
            </p>
            {control}
        </div>
    }
}

/// The error summary's links to the fields in error; each moves focus to its field.
#[component]
pub fn FieldLinks(s: Slot, id: String) -> impl IntoView {
    let count = s.config.with_value(|c| c.fields.len());
    (0..count)
        .map(|i| {
            let fid = field_id(&id, i);
            let error = error_of(s, i);
            let target = fid.clone();
            view! {
                <li hidden=move || error().is_none()>
                    <a href=format!("#{fid}") on:click=move |ev| {
                        ev.prevent_default();
                        // Links resolve inside the shadow root: find the field from the link.
                        let field = event_target::<web_sys::Element>(&ev)
                            .closest("form").ok().flatten()
                            .and_then(|form| form.query_selector(&format!("#{target}")).ok().flatten())
                            .and_then(|el| el.dyn_into::<HtmlElement>().ok());
                        if let Some(field) = field {
                            let _ = field.focus();
                        }
                    }>{move || error().unwrap_or_default()}</a>
                </li>
            }
        })
        .collect_view()
}
