//! The page: finding `[data-letterbox]` elements, reading their configuration as plain data
//! for [`letterbox_core::config::Config::from_host`], and mounting one widget into each, once,
//! inside an open shadow root so the page's CSS cannot reach it and its CSS cannot leak out.
//!
//! Elements added later (infinite scroll, client-side navigation) are mounted when they appear and
//! elements removed from the page are unmounted, through one `MutationObserver`.

use std::any::Any;
use std::cell::{OnceCell, RefCell};
use std::sync::atomic::{AtomicU32, Ordering};

use letterbox_core::config::upgrade::{self, FieldKind, FormField, FormMarkup, TextAbove, Upgrade};
use letterbox_core::config::{HostInput, Kind};
use letterbox_core::slot::events::HostEvent;
use letterbox_core::theme::{low_contrast, luminance, Scheme, Theme};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CssStyleSheet, Element, HtmlElement, ShadowRoot};

use crate::{outbox, remembered};

/// The attribute that marks a host element, and the selector for it.
pub const HOST_SELECTOR: &str = "[data-letterbox]";
/// Set on a host once its widget is mounted, so running the script twice mounts nothing twice.
pub const MOUNTED_ATTR: &str = "data-letterbox-mounted";
/// [`MOUNTED_ATTR`]'s value on a host whose own form the widget could not use and left as it is.
pub const LEFT_ALONE: &str = "left-alone";

/// The widget's stylesheet, applied inside each shadow root as a constructable stylesheet (allowed
/// under a strict `style-src 'self'` Content-Security-Policy, unlike `<style>` or `style=""`).
const CSS: &str = include_str!(concat!(env!("OUT_DIR"), "/letterbox.min.css"));

static NEXT_INSTANCE: AtomicU32 = AtomicU32::new(1);

struct Mounted {
    host: HtmlElement,
    /// The element inside the shadow root whose classes carry the slot's look ([`look`]), and
    /// the site's theme words, to restyle it when the page changes scheme ([`follow_scheme`]).
    container: HtmlElement,
    theme: Theme,
    /// Leptos's unmount handle: dropping it removes the view and releases its reactive state.
    _view: Box<dyn Any>,
}

thread_local! {
    static MOUNTED: RefCell<Vec<Mounted>> = const { RefCell::new(Vec::new()) };
    static SHEET: OnceCell<Option<CssStyleSheet>> = const { OnceCell::new() };
    static NEAR: OnceCell<Option<web_sys::IntersectionObserver>> = const { OnceCell::new() };
}

/// How far ahead of the viewport a slot is mounted: two viewport heights, so a reader who
/// scrolls finds the form ready, while slots far down a long article cost nothing until then.
const AHEAD: &str = "200% 0px 200% 0px";

/// The observer that mounts deferred slots as they come near the viewport.
fn near_observer() -> Option<web_sys::IntersectionObserver> {
    NEAR.with(|n| {
        n.get_or_init(|| {
            let on_near = Closure::<dyn FnMut(js_sys::Array, web_sys::IntersectionObserver)>::new(
                |entries: js_sys::Array, observer: web_sys::IntersectionObserver| {
                    for entry in entries.iter() {
                        let Ok(entry) = entry.dyn_into::<web_sys::IntersectionObserverEntry>()
                        else {
                            continue;
                        };
                        if entry.is_intersecting() {
                            let target = entry.target();
                            observer.unobserve(&target);
                            if let Ok(host) = target.dyn_into::<HtmlElement>() {
                                mount(&host);
                            }
                        }
                    }
                },
            );
            let options = web_sys::IntersectionObserverInit::new();
            options.set_root_margin(AHEAD);
            let observer = web_sys::IntersectionObserver::new_with_options(
                on_near.as_ref().unchecked_ref(),
                &options,
            )
            .ok()?;
            on_near.forget();
            Some(observer)
        })
        .clone()
    })
}

/// The slots among `hosts` to mount now; the others, starting more than two viewport heights
/// below the window, are mounted when they come near (without IntersectionObserver, now).
/// Every position is read before anything is mounted, so the page is laid out once for all of
/// them rather than once per slot (mounting changes the layout the next read would need).
#[inline(never)]
fn near_now(hosts: Vec<HtmlElement>) -> Vec<HtmlElement> {
    let viewport = web_sys::window()
        .and_then(|w| w.inner_height().ok())
        .and_then(|h| h.as_f64())
        .unwrap_or(0.0);
    let tops: Vec<f64> = hosts
        .iter()
        .map(|h| h.get_bounding_client_rect().top())
        .collect();
    let mut near = Vec::with_capacity(hosts.len());
    for (host, top) in hosts.into_iter().zip(tops) {
        let far = viewport > 0.0 && top > 3.0 * viewport;
        match far.then(near_observer).flatten() {
            Some(observer) => observer.observe(&host),
            None => near.push(host),
        }
    }
    near
}

