//! The Leptos components of one slot. They render [`letterbox_core::slot::screen::Screen`] (derived
//! from the submission state in core) and turn reader actions into [`Event`]s; they hold no rules
//! of their own. Every element exists from the first render; what changes is text and the
//! `hidden` attribute, which keeps the live regions present and the wasm small.
//!
//! Accessibility follows the design guide: visible labels and hints, an error summary that takes
//! focus and links to each field, inline errors tied by `aria-describedby` (hint first, then
//! error) and `aria-invalid`, a polite live region present from the first render, and a result
//! panel whose heading takes focus only after the reader's own submit.

mod consent;
mod email;
mod fields;
mod goal;
mod newsletters;
mod panels;
mod permissions;
mod slot;
mod summary;

use leptos::prelude::*;
use letterbox_core::config::{Config, ConfigError, Kind};
use letterbox_core::messages::{Catalogue, Key};
use letterbox_core::slot::screen::screen;
use letterbox_core::slot::submission::{transition, Context, Event, State};
use web_sys::HtmlElement;

use crate::idn::BrowserIdn;
use crate::{outbox, remembered};
use consent::Consent;
use email::{EmailField, Honeypot};
use newsletters::Newsletters;
use panels::{
    FailurePanel, Heading, QueuedPanel, RememberedNote, RememberedPanel, SuccessPanel,
    WithdrawnNote,
};
pub use slot::emit;
use slot::{part, Slot};
use summary::ErrorSummary;

/// The playground build's registry of mounted slots, so `Letterbox.playground.show` can put a
/// slot in one of core's scenes.
#[cfg(feature = "playground")]
pub mod scenes {
    use std::cell::RefCell;

    use leptos::prelude::on_cleanup;
    use letterbox_core::slot::scenes::Scene;
    use web_sys::HtmlElement;

    use super::Slot;

    thread_local! {
        static SLOTS: RefCell<Vec<(HtmlElement, Slot)>> = const { RefCell::new(Vec::new()) };
    }

    /// Records a mounted slot until it is unmounted.
    pub(super) fn register(host: HtmlElement, s: Slot) {
        let key = host.clone();
        SLOTS.with(|l| l.borrow_mut().push((host, s)));
        on_cleanup(move || SLOTS.with(|l| l.borrow_mut().retain(|(h, _)| *h != key)));
    }

    /// Puts the slot mounted on `host` in `scene`; false when no slot is mounted there (a broken
    /// configuration shows no form).
    pub fn show(host: &HtmlElement, scene: Scene) -> bool {
        let found = SLOTS.with(|l| l.borrow().iter().find(|(h, _)| h == host).map(|(_, s)| *s));
        found.map(|s| s.show(scene)).is_some()
    }
}

/// Renders a slot into `container` (inside `host`'s shadow root): the form for a good
/// configuration, a clear error panel for a broken one. `id` prefixes every element id of this
/// instance; `slot` is sent with signups and events; `lang` and `title` are the error panel's
/// language and heading ([`Kind::error_title`]). Dropping the returned handle unmounts it.
pub fn render(
    host: &HtmlElement,
    container: HtmlElement,
    config: Result<Kind, ConfigError>,
    lang: letterbox_core::messages::Lang,
    title: Key,
    id: String,
    slot: String,
) -> Box<dyn std::any::Any> {
    match config {
        Ok(Kind::Signup(config)) => {
            let host = host.clone();
            let config = *config;
            Box::new(leptos::mount::mount_to(container, move || {
                view! { <Widget host config id slot_name=slot/> }
            }))
        }
        Ok(Kind::Goal(goal)) => Box::new(leptos::mount::mount_to(container, move || {
            view! { <goal::GoalSlot goal id slot_name=slot/> }
        })),
        Err(error) => {
            let texts = Catalogue::new(lang, Default::default());
            let page = web_sys::window()
                .and_then(|w| w.location().href().ok())
                .unwrap_or_default();
            let debug = host.get_attribute("data-letterbox-debug");
            let detail = letterbox_core::config::shows_config_detail(&page, debug.as_deref())
                .then(|| format!("Letterbox configuration: {error}"));
            Box::new(leptos::mount::mount_to(container, move || {
                view! { <ConfigProblem texts title detail/> }
            }))
        }
    }
}

