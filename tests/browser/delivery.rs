//! Sending a signup to the JSON endpoint: the contract body, each answer and what the reader
//! is shown, retries with the same key, and one request for one signup.

use crate::support::*;
use wasm_bindgen_test::wasm_bindgen_test;

/// A slot for test `test` posting to its route answering as `behaviour`, with the widget's own
/// number of attempts.
fn retrying(test: &str, behaviour: &str) -> Slot {
    Host::new(
        test,
        Config::new()
            .endpoint(route(test, behaviour))
            .newsletters(one()),
    )
    .mount()
}

/// Test `test`'s endpoint got the failed request and one retry of it, with the same key: one
/// signup, which the server can tell apart from a second one.
async fn one_signup_in_two_requests(test: &str) {
    let sent = requests(test).await;
    assert_eq!(sent.len(), 2, "the failed request and its retry");
    assert_eq!(
        sent[0]["idempotency_key"], sent[1]["idempotency_key"],
        "one signup: the server can tell the retry is the same one"
    );
}

#[wasm_bindgen_test]
async fn a_valid_signup_sends_one_request_with_the_contract_body_and_shows_success() {
    let host = answering("valid-signup", "subscribed", five()).mount();
    type_email(&host, "  Jane.Doe+news@Example.COM ").await;
    click(&host, "input[value=alerts]");
    click(&host, "input[value=daily]");
    submit(&host).await;
    let heading = wait_for("the success panel", || shown(&host, ".lb-success h2")).await;
    sleep(10).await;
    assert_eq!(heading.text_content().as_deref(), Some("You’re subscribed"));
    assert_eq!(
        focused(&host),
        Some(heading),
        "the success heading takes focus"
    );
    assert!(shown(&host, "form").is_none(), "the form is replaced");
    let body = text(&host, ".lb-success");
    assert!(body.contains("Jane.Doe+news@example.com"), "{body}");
    assert!(
        body.contains("The Daily Briefing and Breaking news alerts"),
        "{body}"
    );

    let sent = requests("valid-signup").await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["content_type"], "application/json");
    let key = sent[0]["idempotency_key"].as_str().unwrap();
    assert_eq!(key.len(), 36, "a UUID-shaped key: {key}");
    let page = web_sys::window().unwrap().location().href().unwrap();
    assert_eq!(
        body_of(&sent[0]),
        serde_json::json!({
            "email": "Jane.Doe+news@example.com",
            "newsletters": ["daily", "alerts"],
            "locale": "en",
            "source": {"page": page, "slot": "valid-signup"}
        })
    );
}

#[wasm_bindgen_test]
async fn an_international_domain_is_sent_in_ascii() {
    let host = answering("idn", "pending", one()).mount();
    sign_up(&host, "jane@münchen.de").await;
    let sent = requests("idn").await;
    assert_eq!(body_of(&sent[0])["email"], "jane@xn--mnchen-3ya.de");
    assert_eq!(text(&host, ".lb-success h2"), "Check your inbox");
}

#[wasm_bindgen_test]
async fn double_click_and_enter_while_sending_make_one_request() {
    let host = answering("double-click", "slow", one()).mount();
    type_email(&host, "jane@example.com").await;
    click(&host, "button[type=submit]");
    click(&host, "button[type=submit]");
    dispatch(&get(&host, "form"), "submit");
    sleep(50).await;
    assert_eq!(text(&host, "[role=status]"), "Sending your signup…");
    let submit_button = get(&host, "button[type=submit]");
    assert!(
        !submit_button.has_attribute("disabled"),
        "the button stays enabled"
    );
    click(&host, "button[type=submit]");
    wait_for("the success panel", || shown(&host, ".lb-success")).await;
    assert_eq!(requests("double-click").await.len(), 1);
}

#[wasm_bindgen_test]
async fn a_server_error_shows_the_failure_panel_and_try_again_resends_with_the_same_key() {
    let host = answering("server-error", "fail-once", one()).mount();
    type_email(&host, "jane@example.com").await;
    submit(&host).await;
    let heading = wait_for("the failure panel", || shown(&host, ".lb-failure h2")).await;
    sleep(10).await;
    assert_eq!(
        heading.text_content().as_deref(),
        Some("Your signup was not sent")
    );
    assert_eq!(focused(&host), Some(heading));
    assert!(text(&host, ".lb-failure").contains("has a problem at the moment"));
    assert_eq!(
        input(&host, "input[type=email]").value(),
        "jane@example.com",
        "nothing typed is lost"
    );

    // One button: the form's own says Try again; the panel has none, and is not drawn in the
    // colour of the reader's own mistakes.
    assert!(find(&host, ".lb-failure button").is_none());
    assert_eq!(text(&host, "button[type=submit]"), "Try again");
    let panel = get(&host, ".lb-failure");
    let bar = computed(&panel, "border-left-color");
    let error = computed(&get(&host, ".lb-error"), "color");
    assert_ne!(bar, error, "neutral, not the validation colour");
    click(&host, "button[type=submit]");
    wait_for("the success panel", || shown(&host, ".lb-success")).await;
    let sent = requests("server-error").await;
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[0]["idempotency_key"], sent[1]["idempotency_key"],
        "a retry is the same submission"
    );
    assert_eq!(sent[0]["body"], sent[1]["body"]);
}