/// How long one task may spend mounting slots before it lets the page (and the reader's input)
/// in: one slot always mounts, the next ones while the task is shorter than this.
const SLICE_MS: f64 = 8.0;

/// Slots waiting to be mounted (in order), and what waits for them all. (A `Vec` and a const
/// thread-local: a `VecDeque` and a lazily initialised one cost 1.6 KB of wasm.)
struct Queue {
    hosts: Vec<HtmlElement>,
    running: bool,
    then: Vec<Box<dyn FnOnce()>>,
}

thread_local! {
    static QUEUE: RefCell<Queue> = const {
        RefCell::new(Queue { hosts: Vec::new(), running: false, then: Vec::new() })
    };
}

/// Mounts `hosts` in small tasks: the first at once, the rest in tasks of about [`SLICE_MS`]
/// each, so ten slots never make one long task.
fn mount_soon(hosts: Vec<HtmlElement>) {
    let start = QUEUE.with(|q| {
        let mut q = q.borrow_mut();
        q.hosts.extend(hosts);
        !std::mem::replace(&mut q.running, true)
    });
    if start {
        mount_slice();
    }
}

/// Runs `f` once every slot queued by [`mount_soon`] is mounted (at once if none waits).
fn when_mounted(f: impl FnOnce() + 'static) {
    let now = QUEUE.with(|q| {
        let mut q = q.borrow_mut();
        if q.running {
            q.then.push(Box::new(f));
            None
        } else {
            Some(f)
        }
    });
    if let Some(f) = now {
        f();
    }
}

fn mount_slice() {
    let started = js_sys::Date::now();
    loop {
        let Some(host) = QUEUE.with(|q| {
            let mut q = q.borrow_mut();
            (!q.hosts.is_empty()).then(|| q.hosts.remove(0))
        }) else {
            break;
        };
        // A slot removed from the page while it waited is not mounted.
        if host.is_connected() {
            mount(&host);
        }
        if js_sys::Date::now() - started >= SLICE_MS && QUEUE.with(|q| !q.borrow().hosts.is_empty())
        {
            let next = Closure::once_into_js(mount_slice);
            let scheduled = web_sys::window().is_some_and(|w| {
                w.set_timeout_with_callback_and_timeout_and_arguments_0(next.unchecked_ref(), 0)
                    .is_ok()
            });
            if scheduled {
                return;
            }
        }
    }
    let then = QUEUE.with(|q| {
        let mut q = q.borrow_mut();
        q.running = false;
        std::mem::take(&mut q.then)
    });
    for f in then {
        f();
    }
}

fn document() -> Option<web_sys::Document> {
    web_sys::window().and_then(|w| w.document())
}

/// Mounts every `[data-letterbox]` element now, or when the document has been parsed, then
/// watches the page for slots added or removed later. `done` runs after the first mount.
pub fn mount_all_when_ready(done: impl FnOnce() + 'static) {
    let Some(document) = document() else { return };
    let start = move || {
        if let Some(root) = self::document().and_then(|d| d.document_element()) {
            mount_soon(near_now(hosts_within(&root)));
        }
        observe();
        remembered::listen_to_other_tabs();
        outbox::flush_when_online();
        // The reader's next page view sends what an earlier one could not.
        outbox::flush();
        when_mounted(done);
    };
    if document.ready_state() == "loading" {
        let run = Closure::once_into_js(start);
        let _ = document.add_event_listener_with_callback("DOMContentLoaded", run.unchecked_ref());
    } else {
        start();
    }
}

/// Mounts a widget into every `[data-letterbox]` element of the document not mounted yet.
pub fn mount_all() {
    if let Some(root) = document().and_then(|d| d.document_element()) {
        mount_within(&root);
    }
}

/// Mounts `[data-letterbox]` elements at or below `node` now (those near the viewport; the others
/// when they come near).
fn mount_within(node: &Element) {
    for host in near_now(hosts_within(node)) {
        mount(&host);
    }
}

/// The `[data-letterbox]` elements at or below `node` not mounted yet, in document order, after
/// turning Mailchimp embed forms into slots when the page asks for it. (Called from three places;
/// one copy.)
#[inline(never)]
fn hosts_within(node: &Element) -> Vec<HtmlElement> {
    if upgrade_mailchimp_requested() {
        mark_mailchimp_forms(node);
    }
    let mut hosts = Vec::new();
    let mut add = |el: Option<Element>| {
        if let Some(host) = el.and_then(|n| n.dyn_into::<HtmlElement>().ok()) {
            if !host.has_attribute(MOUNTED_ATTR) {
                hosts.push(host);
            }
        }
    };
    if node.matches(HOST_SELECTOR).unwrap_or(false) {
        add(Some(node.clone()));
    }
    if let Ok(found) = node.query_selector_all(HOST_SELECTOR) {
        for i in 0..found.length() {
            add(found.item(i).and_then(|n| n.dyn_into::<Element>().ok()));
        }
    }
    hosts
}

