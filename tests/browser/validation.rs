//! Checking what the reader typed and chose before anything is sent, and the typo suggestion.

use crate::support::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::HtmlElement;

#[wasm_bindgen_test]
async fn shows_summary_and_inline_error_when_email_is_empty() {
    let host = answering("empty-submit", "subscribed", five()).mount();
    sleep(0).await;
    click(&host, "input[value=daily]");
    submit(&host).await;
    let summary = wait_for("the error summary", || shown(&host, ".lb-summary")).await;
    sleep(10).await;
    assert_eq!(
        focused(&host),
        Some(summary.clone()),
        "the summary takes focus"
    );
    assert!(summary
        .text_content()
        .unwrap()
        .contains("There is a problem"));
    let link = shown(&summary, "a").expect("a shown summary link");
    assert_eq!(
        link.text_content().as_deref(),
        Some("Enter your email address")
    );

    let email = input(&host, "input[type=email]");
    assert_eq!(email.get_attribute("aria-invalid").as_deref(), Some("true"));
    let described: Vec<String> = email
        .get_attribute("aria-describedby")
        .unwrap()
        .split(' ')
        .map(str::to_owned)
        .collect();
    assert_eq!(described.len(), 2, "hint first, then error");
    assert!(
        !summary.has_attribute("role") || summary.get_attribute("role").as_deref() != Some("alert"),
        "focused, so not also an alert (read twice)"
    );
    let error = get(&host, &format!("[id='{}']", described[1]));
    assert_eq!(
        error.text_content().as_deref(),
        Some("Error: Enter your email address")
    );
    assert!(get(&error, ".lb-visually-hidden")
        .text_content()
        .unwrap()
        .starts_with("Error:"));

    link.dyn_into::<HtmlElement>().unwrap().click();
    assert_eq!(
        focused(&host),
        Some(email.clone().into()),
        "the summary link moves focus to the field"
    );
    assert!(requests("empty-submit").await.is_empty(), "nothing is sent");

    type_email(&host, "j").await;
    sleep(10).await;
    assert!(
        shown(&host, ".lb-error").is_none(),
        "editing the field clears its error"
    );
    assert_eq!(
        email.get_attribute("aria-invalid").as_deref(),
        Some("false")
    );
}

#[wasm_bindgen_test]
async fn a_malformed_address_gets_the_message_for_what_is_wrong() {
    let host = answering("bad-address", "subscribed", one()).mount();
    for (typed, message) in [
        (
            "jane.example.com",
            "Enter an email address with an @, like name@example.com",
        ),
        (
            "jane@example",
            "Enter the full domain after the @, like example.com",
        ),
        (
            "jane@@example.com",
            "Enter an email address with only one @, like name@example.com",
        ),
    ] {
        type_email(&host, typed).await;
        submit(&host).await;
        let error = wait_for("an inline error", || shown(&host, ".lb-error")).await;
        assert_eq!(
            error.text_content().unwrap(),
            format!("Error: {message}"),
            "for {typed}"
        );
    }
    assert!(requests("bad-address").await.is_empty());
}

#[wasm_bindgen_test]
async fn a_one_field_slot_shows_the_inline_error_only_and_focuses_the_field() {
    let host = answering("one-field-empty", "subscribed", one()).mount();
    sleep(0).await;
    let before = host.host.get_bounding_client_rect().height();
    submit(&host).await;
    let error = wait_for("the inline error", || shown(&host, ".lb-error")).await;
    sleep(10).await;
    assert_eq!(
        error.text_content().as_deref(),
        Some("Error: Enter your email address")
    );
    assert!(shown(&host, ".lb-summary").is_none(), "no summary box");
    let email = input(&host, "input[type=email]");
    assert_eq!(focused(&host), Some(email.clone().into()));
    assert_eq!(email.get_attribute("aria-invalid").as_deref(), Some("true"));
    let grown = host.host.get_bounding_client_rect().height() - before;
    assert!(
        grown < 60.0,
        "the slot grew by the message only: {grown} px"
    );
}

#[wasm_bindgen_test]
async fn choosing_no_newsletter_is_an_error_linked_to_the_first_checkbox() {
    let host = answering("no-newsletter", "subscribed", five()).mount();
    type_email(&host, "jane@example.com").await;
    submit(&host).await;
    let summary = wait_for("the error summary", || shown(&host, ".lb-summary")).await;
    assert_eq!(
        shown(&summary, "a")
            .expect("a shown summary link")
            .text_content()
            .as_deref(),
        Some("Select at least one newsletter")
    );
    let fieldset = get(&host, "fieldset");
    assert!(fieldset
        .get_attribute("aria-describedby")
        .unwrap()
        .contains("-newsletters-error"));
    click(&summary, "a");
    assert_eq!(
        focused(&host),
        Some(all(&host, "input[type=checkbox]")[0].clone())
    );
    assert!(requests("no-newsletter").await.is_empty());
}

#[wasm_bindgen_test]
async fn a_typo_suggestion_offers_a_fix_and_never_blocks() {
    let host = answering("suggestion", "subscribed", one()).mount();
    type_email(&host, "jane@gmial.com").await;
    dispatch(&get(&host, "input[type=email]"), "blur");
    sleep(10).await;
    let live = get(&host, ".lb-suggestion");
    assert_eq!(live.get_attribute("aria-live").as_deref(), Some("polite"));
    // Seen with the corrected part marked; read as one sentence with the address whole.
    assert_eq!(
        text(&host, ".lb-suggestion-text [aria-hidden=true]"),
        "Did you mean jane@gmail.com?"
    );
    assert_eq!(text(&host, ".lb-suggestion-text mark"), "ai");
    assert_eq!(
        text(&host, ".lb-suggestion-text .lb-visually-hidden"),
        "Did you mean jane@gmail.com?"
    );
    assert_eq!(
        all(&host, ".lb-suggestion-text > :not([aria-hidden=true])").len(),
        1,
        "nothing else is read"
    );
    click(&host, ".lb-suggestion button");
    sleep(10).await;
    assert_eq!(input(&host, "input[type=email]").value(), "jane@gmail.com");
    submit(&host).await;
    wait_for("the success panel", || shown(&host, ".lb-success")).await;
    assert_eq!(
        body_of(&requests("suggestion").await[0])["email"],
        "jane@gmail.com"
    );

    let host = answering("suggestion-ignored", "subscribed", one()).mount();
    type_email(&host, "jane@gmial.com").await;
    dispatch(&get(&host, "input[type=email]"), "blur");
    submit(&host).await;
    wait_for("the success panel", || shown(&host, ".lb-success")).await;
    assert_eq!(
        body_of(&requests("suggestion-ignored").await[0])["email"],
        "jane@gmial.com"
    );
}
