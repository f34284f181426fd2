//! Sends one attempt to the endpoint with `fetch` and hands the answer to
//! [`letterbox_core::contract::interpret`]. It reads no response itself beyond status, the
//! `Retry-After` header and the body text, and gives up after
//! [`letterbox_core::contract::TIMEOUT_MS`].

use std::cell::Cell;
use std::rc::Rc;

use letterbox_core::contract::{interpret, Response, TIMEOUT_MS};
use letterbox_core::submission::{Attempt, Outcome};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// POSTs `attempt` as JSON to `endpoint` and returns the normalised outcome. Never panics:
/// every failure is an [`Outcome`].
pub async fn send(endpoint: &str, attempt: &Attempt) -> Outcome {
    let Some(window) = web_sys::window() else {
        return Outcome::NetworkError;
    };
    let controller = web_sys::AbortController::new().ok();
    let timed_out = Rc::new(Cell::new(false));
    let on_timeout = {
        let timed_out = timed_out.clone();
        let controller = controller.clone();
        Closure::once(move || {
            timed_out.set(true);
            if let Some(c) = controller {
                c.abort();
            }
        })
    };
    let timer = window
        .set_timeout_with_callback_and_timeout_and_arguments_0(
            on_timeout.as_ref().unchecked_ref(),
            TIMEOUT_MS as i32,
        )
        .ok();

    let outcome = fetch(&window, endpoint, attempt, controller.as_ref()).await;

    if let Some(id) = timer {
        window.clear_timeout_with_handle(id);
    }
    drop(on_timeout);
    match outcome {
        Some(outcome) => outcome,
        None if timed_out.get() => Outcome::Timeout,
        None => Outcome::NetworkError,
    }
}

async fn fetch(
    window: &web_sys::Window,
    endpoint: &str,
    attempt: &Attempt,
    controller: Option<&web_sys::AbortController>,
) -> Option<Outcome> {
    let headers = web_sys::Headers::new().ok()?;
    headers.set("Content-Type", "application/json").ok()?;
    headers.set("Accept", "application/json").ok()?;
    headers.set("Idempotency-Key", &attempt.key).ok()?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(&attempt.request.to_json()));
    if let Some(c) = controller {
        init.set_signal(Some(&c.signal()));
    }
    let response: web_sys::Response =
        JsFuture::from(window.fetch_with_str_and_init(endpoint, &init))
            .await
            .ok()?
            .dyn_into()
            .ok()?;
    let retry_after = response.headers().get("Retry-After").ok().flatten();
    let body = JsFuture::from(response.text().ok()?)
        .await
        .ok()?
        .as_string()
        .unwrap_or_default();
    Some(interpret(&Response {
        status: response.status(),
        retry_after: retry_after.as_deref(),
        body: &body,
    }))
}

/// A new random idempotency key (UUID v4 form) from `crypto.getRandomValues`, which, unlike
/// `randomUUID`, also works on pages served over plain http.
pub fn new_key() -> String {
    let mut bytes = [0u8; 16];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .and_then(|c| c.get_random_values_with_u8_array(&mut bytes).ok())
        .is_some();
    if !filled {
        // No Web Crypto (very old browser): fall back to Math.random, still unique enough per page.
        for b in bytes.iter_mut() {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