/// True when the page's script tag carries `data-letterbox-upgrade="mailchimp"`.
fn upgrade_mailchimp_requested() -> bool {
    document()
        .and_then(|d| {
            d.query_selector("script[data-letterbox-upgrade~='mailchimp']")
                .ok()
                .flatten()
        })
        .is_some()
}

/// Marks the container of every Mailchimp embed form at or below `node` (not already in a slot)
/// as a slot, so it is upgraded like `<div data-letterbox>` around the embed code.
fn mark_mailchimp_forms(node: &Element) {
    let Ok(forms) = node.query_selector_all("form[action]") else {
        return;
    };
    for i in 0..forms.length() {
        let Some(form) = forms
            .item(i)
            .and_then(|n| n.dyn_into::<web_sys::HtmlFormElement>().ok())
        else {
            continue;
        };
        if Upgrade::of_action(&form.action()) != Upgrade::Mailchimp
            || form.closest(HOST_SELECTOR).ok().flatten().is_some()
        {
            continue;
        }
        let container = form
            .closest("#mc_embed_signup")
            .ok()
            .flatten()
            .or_else(|| form.parent_element());
        if let Some(container) = container {
            let _ = container.set_attribute("data-letterbox", "");
        }
    }
}

/// Folds whitespace in an element's text, as a label reads.
fn text_of(el: &Element) -> String {
    el.text_content()
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The host's existing `<form>` (a site's no-JS fallback or a Mailchimp embed) as plain data for
/// [`upgrade::config`]. Read before the shadow root is attached, while the form is laid
/// out, so fields moved off-screen for bots can be recognised.
fn form_markup(host: &Element) -> Option<FormMarkup> {
    let form = host
        .query_selector("form")
        .ok()
        .flatten()?
        .dyn_into::<web_sys::HtmlFormElement>()
        .ok()?;
    let controls = form
        .query_selector_all("input, select, textarea, button")
        .ok()?;
    let mut fields = Vec::new();
    for i in 0..controls.length() {
        let Some(el) = controls.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else {
            continue;
        };
        let tag = el.tag_name().to_ascii_lowercase();
        let ty = el
            .get_attribute("type")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let kind = match (tag.as_str(), ty.as_str()) {
            ("input", "email") => FieldKind::Email,
            ("input", "hidden") => FieldKind::Hidden,
            ("input", "checkbox") => FieldKind::Checkbox,
            ("input", "radio") => FieldKind::Radio,
            ("input", "submit") | ("button", "submit" | "") => FieldKind::Submit,
            ("input", "" | "text" | "tel" | "url" | "search") | ("textarea", _) => FieldKind::Text,
            _ => FieldKind::Other,
        };
        let mut field = FormField::new(kind, &el.get_attribute("name").unwrap_or_default());
        // The default value, not what autofill may have put there since.
        field.value = el.get_attribute("value").unwrap_or_default();
        field.id = el.id();
        let escaped = field.id.replace('\\', "\\\\").replace('"', "\\\"");
        let label = (!field.id.is_empty())
            .then(|| {
                form.query_selector(&format!("label[for=\"{escaped}\"]"))
                    .ok()
                    .flatten()
            })
            .flatten()
            .or_else(|| el.closest("label").ok().flatten())
            // A label just before the control whose `for` names nothing (Kit's `for=""`).
            .or_else(|| {
                el.previous_element_sibling().filter(|l| {
                    l.tag_name().eq_ignore_ascii_case("label")
                        && l.get_attribute("for").as_deref() == Some("")
                })
            });
        field.label = label.map(|l| text_of(&l)).unwrap_or_default();
        field.placeholder = el.get_attribute("placeholder").unwrap_or_default();
        if ty == "radio" {
            // The group's title: its fieldset's legend, or Mailchimp's <strong> heading.
            field.group = el
                .closest("fieldset, .mc-field-group")
                .ok()
                .flatten()
                .and_then(|g| g.query_selector("legend, strong").ok().flatten())
                .map(|t| text_of(&t))
                .unwrap_or_default();
        }
        if tag == "select" {
            // The selected option (as written, not as restored since) is the default, else the
            // first one, as `select.value` starts.
            if let Ok(options) = el.query_selector_all("option") {
                let mut selected = None;
                for j in 0..options.length() {
                    let Some(o) = options.item(j).and_then(|n| n.dyn_into::<Element>().ok()) else {
                        continue;
                    };
                    let text = text_of(&o);
                    let value = o.get_attribute("value").unwrap_or_else(|| text.clone());
                    if selected.is_none() && o.has_attribute("selected") {
                        selected = Some(value.clone());
                    }
                    field.options.push((value, text));
                }
                field.value = selected
                    .or_else(|| field.options.first().map(|(v, _)| v.clone()))
                    .unwrap_or_default();
            }
        }
        field.checked = el.has_attribute("checked");
        field.required = el.has_attribute("required") || el.class_list().contains("required");
        field.hidden_from_people = el
            .closest("[aria-hidden='true'], [hidden]")
            .ok()
            .flatten()
            .is_some()
            || (kind != FieldKind::Hidden && el.get_bounding_client_rect().right() < 0.0);
        fields.push(field);
    }
    let legend = form
        .query_selector("legend, h1, h2, h3, h4")
        .ok()
        .flatten()
        .map(|e| text_of(&e))
        .filter(|t| !t.is_empty());
    let text_above = if legend.is_none() {
        text_above(&form, &fields)
    } else {
        None
    };
    Some(FormMarkup {
        // A form without an action posts to the page itself, which is no signup service: core
        // leaves it alone (the site's own script handles it).
        action: if form.has_attribute("action") {
            form.action()
        } else {
            String::new()
        },
        method: form.method(),
        fields,
        legend,
        text_above,
    })
}

