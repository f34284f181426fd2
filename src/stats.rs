//! Executes core's anonymous statistics (`letterbox_core::slot::stats`): watches each slot with a
//! `stats_endpoint` for being seen, counts its host events into the page view's tally, and sends
//! each endpoint's tally with one `navigator.sendBeacon` when the page is hidden. Decides nothing:
//! whether to count, what counts as seen and what is sent are core's.

use std::cell::RefCell;

use letterbox_core::slot::events::HostEvent;
use letterbox_core::slot::stats::{allowed, Seen, Tally, SEEN_MS, SEEN_RATIO};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

/// A slot being watched for `seen`.
struct Watched {
    host: HtmlElement,
    slot: String,
    endpoint: String,
    seen: Seen,
}

thread_local! {
    /// Each endpoint's tally for this page view.
    static TALLIES: RefCell<Vec<(String, Tally)>> = const { RefCell::new(Vec::new()) };
    static WATCHED: RefCell<Vec<Watched>> = const { RefCell::new(Vec::new()) };
    static OBSERVER: RefCell<Option<web_sys::IntersectionObserver>> = const { RefCell::new(None) };
}

/// Whether this browser and this slot's configuration allow statistics at all.
fn permitted(endpoint: Option<&str>) -> bool {
    let Some(navigator) = web_sys::window().map(|w| w.navigator()) else {
        return false;
    };
    let gpc = js_sys::Reflect::get(&navigator, &"globalPrivacyControl".into())
        .ok()
        .is_some_and(|v| v.as_bool() == Some(true));
    let dnt = js_sys::Reflect::get(&navigator, &"doNotTrack".into())
        .ok()
        .and_then(|v| v.as_string());
    allowed(endpoint, gpc, dnt.as_deref())
}

fn now() -> f64 {
    js_sys::Date::now()
}

fn with_tally(endpoint: &str, f: impl FnOnce(&mut Tally)) {
    TALLIES.with(|t| {
        let mut t = t.borrow_mut();
        if let Some((_, tally)) = t.iter_mut().find(|(e, _)| e == endpoint) {
            f(tally);
            return;
        }
        let page = web_sys::window()
            .and_then(|w| w.location().href().ok())
            .unwrap_or_default();
        let mut tally = Tally::new(&page);
        f(&mut tally);
        t.push((endpoint.to_owned(), tally));
    });
    install_sender();
}

/// Counts a slot's host event, when the slot sends statistics.
pub fn count(endpoint: Option<&str>, slot: &str, event: &HostEvent) {
    if !permitted(endpoint) {
        return;
    }
    if let Some(endpoint) = endpoint {
        with_tally(endpoint, |t| t.add_event(slot, event));
    }
}

/// Watches a mounted slot for being seen (half of it in view for a second), when it sends
/// statistics.
pub fn watch(host: &HtmlElement, endpoint: Option<&str>, slot: &str) {
    let Some(endpoint) = endpoint.filter(|_| permitted(endpoint)) else {
        return;
    };
    let Some(observer) = observer() else { return };
    WATCHED.with(|w| {
        w.borrow_mut().push(Watched {
            host: host.clone(),
            slot: slot.to_owned(),
            endpoint: endpoint.to_owned(),
            seen: Seen::default(),
        })
    });
    observer.observe(host);
}

fn observer() -> Option<web_sys::IntersectionObserver> {
    OBSERVER.with(|o| {
        if let Some(observer) = o.borrow().as_ref() {
            return Some(observer.clone());
        }
        let on_change = Closure::<dyn FnMut(js_sys::Array)>::new(|entries: js_sys::Array| {
            for entry in entries.iter() {
                let Ok(entry) = entry.dyn_into::<web_sys::IntersectionObserverEntry>() else {
                    continue;
                };
                let target: JsValue = entry.target().into();
                let ratio = if entry.is_intersecting() {
                    entry.intersection_ratio()
                } else {
                    0.0
                };
                let start = WATCHED.with(|w| {
                    w.borrow_mut()
                        .iter_mut()
                        .find(|x| JsValue::from(x.host.clone()) == target)
                        .is_some_and(|x| x.seen.changed(ratio, now()))
                });
                if start {
                    check_later(target);
                }
            }
        });
        let options = web_sys::IntersectionObserverInit::new();
        let thresholds = js_sys::Array::of2(&0.0.into(), &SEEN_RATIO.into());
        options.set_threshold(&thresholds);
        let observer = web_sys::IntersectionObserver::new_with_options(
            on_change.as_ref().unchecked_ref(),
            &options,
        )
        .ok()?;
        on_change.forget();
        *o.borrow_mut() = Some(observer.clone());
        Some(observer)
    })
}

/// After [`SEEN_MS`], counts the slot as seen if it stayed in view, and stops watching it.
fn check_later(target: JsValue) {
    let check = Closure::once_into_js(move || {
        let due = WATCHED.with(|w| {
            let mut w = w.borrow_mut();
            let i = w
                .iter()
                .position(|x| JsValue::from(x.host.clone()) == target && x.seen.due(now()))?;
            Some(w.remove(i))
        });
        if let Some(x) = due {
            if let Some(o) = OBSERVER.with(|o| o.borrow().clone()) {
                o.unobserve(&x.host);
            }
            with_tally(&x.endpoint, |t| {
                t.add_seen(&x.slot);
            });
        }
    });
    if let Some(w) = web_sys::window() {
        // A few milliseconds late, so the timer never fires just before the second is up.
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
            check.unchecked_ref(),
            SEEN_MS as i32 + 20,
        );
    }
}

/// Sends every endpoint's counts, once each, with `sendBeacon` (on page hide).
pub fn send_all() {
    let bodies: Vec<(String, String)> = TALLIES.with(|t| {
        t.borrow_mut()
            .iter_mut()
            .filter_map(|(e, tally)| tally.take_body().map(|b| (e.clone(), b)))
            .collect()
    });
    let Some(navigator) = web_sys::window().map(|w| w.navigator()) else {
        return;
    };
    for (endpoint, body) in bodies {
        let _ = navigator.send_beacon_with_opt_str(&endpoint, Some(&body));
    }
}

/// Listens for the page being hidden (tab switch, navigation, close), once per page.
fn install_sender() {
    thread_local! {
        static INSTALLED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if INSTALLED.with(|i| i.replace(true)) {
        return;
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    // Leaving the page: always. Switching tab or app: when the page became hidden (a mobile
    // browser may discard it without a pagehide).
    let on_leave = Closure::<dyn FnMut()>::new(send_all);
    let _ = window.add_event_listener_with_callback("pagehide", on_leave.as_ref().unchecked_ref());
    on_leave.forget();
    let on_hide = Closure::<dyn FnMut()>::new(|| {
        let hidden = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| js_sys::Reflect::get(&d, &"visibilityState".into()).ok())
            .and_then(|v| v.as_string())
            .is_some_and(|v| v == "hidden");
        if hidden {
            send_all();
        }
    });
    if let Some(d) = window.document() {
        let _ = d
            .add_event_listener_with_callback("visibilitychange", on_hide.as_ref().unchecked_ref());
    }
    on_hide.forget();
}