/// Shown instead of the form when the slot's configuration cannot be used: a short neutral line
/// for readers, and the `detail` for the site's developers where they work
/// ([`letterbox_core::config::shows_config_detail`]; it is always on the console).
#[component]
fn ConfigProblem(texts: Catalogue, title: Key, detail: Option<String>) -> impl IntoView {
    view! {
        <div class="lb-root lb-config-error" part="letterbox-config-error" lang=texts.lang().tag()>
            <p class="lb-result-title">{texts.text(title).to_owned()}</p>
            // The detail is for the site's developers and always English.
            {detail.map(|d| view! { <p class="lb-config-detail" lang="en">{d}</p> })}
        </div>
    }
}

/// One signup slot: its state, and the parts that show it.
#[component]
fn Widget(host: HtmlElement, config: Config, id: String, slot_name: String) -> impl IntoView {
    // Start from what this browser remembers, so a slot never flashes a form it will not offer.
    let offered: Vec<String> = config.newsletters.iter().map(|n| n.id.clone()).collect();
    let (key, days) = (config.destination(), config.remember_days);
    let remembered_now = move || remembered::remembered(&key, &offered, days);
    let initial = {
        let ctx = Context {
            config: &config,
            idn: &BrowserIdn,
            page: "",
            slot: "",
        };
        transition(
            State::new(&config),
            Event::Remembered(remembered_now()),
            &ctx,
        )
        .0
    };
    let state = RwSignal::new(initial);
    let single = config.is_single();
    let lang = config.texts.lang().tag();
    // The consent statement (no box) is read with the submit button.
    let statement = config
        .consent
        .as_ref()
        .is_some_and(|c| !c.checkbox)
        .then(|| format!("{id}-consent"));
    let consent = config.consent.clone();
    crate::stats::watch(&host, config.stats_endpoint.as_deref(), &slot_name);
    #[cfg(feature = "playground")]
    let shown_host = host.clone();
    let config = StoredValue::new(config);
    let s = Slot {
        host: StoredValue::new_local(host),
        state,
        screen: Memo::new(move |_| state.with(|st| config.with_value(|c| screen(st, c)))),
        config,
        slot: StoredValue::new(slot_name),
        summary: NodeRef::new(),
        failure_heading: NodeRef::new(),
        success_heading: NodeRef::new(),
        queued_heading: NodeRef::new(),
        honeypot: NodeRef::new(),
        opened_ms: js_sys::Date::now(),
        email_input: NodeRef::new(),
        consent_box: NodeRef::new(),
        fieldset: NodeRef::new(),
    };
    config.with_value(|c| outbox::register_adapter(c.adapter.clone()));
    // Tied to this slot's lifetime: the watcher goes when the slot is unmounted.
    let watch = remembered::watch(std::rc::Rc::new(move || {
        s.dispatch(Event::Remembered(remembered_now()))
    }));
    on_cleanup(move || remembered::unwatch(watch));
    #[cfg(feature = "playground")]
    scenes::register(shown_host, s);
    let root_class = if single {
        "lb-root lb-root--single"
    } else {
        "lb-root"
    };
    let email_id = format!("{id}-email");
    let newsletters = (!single).then(|| view! { <Newsletters s id=id.clone()/> });
    let consent = consent.map(|consent| {
        if consent.choices.is_empty() {
            leptos::either::Either::Left(view! { <Consent s id=id.clone() consent/> })
        } else {
            leptos::either::Either::Right(
                view! { <permissions::Permissions s id=id.clone() consent/> },
            )
        }
    });
    let fields = view! { <fields::Fields s id=id.clone()/> };

    view! {
        // The slot's language, so screen readers use the right voice when it differs from the page's.
        <div class=root_class part="letterbox-root" lang=lang>
            <Heading s id=id.clone()/>
            <goal::SocialProof s/>
            <RememberedPanel s/>
            <form class="lb-form" part="letterbox-form" novalidate=true
                aria-busy=move || if s.screen.with(|v| v.busy) { "true" } else { "false" }
                hidden=move || !s.hides(part::success_title)() || !s.hides(part::remembered_all)() || !s.hides(part::queued)()
                on:submit=move |ev| { ev.prevent_default(); s.submit(); }>
                <ErrorSummary s id=id.clone() email_id=email_id.clone()/>
                <FailurePanel s id=id.clone()/>
                <WithdrawnNote s/>
                <RememberedNote s/>
                {newsletters}
                {consent}
                {fields}
                <EmailField s email_id statement/>
                <Honeypot s id=id.clone()/>
                <div class="lb-visually-hidden lb-status" role="status" aria-live="polite">{s.shows(part::status)}</div>
            </form>
            <QueuedPanel s id=id.clone()/>
            <SuccessPanel s id=id.clone()/>
        </div>
    }
}
