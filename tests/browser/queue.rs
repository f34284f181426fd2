//! The pending queue: a signup that cannot be sent is kept in the browser, sent once later,
//! shared by slots and withdrawn by the reader.

use crate::support::*;
use wasm_bindgen_test::wasm_bindgen_test;

/// A configuration whose endpoint refuses connections (as when offline).
fn unreachable() -> Config {
    // Port 9 (discard) is closed on the test machine's loopback: the connection is refused.
    Config::new()
        .endpoint("http://127.0.0.1:9/subscribe")
        .newsletters(one())
}

#[wasm_bindgen_test]
async fn an_unreachable_endpoint_queues_the_signup_and_the_reader_can_withdraw_it() {
    let host = Host::anonymous(unreachable().attempts(2)).mount();
    type_email(&host, "jane@example.com").await;
    submit(&host).await;
    let panel = wait_for("the queued panel", || shown(&host, ".lb-queued")).await;
    let said = panel.text_content().unwrap_or_default();
    assert!(said.contains("Your signup will be sent later"), "{said}");
    assert!(said.contains("jane@example.com"), "{said}");
    let queued = pending_queue();
    assert!(
        queued.contains("jane@example.com"),
        "kept in the browser: {queued}"
    );
    assert!(
        queued.contains(r#""max_age_ms":604800000"#),
        "for the default seven days: {queued}"
    );
    // The reader changes their mind: nothing will be sent, and what they typed is still there.
    click(&host, ".lb-queued button");
    wait_for("the form again", || shown(&host, "form")).await;
    assert_eq!(
        input(&host, "input[type=email]").value(),
        "jane@example.com"
    );
    let left = pending_queue();
    assert!(!left.contains("jane@example.com"), "withdrawn: {left}");
    // And the slot says so, visibly and to screen readers.
    let note = "Your signup was not sent. You can sign up again here.";
    assert_eq!(
        shown(&host, ".lb-withdrawn-note")
            .and_then(|n| n.text_content())
            .as_deref(),
        Some(note)
    );
    assert_eq!(text(&host, "[role=status]"), note);
}

#[wasm_bindgen_test]
async fn a_queued_signup_is_sent_exactly_once_on_the_next_page_view() {
    use letterbox_core::pending::{Pending, PendingQueue, STORAGE_KEY};
    use letterbox_core::signup::{Signup, Source};
    let endpoint = route("queued-next-view", "subscribed");
    let destination = format!("json {endpoint}");
    // What an earlier page view left behind when it could not send.
    let signup = Signup {
        email: "jane@example.com".into(),
        newsletters: vec!["daily".into()],
        locale: "en".into(),
        consent: None,
        fields: Vec::new(),
        source: Source {
            page: "https://news.example/earlier".into(),
            slot: "footer".into(),
        },
        key: "7d1f6a2c-0000-4000-8000-000000000001".into(),
        at_ms: js_sys::Date::now() as u64,
    };
    let mut queue = PendingQueue::load(
        None,
        js_sys::Date::now() as u64,
        PendingQueue::DEFAULT_MAX_AGE_MS,
    );
    queue.add(Pending::new(
        signup,
        &destination,
        js_sys::Date::now() as u64,
    ));
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    storage.set_item(STORAGE_KEY, &queue.to_storage()).unwrap();

    // This page view has a slot that delivers to the same place: mounting it sends the signup.
    let host = Host::new(
        "queued-next-view",
        Config::new().endpoint(endpoint).newsletters(one()),
    )
    .mount();
    let mut sent = Vec::new();
    for _ in 0..100 {
        sent = requests("queued-next-view").await;
        if !sent.is_empty() {
            break;
        }
        sleep(50).await;
    }
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0]["idempotency_key"], "7d1f6a2c-0000-4000-8000-000000000001",
        "the original key"
    );
    assert_eq!(
        body_of(&sent[0])["source"]["page"],
        "https://news.example/earlier"
    );
    sleep(100).await;
    let left = storage.get_item(STORAGE_KEY).unwrap().unwrap_or_default();
    assert!(
        !left.contains("7d1f6a2c"),
        "sent entries leave the queue: {left}"
    );
    letterbox::flush();
    sleep(300).await;
    assert_eq!(requests("queued-next-view").await.len(), 1, "never twice");
    assert!(
        shown(&host, ".lb-remembered").is_some(),
        "the slot now knows the reader signed up"
    );
}

