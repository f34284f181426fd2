//! What the reader sees: the form, its texts and language, a broken configuration, and a
//! widget the page's CSS cannot reach.

use crate::support::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{Element, HtmlInputElement};

#[wasm_bindgen_test]
async fn renders_an_accessible_form_with_every_newsletter_unticked() {
    let host = answering("renders-form", "subscribed", five()).mount();
    sleep(0).await;
    let form = get(&host, "form");
    assert!(form.has_attribute("novalidate"));
    let email = input(&host, "input[type=email]");
    assert_eq!(
        email.get_attribute("autocomplete").as_deref(),
        Some("email")
    );
    assert_eq!(email.get_attribute("spellcheck").as_deref(), Some("false"));
    for absent in ["required", "maxlength", "placeholder"] {
        assert!(!email.has_attribute(absent), "email field has {absent}");
    }
    let label = get(&host, &format!("label[for='{}']", email.id()));
    assert!(label
        .text_content()
        .unwrap_or_default()
        .trim()
        .starts_with("Email address for The Daily Briefing, Explaining Ukraine"));
    let hint_id = email.get_attribute("aria-describedby").unwrap();
    assert!(text(&host, &format!("[id='{hint_id}']")).contains("newsletters you choose"));
    assert_eq!(
        email.get_attribute("aria-invalid").as_deref(),
        Some("false")
    );

    assert_eq!(text(&host, "fieldset legend"), "Choose your newsletters");
    let boxes = all(&host, "input[type=checkbox]");
    assert_eq!(boxes.len(), 5);
    for b in &boxes {
        let b: HtmlInputElement = b.clone().dyn_into().unwrap();
        assert!(!b.checked(), "{} is pre-selected", b.value());
        let label = get(&host, &format!("label[for='{}']", b.id()));
        assert!(!label.text_content().unwrap_or_default().is_empty());
    }
    let first_hint = boxes[0].get_attribute("aria-describedby").unwrap();
    assert_eq!(
        text(&host, &format!("[id='{first_hint}']")),
        "The day's main stories at 7am."
    );
    assert!(
        !host.text_content().unwrap_or_default().contains('*'),
        "no asterisks"
    );
    for part in [
        ".lb-summary",
        ".lb-failure",
        ".lb-success",
        ".lb-error",
        ".lb-suggestion-text",
    ] {
        assert!(
            shown(&host, part).is_none(),
            "{part} is shown before anything happened"
        );
    }
    let status = get(&host, "[role=status]");
    assert_eq!(
        status.get_attribute("aria-live").as_deref(),
        Some("polite"),
        "live region exists from the first render"
    );
}

#[wasm_bindgen_test]
async fn a_single_newsletter_makes_a_compact_form_without_checkboxes() {
    let host = answering("single", "subscribed", one()).mount();
    sleep(0).await;
    assert!(all(&host, "input[type=checkbox]").is_empty());
    assert!(find(&host, "fieldset").is_none());
    assert!(text(&host, ".lb-hint").contains("The Daily Briefing"));
}

#[wasm_bindgen_test]
async fn ukrainian_texts_when_the_host_is_inside_lang_uk() {
    let section = document().create_element("section").unwrap();
    section.set_attribute("lang", "uk").unwrap();
    document().body().unwrap().append_child(&section).unwrap();
    let host = answering("ukrainian", "pending", five()).mount_in(&section);
    sleep(0).await;
    assert!(text(&host, "label.lb-label")
        .trim()
        .starts_with("Електронна пошта для «The Daily Briefing»"));
    assert_eq!(text(&host, "legend"), "Оберіть розсилки");
    submit(&host).await;
    wait_for("the error summary", || shown(&host, ".lb-summary")).await;
    assert!(text(&host, ".lb-summary").contains("Виникла проблема"));
    assert!(text(&host, ".lb-summary").contains("Введіть адресу електронної пошти"));
    type_email(&host, "olena@ukr.net").await;
    click(&host, "input[value=uk-edition]");
    submit(&host).await;
    wait_for("the success panel", || shown(&host, ".lb-success")).await;
    assert_eq!(text(&host, ".lb-success h2"), "Перевірте свою пошту");
    assert_eq!(body_of(&requests("ukrainian").await[0])["locale"], "uk");
}

