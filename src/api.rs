//! `window.Letterbox`, the JS API for sites that build pages in script:
//!
//! ```js
//! await Letterbox.ready;                 // resolves once the page's slots are mounted
//! Letterbox.version;                     // "0.1.0"
//! Letterbox.mount(element, {endpoint: "/api/subscribe", newsletters: [...]}); // true if mounted
//! Letterbox.unmount(element);            // true if a widget was removed
//! Letterbox.forget();                     // forget remembered signups; every slot offers again
//! Letterbox.challenge(async ({slot, provider}) => token); // a Turnstile/hCaptcha/PoW token per request
//! ```
//!
//! Once installed, `letterbox:loaded` is dispatched on `document` with the API as its `detail`,
//! before any slot is mounted.
//!
//! Options given to `mount` override the element's inline JSON key by key; `data-*` attributes
//! still win. The API is installed once per page: a second copy of the bundle finds it and stays
//! idle, so the tag pasted twice mounts nothing twice.

use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

fn set(target: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

fn element(value: JsValue, method: &str) -> Result<HtmlElement, JsValue> {
    value.dyn_into::<HtmlElement>().map_err(|_| {
        js_sys::TypeError::new(&format!("Letterbox.{method}: expected an HTML element")).into()
    })
}

/// Installs `window.Letterbox`. Returns the function that resolves `Letterbox.ready`, or `None`
/// when another copy already installed the API (this copy must then do nothing).
pub fn install() -> Option<impl FnOnce()> {
    let window = web_sys::window()?;
    if Reflect::has(&window, &JsValue::from_str("Letterbox")).unwrap_or(false) {
        web_sys::console::info_1(
            &"Letterbox: already loaded on this page; this copy stays idle".into(),
        );
        return None;
    }
    let api = Object::new();
    set(
        &api,
        "version",
        &JsValue::from_str(env!("CARGO_PKG_VERSION")),
    );

    let mount = Closure::<dyn Fn(JsValue, JsValue) -> Result<bool, JsValue>>::new(
        |target: JsValue, options: JsValue| {
            let host = element(target, "mount")?;
            let options = if options.is_undefined() || options.is_null() {
                None
            } else {
                let json = js_sys::JSON::stringify(&options).map_err(|_| {
                    JsValue::from(js_sys::TypeError::new(
                        "Letterbox.mount: options must be plain JSON data",
                    ))
                })?;
                json.as_string()
            };
            Ok(crate::page::mount_with(&host, options))
        },
    );
    set(&api, "mount", &mount.into_js_value());

    let unmount = Closure::<dyn Fn(JsValue) -> Result<bool, JsValue>>::new(|target: JsValue| {
        Ok(crate::page::unmount(&element(target, "unmount")?))
    });
    set(&api, "unmount", &unmount.into_js_value());

    let forget = Closure::<dyn Fn()>::new(crate::remembered::forget);
    set(&api, "forget", &forget.into_js_value());

    let challenge = Closure::<dyn Fn(JsValue) -> Result<(), JsValue>>::new(|provider: JsValue| {
        if provider.is_null() || provider.is_undefined() {
            crate::challenge::set(None);
            return Ok(());
        }
        let provider = provider.dyn_into::<js_sys::Function>().map_err(|_| {
                JsValue::from(js_sys::TypeError::new(
                    "Letterbox.challenge: expected a function that returns a token (or a promise of one), or null",
                ))
            })?;
        crate::challenge::set(Some(provider));
        // Signups that waited for a token get their chance now.
        crate::outbox::flush();
        Ok(())
    });
    set(&api, "challenge", &challenge.into_js_value());

    let mut resolve_ready: Option<js_sys::Function> = None;
    let ready = Promise::new(&mut |resolve, _reject| resolve_ready = Some(resolve));
    set(&api, "ready", &ready);
    // The playground build only: `Letterbox.playground`, there when `letterbox:loaded` fires.
    #[cfg(feature = "playground")]
    crate::playground::install(&api);
    let _ = Reflect::set(&window, &JsValue::from_str("Letterbox"), &api);
    // The bundle loads asynchronously: a page script that needs the API (to register a challenge
    // provider before any slot can submit) listens for this, dispatched before slots mount.
    if let Some(document) = window.document() {
        let init = web_sys::CustomEventInit::new();
        init.set_detail(&api);
        if let Ok(e) = web_sys::CustomEvent::new_with_event_init_dict("letterbox:loaded", &init) {
            let _ = document.dispatch_event(&e);
        }
    }

    let resolve = resolve_ready?;
    Some(move || {
        let _ = resolve.call1(&JsValue::UNDEFINED, &api);
    })
}
