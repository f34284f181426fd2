//! What a slot says and how it names things: the site's title, intro and image at the page's
//! heading level, controls whose names say what they sign up to, and results read in full.

use crate::support::*;
use wasm_bindgen_test::wasm_bindgen_test;

fn with(
    test: &str,
    behaviour: &str,
    newsletters: Vec<Newsletter>,
    f: impl FnOnce(Config) -> Config,
) -> Host {
    Host::new(
        test,
        f(Config::new()
            .endpoint(route(test, behaviour))
            .newsletters(newsletters)
            .attempts(1)),
    )
}

#[wasm_bindgen_test]
async fn each_slots_field_and_button_name_what_they_sign_up_to() {
    let single = answering("names-single", "pending", one()).mount();
    let titled = with("names-titled", "pending", five(), |c| {
        c.key("title", "Morning news")
    })
    .mount();
    sleep(0).await;
    let label = get(&single, "label.lb-label");
    assert_eq!(
        label.text_content().unwrap().trim(),
        "Email address for The Daily Briefing"
    );
    assert_eq!(
        text(&single, "button[type=submit]").trim(),
        "Sign up to The Daily Briefing"
    );
    // The visible words are the start of the name (WCAG 2.5.3, label in name).
    assert_eq!(
        text(&single, "label.lb-label .lb-visually-hidden"),
        " for The Daily Briefing"
    );
    assert_eq!(
        get(&titled, "label.lb-label")
            .text_content()
            .unwrap()
            .trim(),
        "Email address for Morning news"
    );
    assert_eq!(
        text(&titled, "button[type=submit]").trim(),
        "Sign up to Morning news"
    );
    // A checkbox's name is its newsletter and frequency apart, not glued together.
    let css_name = web_sys::window()
        .unwrap()
        .get_computed_style_with_pseudo_elt(&get(&titled, ".lb-frequency"), "::before")
        .unwrap()
        .unwrap()
        .get_property_value("content")
        .unwrap();
    assert!(
        css_name.contains("\", \""),
        "the separator is read as a comma: {css_name}"
    );
}

#[wasm_bindgen_test]
async fn the_sites_title_intro_and_image_stand_above_the_form_at_its_heading_level() {
    let host = with("heading-level", "pending", five(), |c| {
        c.key("title", "Morning news")
            .key("intro", "The day's stories before breakfast.")
            .key("image", "/logo.png")
            .key("heading_level", 3)
    })
    .mount();
    sleep(0).await;
    let title = get(&host, ".lb-title");
    assert_eq!(title.text_content().as_deref(), Some("Morning news"));
    assert_eq!(title.get_attribute("aria-level").as_deref(), Some("3"));
    assert_eq!(
        text(&host, ".lb-intro"),
        "The day's stories before breakfast."
    );
    assert_eq!(
        get(&host, "img.lb-image").get_attribute("alt").as_deref(),
        Some("")
    );
    // Under the title, the error summary's heading is one level down.
    submit(&host).await;
    let summary = wait_for("the summary", || shown(&host, ".lb-summary")).await;
    assert_eq!(
        get(&summary, "h2").get_attribute("aria-level").as_deref(),
        Some("4")
    );
    assert!(summary.get_attribute("role").as_deref() != Some("alert"));
    // Success replaces the form and the title; its heading is read with the address.
    type_email(&host, "jane@example.com").await;
    click(&host, "input[value=daily]");
    submit(&host).await;
    let heading = wait_for("the success heading", || shown(&host, ".lb-success h2")).await;
    assert!(
        shown(&host, ".lb-title").is_none(),
        "the title goes with the form"
    );
    assert_eq!(heading.get_attribute("aria-level").as_deref(), Some("3"));
    let body_id = heading
        .get_attribute("aria-describedby")
        .expect("described");
    assert!(text(&host, &format!("[id='{body_id}']")).contains("jane@example.com"));
}

#[wasm_bindgen_test]
async fn under_a_title_the_legend_is_set_as_a_label_not_a_second_heading() {
    let titled = with("legend-titled", "pending", five(), |c| {
        c.key("title", "Morning news")
    })
    .mount();
    let plain = answering("legend-plain", "pending", five()).mount();
    sleep(0).await;
    let (legend, label) = (get(&titled, "legend"), get(&titled, "label.lb-label"));
    // The same size and weight as the email field's label; the title is the one heading.
    assert_eq!(
        computed(&legend, "font-size"),
        computed(&label, "font-size")
    );
    assert_eq!(
        computed(&legend, "font-weight"),
        computed(&label, "font-weight")
    );
    let px = |el: &web_sys::Element| {
        computed(el, "font-size")
            .trim_end_matches("px")
            .parse::<f64>()
            .unwrap()
    };
    assert!(
        px(&get(&titled, ".lb-title")) > px(&legend),
        "the title stands above it"
    );
    // Still shown and still the fieldset's name.
    assert_eq!(
        legend.text_content().as_deref(),
        Some("Choose your newsletters")
    );
    assert!(legend.get_bounding_client_rect().height() > 1.0);
    assert_eq!(
        legend.parent_element().map(|p| p.tag_name()),
        Some("FIELDSET".into())
    );
    // Without a title, the legend is the slot's heading-like line, as before.
    let alone = get(&plain, "legend");
    assert_ne!(
        computed(&alone, "font-size"),
        computed(&get(&plain, "label.lb-label"), "font-size")
    );
}

#[wasm_bindgen_test]
async fn without_a_title_the_slot_adds_no_heading_and_keeps_h2() {
    let host = answering("no-title", "subscribed", one()).mount();
    type_email(&host, "jane@example.com").await;
    submit(&host).await;
    let heading = wait_for("the success heading", || shown(&host, ".lb-success h2")).await;
    assert!(find(&host, ".lb-title").is_none());
    assert!(!heading.has_attribute("aria-level"));
}

#[wasm_bindgen_test]
async fn the_privacy_link_stands_outside_the_consent_boxs_label() {
    let host = with("privacy-outside", "pending", one(), |c| {
        c.consent(Consent {
            text: "I agree to receive The Daily Briefing.",
            version: "1",
            privacy_url: Some("/privacy"),
            checkbox: None,
        })
    })
    .mount();
    sleep(0).await;
    let label = get(&host, "label.lb-checkbox-label");
    assert!(
        find(&label, "a").is_none(),
        "the link is not part of the box's name"
    );
    assert_eq!(
        label.text_content().as_deref(),
        Some("I agree to receive The Daily Briefing.")
    );
    assert!(find(&host, "a.lb-privacy").is_some());
}
