//! Executes what a delivery adapter asks for (a `fetch`, or a JSONP script for Mailchimp) and
//! hands back what happened. It builds no URL and reads no meaning into a response: request
//! building and response interpretation are [`letterbox_core::delivery`]. Every request gives up
//! after the adapter's [`Adapter::timeout_ms`].

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use std::sync::atomic::{AtomicU32, Ordering};

use letterbox_core::delivery::{Adapter, Envelope, HttpReply, Next, Reply, Request, MAX_STEPS};
use letterbox_core::signup::Outcome;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// What the browser got back, owned; [`Owned::reply`] lends it to the adapter.
enum Owned {
    Http {
        status: u16,
        content_type: Option<String>,
        retry_after: Option<String>,
        body: String,
    },
    Jsonp(String),
    NetworkError,
    Timeout,
    Redirected,
}

impl Owned {
    fn reply(&self) -> Reply<'_> {
        match self {
            Owned::Http {
                status,
                content_type,
                retry_after,
                body,
            } => Reply::Http(HttpReply {
                status: *status,
                content_type: content_type.as_deref(),
                retry_after: retry_after.as_deref(),
                body,
            }),
            Owned::Jsonp(text) => Reply::Jsonp(text),
            Owned::NetworkError => Reply::NetworkError,
            Owned::Timeout => Reply::Timeout,
            Owned::Redirected => Reply::Redirected,
        }
    }
}

/// Waits `ms` milliseconds.
pub async fn sleep(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
                &resolve,
                ms.min(i32::MAX as u32) as i32,
            );
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Delivers `envelope` through `adapter` once (every request of its flow, [`MAX_STEPS`] at most)
/// and returns the normalised outcome. Never panics:
/// every failure is an [`Outcome`].
pub async fn deliver(adapter: &Adapter, envelope: &Envelope) -> Outcome {
    let timeout_ms = adapter.timeout_ms();
    let mut next = adapter.start(envelope);
    for _ in 0..MAX_STEPS {
        match next {
            Next::Done(outcome) => return outcome,
            Next::Send(exchange) => {
                // The sending page's scheme, not the signup's (a queued one may be sent later
                // from an https page): see `Request::for_page`.
                let request = exchange.request.for_page(page_is_https());
                let got = execute(&request, timeout_ms).await;
                next = adapter.next(envelope, exchange.step, &got.reply());
            }
        }
    }
    match next {
        Next::Done(outcome) => outcome,
        Next::Send(_) => Outcome::ConfigurationError {
            message: "the delivery flow did not finish".into(),
        },
    }
}