#[wasm_bindgen_test]
async fn conflict_shows_the_already_subscribed_copy() {
    let host = answering("conflict", "conflict", one()).mount();
    type_email(&host, "jane@example.com").await;
    submit(&host).await;
    let heading = wait_for("the success panel", || shown(&host, ".lb-success h2")).await;
    assert_eq!(
        heading.text_content().as_deref(),
        Some("Thank you for signing up")
    );
    assert_eq!(requests("conflict").await.len(), 1);
}

#[wasm_bindgen_test]
async fn a_server_field_error_is_shown_as_text_on_the_field() {
    let host = answering("field-error", "email-error", one()).mount();
    type_email(&host, "jane@example.com").await;
    submit(&host).await;
    let error = wait_for("an inline error", || shown(&host, ".lb-error")).await;
    assert_eq!(
        error.text_content().as_deref(),
        Some("Error: <b>This domain does not accept mail</b>")
    );
    assert!(find(&error, "b").is_none(), "server text is never HTML");
}

#[wasm_bindgen_test]
async fn rate_limiting_tells_the_reader_how_long_to_wait() {
    let host = answering("rate-limited", "rate-limited", one()).mount();
    type_email(&host, "jane@example.com").await;
    submit(&host).await;
    let panel = wait_for("the failure panel", || shown(&host, ".lb-failure")).await;
    assert!(panel
        .text_content()
        .unwrap()
        .contains("Try again in 30 seconds."));
    // It counts down, live.
    sleep(2300).await;
    let now = panel.text_content().unwrap();
    assert!(
        now.contains("Try again in 28 seconds.") || now.contains("Try again in 27 seconds."),
        "{now}"
    );
}

#[wasm_bindgen_test]
async fn a_permanent_refusal_offers_no_try_again() {
    let host = answering("refused", "refused-html", one()).mount();
    type_email(&host, "jane@example.com").await;
    submit(&host).await;
    let panel = wait_for("the failure panel", || shown(&host, ".lb-failure")).await;
    assert!(panel
        .text_content()
        .unwrap()
        .contains("Signups are <b>closed</b>"));
    assert!(!panel.text_content().unwrap().contains("Try again"));
    assert_eq!(
        text(&host, "button[type=submit]"),
        "Sign up to The Daily Briefing"
    );
}

#[wasm_bindgen_test]
async fn a_passing_server_error_is_retried_with_the_same_key_without_the_reader() {
    let host = retrying("retry-500", "fail-once");
    sign_up(&host, "jane@example.com").await;
    assert!(shown(&host, ".lb-failure").is_none());
    one_signup_in_two_requests("retry-500").await;
}

#[wasm_bindgen_test]
async fn a_dropped_connection_is_retried_with_the_same_key_and_signs_up_once() {
    // The endpoint's raw TCP dropper reads the request and closes the connection unanswered.
    let dropper = fetch_text(&format!("{}/t/dropper", base())).await;
    let host = Host::new(
        "retry-drop",
        Config::new()
            .endpoint(format!("{dropper}/t/retry-drop/drop-once"))
            .newsletters(one()),
    )
    .mount();
    sign_up(&host, "jane@example.com").await;
    assert!(shown(&host, ".lb-failure").is_none());
    one_signup_in_two_requests("retry-drop").await;
}

#[wasm_bindgen_test]
async fn a_short_retry_after_is_waited_out_and_the_signup_goes_through() {
    let host = retrying("retry-429", "rate-once");
    type_email(&host, "jane@example.com").await;
    submit(&host).await;
    sleep(200).await;
    // It says why nothing happened yet, once, and that it tries again by itself.
    assert_eq!(
        text(&host, "[role=status]"),
        "Not sent yet. Trying again in 1 second.",
        "the wait is announced"
    );
    assert_eq!(
        shown(&host, ".lb-retry-note")
            .and_then(|n| n.text_content())
            .as_deref(),
        Some("Not sent yet. Trying again in 1 second."),
        "and shown under the button"
    );
    assert_eq!(
        text(&host, "button[type=submit]"),
        "Sending…",
        "the button shows it"
    );
    assert_eq!(
        get(&host, "form").get_attribute("aria-busy").as_deref(),
        Some("true")
    );
    wait_for("the success panel", || shown(&host, ".lb-success")).await;
    let sent = requests("retry-429").await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["idempotency_key"], sent[1]["idempotency_key"]);
}