#[wasm_bindgen_test]
async fn a_broken_config_shows_its_own_error_and_the_slot_beside_it_still_works() {
    // A misspelt key, which the typed configuration cannot write.
    let broken = Host::raw(r#"{"endpoint": "/x", "newsleters": []}"#).mount();
    let good = answering("beside-broken", "subscribed", one()).mount();
    sleep(0).await;
    let error = text(&broken, ".lb-config-error");
    assert!(
        error.contains("This signup form is not available"),
        "{error}"
    );
    assert!(error.contains("newsleters"), "names the mistake: {error}");
    sign_up(&good, "jane@example.com").await;
}

#[wasm_bindgen_test]
async fn ids_are_unique_across_instances() {
    let a = answering("ids-a", "subscribed", five()).mount();
    let b = answering("ids-b", "subscribed", five()).mount();
    sleep(0).await;
    let ids = |h: &Element| all(h, "[id]").iter().map(|e| e.id()).collect::<Vec<_>>();
    let (ia, ib) = (ids(&a), ids(&b));
    assert!(!ia.is_empty());
    assert!(ia.iter().all(|id| !ib.contains(id)), "{ia:?} / {ib:?}");
}

#[wasm_bindgen_test]
async fn the_page_css_cannot_reach_inside_the_widget() {
    let style = document().create_element("style").unwrap();
    style.set_text_content(Some(
        "* { all: unset !important; } input, button { display: none !important; } \
         label { visibility: hidden !important; } .lb-hint, .lb-root { color: transparent !important; } \
         * { box-sizing: content-box !important; }",
    ));
    document().head().unwrap().append_child(&style).unwrap();
    let host = answering("hostile-css", "subscribed", five()).mount();
    sleep(50).await;
    let email = get(&host, "input[type=email]");
    let button = get(&host, "button[type=submit]");
    assert_ne!(computed(&email, "display"), "none");
    assert_ne!(computed(&button, "display"), "none");
    assert_eq!(
        computed(&get(&host, "label.lb-label"), "visibility"),
        "visible"
    );
    assert_ne!(
        computed(&get(&host, ".lb-hint"), "color"),
        "rgba(0, 0, 0, 0)"
    );
    let rect = email.get_bounding_client_rect();
    assert!(
        rect.width() > 100.0 && rect.height() > 20.0,
        "{}x{}",
        rect.width(),
        rect.height()
    );
    let hidden_summary = get(&host, ".lb-summary");
    assert_eq!(
        computed(&hidden_summary, "display"),
        "none",
        "hidden parts stay hidden"
    );
    // The widget's own CSS does not leak out: a page element with a widget class is unstyled.
    let outside = document().create_element("p").unwrap();
    outside.set_class_name("lb-error");
    document().body().unwrap().append_child(&outside).unwrap();
    assert_ne!(
        computed(&outside, "color"),
        computed(&get(&host, ".lb-error"), "color")
    );
    style.remove();
    outside.remove();
}

#[wasm_bindgen_test]
async fn html_in_names_descriptions_and_consent_text_is_shown_as_text() {
    let host = Host::new(
        "html-as-text",
        Config::new()
            .endpoint(route("html-as-text", "subscribed"))
            .newsletters(vec![
                newsletter(
                    "daily",
                    "<img src=x onerror=\"window.__lbx=1\">Daily <b>news</b>",
                )
                .description("<svg onload=\"window.__lbx=2\">Every morning"),
                newsletter("culture", "Culture"),
            ])
            .consent(Consent {
                text: "I agree <a href=\"javascript:window.__lbx=3\">to this</a>",
                version: "1",
                privacy_url: None,
                checkbox: None,
            }),
    )
    .mount();
    sleep(50).await;
    for tag in ["img", "svg", "b", "a[href^=javascript]"] {
        assert!(find(&host, tag).is_none(), "<{tag}> was rendered from text");
    }
    assert!(text(&host, ".lb-checkboxes").contains("Daily <b>news</b>"));
    assert!(text(&host, ".lb-checkboxes").contains("<svg onload="));
    assert!(text(&host, ".lb-consent").contains("<a href="));
    no_script_ran();
}

#[wasm_bindgen_test]
async fn a_huge_configuration_is_a_clear_error_and_renders_nothing_big() {
    let many: Vec<String> = (0..10_000)
        .map(|i| format!(r#"{{"id": "n{i}", "name": "Newsletter {i}"}}"#))
        .collect();
    let json = format!(
        r#"{{"endpoint": "/x", "newsletters": [{}]}}"#,
        many.join(",")
    );
    let host = Host::raw(Box::leak(json.into_boxed_str())).mount();
    sleep(0).await;
    let error = text(&host, ".lb-config-error");
    assert!(
        error.contains("10000 newsletters") && error.contains("at most 50"),
        "{error}"
    );
    assert!(all(&host, "input").is_empty());
}

#[wasm_bindgen_test]
async fn an_endpoint_the_browser_would_read_as_another_site_is_refused() {
    // `/\\evil.example` is `//evil.example` to the browser's URL parser.
    let host = Host::raw(
        r#"{"endpoint": "/\\evil.example/x", "newsletters": [{"id": "a", "name": "A"}]}"#,
    )
    .mount();
    sleep(0).await;
    let error = text(&host, ".lb-config-error");
    assert!(error.contains("endpoint"), "{error}");
    assert!(all(&host, "form").is_empty());
}

#[wasm_bindgen_test]
async fn readers_get_a_neutral_line_and_the_detail_stays_for_developers() {
    // This test page is on 127.0.0.1, where developers work: the detail shows there unless
    // the host says data-letterbox-debug="false", as a live site's readers see it.
    let quiet = Host::raw(r#"{"endpoint": "/x", "newsleters": []}"#)
        .attribute("data-letterbox-debug", "false")
        .mount();
    sleep(0).await;
    let shown_to_readers = text(&quiet, ".lb-config-error");
    assert!(
        shown_to_readers.contains("This signup form is not available"),
        "{shown_to_readers}"
    );
    assert!(
        !shown_to_readers.contains("newsleters") && find(&quiet, ".lb-config-detail").is_none(),
        "no developer text for readers: {shown_to_readers}"
    );
}