/// Sends `request` once (no retries: a public count, read on page load) with `timeout_ms`,
/// and lends what came back to `read`.
pub async fn read_once<T>(
    request: &Request,
    timeout_ms: u32,
    read: impl FnOnce(Reply<'_>) -> T,
) -> T {
    let got = execute(request, timeout_ms).await;
    read(got.reply())
}

/// Whether the page sending a request is served over https.
fn page_is_https() -> bool {
    web_sys::window()
        .and_then(|w| w.location().protocol().ok())
        .is_some_and(|p| p == "https:")
}

/// A timer of `ms` milliseconds; `on_timeout` runs if it fires before the timer is dropped.
struct Timer {
    id: Option<i32>,
    _callback: Closure<dyn FnMut()>,
}

impl Timer {
    fn start(ms: u32, on_timeout: impl FnOnce() + 'static) -> Timer {
        let mut on_timeout = Some(on_timeout);
        let callback = Closure::<dyn FnMut()>::new(move || {
            if let Some(f) = on_timeout.take() {
                f();
            }
        });
        let id = web_sys::window().and_then(|w| {
            w.set_timeout_with_callback_and_timeout_and_arguments_0(
                callback.as_ref().unchecked_ref(),
                ms.min(i32::MAX as u32) as i32,
            )
            .ok()
        });
        Timer {
            id,
            _callback: callback,
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let (Some(w), Some(id)) = (web_sys::window(), self.id) {
            w.clear_timeout_with_handle(id);
        }
    }
}

async fn execute(request: &Request, timeout_ms: u32) -> Owned {
    match request {
        Request::Fetch {
            method,
            url,
            headers,
            body,
        } => {
            let controller = web_sys::AbortController::new().ok();
            let timed_out = Rc::new(Cell::new(false));
            let _timer = {
                let (timed_out, controller) = (timed_out.clone(), controller.clone());
                Timer::start(timeout_ms, move || {
                    timed_out.set(true);
                    if let Some(c) = controller {
                        c.abort();
                    }
                })
            };
            let send = || {
                fetch(
                    method.as_str(),
                    url,
                    headers,
                    body.as_deref(),
                    controller.as_ref(),
                )
            };
            let mut answer = send().await;
            // A read that got no answer while online, from a server that does answer a plain
            // no-cors request: asked again, so that one dropped connection is never taken for a
            // server that refuses this page's cross-origin requests (a redirect, no CORS, or a
            // proxy's error page); only a GET, which may be repeated. An answer to the second
            // request is used.
            if answer.is_none()
                && !timed_out.get()
                && method.as_str() == "GET"
                && online()
                && answers(url).await
            {
                answer = send().await;
                if answer.is_none() && !timed_out.get() {
                    web_sys::console::error_1(
                        &format!("Letterbox: {}", letterbox_core::delivery::redirected(url)).into(),
                    );
                    return Owned::Redirected;
                }
            }
            match answer {
                Some(owned) => owned,
                None if timed_out.get() => Owned::Timeout,
                None => Owned::NetworkError,
            }
        }
        Request::Jsonp { .. } => jsonp(request, timeout_ms).await,
    }
}

async fn fetch(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Option<&str>,
    controller: Option<&web_sys::AbortController>,
) -> Option<Owned> {
    let window = web_sys::window()?;
    let h = web_sys::Headers::new().ok()?;
    for (name, value) in headers {
        h.set(name, value).ok()?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    init.set_headers(&h);
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
    }
    if let Some(c) = controller {
        init.set_signal(Some(&c.signal()));
    }
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .ok()?
        .dyn_into()
        .ok()?;
    let header = |name: &str| response.headers().get(name).ok().flatten();
    let (content_type, retry_after) = (header("Content-Type"), header("Retry-After"));
    let body = JsFuture::from(response.text().ok()?)
        .await
        .ok()?
        .as_string()
        .unwrap_or_default();
    Some(Owned::Http {
        status: response.status(),
        content_type,
        retry_after,
        body,
    })
}

fn online() -> bool {
    web_sys::window().is_some_and(|w| w.navigator().on_line())
}

/// After a cross-origin `fetch` got no answer: does `url` answer a plain request without CORS
/// (`no-cors`, which needs no preflight and follows redirects)? The browser then resolves with
/// an opaque response; a dropped connection or an unreachable host rejects it. (A `no-cors`
/// request may not use `redirect: "manual"`: the browser fails it, so a redirect itself cannot
/// be seen.)
async fn answers(url: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let init = web_sys::RequestInit::new();
    init.set_method("GET");
    init.set_mode(web_sys::RequestMode::NoCors);
    let controller = web_sys::AbortController::new().ok();
    if let Some(c) = &controller {
        init.set_signal(Some(&c.signal()));
    }
    let _timer = controller.map(|c| Timer::start(PROBE_MS, move || c.abort()));
    JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .is_ok()
}

/// How long the redirect probe may take.
const PROBE_MS: u32 = 5_000;

static NEXT_CALLBACK: AtomicU32 = AtomicU32::new(1);

/// A JSONP request: a `<script>` whose answer calls a one-off global callback. The script and
/// the callback are removed on success, on error and on timeout (a late answer then calls a
/// no-op). Under a Content-Security-Policy the service's origin must be in `script-src`.
async fn jsonp(request: &Request, timeout_ms: u32) -> Owned {
    let (Some(window), Some(document)) = (
        web_sys::window(),
        web_sys::window().and_then(|w| w.document()),
    ) else {
        return Owned::NetworkError;
    };
    let name = format!(
        "__letterbox_jsonp_{}",
        NEXT_CALLBACK.fetch_add(1, Ordering::Relaxed)
    );
    let Some(url) = request.jsonp_url(&name) else {
        return Owned::NetworkError;
    };
    let Ok(script) = document.create_element("script") else {
        return Owned::NetworkError;
    };
    let result: Rc<RefCell<Option<Owned>>> = Rc::default();
    let wake: Rc<RefCell<Option<js_sys::Function>>> = Rc::default();
    let finish = {
        let (result, wake) = (result.clone(), wake.clone());
        move |owned: Owned| {
            if result.borrow().is_none() {
                *result.borrow_mut() = Some(owned);
                if let Some(resolve) = wake.borrow_mut().take() {
                    let _ = resolve.call0(&JsValue::UNDEFINED);
                }
            }
        }
    };
    let on_answer = {
        let finish = finish.clone();
        Closure::<dyn FnMut(JsValue)>::new(move |answer: JsValue| {
            let text = js_sys::JSON::stringify(&answer)
                .ok()
                .and_then(|s| s.as_string())
                .unwrap_or_default();
            finish(Owned::Jsonp(text));
        })
    };
    let on_error = {
        let finish = finish.clone();
        Closure::<dyn FnMut()>::new(move || finish(Owned::NetworkError))
    };
    let _ = js_sys::Reflect::set(&window, &JsValue::from_str(&name), on_answer.as_ref());
    let _ = script.add_event_listener_with_callback("error", on_error.as_ref().unchecked_ref());
    let _ = script.set_attribute("src", &url);
    let timer = {
        let finish = finish.clone();
        Timer::start(timeout_ms, move || finish(Owned::Timeout))
    };
    let appended = document
        .head()
        .map(|h| h.append_child(&script).is_ok())
        .unwrap_or(false);
    if !appended {
        finish(Owned::NetworkError);
    }
    if result.borrow().is_none() {
        let promise = js_sys::Promise::new(&mut |resolve, _| *wake.borrow_mut() = Some(resolve));
        let _ = JsFuture::from(promise).await;
    }
    drop(timer);
    script.remove();
    // A late answer must find a function: leave a no-op behind instead of the real callback.
    let noop = js_sys::Function::new_no_args("");
    let _ = js_sys::Reflect::set(&window, &JsValue::from_str(&name), &noop);
    drop((on_answer, on_error));
    let owned = result.borrow_mut().take();
    owned.unwrap_or(Owned::NetworkError)
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
