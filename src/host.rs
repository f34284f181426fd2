//! Host elements: finding `[data-letterbox]` elements, reading their configuration as plain data
//! for [`letterbox_core::config::Config::from_host`], and mounting one widget into each, once.

use std::sync::atomic::{AtomicU32, Ordering};

use letterbox_core::config::{Config, HostInput};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};

/// The attribute that marks a host element, and the selector for it.
pub const HOST_SELECTOR: &str = "[data-letterbox]";
/// Set on a host once its widget is mounted, so running the script twice mounts nothing twice.
pub const MOUNTED_ATTR: &str = "data-letterbox-mounted";

static NEXT_INSTANCE: AtomicU32 = AtomicU32::new(1);

/// Mounts every `[data-letterbox]` element now, or when the document has been parsed.
pub fn mount_all_when_ready() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if document.ready_state() == "loading" {
        let run = Closure::once_into_js(mount_all);
        let _ = document.add_event_listener_with_callback("DOMContentLoaded", run.unchecked_ref());
    } else {
        mount_all();
    }
}

/// Mounts a widget into every `[data-letterbox]` element not mounted yet.
pub fn mount_all() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Ok(hosts) = document.query_selector_all(HOST_SELECTOR) else {
        return;
    };
    for i in 0..hosts.length() {
        if let Some(host) = hosts.item(i).and_then(|n| n.dyn_into::<HtmlElement>().ok()) {
            mount(&host);
        }
    }
}

/// Mounts a widget into `host` unless one is already there. A broken configuration renders a
/// clear error in this slot only (and on the console); it never stops other slots.
pub fn mount(host: &HtmlElement) {
    if host.has_attribute(MOUNTED_ATTR) {
        return;
    }
    let _ = host.set_attribute(MOUNTED_ATTR, "");
    let instance = NEXT_INSTANCE.fetch_add(1, Ordering::Relaxed);
    let slot = slot_name(host);
    let json = host
        .query_selector(":scope > script[type='application/json']")
        .ok()
        .flatten()
        .and_then(|s| s.text_content());
    let endpoint = host.get_attribute("data-endpoint");
    let lang = host.get_attribute("data-lang");
    let nearest_lang = host
        .closest("[lang]")
        .ok()
        .flatten()
        .and_then(|e| e.get_attribute("lang"));
    let config = Config::from_host(&HostInput {
        json: json.as_deref(),
        endpoint: endpoint.as_deref(),
        lang: lang.as_deref(),
        nearest_lang: nearest_lang.as_deref(),
    });
    if let Err(e) = &config {
        web_sys::console::error_1(&format!("Letterbox: slot {slot:?}: {e}").into());
    }
    crate::view::render(host.clone(), config, format!("lb{instance}"), slot);
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
