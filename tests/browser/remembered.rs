//! What the browser remembers after a signup, across slots and page views.

use crate::support::*;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
async fn subscribing_in_one_slot_updates_every_slot_offering_the_same_newsletters() {
    let api = started();
    // Every slot delivers to the same place, each offering its own newsletters.
    let host_with = |id: &str, newsletters: Vec<Newsletter>| {
        let config = Config::new()
            .endpoint(route("remember", "subscribed"))
            .newsletters(newsletters);
        Host::new(id, config).mount()
    };
    let daily = newsletter("daily", "The Daily Briefing");
    let culture = newsletter("culture", "Culture");
    let alerts = newsletter("alerts", "Alerts");
    let a = host_with("remember-a", vec![daily.clone(), culture.clone()]);
    let b = host_with("remember-b", vec![daily.clone()]);
    let c = host_with("remember-c", vec![daily, alerts]);
    sleep(0).await;
    assert!(
        shown(&b, ".lb-remembered").is_none() && shown(&b, "form").is_some(),
        "nothing remembered yet"
    );

    type_email(&a, "jane@example.com").await;
    click(&a, "input[value=daily]");
    click(&a, "input[value=culture]");
    submit(&a).await;
    wait_for("the success panel", || shown(&a, ".lb-success")).await;
    sleep(10).await;
    assert!(
        shown(&a, ".lb-success").is_some(),
        "the slot that signed up keeps its success panel"
    );
    let short = wait_for("the short state", || shown(&b, ".lb-remembered")).await;
    assert_eq!(
        short.text_content().as_deref(),
        Some("You’re signed up to The Daily Briefing.")
    );
    assert!(shown(&b, "form").is_none());
    assert_eq!(
        text(&c, ".lb-remembered-note"),
        "You’re already signed up to The Daily Briefing."
    );
    assert!(
        shown(&c, "input[value=daily]").is_none(),
        "a remembered newsletter is not offered again"
    );
    assert!(
        shown(&c, "input[value=alerts]").is_some(),
        "other newsletters are still offered"
    );
    let stored = web_sys::window()
        .unwrap()
        .local_storage()
        .unwrap()
        .unwrap()
        .get_item("letterbox:subscribed")
        .unwrap()
        .unwrap();
    assert!(
        !stored.contains("jane"),
        "the address is not stored: {stored}"
    );

    let later = host_with("remember-later", vec![culture]);
    sleep(0).await;
    assert!(
        shown(&later, ".lb-remembered").is_some(),
        "a slot mounted later (the next page view) remembers too"
    );

    call(&api, "forget", &[]);
    sleep(10).await;
    assert!(
        shown(&b, "form").is_some() && shown(&b, ".lb-remembered").is_none(),
        "forget() offers again"
    );
    assert!(shown(&c, "input[value=daily]").is_some());
    assert_eq!(requests("remember").await.len(), 1);
}