#[wasm_bindgen_test]
async fn a_slot_that_keeps_nothing_offers_try_again_and_stores_no_address() {
    let host = Host::anonymous(unreachable().attempts(1).pending_days(0)).mount();
    type_email(&host, "kept-nowhere@example.com").await;
    submit(&host).await;
    let reason = wait_for("the failure panel", || shown(&host, ".lb-failure-reason")).await;
    assert!(
        reason
            .text_content()
            .unwrap_or_default()
            .contains("could not reach"),
        "{:?}",
        reason.text_content()
    );
    assert!(shown(&host, ".lb-queued").is_none());
    let queued = pending_queue();
    assert!(
        !queued.contains("kept-nowhere@example.com"),
        "nothing kept: {queued}"
    );
    assert_eq!(
        input(&host, "input[type=email]").value(),
        "kept-nowhere@example.com",
        "what the reader typed stays"
    );
}

#[wasm_bindgen_test]
async fn two_slots_share_one_queued_signup_and_withdrawing_it_in_one_withdraws_both() {
    let slots = [
        Host::anonymous(unreachable().attempts(1)).mount(),
        Host::anonymous(unreachable().attempts(1)).mount(),
    ];
    for host in &slots {
        type_email(host, "shared-queue@example.com").await;
    }
    submit(&slots[0]).await;
    submit(&slots[1]).await;
    for host in &slots {
        wait_for("a queued panel in each slot", || shown(host, ".lb-queued")).await;
    }
    let queued = pending_queue();
    assert_eq!(
        queued.matches("shared-queue@example.com").count(),
        1,
        "one entry for one signup: {queued}"
    );
    // The reader withdraws it in the second slot: it is gone, and both slots offer the form again.
    click(&slots[1], ".lb-queued button");
    for host in &slots {
        wait_for("the form again in each slot", || shown(host, "form")).await;
    }
    let left = pending_queue();
    assert!(
        !left.contains("shared-queue@example.com"),
        "withdrawn: {left}"
    );
    // The slot that joined sends it again on its own, still offline, and withdraws it again:
    // it is gone again (the joined slot took the shared submission's key as its own).
    submit(&slots[1]).await;
    wait_for("the queued panel again", || shown(&slots[1], ".lb-queued")).await;
    click(&slots[1], ".lb-queued button");
    wait_for("the form again", || shown(&slots[1], "form")).await;
    let left = pending_queue();
    assert!(
        !left.contains("shared-queue@example.com"),
        "withdrawn again: {left}"
    );
}

#[wasm_bindgen_test]
async fn the_same_signup_already_waiting_is_kept_once_and_the_slot_takes_its_key() {
    use letterbox_core::pending::{Pending, PendingQueue, STORAGE_KEY};
    use letterbox_core::signup::{Signup, Source};
    // An earlier page view could not send this signup and kept it under its own key.
    let earlier_key = "7d1f6a2c-0000-4000-8000-00000000beef";
    let signup = Signup {
        email: "kept-key@example.com".into(),
        newsletters: vec!["daily".into()],
        locale: "en".into(),
        consent: None,
        fields: Vec::new(),
        source: Source {
            page: "https://news.example/earlier".into(),
            slot: "footer".into(),
        },
        key: earlier_key.into(),
        at_ms: js_sys::Date::now() as u64,
    };
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    let now = js_sys::Date::now() as u64;
    let mut queue = PendingQueue::load(
        storage.get_item(STORAGE_KEY).unwrap().as_deref(),
        now,
        PendingQueue::DEFAULT_MAX_AGE_MS,
    );
    queue.add(Pending::new(
        signup,
        "json http://127.0.0.1:9/subscribe",
        now,
    ));
    storage.set_item(STORAGE_KEY, &queue.to_storage()).unwrap();

    // The reader signs up again, still unable to reach the service.
    let host = Host::anonymous(unreachable().attempts(1)).mount();
    type_email(&host, "kept-key@example.com").await;
    submit(&host).await;
    wait_for("the queued panel", || shown(&host, ".lb-queued")).await;
    let queued = pending_queue();
    assert_eq!(
        queued.matches("kept-key@example.com").count(),
        1,
        "kept once: {queued}"
    );
    assert!(
        queued.contains(earlier_key),
        "under its first key: {queued}"
    );
    // The slot took that key: withdrawing here withdraws the waiting signup.
    click(&host, ".lb-queued button");
    wait_for("the form again", || shown(&host, "form")).await;
    let left = pending_queue();
    assert!(!left.contains("kept-key@example.com"), "withdrawn: {left}");
}
