//! The site's challenge provider (`Letterbox.challenge`): Turnstile, hCaptcha or proof of work.
//! A fresh token is asked for just before each request that can carry one (tokens are
//! short-lived and often single-use, so every retry asks again), and never stored.

use std::cell::RefCell;

use letterbox_core::delivery::{Adapter, Envelope, CHALLENGE_TIMEOUT_MS};
use letterbox_core::signup::Outcome;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::transport;

thread_local! {
    /// The site's challenge provider, registered with `Letterbox.challenge(provider)`.
    static CHALLENGE: RefCell<Option<js_sys::Function>> = const { RefCell::new(None) };
}

/// Registers the site's challenge provider (`None` removes it). The caller sends what waited
/// for a token ([`crate::outbox::flush`]).
pub fn set(provider: Option<js_sys::Function>) {
    CHALLENGE.with(|c| *c.borrow_mut() = provider);
}

/// Delivers `envelope` once, with a fresh token from the site's challenge provider when one is
/// registered and the service can carry it. Tokens are asked for only here, just before each
/// request: they are short-lived and often single-use, so a retry asks again.
pub async fn deliver(adapter: &Adapter, envelope: &Envelope) -> Outcome {
    let provider = CHALLENGE.with(|c| c.borrow().clone());
    let Some(provider) = provider.filter(|_| adapter.carries_challenge()) else {
        return transport::deliver(adapter, envelope).await;
    };
    match challenge_token(&provider, adapter, &envelope.signup.source.slot).await {
        Ok(challenge) => {
            let envelope = Envelope {
                challenge,
                ..envelope.clone()
            };
            transport::deliver(adapter, &envelope).await
        }
        Err(message) => Outcome::ChallengeFailed { message },
    }
}

/// Calls `provider({slot, provider})` and waits, at most [`CHALLENGE_TIMEOUT_MS`], for its token:
/// a string, or a promise of one. `null` or `undefined` sends no token; anything else, a throw
/// or a rejection is an error, described for the console.
async fn challenge_token(
    provider: &js_sys::Function,
    adapter: &Adapter,
    slot: &str,
) -> Result<Option<String>, String> {
    let detail = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&detail, &"slot".into(), &slot.into());
    let _ = js_sys::Reflect::set(&detail, &"provider".into(), &adapter.provider().into());
    let describe = |e: JsValue| {
        e.dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| e.as_string())
            .unwrap_or_else(|| "a value that is not an Error".into())
    };
    let answer = provider
        .call1(&JsValue::UNDEFINED, &detail)
        .map_err(|e| format!("the challenge provider threw: {}", describe(e)))?;
    const LATE: &str = "letterbox: challenge timeout";
    let late = js_sys::Promise::new(&mut |_, reject| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_1(
                &reject,
                CHALLENGE_TIMEOUT_MS as i32,
                &LATE.into(),
            );
        }
    });
    let race = js_sys::Promise::race(&js_sys::Array::of2(
        &js_sys::Promise::resolve(&answer),
        &late,
    ));
    match JsFuture::from(race).await {
        Ok(token) if token.is_null() || token.is_undefined() => Ok(None),
        Ok(token) => match token.as_string() {
            Some(t) if !t.is_empty() => Ok(Some(t)),
            _ => Err("the challenge provider gave no token: expected a non-empty string".into()),
        },
        Err(e) if e.as_string().as_deref() == Some(LATE) => Err(format!(
            "the challenge provider gave no token within {} s",
            CHALLENGE_TIMEOUT_MS / 1000
        )),
        Err(e) => Err(format!("the challenge provider failed: {}", describe(e))),
    }
}
