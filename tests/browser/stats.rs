//! The anonymous slot statistics (`stats_endpoint`): what one page view sends with
//! `sendBeacon` when the page is hidden, and that nothing is sent without `stats_endpoint` or
//! under Global Privacy Control.

use crate::support::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;

/// Every `navigator.sendBeacon` call from now on, as `[url, body]`, still sending for real.
fn spy_on_beacons() -> js_sys::Array {
    let calls = js_sys::Array::new();
    let navigator = web_sys::window().unwrap().navigator();
    let real = js_sys::Reflect::get(&navigator, &"sendBeacon".into()).unwrap();
    let spy = js_sys::Function::new_with_args(
        "calls, real",
        "return function (url, body) { calls.push([String(url), String(body)]); return real.call(navigator, url, body); };",
    )
    .call2(&wasm_bindgen::JsValue::NULL, &calls, &real)
    .unwrap();
    js_sys::Reflect::set(&navigator, &"sendBeacon".into(), &spy).unwrap();
    calls
}

/// The page is hidden (the reader leaves): what the browser dispatches.
fn hide_page() {
    let e = web_sys::Event::new("pagehide").unwrap();
    web_sys::window().unwrap().dispatch_event(&e).unwrap();
}

fn beacons_mentioning(calls: &js_sys::Array, slot: &str) -> Vec<(String, String)> {
    calls
        .iter()
        .map(|c| {
            let c: js_sys::Array = c.unchecked_into();
            (c.get(0).as_string().unwrap(), c.get(1).as_string().unwrap())
        })
        .filter(|(url, body)| url.contains(slot) || body.contains(slot))
        .collect()
}

/// Mounts a visible slot, waits until it counts as seen, signs up, hides the page.
async fn sign_up_in_view(host: Host) -> Slot {
    let s = host.mount();
    s.host.scroll_into_view();
    sleep(1300).await;
    type_email(&s, "jane@example.com").await;
    submit(&s).await;
    wait_for("the success panel", || shown(&s, ".lb-success")).await;
    hide_page();
    s
}

#[wasm_bindgen_test]
async fn one_beacon_on_page_hide_carries_the_slots_counts_and_nothing_about_the_reader() {
    let test = "stats-sent";
    let calls = spy_on_beacons();
    let host = Host::new(
        test,
        Config::new()
            .endpoint(route(test, "pending"))
            .stats_endpoint(route(test, "stats"))
            .newsletters(one())
            .attempts(1),
    );
    sign_up_in_view(host).await;
    let sent = wait_for("the statistics request", || {
        let got = beacons_mentioning(&calls, test);
        (!got.is_empty()).then_some(got)
    })
    .await;
    assert_eq!(sent.len(), 1, "one beacon: {sent:?}");
    let body: serde_json::Value = serde_json::from_str(&sent[0].1).unwrap();
    let newsletter = "daily";
    assert_eq!(
        body["events"],
        serde_json::json!([
            {"slot": test, "event": "seen", "n": 1},
            {"slot": test, "event": "submitted", "newsletter": newsletter, "n": 1},
            {"slot": test, "event": "succeeded", "newsletter": newsletter, "n": 1},
        ])
    );
    assert_eq!(body["v"], 1);
    let page = body["page"].as_str().unwrap();
    assert!(
        page.starts_with('/') && !page.contains('?') && !page.contains("://"),
        "{page}"
    );
    assert!(!sent[0].1.contains("jane"), "no address: {}", sent[0].1);
    // It reached the endpoint, as text/plain (no preflight).
    let stats: Vec<serde_json::Value> = loop {
        let all = requests(test).await;
        let stats: Vec<_> = all
            .into_iter()
            .filter(|r| r["behaviour"] == "stats")
            .collect();
        if !stats.is_empty() {
            break stats;
        }
        sleep(100).await;
    };
    assert_eq!(stats.len(), 1);
    assert!(stats[0]["content_type"]
        .as_str()
        .unwrap_or("")
        .starts_with("text/plain"));
    assert_eq!(body_of(&stats[0])["events"], body["events"]);
    // A second hide in the same page view sends nothing new.
    hide_page();
    sleep(200).await;
    assert_eq!(beacons_mentioning(&calls, test).len(), 1);
}

#[wasm_bindgen_test]
async fn nothing_is_sent_without_stats_endpoint() {
    let test = "stats-none";
    let calls = spy_on_beacons();
    let host = Host::new(
        test,
        Config::new()
            .endpoint(route(test, "pending"))
            .newsletters(one())
            .attempts(1),
    );
    sign_up_in_view(host).await;
    sleep(300).await;
    assert!(beacons_mentioning(&calls, test).is_empty());
    let recorded = requests(test).await;
    assert!(
        recorded.iter().all(|r| r["behaviour"] == "pending"),
        "{recorded:?}"
    );
}

#[wasm_bindgen_test]
async fn nothing_is_counted_or_sent_under_global_privacy_control() {
    let test = "stats-gpc";
    let navigator = web_sys::window().unwrap().navigator();
    js_sys::Reflect::apply(
        &js_sys::Function::new_with_args(
            "n",
            "Object.defineProperty(n, 'globalPrivacyControl', {value: true, configurable: true});",
        ),
        &wasm_bindgen::JsValue::NULL,
        &js_sys::Array::of1(&navigator),
    )
    .unwrap();
    let calls = spy_on_beacons();
    let host = Host::new(
        test,
        Config::new()
            .endpoint(route(test, "pending"))
            .stats_endpoint(route(test, "stats"))
            .newsletters(one())
            .attempts(1),
    );
    sign_up_in_view(host).await;
    sleep(300).await;
    js_sys::Reflect::delete_property(&navigator, &"globalPrivacyControl".into()).unwrap();
    assert!(beacons_mentioning(&calls, test).is_empty());
    let recorded = requests(test).await;
    assert!(
        recorded.iter().all(|r| r["behaviour"] == "pending"),
        "{recorded:?}"
    );
}
