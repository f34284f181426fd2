//! Signups this browser already made ([`letterbox_core::remember`]): reading them for a slot,
//! recording a new one, forgetting them all, and telling every slot on this page and in other
//! tabs (a BroadcastChannel, and `storage` events for browsers without it) when they change.

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;

use letterbox_core::remember::{Remembered, STORAGE_KEY};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::storage::{remove, store, stored};

/// A slot's way to re-read the remembered signups.
pub type Refresh = Rc<dyn Fn()>;

/// The name of the BroadcastChannel that tells other tabs the remembered signups changed.
const CHANNEL_NAME: &str = "letterbox";

thread_local! {
    static REFRESH: RefCell<Vec<(u32, Refresh)>> = const { RefCell::new(Vec::new()) };
    static NEXT_WATCH: Cell<u32> = const { Cell::new(1) };
    static CHANNEL: OnceCell<Option<web_sys::BroadcastChannel>> = const { OnceCell::new() };
}

/// Of `offered` newsletter ids delivered to `destination`
/// ([`letterbox_core::config::Config::destination`]), those this browser remembers as subscribed.
pub fn remembered(destination: &str, offered: &[String], days: u32) -> Vec<String> {
    Remembered::load(stored(STORAGE_KEY).as_deref()).covered(
        destination,
        offered,
        js_sys::Date::now(),
        days,
    )
}

/// Records a successful signup, then updates every slot on this page and in other tabs.
pub fn remember(destination: &str, ids: &[String]) {
    let mut record = Remembered::load(stored(STORAGE_KEY).as_deref());
    record.add(destination, ids, js_sys::Date::now());
    store(STORAGE_KEY, &record.to_storage());
    changed();
}

/// Clears the remembered signups (`Letterbox.forget()`), here and in other tabs.
pub fn forget() {
    remove(STORAGE_KEY);
    changed();
}

fn changed() {
    refresh_all();
    CHANNEL.with(|c| {
        if let Some(channel) = c.get_or_init(|| web_sys::BroadcastChannel::new(CHANNEL_NAME).ok()) {
            let _ = channel.post_message(&JsValue::from_str("changed"));
        }
    });
}

/// Registers `refresh`, called whenever the remembered signups change; returns the handle to
/// pass to [`unwatch`] when the slot goes.
pub fn watch(refresh: Refresh) -> u32 {
    let id = NEXT_WATCH.with(|n| n.replace(n.get().wrapping_add(1)));
    REFRESH.with(|r| r.borrow_mut().push((id, refresh)));
    id
}

/// Forgets the watcher `id` (its slot was unmounted).
pub fn unwatch(id: u32) {
    REFRESH.with(|r| r.borrow_mut().retain(|(w, _)| *w != id));
}

fn refresh_all() {
    // Clone the list first: a refresh may mount or unmount slots.
    let all: Vec<Refresh> = REFRESH.with(|r| r.borrow().iter().map(|(_, f)| f.clone()).collect());
    for refresh in all {
        refresh();
    }
}

/// Listens for other tabs: the BroadcastChannel, and `storage` events for browsers without it.
pub fn listen_to_other_tabs() {
    let Some(window) = web_sys::window() else {
        return;
    };
    CHANNEL.with(|c| {
        if let Some(channel) = c.get_or_init(|| web_sys::BroadcastChannel::new(CHANNEL_NAME).ok()) {
            let on_message = Closure::<dyn FnMut()>::new(refresh_all);
            channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            on_message.forget();
        }
    });
    let on_storage =
        Closure::<dyn FnMut(web_sys::StorageEvent)>::new(|e: web_sys::StorageEvent| {
            if e.key().is_none_or(|k| k == STORAGE_KEY) {
                refresh_all();
            }
        });
    let _ = window.add_event_listener_with_callback("storage", on_storage.as_ref().unchecked_ref());
    on_storage.forget();
}
