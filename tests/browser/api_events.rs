//! The page-facing surface: the DOM events and the `window.Letterbox` JS API.

use crate::support::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::HtmlElement;

#[wasm_bindgen_test]
async fn events_reach_a_listener_on_document_without_the_address() {
    let seen: std::rc::Rc<std::cell::RefCell<Vec<(String, String)>>> = Default::default();
    let record = {
        let seen = seen.clone();
        wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::CustomEvent)>::new(
            move |e: web_sys::CustomEvent| {
                let detail = js_sys::JSON::stringify(&e.detail())
                    .unwrap()
                    .as_string()
                    .unwrap();
                if detail.contains("\"slot\":\"events\"") {
                    seen.borrow_mut().push((e.type_(), detail));
                }
            },
        )
    };
    for name in [
        "letterbox:ready",
        "letterbox:submit",
        "letterbox:success",
        "letterbox:error",
        "letterbox:suggestion",
    ] {
        document()
            .add_event_listener_with_callback(name, record.as_ref().unchecked_ref())
            .unwrap();
    }
    let host = answering("events", "pending", five()).mount();
    submit(&host).await;
    type_email(&host, "jane@gmial.com").await;
    dispatch(&get(&host, "input[type=email]"), "blur");
    click(&host, ".lb-suggestion button");
    click(&host, "input[value=culture]");
    submit(&host).await;
    wait_for("the success panel", || shown(&host, ".lb-success")).await;
    let seen = seen.borrow().clone();
    let names: Vec<&str> = seen.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "letterbox:ready",
            "letterbox:error",
            "letterbox:suggestion",
            "letterbox:suggestion",
            "letterbox:submit",
            "letterbox:success"
        ]
    );
    assert_eq!(
        seen[5].1,
        r#"{"slot":"events","newsletters":["culture"],"outcome":"pending"}"#
    );
    assert!(
        seen.iter().all(|(_, d)| !d.contains("jane@")),
        "no address in events: {seen:?}"
    );
    record.forget();
}

#[wasm_bindgen_test]
async fn the_js_api_mounts_with_options_and_unmounts() {
    let api = started();
    let version = js_sys::Reflect::get(&api, &"version".into())
        .unwrap()
        .as_string()
        .unwrap();
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
    let ready: js_sys::Promise = js_sys::Reflect::get(&api, &"ready".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    let resolved = JsFuture::from(ready).await.unwrap();
    assert!(
        js_sys::Object::is(&resolved, &api),
        "ready resolves with the API"
    );

    let host: HtmlElement = document()
        .create_element("div")
        .unwrap()
        .dyn_into()
        .unwrap();
    document().body().unwrap().append_child(&host).unwrap();
    let options = Config::new()
        .endpoint(route("js-api", "subscribed"))
        .newsletters(one())
        .text("submit", "Sign up");
    let options = js_sys::JSON::parse(&options.to_json()).unwrap();
    assert_eq!(
        call(&api, "mount", &[host.clone().into(), options.clone()]),
        JsValue::TRUE
    );
    assert_eq!(
        call(&api, "mount", &[host.clone().into(), options]),
        JsValue::FALSE,
        "mounting twice does nothing"
    );
    let widget = slot(host.clone());
    assert!(text(&widget, "button[type=submit]")
        .trim()
        .starts_with("Sign up to "));
    sign_up(&widget, "jane@example.com").await;
    assert_eq!(requests("js-api").await.len(), 1);

    assert_eq!(call(&api, "unmount", &[host.clone().into()]), JsValue::TRUE);
    assert_eq!(host.shadow_root().unwrap().child_element_count(), 0);
    assert_eq!(
        call(&api, "unmount", &[host.clone().into()]),
        JsValue::FALSE
    );
    let mount: js_sys::Function = js_sys::Reflect::get(&api, &"mount".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    let thrown = mount
        .call2(&api, &JsValue::from_str("not an element"), &JsValue::NULL)
        .unwrap_err();
    assert!(thrown.is_instance_of::<js_sys::TypeError>());
}
