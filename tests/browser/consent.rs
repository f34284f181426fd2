//! Consent: a box to tick or a statement, and its exact record with the signup.

use crate::support::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::HtmlElement;

/// A slot for test `test` asking for `consent`, posting to its route answering `subscribed`
/// with one attempt.
fn asking(test: &str, consent: Consent) -> Slot {
    let config = Config::new()
        .endpoint(route(test, "subscribed"))
        .newsletters(one())
        .attempts(1)
        .consent(consent);
    Host::new(test, config).mount()
}

#[wasm_bindgen_test]
async fn a_consent_box_must_be_ticked_and_its_exact_record_goes_with_the_signup() {
    let host = asking(
        "consent-box",
        Consent {
            text: "I agree to receive The Daily Briefing by email.",
            version: "2026-03",
            privacy_url: Some("/privacy"),
            checkbox: None,
        },
    );
    sleep(0).await;
    let tick = input(&host, "input[name=consent]");
    assert!(!tick.checked(), "unticked by default");
    assert_eq!(
        text(&host, &format!("label[for='{}']", tick.id())),
        "I agree to receive The Daily Briefing by email.",
        "the privacy link stands outside the box's name"
    );
    let privacy = get(&host, ".lb-consent a");
    assert_eq!(privacy.get_attribute("href").as_deref(), Some("/privacy"));
    assert_eq!(privacy.get_attribute("rel").as_deref(), Some("noopener"));

    type_email(&host, "jane@example.com").await;
    submit(&host).await;
    let summary = wait_for("the error summary", || shown(&host, ".lb-summary")).await;
    let link = shown(&summary, "a").expect("a summary link");
    assert_eq!(
        link.text_content().as_deref(),
        Some("Tick the box to agree before you sign up")
    );
    assert_eq!(tick.get_attribute("aria-invalid").as_deref(), Some("true"));
    let error_id = tick.get_attribute("aria-describedby").unwrap();
    assert_eq!(
        text(&host, &format!("[id='{error_id}']")),
        "Error: Tick the box to agree before you sign up"
    );
    link.dyn_into::<HtmlElement>().unwrap().click();
    assert_eq!(
        focused(&host),
        Some(tick.clone().into()),
        "the link moves focus to the box"
    );
    assert!(
        requests("consent-box").await.is_empty(),
        "nothing is sent unticked"
    );

    tick.click();
    sleep(0).await;
    assert!(
        shown(&host, ".lb-summary").is_none(),
        "ticking clears the error"
    );
    let before = js_sys::Date::now() as u64;
    submit(&host).await;
    wait_for("the success panel", || shown(&host, ".lb-success")).await;
    let sent = requests("consent-box").await;
    assert_eq!(sent.len(), 1);
    let record = &body_of(&sent[0])["consent"];
    assert_eq!(
        record["text"],
        "I agree to receive The Daily Briefing by email."
    );
    assert_eq!(record["version"], "2026-03");
    assert_eq!(record["locale"], "en");
    let page = web_sys::window().unwrap().location().href().unwrap();
    assert_eq!(record["page"], page.as_str());
    let at = record["at_ms"].as_u64().expect("a timestamp");
    assert!(at >= before && at <= js_sys::Date::now() as u64, "{at}");
}

#[wasm_bindgen_test]
async fn a_consent_statement_needs_no_tick_and_is_recorded_too() {
    let host = asking(
        "consent-statement",
        Consent {
            text: "By signing up you agree to our terms.",
            version: "t1",
            privacy_url: None,
            checkbox: Some(false),
        },
    );
    sleep(0).await;
    assert!(find(&host, "input[name=consent]").is_none());
    let statement = get(&host, ".lb-consent");
    assert_eq!(
        statement.text_content().as_deref(),
        Some("By signing up you agree to our terms.")
    );
    assert_eq!(
        get(&host, "button[type=submit]").get_attribute("aria-describedby"),
        Some(statement.id()),
        "read with the button it is agreed by"
    );
    sign_up(&host, "jane@example.com").await;
    let sent = requests("consent-statement").await;
    assert_eq!(body_of(&sent[0])["consent"]["version"], "t1");
}

#[wasm_bindgen_test]
async fn a_signup_with_other_consent_wording_is_not_merged_into_another() {
    // The same address and newsletter at the same moment, but only one slot asks for consent:
    // each is its own signup, so the consent record is never lost to the other slot's request.
    let config = || {
        Config::new()
            .endpoint(route("consent-not-merged", "slow"))
            .newsletters(one())
            .attempts(1)
    };
    let asks = Host::new(
        "consent-not-merged-asks",
        config().consent(Consent {
            text: "I agree",
            version: "v1",
            privacy_url: None,
            checkbox: None,
        }),
    )
    .mount();
    let plain = Host::new("consent-not-merged-plain", config()).mount();
    type_email(&plain, "jane@example.com").await;
    type_email(&asks, "jane@example.com").await;
    click(&asks, "input[name=consent]");
    submit(&plain).await;
    submit(&asks).await;
    for host in [&plain, &asks] {
        wait_for("a success panel in each slot", || {
            shown(host, ".lb-success")
        })
        .await;
    }
    let sent = requests("consent-not-merged").await;
    assert_eq!(sent.len(), 2);
    let with_consent = sent
        .iter()
        .filter(|r| body_of(r)["consent"]["version"] == "v1")
        .count();
    assert_eq!(
        with_consent, 1,
        "the consent record went out with its own signup"
    );
}
