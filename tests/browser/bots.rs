//! Bot defences: the honeypot and fill time (dropped or flagged) and a site's challenge provider.

use crate::support::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
async fn bot_looking_submissions_are_not_sent_but_look_the_same() {
    // Each part has its own endpoint: a (fake) success is remembered for its endpoint.
    // A slot for `part`, which a person must take at least `min_fill_ms` to fill.
    let part = |part: &str, min_fill_ms: u64| {
        let config = Config::new()
            .endpoint(route(part, "subscribed"))
            .newsletters(one())
            .min_fill_ms(min_fill_ms);
        Host::new(part, config).mount()
    };
    // A filled honeypot, however slowly the form was filled.
    let honeypot_filled = part("bots-honeypot", 0);
    let trap = input(&honeypot_filled, ".lb-hp input");
    assert_eq!(trap.get_attribute("tabindex").as_deref(), Some("-1"));
    assert_eq!(trap.get_attribute("autocomplete").as_deref(), Some("off"));
    assert_eq!(
        get(&honeypot_filled, ".lb-hp")
            .get_attribute("aria-hidden")
            .as_deref(),
        Some("true")
    );
    trap.set_value("http://cheap-pills.example");
    type_email(&honeypot_filled, "bot@example.com").await;
    submit(&honeypot_filled).await;
    let title = wait_for("the success panel", || {
        shown(&honeypot_filled, ".lb-success h2")
    })
    .await;
    assert_eq!(
        title.text_content().as_deref(),
        Some("You’re subscribed"),
        "the same visible success"
    );

    // Faster than a person: submitted at once with the default minimum of one second.
    let fast = part("bots-fast", 1000);
    sign_up(&fast, "fast@example.com").await;
    assert!(
        requests("bots-honeypot").await.is_empty(),
        "the honeypot one was not sent"
    );
    assert!(
        requests("bots-fast").await.is_empty(),
        "the fast one was not sent"
    );

    // A person who took their time is sent.
    let person = part("bots-person", 300);
    sleep(400).await;
    sign_up(&person, "person@example.com").await;
    let sent = requests("bots-person").await;
    assert_eq!(sent.len(), 1);
    assert_eq!(body_of(&sent[0])["email"], "person@example.com");
    assert!(
        body_of(&sent[0]).get("honeypot").is_none(),
        "signals are sent only when flagging"
    );
}

#[wasm_bindgen_test]
async fn with_bots_flagged_every_submission_carries_its_signals_to_the_server() {
    let host = Host::new(
        "bots-flag",
        Config::new()
            .endpoint(route("bots-flag", "subscribed"))
            .newsletters(one())
            .bots("flag")
            .min_fill_ms(60_000),
    )
    .mount();
    sign_up(&host, "quick@example.com").await;
    let sent = requests("bots-flag").await;
    assert_eq!(
        sent.len(),
        1,
        "sent although it looks fast: the server decides"
    );
    let body = body_of(&sent[0]);
    assert_eq!(body["honeypot"], "");
    assert!(
        body["fill_ms"].as_u64().is_some_and(|ms| ms < 60_000),
        "{body}"
    );
}

#[wasm_bindgen_test]
async fn challenge_tokens_are_asked_for_only_on_submit_and_a_failing_provider_sends_nothing() {
    // One provider for the page, as a site registers it: a token later (as Turnstile and proof of
    // work answer) for one slot, a rejection for another, and no token for every other test's.
    let calls = std::rc::Rc::new(std::cell::Cell::new((0u32, 0u32)));
    let counted = calls.clone();
    let provider = wasm_bindgen::closure::Closure::<dyn Fn(JsValue) -> JsValue>::new(
        move |detail: JsValue| {
            let slot = js_sys::Reflect::get(&detail, &"slot".into()).unwrap();
            let (ok, failing) = counted.get();
            match slot.as_string().as_deref() {
                Some("challenge-ok") => {
                    counted.set((ok + 1, failing));
                    js_sys::Promise::new(&mut |resolve, _| {
                        let token = JsValue::from_str("0.turnstile-token-for-test");
                        web_sys::window()
                            .unwrap()
                            .set_timeout_with_callback_and_timeout_and_arguments_1(
                                &resolve, 50, &token,
                            )
                            .unwrap();
                    })
                    .into()
                }
                Some("challenge-fails") => {
                    counted.set((ok, failing + 1));
                    js_sys::Promise::reject(&js_sys::Error::new("widget not rendered").into())
                        .into()
                }
                _ => JsValue::NULL,
            }
        },
    );
    let api = started();
    let register: js_sys::Function = js_sys::Reflect::get(&api, &"challenge".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    // Something that is not a function is refused at once, with a TypeError.
    let refused = register
        .call1(&api, &JsValue::from_str("turnstile"))
        .unwrap_err();
    assert!(refused.is_instance_of::<js_sys::TypeError>());
    register.call1(&api, &provider.into_js_value()).unwrap();

    let host = answering("challenge-ok", "subscribed", one()).mount();
    type_email(&host, "jane@example.com").await;
    sleep(50).await;
    assert_eq!(
        calls.get().0,
        0,
        "no token is asked for before the reader submits"
    );
    submit(&host).await;
    wait_for("the success panel", || shown(&host, ".lb-success")).await;
    assert_eq!(calls.get().0, 1);
    let sent = requests("challenge-ok").await;
    assert_eq!(sent.len(), 1);
    assert_eq!(body_of(&sent[0])["challenge"], "0.turnstile-token-for-test");

    let host = answering("challenge-fails", "subscribed", one()).mount();
    type_email(&host, "jane@example.com").await;
    submit(&host).await;
    let reason = wait_for("the failure panel", || shown(&host, ".lb-failure-reason")).await;
    assert_eq!(
        reason.text_content().as_deref(),
        Some("We could not check that this signup comes from a person, so it was not sent. Try again.")
    );
    assert_eq!(calls.get().1, 1);
    assert!(
        requests("challenge-fails").await.is_empty(),
        "nothing was sent"
    );
}