#[wasm_bindgen_test]
async fn a_retry_wait_counts_down_visibly_in_ukrainian_and_goes_when_the_answer_comes() {
    let host = Host::new(
        "retry-wait-uk",
        Config::new()
            .endpoint(route("retry-wait-uk", "rate-once-3"))
            .newsletters(one()),
    )
    .attribute("data-lang", "uk")
    .mount();
    type_email(&host, "jane@example.com").await;
    submit(&host).await;
    let note = wait_for("the retry note", || shown(&host, ".lb-retry-note")).await;
    assert_eq!(
        note.text_content().as_deref(),
        Some("Ще не надіслано. Пробуємо ще раз через 3 с.")
    );
    sleep(1_100).await;
    assert_eq!(
        note.text_content().as_deref(),
        Some("Ще не надіслано. Пробуємо ще раз через 2 с."),
        "the note counts down"
    );
    assert_eq!(
        text(&host, "[role=status]"),
        "Ще не надіслано. Пробуємо ще раз через 3 с.",
        "the live region keeps its words, so the countdown is not read every second"
    );
    assert!(
        note.get_attribute("aria-live").is_none() && note.closest("[aria-live]").unwrap().is_none(),
        "the note itself is not live"
    );
    wait_for("the success panel", || shown(&host, ".lb-success")).await;
    assert!(shown(&host, ".lb-retry-note").is_none());
    assert_eq!(requests("retry-wait-uk").await.len(), 2);
}

#[wasm_bindgen_test]
async fn an_answer_that_says_the_input_is_wrong_is_never_retried() {
    let host = retrying("no-retry-422", "email-error");
    type_email(&host, "jane@example.com").await;
    submit(&host).await;
    wait_for("an inline error", || shown(&host, ".lb-error")).await;
    sleep(1500).await;
    assert_eq!(requests("no-retry-422").await.len(), 1);
}

#[wasm_bindgen_test]
async fn an_endpoint_that_hangs_past_the_timeout_is_retried_with_the_same_key() {
    // Two attempts: the first hangs past the widget's 15 s timeout, the second is answered.
    let host = Host::new(
        "hang",
        Config::new()
            .endpoint(route("hang", "hang-once"))
            .newsletters(one())
            .attempts(2),
    )
    .mount();
    type_email(&host, "jane@example.com").await;
    submit(&host).await;
    sleep(1_000).await;
    assert!(
        shown(&host, ".lb-success, .lb-failure, .lb-queued").is_none(),
        "still sending while the server hangs"
    );
    assert_eq!(
        text(&host, "[role=status]"),
        "Sending your signup…",
        "the reader is told it is on its way"
    );
    // Past the 15 s timeout the widget gives up on that request and tries again.
    let mut done = None;
    for _ in 0..60 {
        done = shown(&host, ".lb-success, .lb-failure, .lb-queued");
        if done.is_some() {
            break;
        }
        sleep(500).await;
    }
    let done = done.expect("an answer within 30 s");
    assert!(
        done.class_list().contains("lb-success"),
        "{}",
        done.outer_html()
    );
    one_signup_in_two_requests("hang").await;
}

#[wasm_bindgen_test]
async fn two_slots_sending_the_same_signup_at_once_make_one_request() {
    // Both slots post to the same slow endpoint: the second submits while the first is in flight.
    let hosts: Vec<Slot> = ["same-signup-top", "same-signup-footer"]
        .into_iter()
        .map(|id| {
            let config = Config::new()
                .endpoint(route("same-signup", "slow"))
                .newsletters(one())
                .attempts(1);
            Host::new(id, config).mount()
        })
        .collect();
    for host in &hosts {
        type_email(host, "jane@Example.com").await;
    }
    submit(&hosts[0]).await;
    submit(&hosts[1]).await;
    for host in &hosts {
        wait_for("a success panel in each slot", || {
            shown(host, ".lb-success")
        })
        .await;
    }
    let sent = requests("same-signup").await;
    assert_eq!(sent.len(), 1, "one request for one signup");
    assert_eq!(body_of(&sent[0])["email"], "jane@example.com");
}

#[wasm_bindgen_test]
async fn a_server_message_with_markup_is_shown_as_plain_text() {
    let host = answering("refused-html", "refused-html", one()).mount();
    type_email(&host, "jane@example.com").await;
    submit(&host).await;
    wait_for("the failure panel", || shown(&host, ".lb-failure")).await;
    let reason = text(&host, ".lb-failure-reason");
    assert!(reason.contains("Signups are <b>closed</b>"), "{reason}");
    for tag in ["img", "b"] {
        assert!(
            find(&host, tag).is_none(),
            "<{tag}> was rendered from the answer"
        );
    }
    no_script_ran();
}