/// The first visible `<label>` or `<p>` before the form's first field a reader sees that is not
/// another field's label ([`TextAbove`]; core decides whether it is a title). `fields` are the
/// form's controls as [`form_markup`] read them, in the same document order.
fn text_above(form: &Element, fields: &[FormField]) -> Option<TextAbove> {
    let nodes = form
        .query_selector_all("label, p, input, select, textarea, button")
        .ok()?;
    let mut controls = fields.iter();
    for i in 0..nodes.length() {
        let Some(el) = nodes.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else {
            continue;
        };
        let tag = el.tag_name().to_ascii_lowercase();
        if tag != "label" && tag != "p" {
            // A control: the fields start at the first one a reader sees.
            match controls.next() {
                Some(f) if f.kind == FieldKind::Hidden || f.hidden_from_people => continue,
                _ => return None,
            }
        }
        let hidden = el
            .closest(
                "[hidden], [aria-hidden='true'], [style*='display:none'], [style*='display: none']",
            )
            .ok()
            .flatten()
            .is_some();
        if hidden || (tag == "p" && el.closest("label").ok().flatten().is_some()) {
            continue;
        }
        let text = text_of(&el);
        if text.is_empty() {
            continue;
        }
        if let Some(found) = TextAbove::candidate(text, tag == "label", fields) {
            return Some(found);
        }
    }
    None
}

/// What the reader did in the site's form before the widget took its place, read at mount and
/// put into the widget once it is rendered, so the upgrade loses nothing.
struct Typed {
    /// The address as typed now.
    email: String,
    /// The reader's focus. (Not the caret: Chrome exposes none on `<input type=email>`, neither
    /// to read nor to set; the widget's field gets the address with the caret at its end, where
    /// typing leaves it.)
    focus: Option<Focus>,
    /// The newsletters the form's checkboxes stand for: (id, ticked now).
    newsletters: Vec<(String, bool)>,
    /// Other fields the reader filled in or chose: (name, value now).
    values: Vec<(String, String)>,
}

enum Focus {
    Email,
    /// A newsletter's checkbox, by newsletter id.
    Newsletter(String),
    /// Another field, by name.
    Field(String),
}

