//! Letterbox: the embeddable newsletter signup widget.
//!
//! This crate is only the browser side: Leptos components that render [`letterbox_core`] state
//! ([`view`]), and the glue that reads host elements ([`host`]), converts internationalised
//! domains with the platform URL parser ([`idn`]) and sends signups ([`transport`]). Every rule
//! (validation, state transitions, request and response handling, texts) lives in
//! `letterbox-core`, tested natively.
//!
//! On load, [`start`] mounts a widget into every `[data-letterbox]` element of the page.

#[cfg(target_arch = "wasm32")]
pub mod challenge;
#[cfg(target_arch = "wasm32")]
pub mod idn;
#[cfg(target_arch = "wasm32")]
pub mod outbox;
#[cfg(target_arch = "wasm32")]
pub mod page;
#[cfg(target_arch = "wasm32")]
pub mod remembered;
#[cfg(target_arch = "wasm32")]
pub mod stats;
#[cfg(target_arch = "wasm32")]
pub mod storage;
#[cfg(target_arch = "wasm32")]
pub mod transport;
#[cfg(target_arch = "wasm32")]
pub mod view;

#[cfg(target_arch = "wasm32")]
pub mod api;
#[cfg(all(target_arch = "wasm32", feature = "playground"))]
pub mod playground;

#[cfg(target_arch = "wasm32")]
pub use outbox::flush;
#[cfg(target_arch = "wasm32")]
pub use page::{mount, mount_all, mount_with, unmount};

/// The wasm entry point: installs `window.Letterbox` and mounts every `[data-letterbox]` element
/// once the document is parsed. If another copy of Letterbox already initialised this page (the
/// tag pasted twice with different URLs), this copy does nothing.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    // Leptos initialises its executor when it first mounts a view; tasks spawned before that
    // (sending the queue on a page whose slots come later, a challenge provider registered on
    // `letterbox:loaded`) would otherwise abort the module.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    if let Some(ready) = api::install() {
        page::mount_all_when_ready(ready);
    }
}