/// A control's current value (`<select>` and `<textarea>` included).
fn value_of(el: &Element) -> String {
    js_sys::Reflect::get(el, &JsValue::from_str("value"))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// What the reader already did in the host's form; `None` when there is nothing to carry over.
fn typed_in(host: &Element, markup: &FormMarkup) -> Option<Typed> {
    let form = host.query_selector("form").ok().flatten()?;
    let active = document().and_then(|d| d.active_element());
    let controls = form.query_selector_all("input, select, textarea").ok()?;
    let mut typed = Typed {
        email: String::new(),
        focus: None,
        newsletters: Vec::new(),
        values: Vec::new(),
    };
    let mut boxes = Vec::new();
    for i in 0..controls.length() {
        let Some(el) = controls.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else {
            continue;
        };
        let name = el.get_attribute("name").unwrap_or_default();
        let focused = active.as_ref().is_some_and(|a| a.is_same_node(Some(&el)));
        match el.dyn_ref::<web_sys::HtmlInputElement>() {
            Some(input) => match input.type_().as_str() {
                "email" if typed.email.is_empty() => {
                    typed.email = input.value();
                    if focused {
                        typed.focus = Some(Focus::Email);
                    }
                }
                "checkbox" => {
                    let this = (name, input.value(), input.checked());
                    if focused {
                        let id = upgrade::newsletter_boxes(markup, std::slice::from_ref(&this));
                        typed.focus = id.into_iter().next().map(|(id, _)| Focus::Newsletter(id));
                    }
                    boxes.push(this);
                }
                "radio" => {
                    if input.checked() && !input.default_checked() {
                        typed.values.push((name.clone(), input.value()));
                    }
                    if focused {
                        typed.focus = Some(Focus::Field(name));
                    }
                }
                "hidden" | "submit" | "button" | "reset" | "image" => {}
                _ => {
                    if input.value() != input.default_value() {
                        typed.values.push((name.clone(), input.value()));
                    }
                    if focused {
                        typed.focus = Some(Focus::Field(name));
                    }
                }
            },
            None => {
                typed.values.push((name.clone(), value_of(&el)));
                if focused {
                    typed.focus = Some(Focus::Field(name));
                }
            }
        }
    }
    typed.newsletters = upgrade::newsletter_boxes(markup, &boxes);
    Some(typed)
}

/// Puts what the reader did in the site's form into the widget just rendered in `root`, through
/// the same events the reader's own typing and ticking send, and gives the focus back.
fn carry_over(root: &ShadowRoot, typed: Typed) {
    let inputs = |selector: &str| -> Vec<Element> {
        root.query_selector_all(selector)
            .map(|l| {
                (0..l.length())
                    .filter_map(|i| l.item(i).and_then(|n| n.dyn_into::<Element>().ok()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let send = |el: &Element, event: &str| {
        let init = web_sys::EventInit::new();
        init.set_bubbles(true);
        if let Ok(e) = web_sys::Event::new_with_event_init_dict(event, &init) {
            let _ = el.dispatch_event(&e);
        }
    };
    let email = root
        .query_selector("input[type=email]")
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok());
    if let Some(email) = &email {
        if !typed.email.is_empty() {
            email.set_value(&typed.email);
            send(email, "input");
        }
    }
    let boxes = inputs("input[name=newsletters]");
    for (id, ticked) in &typed.newsletters {
        let found = boxes.iter().find_map(|b| {
            b.dyn_ref::<web_sys::HtmlInputElement>()
                .filter(|b| &b.value() == id)
                .cloned()
        });
        if let Some(b) = found.filter(|b| b.checked() != *ticked) {
            b.set_checked(*ticked);
            send(&b, "change");
        }
    }
    let fields = inputs("input[name], select[name]");
    let named = |name: &str| {
        fields
            .iter()
            .find(|f| f.get_attribute("name").as_deref() == Some(name))
    };
    for (name, value) in &typed.values {
        if let Some(f) = named(name).filter(|_| !name.is_empty()) {
            let _ = js_sys::Reflect::set(f, &JsValue::from_str("value"), &JsValue::from_str(value));
            let event = if f.tag_name().eq_ignore_ascii_case("select") {
                "change"
            } else {
                "input"
            };
            send(f, event);
        }
    }
    let target = match &typed.focus {
        Some(Focus::Email) => email.clone().map(Element::from),
        Some(Focus::Newsletter(id)) => boxes
            .iter()
            .find(|b| b.get_attribute("value").as_deref() == Some(id.as_str()))
            .cloned(),
        Some(Focus::Field(name)) => named(name).cloned(),
        None => None,
    };
    if let Some(target) = target.and_then(|t| t.dyn_into::<HtmlElement>().ok()) {
        let _ = target.focus();
    }
}

/// Watches the whole document for host elements added or removed after load.
fn observe() {
    let Some(root) = document().and_then(|d| d.document_element()) else {
        return;
    };
    let on_change = Closure::<dyn FnMut(js_sys::Array)>::new(move |records: js_sys::Array| {
        let mut hosts = Vec::new();
        for record in records.iter() {
            let Ok(record) = record.dyn_into::<web_sys::MutationRecord>() else {
                continue;
            };
            let added = record.added_nodes();
            for i in 0..added.length() {
                if let Some(el) = added.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                    hosts.extend(hosts_within(&el));
                }
            }
        }
        mount_soon(near_now(hosts));
        unmount_disconnected();
    });
    let Ok(observer) = web_sys::MutationObserver::new(on_change.as_ref().unchecked_ref()) else {
        return;
    };
    let options = web_sys::MutationObserverInit::new();
    options.set_child_list(true);
    options.set_subtree(true);
    if observer.observe_with_options(&root, &options).is_ok() {
        // The observer lives as long as the page.
        on_change.forget();
    }
}

/// Unmounts every slot whose host element has left the document.
fn unmount_disconnected() {
    release(|host| !host.is_connected());
}

/// Unmounts the slots whose host `which` selects and forgets their callbacks; true if any was
/// mounted.
fn release(which: impl Fn(&HtmlElement) -> bool) -> bool {
    let gone: Vec<Mounted> = MOUNTED.with(|m| {
        let mut m = m.borrow_mut();
        let (gone, kept) = m.drain(..).partition(|s| which(&s.host));
        *m = kept;
        gone
    });
    let found = !gone.is_empty();
    // Dropping outside the borrow: unmounting may run code that mounts or unmounts again.
    drop(gone);
    found
}

/// Mounts a widget into `host` unless one is already there. A broken configuration renders a
/// clear error in this slot only (and on the console); it never stops other slots.
pub fn mount(host: &HtmlElement) {
    mount_with(host, None);
}

/// Mounts with the options given to `Letterbox.mount` (JSON), which override the inline JSON.
/// Returns false if the host was already mounted or cannot hold a shadow root. Never inlined:
/// it is called from several places, and one copy of the view is enough.
#[inline(never)]
pub fn mount_with(host: &HtmlElement, options: Option<String>) -> bool {
    if host.has_attribute(MOUNTED_ATTR) {
        return false;
    }
    // The site's own form, read while it is still laid out; it stays in the page (hidden by the
    // shadow root) and keeps working if the widget never starts.
    let markup = form_markup(host);
    let upgraded = markup.as_ref().map(upgrade::config);
    let has_form = upgraded.is_some();
    // What the reader already did in that form (it is typeable long before the widget arrives).
    let typed = markup.as_ref().and_then(|m| typed_in(host, m));
    let slot = slot_name(host);
    let json = host
        .query_selector(":scope > script[type='application/json']")
        .ok()
        .flatten()
        .and_then(|s| s.text_content());
    let endpoint = host.get_attribute("data-endpoint");
    let provider = host.get_attribute("data-provider");
    let lang = host.get_attribute("data-lang");
    let nearest_lang = host
        .closest("[lang]")
        .ok()
        .flatten()
        .and_then(|e| e.get_attribute("lang"));
    // Every other data-* attribute; core picks the provider settings among them.
    let attributes: Vec<(String, String)> = host
        .get_attribute_names()
        .iter()
        .filter_map(|name| {
            let name = name.as_string()?;
            let value = host.get_attribute(&name)?;
            Some((name.strip_prefix("data-")?.to_owned(), value))
        })
        .collect();
    let settings: Vec<(&str, &str)> = attributes
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let (upgraded, upgrade_error) = match upgraded {
        Some(Ok(layer)) => (Some(layer), None),
        Some(Err(e)) => (None, Some(e.to_string())),
        None => (None, None),
    };
    let input = HostInput {
        upgraded: upgraded.as_ref(),
        json: json.as_deref(),
        options: options.as_deref(),
        endpoint: endpoint.as_deref(),
        provider: provider.as_deref(),
        lang: lang.as_deref(),
        nearest_lang: nearest_lang.as_deref(),
        settings: &settings,
    };
    let config = Kind::from_host(&input);
    // The error panel's heading, in the words of the kind of slot it stands for (read only
    // when there is an error to show: it parses the configuration's JSON again; with a good
    // configuration the view never shows it).
    let error_title = if config.is_err() {
        Kind::error_title(&input)
    } else {
        letterbox_core::messages::Key::ConfigErrorTitle
    };
    // The error panel's language, by the same rule the configuration uses.
    let lang = letterbox_core::config::resolve_lang(lang.as_deref(), None, nearest_lang.as_deref());
    let config = match (config, upgrade_error) {
        // A form that cannot be upgraded matters only when nothing else configures the slot.
        (Err(_), Some(reason)) => Err(letterbox_core::config::ConfigError::Upgrade(reason)),
        (config, Some(reason)) => {
            web_sys::console::warn_1(
                &format!("Letterbox: slot \"{slot}\": its form was not read: {reason}").into(),
            );
            config
        }
        (config, None) => config,
    };
    if let (Err(e), true) = (&config, has_form) {
        // Never worse than the page was: the site's own form stays as it is, visible and
        // working, rather than hidden behind a panel saying the signup is not available.
        web_sys::console::warn_1(
            &format!("Letterbox: slot \"{slot}\": the site's own form is left as it is: {e}")
                .into(),
        );
        let _ = host.set_attribute(MOUNTED_ATTR, LEFT_ALONE);
        return false;
    }
    if let Err(e) = &config {
        web_sys::console::error_1(&format!("Letterbox: slot \"{slot}\": {e}").into());
    }
    let Some(root) = shadow_root(host) else {
        web_sys::console::error_1(
            &format!(
                "Letterbox: <{}> cannot hold the widget; use a <div data-letterbox>",
                host.tag_name().to_ascii_lowercase()
            )
            .into(),
        );
        return false;
    };
    let _ = host.set_attribute(MOUNTED_ATTR, "");
    let instance = NEXT_INSTANCE.fetch_add(1, Ordering::Relaxed);
    let Some(container) = document()
        .and_then(|d| d.create_element("div").ok())
        .and_then(|e| e.dyn_into::<HtmlElement>().ok())
    else {
        return false;
    };
    let theme = config.as_ref().map(Kind::theme).unwrap_or_default();
    container.set_class_name(&look(host, theme));
    follow_scheme();
    if root.append_child(&container).is_err() {
        return false;
    }
    let usable = config.is_ok();
    let view = crate::view::render(
        host,
        container.clone(),
        config,
        lang,
        error_title,
        format!("lb{instance}"),
        slot.clone(),
    );
    if let (Some(typed), true) = (typed, usable) {
        carry_over(&root, typed);
    }
    MOUNTED.with(|m| {
        m.borrow_mut().push(Mounted {
            host: host.clone(),
            container,
            theme,
            _view: view,
        })
    });
    check_contrast(host, &root);
    crate::view::emit(host, &HostEvent::ready(), &slot);
    true
}

thread_local! {
    static CONTRAST_WARNED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Warns once per page, on the console, when the slot's text or button label falls below 4.5:1
/// against what is behind it with the site's colours ([`low_contrast`] decides).
fn check_contrast(host: &HtmlElement, root: &ShadowRoot) {
    if CONTRAST_WARNED.with(std::cell::Cell::get) {
        return;
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    let style = |el: &Element, property: &str| {
        window
            .get_computed_style(el)
            .ok()
            .flatten()
            .and_then(|s| s.get_property_value(property).ok())
            .unwrap_or_default()
    };
    let (Some(ui), Some(button)) = (
        root.query_selector(".lb-root").ok().flatten(),
        root.query_selector("button[type=submit]").ok().flatten(),
    ) else {
        return;
    };
    // What is behind the text: the boxed card's background, else the page's around the slot.
    let mut behind = style(&ui, "background-color");
    let mut next = Some(Element::from(host.clone()));
    while luminance(&behind).is_none() {
        let Some(el) = next else {
            behind = "rgb(255, 255, 255)".into();
            break;
        };
        behind = style(&el, "background-color");
        next = el.parent_element();
    }
    let (text, label, accent) = (
        style(&ui, "color"),
        style(&button, "color"),
        style(&button, "background-color"),
    );
    let pairs = [
        ("text", &*text, &*behind),
        ("button label", &*label, &*accent),
    ];
    if let Some(failing) = low_contrast(&pairs) {
        CONTRAST_WARNED.with(|w| w.set(true));
        web_sys::console::warn_1(
            &format!("Letterbox: the site's colours are hard to read ({failing}; WCAG asks for 4.5:1): set --letterbox-text, --letterbox-background, --letterbox-accent and --letterbox-button-text as a set").into(),
        );
    }
}

/// Removes the widget from `host` and releases its resources. Returns false if none was mounted.
pub fn unmount(host: &HtmlElement) -> bool {
    let found = release(|h| h.is_same_node(Some(host)));
    if let Some(root) = host.shadow_root() {
        root.set_inner_html("");
    }
    let _ = host.remove_attribute(MOUNTED_ATTR);
    // The space the entry script reserved for the slot (dist-src/reserve.js) goes with it.
    if host.has_attribute("data-letterbox-reserved") {
        let _ = host.style().remove_property("min-height");
        let _ = host.remove_attribute("data-letterbox-reserved");
    }
    found
}

/// The host's open shadow root with the widget's stylesheet, created on first use.
fn shadow_root(host: &HtmlElement) -> Option<ShadowRoot> {
    let root = match host.shadow_root() {
        Some(root) => root,
        None => host
            .attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))
            .ok()?,
    };
    let sheet = SHEET.with(|s| {
        s.get_or_init(|| {
            let sheet = CssStyleSheet::new().ok()?;
            sheet.replace_sync(CSS).ok()?;
            Some(sheet)
        })
        .clone()
    });
    match sheet {
        Some(sheet) => root.set_adopted_style_sheets(&js_sys::Array::of1(&sheet)),
        None => {
            // A browser without constructable stylesheets: a <style> element (which a strict CSP
            // would block; such browsers predate those policies' common use).
            let style = document()?.create_element("style").ok()?;
            style.set_text_content(Some(CSS));
            root.append_child(&style).ok()?;
        }
    }
    Some(root)
}

thread_local! {
    static FOLLOWING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// A restyle is due in 500 ms: changes until then are left to it.
    static RESTYLE_PENDING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Once per page: when the page may have changed its colour scheme after the slots mounted (any
/// attribute changed on `<html>` or `<body>`: sites switch with a class, `data-theme`,
/// `data-bs-theme`, `style`…; or the reader's system scheme for a page that follows it), every
/// slot's look is decided again. One observer for all the slots, throttled: at once for the
/// first change, then once more 500 ms later (after the page's own colour transitions) for
/// everything that changed meanwhile, so a page that touches `<body>` while the reader scrolls
/// costs at most two style reads per half second.
fn follow_scheme() {
    if FOLLOWING.with(|f| f.replace(true)) {
        return;
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    let on_change = Closure::<dyn FnMut()>::new(move || {
        if RESTYLE_PENDING.with(|p| p.replace(true)) {
            return;
        }
        restyle();
        let later = Closure::once_into_js(|| {
            RESTYLE_PENDING.with(|p| p.set(false));
            restyle();
        });
        let started = web_sys::window().is_some_and(|w| {
            w.set_timeout_with_callback_and_timeout_and_arguments_0(later.unchecked_ref(), 500)
                .is_ok()
        });
        if !started {
            RESTYLE_PENDING.with(|p| p.set(false));
        }
    });
    let callback: &js_sys::Function = on_change.as_ref().unchecked_ref();
    if let Ok(observer) = web_sys::MutationObserver::new(callback) {
        let options = web_sys::MutationObserverInit::new();
        options.set_attributes(true);
        let document = window.document();
        for el in [
            document.as_ref().and_then(|d| d.document_element()),
            document.as_ref().and_then(|d| d.body()).map(Element::from),
        ]
        .into_iter()
        .flatten()
        {
            let _ = observer.observe_with_options(&el, &options);
        }
    }
    // window.matchMedia without web-sys's MediaQueryList binding (one feature less to build).
    let query = js_sys::Reflect::get(&window, &"matchMedia".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .and_then(|f| {
            f.call1(&window, &"(prefers-color-scheme: dark)".into())
                .ok()
        });
    if let Some(query) = query {
        let _ = query
            .unchecked_into::<web_sys::EventTarget>()
            .add_event_listener_with_callback("change", callback);
    }
    // Both live as long as the page.
    on_change.forget();
}

/// Decides every mounted slot's look again (see [`follow_scheme`]).
fn restyle() {
    let slots: Vec<(HtmlElement, HtmlElement, Theme)> = MOUNTED.with(|m| {
        m.borrow()
            .iter()
            .map(|s| (s.host.clone(), s.container.clone(), s.theme))
            .collect()
    });
    for (host, container, theme) in slots {
        let classes = look(&host, theme);
        if container.class_name() != classes {
            container.set_class_name(&classes);
        }
    }
}

/// The classes of a slot's container for `theme` on `host`'s page: `lb-dark` where the slot
/// uses the dark colours (by default where the page is dark: [`Theme::scheme`] reads the host's
/// computed `color-scheme` and text colour), `lb-boxed` for the boxed card (asked for, or a
/// scheme fixed against the page's).
fn look(host: &HtmlElement, theme: Theme) -> String {
    let style = web_sys::window().and_then(|w| w.get_computed_style(host).ok().flatten());
    let read = |name: &str| {
        style
            .as_ref()
            .and_then(|s| s.get_property_value(name).ok())
            .unwrap_or_default()
    };
    let (declared, color) = (read("color-scheme"), read("color"));
    let scheme = theme.scheme(&declared, &color);
    let mut classes = String::from("lb-slot");
    if scheme == Scheme::Dark {
        classes.push_str(" lb-dark");
    }
    // A scheme the site fixed against the page's (dark on a light page) needs its own
    // background to stay readable: the boxed card.
    if theme.boxed || scheme != Theme::default().scheme(&declared, &color) {
        classes.push_str(" lb-boxed");
    }
    classes
}

/// The slot's name sent with each signup: the host's id, else its position among the page's slots.
fn slot_name(host: &Element) -> String {
    let id = host.id();
    if !id.is_empty() {
        return id;
    }
    let index = host
        .owner_document()
        .and_then(|d| d.query_selector_all(HOST_SELECTOR).ok())
        .and_then(|all| {
            (0..all.length()).find(|&i| all.item(i).is_some_and(|n| n.is_same_node(Some(host))))
        });
    index.map_or_else(|| "0".to_owned(), |i| i.to_string())
}
