//! Browser tests: the real widget mounted into real host elements in headless Chromium, posting
//! to the real local endpoint that `cargo xtask test` starts on 127.0.0.1 (its URL arrives at
//! compile time in `LETTERBOX_TEST_ENDPOINT`). The endpoint records every request, so each test
//! asserts both what the reader sees and what the server received.
#![cfg(target_arch = "wasm32")]

use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

const ENDPOINT: Option<&str> = option_env!("LETTERBOX_TEST_ENDPOINT");

const FIVE: &str = r#"[
    {"id": "daily", "name": "The Daily Briefing", "frequency": "Every weekday", "description": "The day's main stories at 7am."},
    {"id": "explainer", "name": "Explaining Ukraine", "frequency": "Weekly", "description": "One story explained in depth."},
    {"id": "culture", "name": "Culture", "frequency": "Fortnightly"},
    {"id": "alerts", "name": "Breaking news alerts", "frequency": "When it happens"},
    {"id": "uk-edition", "name": "Ukrainian edition", "frequency": "Daily"}
]"#;
const ONE: &str =
    r#"[{"id": "daily", "name": "The Daily Briefing", "frequency": "Every weekday"}]"#;

fn base() -> &'static str {
    ENDPOINT.expect(
        "LETTERBOX_TEST_ENDPOINT is not set: run the browser tests through `cargo xtask test`",
    )
}

fn document() -> web_sys::Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("a document")
}

/// A mounted slot: the host element on the page and the widget's root inside its shadow root.
/// Queries go to the widget (`Deref`), as a reader's screen shows it.
struct Slot {
    host: HtmlElement,
    ui: Element,
}

impl std::ops::Deref for Slot {
    type Target = Element;
    fn deref(&self) -> &Element {
        &self.ui
    }
}

/// The widget inside `host`'s shadow root.
fn ui(host: &HtmlElement) -> Element {
    host.shadow_root()
        .and_then(|r| r.first_element_child())
        .expect("a widget in the host's shadow root")
}

fn slot(host: HtmlElement) -> Slot {
    let ui = ui(&host);
    Slot { host, ui }
}

/// The focused element inside the slot's shadow root.
fn focused(slot: &Slot) -> Option<Element> {
    slot.host.shadow_root().and_then(|r| r.active_element())
}

/// A host element for test `name`, whose endpoint answers as `behaviour`, mounted into `parent`
/// (the body by default).
fn mount_in(parent: &Element, name: &str, behaviour: &str, newsletters: &str) -> Slot {
    let host: HtmlElement = document()
        .create_element("div")
        .unwrap()
        .dyn_into()
        .unwrap();
    host.set_id(name);
    host.set_attribute("data-letterbox", "").unwrap();
    let script = document().create_element("script").unwrap();
    script.set_attribute("type", "application/json").unwrap();
    let endpoint = format!("{}/t/{name}/{behaviour}", base());
    // One attempt: these tests check what one answer does; retries have their own tests.
    script.set_text_content(Some(&format!(
        r#"{{"endpoint": "{endpoint}", "newsletters": {newsletters}, "attempts": 1, "min_fill_ms": 0}}"#
    )));
    host.append_child(&script).unwrap();
    parent.append_child(&host).unwrap();
    letterbox::mount(&host);
    slot(host)
}

fn mount(name: &str, behaviour: &str, newsletters: &str) -> Slot {
    mount_in(&document().body().unwrap(), name, behaviour, newsletters)
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

/// Waits until `f` finds something, up to 20 s (a ceiling for slow machines, not a timing check).
async fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..1000 {
        if let Some(v) = f() {
            return v;
        }
        sleep(20).await;
    }
    panic!("timed out waiting for {what}");
}

fn find(host: &Element, selector: &str) -> Option<Element> {
    host.query_selector(selector).unwrap()
}

/// The first element matching `selector` that is shown: neither it nor an ancestor inside the
/// page is `hidden`.
fn shown(host: &Element, selector: &str) -> Option<Element> {
    all(host, selector).into_iter().find(|e| {
        let mut node = Some(e.clone());
        while let Some(n) = node {
            if n.has_attribute("hidden") {
                return false;
            }
            node = n.parent_element();
        }
        true
    })
}

fn get(host: &Element, selector: &str) -> Element {
    find(host, selector).unwrap_or_else(|| panic!("no {selector} in {}", host.inner_html()))
}

fn text(host: &Element, selector: &str) -> String {
    get(host, selector).text_content().unwrap_or_default()
}

fn input(host: &Element, selector: &str) -> HtmlInputElement {
    get(host, selector).dyn_into().unwrap()
}

fn all(host: &Element, selector: &str) -> Vec<Element> {
    let list = host.query_selector_all(selector).unwrap();
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into().ok())
        .collect()
}

fn dispatch(target: &Element, event: &str) {
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    let e = web_sys::Event::new_with_event_init_dict(event, &init).unwrap();
    target.dispatch_event(&e).unwrap();
}

/// Types into the email field as a reader would: value change, `input`, then leaving the field.
async fn type_email(host: &Element, value: &str) {
    let field = input(host, "input[type=email]");
    field.focus().unwrap();
    field.set_value(value);
    dispatch(&field, "input");
    sleep(0).await;
}

fn click(host: &Element, selector: &str) {
    get(host, selector)
        .dyn_into::<HtmlElement>()
        .unwrap()
        .click();
}

async fn submit(host: &Element) {
    click(host, "button[type=submit]");
    sleep(0).await;
}

/// What the widget keeps in this browser's pending queue (`letterbox:pending`), as stored.
fn pending_queue() -> String {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item("letterbox:pending").ok().flatten())
        .unwrap_or_default()
}

/// The body of a GET of `url`, as text.
async fn fetch_text(url: &str) -> String {
    let window = web_sys::window().unwrap();
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(url))
        .await
        .unwrap()
        .dyn_into()
        .unwrap();
    JsFuture::from(response.text().unwrap())
        .await
        .unwrap()
        .as_string()
        .unwrap()
}

/// Types `email`, submits, and waits for the success panel.
async fn sign_up(host: &Element, email: &str) {
    type_email(host, email).await;
    submit(host).await;
    wait_for("the success panel", || shown(host, ".lb-success")).await;
}

/// What the endpoint recorded for test `name`.
async fn requests(name: &str) -> Vec<Value> {
    let body = fetch_text(&format!("{}/t/{name}/requests", base())).await;
    match serde_json::from_str(&body).unwrap() {
        Value::Array(items) => items,
        other => panic!("unexpected {other}"),
    }
}

fn body_of(request: &Value) -> Value {
    serde_json::from_str(request["body"].as_str().unwrap()).unwrap()
}

#[wasm_bindgen_test]
async fn renders_an_accessible_form_with_every_newsletter_unticked() {
    let host = mount("renders-form", "subscribed", FIVE);
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
    assert_eq!(label.text_content().as_deref(), Some("Email address"));
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
    let host = mount("single", "subscribed", ONE);
    sleep(0).await;
    assert!(all(&host, "input[type=checkbox]").is_empty());
    assert!(find(&host, "fieldset").is_none());
    assert!(text(&host, ".lb-hint").contains("The Daily Briefing"));
}

#[wasm_bindgen_test]
async fn shows_summary_and_inline_error_when_email_is_empty() {
    let host = mount("empty-submit", "subscribed", ONE);
    sleep(0).await;
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
    let host = mount("bad-address", "subscribed", ONE);
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
async fn choosing_no_newsletter_is_an_error_linked_to_the_first_checkbox() {
    let host = mount("no-newsletter", "subscribed", FIVE);
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
async fn a_valid_signup_sends_one_request_with_the_contract_body_and_shows_success() {
    let host = mount("valid-signup", "subscribed", FIVE);
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
    let host = mount("idn", "pending", ONE);
    sign_up(&host, "jane@münchen.de").await;
    let sent = requests("idn").await;
    assert_eq!(body_of(&sent[0])["email"], "jane@xn--mnchen-3ya.de");
    assert_eq!(text(&host, ".lb-success h2"), "Check your inbox");
}

#[wasm_bindgen_test]
async fn double_click_and_enter_while_sending_make_one_request() {
    let host = mount("double-click", "slow", ONE);
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
    let host = mount("server-error", "fail-once", ONE);
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

    click(&host, ".lb-failure button");
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
    let host = mount("conflict", "conflict", ONE);
    type_email(&host, "jane@example.com").await;
    submit(&host).await;
    let heading = wait_for("the success panel", || shown(&host, ".lb-success h2")).await;
    assert_eq!(
        heading.text_content().as_deref(),
        Some("You were already subscribed")
    );
    assert_eq!(requests("conflict").await.len(), 1);
}

#[wasm_bindgen_test]
async fn a_server_field_error_is_shown_as_text_on_the_field() {
    let host = mount("field-error", "email-error", ONE);
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
    let host = mount("rate-limited", "rate-limited", ONE);
    type_email(&host, "jane@example.com").await;
    submit(&host).await;
    let panel = wait_for("the failure panel", || shown(&host, ".lb-failure")).await;
    assert!(panel
        .text_content()
        .unwrap()
        .contains("Try again in 30 seconds."));
}

/// A slot whose endpoint refuses connections (as when offline), with `extra` JSON members.
fn unreachable_host(extra: &str) -> Slot {
    // Port 9 (discard) is closed on the test machine's loopback: the connection is refused.
    mounted(
        "",
        &format!(
            r#"{{"endpoint": "http://127.0.0.1:9/subscribe", "newsletters": {ONE}, {extra}}}"#
        ),
    )
}

#[wasm_bindgen_test]
async fn an_unreachable_endpoint_queues_the_signup_and_the_reader_can_withdraw_it() {
    let host = unreachable_host(r#""attempts": 2"#);
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
}

#[wasm_bindgen_test]
async fn a_typo_suggestion_offers_a_fix_and_never_blocks() {
    let host = mount("suggestion", "subscribed", ONE);
    type_email(&host, "jane@gmial.com").await;
    dispatch(&get(&host, "input[type=email]"), "blur");
    sleep(10).await;
    let live = get(&host, ".lb-suggestion");
    assert_eq!(live.get_attribute("aria-live").as_deref(), Some("polite"));
    assert_eq!(
        text(&host, ".lb-suggestion-text"),
        "Did you mean jane@gmail.com?"
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

    let host = mount("suggestion-ignored", "subscribed", ONE);
    type_email(&host, "jane@gmial.com").await;
    dispatch(&get(&host, "input[type=email]"), "blur");
    submit(&host).await;
    wait_for("the success panel", || shown(&host, ".lb-success")).await;
    assert_eq!(
        body_of(&requests("suggestion-ignored").await[0])["email"],
        "jane@gmial.com"
    );
}

#[wasm_bindgen_test]
async fn ukrainian_texts_when_the_host_is_inside_lang_uk() {
    let section = document().create_element("section").unwrap();
    section.set_attribute("lang", "uk").unwrap();
    document().body().unwrap().append_child(&section).unwrap();
    let host = mount_in(&section, "ukrainian", "pending", FIVE);
    sleep(0).await;
    assert_eq!(text(&host, "label.lb-label"), "Електронна пошта");
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
    let broken: HtmlElement = document()
        .create_element("div")
        .unwrap()
        .dyn_into()
        .unwrap();
    broken.set_attribute("data-letterbox", "").unwrap();
    broken.set_inner_html(
        r#"<script type="application/json">{"endpoint": "/x", "newsleters": []}</script>"#,
    );
    document().body().unwrap().append_child(&broken).unwrap();
    letterbox::mount(&broken);
    let broken = slot(broken);
    let good = mount("beside-broken", "subscribed", ONE);
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
async fn mounting_twice_renders_one_widget() {
    let host = mount("twice", "subscribed", ONE);
    letterbox::mount(&host.host);
    letterbox::mount_all();
    sleep(0).await;
    assert_eq!(all(&host, "form").len(), 1);
    assert_eq!(host.host.shadow_root().unwrap().child_element_count(), 1);
}

#[wasm_bindgen_test]
async fn ids_are_unique_across_instances() {
    let a = mount("ids-a", "subscribed", FIVE);
    let b = mount("ids-b", "subscribed", FIVE);
    sleep(0).await;
    let ids = |h: &Element| all(h, "[id]").iter().map(|e| e.id()).collect::<Vec<_>>();
    let (ia, ib) = (ids(&a), ids(&b));
    assert!(!ia.is_empty());
    assert!(ia.iter().all(|id| !ib.contains(id)), "{ia:?} / {ib:?}");
}

/// Runs the entry point (idempotent: a second call finds `window.Letterbox` and stays idle).
fn started() -> js_sys::Object {
    letterbox::start();
    let window = web_sys::window().unwrap();
    js_sys::Reflect::get(&window, &"Letterbox".into())
        .unwrap()
        .dyn_into()
        .unwrap()
}

fn call(api: &js_sys::Object, method: &str, args: &[JsValue]) -> JsValue {
    let f: js_sys::Function = js_sys::Reflect::get(api, &method.into())
        .unwrap()
        .dyn_into()
        .unwrap();
    f.apply(api, &args.iter().collect::<js_sys::Array>())
        .unwrap()
}

/// [`bare_host`], added to the page and mounted.
fn mounted(id: &str, json: &str) -> Slot {
    let host = bare_host(id, json);
    document().body().unwrap().append_child(&host).unwrap();
    letterbox::mount(&host);
    slot(host)
}

fn bare_host(id: &str, json: &str) -> HtmlElement {
    let host: HtmlElement = document()
        .create_element("div")
        .unwrap()
        .dyn_into()
        .unwrap();
    host.set_id(id);
    host.set_attribute("data-letterbox", "").unwrap();
    // Tests type and submit at once: no minimum fill time unless the test sets one.
    let json = if json.contains("min_fill_ms") {
        json.to_owned()
    } else {
        json.replacen('{', r#"{"min_fill_ms": 0, "#, 1)
    };
    host.set_inner_html(&format!(
        r#"<script type="application/json">{json}</script>"#
    ));
    host
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
    let host = mount("hostile-css", "subscribed", FIVE);
    sleep(50).await;
    let window = web_sys::window().unwrap();
    let computed = |e: &Element, prop: &str| {
        window
            .get_computed_style(e)
            .unwrap()
            .unwrap()
            .get_property_value(prop)
            .unwrap()
    };
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
    let host = mount("events", "pending", FIVE);
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
async fn slots_added_later_are_mounted_and_removed_ones_released() {
    started();
    let host = bare_host(
        "late",
        &format!(
            r#"{{"endpoint": "{}/t/late/subscribed", "newsletters": {ONE}}}"#,
            base()
        ),
    );
    // At the top of the page, near the viewport: mounted as soon as it is added.
    let body = document().body().unwrap();
    body.insert_before(&host, body.first_child().as_ref())
        .unwrap();
    let ui = wait_for("the late slot to mount", || {
        host.shadow_root().and_then(|r| r.first_element_child())
    })
    .await;
    assert!(find(&ui, "input[type=email]").is_some());
    // Nested inside an element added in one go (infinite scroll appends whole articles).
    let article = document().create_element("article").unwrap();
    article.set_inner_html(&format!(
        r#"<p>More news</p><div data-letterbox id="nested"><script type="application/json">{{"endpoint": "/x", "newsletters": {ONE}}}</script></div>"#
    ));
    body.insert_before(&article, body.first_child().as_ref())
        .unwrap();
    let nested: HtmlElement = article
        .query_selector("#nested")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    wait_for("the nested slot to mount", || {
        nested.shadow_root().and_then(|r| r.first_element_child())
    })
    .await;

    host.remove();
    wait_for("the removed slot to be released", || {
        (ui.child_element_count() == 0).then_some(())
    })
    .await;
    article.remove();
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
    let options = js_sys::JSON::parse(&format!(
        r#"{{"endpoint": "{}/t/js-api/subscribed", "newsletters": {ONE}, "texts": {{"submit": "Sign up"}}, "min_fill_ms": 0}}"#,
        base()
    ))
    .unwrap();
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
    assert_eq!(text(&widget, "button[type=submit]"), "Sign up");
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

#[wasm_bindgen_test]
async fn subscribing_in_one_slot_updates_every_slot_offering_the_same_newsletters() {
    let api = started();
    let endpoint = format!("{}/t/remember/subscribed", base());
    let host_with = |id: &str, newsletters: &str| {
        mounted(
            id,
            &format!(r#"{{"endpoint": "{endpoint}", "newsletters": {newsletters}}}"#),
        )
    };
    let daily = r#"{"id": "daily", "name": "The Daily Briefing"}"#;
    let culture = r#"{"id": "culture", "name": "Culture"}"#;
    let alerts = r#"{"id": "alerts", "name": "Alerts"}"#;
    let a = host_with("remember-a", &format!("[{daily}, {culture}]"));
    let b = host_with("remember-b", &format!("[{daily}]"));
    let c = host_with("remember-c", &format!("[{daily}, {alerts}]"));
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

    let later = host_with("remember-later", &format!("[{culture}]"));
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

fn provider_host(id: &str, provider: &str, json: &str) -> Slot {
    let host = bare_host(id, json);
    host.set_attribute("data-provider", provider).unwrap();
    document().body().unwrap().append_child(&host).unwrap();
    letterbox::mount(&host);
    slot(host)
}

#[wasm_bindgen_test]
async fn the_form_provider_posts_urlencoded_fields_to_a_sites_own_endpoint() {
    let action = format!("{}/t/form-provider/form-ok", base());
    let host = provider_host(
        "form-provider",
        "form",
        &format!(
            r#"{{"form": {{"action": "{action}", "email_field": "EMAIL", "newsletter_field": "list",
                "hidden": {{"source": "article"}}, "success_texts": ["1"], "confirms_by_email": true}},
              "newsletters": [{{"id": "daily", "name": "Daily"}}, {{"id": "culture", "name": "Culture"}}]}}"#
        ),
    );
    type_email(&host, "jane+news@example.com").await;
    click(&host, "input[value=daily]");
    click(&host, "input[value=culture]");
    submit(&host).await;
    let title = wait_for("the success panel", || shown(&host, ".lb-success h2")).await;
    assert_eq!(
        title.text_content().as_deref(),
        Some("Check your inbox"),
        "confirms_by_email"
    );
    let sent = requests("form-provider").await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["content_type"], "application/x-www-form-urlencoded");
    let body = sent[0]["body"].as_str().unwrap();
    let fields: Vec<&str> = body.split('&').collect();
    assert!(
        fields.contains(&"EMAIL=jane%2Bnews%40example.com"),
        "a + survives: {body}"
    );
    assert!(
        fields.contains(&"list=daily") && fields.contains(&"list=culture"),
        "{body}"
    );
    assert!(fields.contains(&"source=article"), "{body}");
}

#[wasm_bindgen_test]
async fn the_listmonk_provider_discovers_its_lists_by_name_then_subscribes() {
    let listmonk = format!("{}/t/listmonk-discover", base());
    let host = provider_host(
        "listmonk-discover",
        "listmonk",
        &format!(
            r#"{{"listmonk": {{"base": "{listmonk}", "discover": true}},
              "newsletters": [{{"id": "daily", "name": "The Daily Briefing"}}, {{"id": "culture", "name": "Culture Notes"}}]}}"#
        ),
    );
    click(&host, "input[value=culture]");
    type_email(&host, "jane@example.com").await;
    submit(&host).await;
    let title = wait_for("the success panel", || shown(&host, ".lb-success h2")).await;
    assert_eq!(title.text_content().as_deref(), Some("Check your inbox"));
    let sent = requests("listmonk-discover").await;
    let kinds: Vec<&str> = sent
        .iter()
        .map(|r| r["behaviour"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["listmonk-lists", "listmonk-subscription"]);
    let body = body_of(&sent[1]);
    assert_eq!(
        body["list_uuids"],
        serde_json::json!(["0f4c3b8e-2d7a-4c1b-9a6e-5b2d8c7e1f30"])
    );
    assert_eq!(body["email"], "jane@example.com");
}

#[wasm_bindgen_test]
async fn the_mailchimp_provider_can_be_configured_by_data_attributes() {
    let action = format!(
        "{}/t/mailchimp-attributes/subscribe/post?u=ok&amp;id=list1",
        base()
    );
    let host = bare_host(
        "mailchimp-attributes",
        r#"{"newsletters": [{"id": "daily", "name": "The Daily Briefing"}, {"id": "culture", "name": "Culture"}]}"#,
    );
    for (name, value) in [
        ("data-provider", "mailchimp"),
        ("data-mailchimp-action", action.as_str()),
        (
            "data-mailchimp-groups",
            r#"{"daily": "group[7][1]", "culture": "group[7][2]"}"#,
        ),
    ] {
        host.set_attribute(name, value).unwrap();
    }
    document().body().unwrap().append_child(&host).unwrap();
    letterbox::mount(&host);
    let host = slot(host);
    click(&host, "input[value=culture]");
    sign_up(&host, "jane@example.com").await;
    let sent = requests("mailchimp-attributes").await;
    assert_eq!(sent.len(), 1);
    let query = sent[0]["body"].as_str().unwrap();
    assert!(query.contains("group%5B7%5D%5B2%5D=2"), "{query}");
    assert!(!query.contains("group%5B7%5D%5B1%5D"), "{query}");
}

#[wasm_bindgen_test]
async fn the_mailchimp_provider_signs_up_through_jsonp_and_cleans_up() {
    let mailchimp = |id: &str, account: &str| {
        let action = format!("{}/t/{id}/subscribe/post?u={account}&amp;id=list1", base());
        provider_host(
            id,
            "mailchimp",
            &format!(
                r#"{{"mailchimp": {{"action": "{action}", "groups": {{"daily": "group[7][1]"}}}},
                  "newsletters": [{{"id": "daily", "name": "The Daily Briefing"}}]}}"#
            ),
        )
    };
    let host = mailchimp("mailchimp-pending", "pending");
    type_email(&host, "jane+news@example.com").await;
    submit(&host).await;
    let panel = wait_for("a result", || {
        shown(&host, ".lb-success").or_else(|| shown(&host, ".lb-failure"))
    })
    .await;
    assert!(
        shown(&host, ".lb-success").is_some(),
        "failure instead: {}",
        panel.text_content().unwrap_or_default()
    );
    let title = get(&host, ".lb-success h2");
    assert_eq!(title.text_content().as_deref(), Some("Check your inbox"));
    let sent = requests("mailchimp-pending").await;
    assert_eq!(sent.len(), 1);
    let query = sent[0]["body"].as_str().unwrap();
    for expected in [
        "u=pending",
        "id=list1",
        "EMAIL=jane%2Bnews%40example.com",
        "group%5B7%5D%5B1%5D=1",
        "b_pending_list1=",
    ] {
        assert!(query.contains(expected), "{expected} missing from {query}");
    }
    sleep(10).await;
    assert!(
        document()
            .query_selector("script[src*='post-json']")
            .unwrap()
            .is_none(),
        "the JSONP script is removed"
    );

    let host = mailchimp("mailchimp-already", "already");
    type_email(&host, "jane@example.com").await;
    submit(&host).await;
    let title = wait_for("the success panel", || shown(&host, ".lb-success h2")).await;
    assert_eq!(
        title.text_content().as_deref(),
        Some("You were already subscribed")
    );
}

/// The Mailchimp classic embed code as sites paste it (shape of core/tests/fixtures/upgrade/),
/// posting to the local endpoint's Mailchimp-style route.
fn mailchimp_embed(test: &str, account: &str) -> String {
    // The `*.list-manage.com` host is mapped to 127.0.0.1 for the test browser (webdriver.json's
    // `--host-resolver-rules`), so the real embed URL reaches the local endpoint's Mailchimp
    // route; the audience id names the test.
    let port = base().rsplit(':').next().unwrap_or("80");
    let action =
        format!("http://news.us9.list-manage.com:{port}/subscribe/post?u={account}&amp;id={test}");
    format!(
        r#"<div id="mc_embed_signup"><form action="{action}" method="post" id="mc-embedded-subscribe-form" class="validate" target="_blank" novalidate>
  <div class="indicates-required"><span class="asterisk">*</span> indicates required</div>
  <div class="mc-field-group"><label for="mce-EMAIL-{test}">Email Address <span class="asterisk">*</span></label>
    <input type="email" value="" name="EMAIL" class="required email" id="mce-EMAIL-{test}"></div>
  <div class="mc-field-group input-group"><strong>Newsletters</strong><ul>
    <li><input type="checkbox" value="1" name="group[13145][1]" id="mce-group-{test}-0"><label for="mce-group-{test}-0">Daily digest</label></li>
    <li><input type="checkbox" value="2" name="group[13145][2]" id="mce-group-{test}-1"><label for="mce-group-{test}-1">Weekly wrapup</label></li>
  </ul></div>
  <div hidden=""><input type="hidden" name="tags" value="2948"></div>
  <div style="position: absolute; left: -5000px;"><input type="text" name="b_{account}_{test}" tabindex="-1" value=""></div>
  <div class="clear"><input type="submit" value="Subscribe" name="subscribe" class="button"></div>
</form></div>"#
    )
}

#[wasm_bindgen_test]
async fn a_mailchimp_embed_inside_a_slot_becomes_the_widget_with_its_groups() {
    let host: HtmlElement = document()
        .create_element("div")
        .unwrap()
        .dyn_into()
        .unwrap();
    host.set_attribute("data-letterbox", "").unwrap();
    host.set_inner_html(&format!(
        r#"{}<script type="application/json">{{"min_fill_ms": 0}}</script>"#,
        mailchimp_embed("mc-upgrade", "pending")
    ));
    document().body().unwrap().append_child(&host).unwrap();
    letterbox::mount(&host);
    let slot = slot(host.clone());
    sleep(0).await;
    assert!(
        !slot
            .text_content()
            .unwrap_or_default()
            .contains("indicates required"),
        "no asterisk legend"
    );
    let names: Vec<String> = all(&slot, ".lb-name")
        .iter()
        .map(|e| e.text_content().unwrap_or_default())
        .collect();
    assert_eq!(names, ["Daily digest", "Weekly wrapup"]);
    assert!(
        host.query_selector("form").unwrap().is_some(),
        "the embed stays in the page for no-JS readers"
    );
    type_email(&slot, "jane+news@example.com").await;
    click(&slot, ".lb-checkbox:nth-child(2) input");
    submit(&slot).await;
    let title = wait_for("the success panel", || shown(&slot, ".lb-success h2")).await;
    assert_eq!(title.text_content().as_deref(), Some("Check your inbox"));
    let query = requests("mc-upgrade").await[0]["body"]
        .as_str()
        .unwrap()
        .to_owned();
    for expected in [
        "EMAIL=jane%2Bnews%40example.com",
        "group%5B13145%5D%5B2%5D=2",
        "tags=2948",
        "b_pending_mc-upgrade=",
    ] {
        assert!(query.contains(expected), "{expected} missing from {query}");
    }
    assert!(
        !query.contains("group%5B13145%5D%5B1%5D"),
        "an unticked group is not sent: {query}"
    );
}

#[wasm_bindgen_test]
async fn a_plain_fallback_form_is_read_and_posted_where_it_posted_before() {
    let action = format!("{}/t/plain-upgrade/form-ok", base());
    let host: HtmlElement = document()
        .create_element("div")
        .unwrap()
        .dyn_into()
        .unwrap();
    host.set_attribute("data-letterbox", "").unwrap();
    host.set_inner_html(&format!(
        r#"<form action="{action}" method="post"><h3>The Daily Briefing</h3>
             <label for="plain-email">Email</label><input type="email" name="email" id="plain-email">
             <input type="hidden" name="source" value="footer"><button>Subscribe</button></form>
           <script type="application/json">{{"min_fill_ms": 0}}</script>"#
    ));
    document().body().unwrap().append_child(&host).unwrap();
    letterbox::mount(&host);
    let slot = slot(host);
    sleep(0).await;
    assert!(
        text(&slot, ".lb-hint").contains("The Daily Briefing"),
        "one newsletter, named by the form's heading"
    );
    sign_up(&slot, "jane@example.com").await;
    let sent = requests("plain-upgrade").await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["content_type"], "application/x-www-form-urlencoded");
    let body = sent[0]["body"].as_str().unwrap();
    assert!(
        body.contains("email=jane%40example.com") && body.contains("source=footer"),
        "{body}"
    );
}

#[wasm_bindgen_test]
async fn the_script_tag_can_upgrade_every_mailchimp_embed_on_the_page() {
    let marker = document().create_element("script").unwrap();
    marker.set_attribute("type", "text/plain").unwrap();
    marker
        .set_attribute("data-letterbox-upgrade", "mailchimp")
        .unwrap();
    document().head().unwrap().append_child(&marker).unwrap();
    let wrapper = document().create_element("section").unwrap();
    wrapper.set_inner_html(&mailchimp_embed("mc-auto", "ok"));
    document().body().unwrap().append_child(&wrapper).unwrap();
    letterbox::mount_all();
    let container: HtmlElement = wrapper
        .query_selector("#mc_embed_signup")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    assert!(
        container.has_attribute("data-letterbox"),
        "the embed's container became a slot"
    );
    let slot = slot(container);
    assert_eq!(all(&slot, "input[type=checkbox]").len(), 2);
    marker.remove();
}

fn retrying_host(test: &str, behaviour: &str) -> Slot {
    let endpoint = format!("{}/t/{test}/{behaviour}", base());
    mounted(
        test,
        &format!(r#"{{"endpoint": "{endpoint}", "newsletters": {ONE}}}"#),
    )
}

#[wasm_bindgen_test]
async fn a_passing_server_error_is_retried_with_the_same_key_without_the_reader() {
    let host = retrying_host("retry-500", "fail-once");
    sign_up(&host, "jane@example.com").await;
    assert!(shown(&host, ".lb-failure").is_none());
    one_signup_in_two_requests("retry-500").await;
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
async fn a_dropped_connection_is_retried_with_the_same_key_and_signs_up_once() {
    // The endpoint's raw TCP dropper reads the request and closes the connection unanswered.
    let dropper = fetch_text(&format!("{}/t/dropper", base())).await;
    let host = mounted(
        "retry-drop",
        &format!(r#"{{"endpoint": "{dropper}/t/retry-drop/drop-once", "newsletters": {ONE}}}"#),
    );
    sign_up(&host, "jane@example.com").await;
    assert!(shown(&host, ".lb-failure").is_none());
    one_signup_in_two_requests("retry-drop").await;
}

#[wasm_bindgen_test]
async fn a_short_retry_after_is_waited_out_and_the_signup_goes_through() {
    let host = retrying_host("retry-429", "rate-once");
    type_email(&host, "jane@example.com").await;
    submit(&host).await;
    sleep(200).await;
    assert_eq!(
        text(&host, "[role=status]"),
        "Sending your signup…",
        "still sending while it waits"
    );
    wait_for("the success panel", || shown(&host, ".lb-success")).await;
    let sent = requests("retry-429").await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["idempotency_key"], sent[1]["idempotency_key"]);
}

#[wasm_bindgen_test]
async fn an_answer_that_says_the_input_is_wrong_is_never_retried() {
    let host = retrying_host("no-retry-422", "email-error");
    type_email(&host, "jane@example.com").await;
    submit(&host).await;
    wait_for("an inline error", || shown(&host, ".lb-error")).await;
    sleep(1500).await;
    assert_eq!(requests("no-retry-422").await.len(), 1);
}

#[wasm_bindgen_test]
async fn a_slot_far_below_the_fold_mounts_when_the_reader_scrolls_near() {
    started();
    let window = web_sys::window().unwrap();
    let viewport = window.inner_height().unwrap().as_f64().unwrap();
    let spacer: HtmlElement = document()
        .create_element("div")
        .unwrap()
        .dyn_into()
        .unwrap();
    spacer.set_inner_html(&format!(
        r#"<div style="height: {}px"></div>"#,
        (viewport * 6.0) as u32
    ));
    let host = bare_host(
        "far-below",
        &format!(r#"{{"endpoint": "/x", "newsletters": {ONE}}}"#),
    );
    let body = document().body().unwrap();
    body.insert_before(&host, body.first_child().as_ref())
        .unwrap();
    body.insert_before(&spacer, Some(&host)).unwrap();
    window.scroll_to_with_x_and_y(0.0, 0.0);
    sleep(300).await;
    assert!(
        !host.has_attribute("data-letterbox-mounted"),
        "a slot six viewports down waits"
    );
    host.scroll_into_view();
    wait_for("the slot to mount near the viewport", || {
        host.shadow_root().and_then(|r| r.first_element_child())
    })
    .await;
    window.scroll_to_with_x_and_y(0.0, 0.0);
    spacer.remove();
    host.remove();
}

#[wasm_bindgen_test]
async fn a_queued_signup_is_sent_exactly_once_on_the_next_page_view() {
    use letterbox_core::adapters::{Intent, Source};
    use letterbox_core::pending::{Pending, PendingQueue, STORAGE_KEY};
    let endpoint = format!("{}/t/queued-next-view/subscribed", base());
    let target = format!("json {endpoint}");
    // What an earlier page view left behind when it could not send.
    let intent = Intent {
        email: "jane@example.com".into(),
        newsletters: vec!["daily".into()],
        locale: "en".into(),
        consent: None,
        source: Source {
            page: "https://news.example/earlier".into(),
            slot: "footer".into(),
        },
        key: "7d1f6a2c-0000-4000-8000-000000000001".into(),
        challenge: None,
        signals: None,
    };
    let mut queue = PendingQueue::load(
        None,
        js_sys::Date::now() as u64,
        PendingQueue::DEFAULT_MAX_AGE_MS,
    );
    queue.add(Pending::from_intent(
        &intent,
        &target,
        js_sys::Date::now() as u64,
    ));
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    storage.set_item(STORAGE_KEY, &queue.to_storage()).unwrap();

    // This page view has a slot that delivers to the same place: mounting it sends the signup.
    let host = bare_host(
        "queued-next-view",
        &format!(r#"{{"endpoint": "{endpoint}", "newsletters": {ONE}}}"#),
    );
    document().body().unwrap().append_child(&host).unwrap();
    letterbox::mount(&host);
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
        shown(&slot(host), ".lb-remembered").is_some(),
        "the slot now knows the reader signed up"
    );
}

#[wasm_bindgen_test]
async fn bot_looking_submissions_are_not_sent_but_look_the_same() {
    // Each part has its own endpoint: a (fake) success is remembered for its endpoint.
    let endpoint_of = |part: &str| format!("{}/t/{part}/subscribed", base());
    // A filled honeypot, however slowly the form was filled.
    let endpoint = endpoint_of("bots-honeypot");
    let honeypot_filled = mounted(
        "bots-honeypot",
        &format!(r#"{{"endpoint": "{endpoint}", "newsletters": {ONE}}}"#),
    );
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
    let endpoint = endpoint_of("bots-fast");
    let fast = mounted(
        "bots-fast",
        &format!(r#"{{"endpoint": "{endpoint}", "newsletters": {ONE}, "min_fill_ms": 1000}}"#),
    );
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
    let endpoint = endpoint_of("bots-person");
    let person = mounted(
        "bots-person",
        &format!(r#"{{"endpoint": "{endpoint}", "newsletters": {ONE}, "min_fill_ms": 300}}"#),
    );
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
    let endpoint = format!("{}/t/bots-flag/subscribed", base());
    let host = mounted(
        "bots-flag",
        &format!(
            r#"{{"endpoint": "{endpoint}", "newsletters": {ONE}, "bots": "flag", "min_fill_ms": 60000}}"#
        ),
    );
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

/// A slot for test `test` posting to behaviour `behaviour`, with `extra` JSON members.
fn host_with(test: &str, behaviour: &str, extra: &str) -> Slot {
    let endpoint = format!("{}/t/{test}/{behaviour}", base());
    mounted(
        test,
        &format!(r#"{{"endpoint": "{endpoint}", "newsletters": {ONE}, "attempts": 1{extra}}}"#),
    )
}

#[wasm_bindgen_test]
async fn a_consent_box_must_be_ticked_and_its_exact_record_goes_with_the_signup() {
    let consent = r#", "consent": {"text": "I agree to receive The Daily Briefing by email.",
        "version": "2026-03", "privacy_url": "/privacy"}"#;
    let host = host_with("consent-box", "subscribed", consent);
    sleep(0).await;
    let tick = input(&host, "input[name=consent]");
    assert!(!tick.checked(), "unticked by default");
    assert_eq!(
        text(&host, &format!("label[for='{}']", tick.id())),
        "I agree to receive The Daily Briefing by email. Privacy policy (opens in a new tab)"
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
    let consent = r#", "consent": {"text": "By signing up you agree to our terms.", "version": "t1", "checkbox": false}"#;
    let host = host_with("consent-statement", "subscribed", consent);
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

    let host = host_with("challenge-ok", "subscribed", "");
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

    let host = host_with("challenge-fails", "subscribed", "");
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

#[wasm_bindgen_test]
async fn two_slots_sending_the_same_signup_at_once_make_one_request() {
    // Both slots post to the same slow endpoint: the second submits while the first is in flight.
    let endpoint = format!("{}/t/same-signup/slow", base());
    let json = format!(r#"{{"endpoint": "{endpoint}", "newsletters": {ONE}, "attempts": 1}}"#);
    let hosts: Vec<Slot> = ["same-signup-top", "same-signup-footer"]
        .into_iter()
        .map(|id| mounted(id, &json))
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
async fn an_endpoint_that_hangs_past_the_timeout_is_retried_with_the_same_key() {
    // Two attempts: the first hangs past the widget's 15 s timeout, the second is answered.
    let endpoint = format!("{}/t/hang/hang-once", base());
    let host = mounted(
        "hang",
        &format!(r#"{{"endpoint": "{endpoint}", "newsletters": {ONE}, "attempts": 2}}"#),
    );
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
async fn a_slot_that_keeps_nothing_offers_try_again_and_stores_no_address() {
    let host = unreachable_host(r#""attempts": 1, "pending_days": 0"#);
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
async fn a_slot_removed_while_sending_does_not_break_the_page() {
    // Infinite scroll or client-side navigation can remove a slot while its request is out.
    let endpoint = format!("{}/t/removed-while-sending/slow", base());
    let gone = mounted(
        "removed-while-sending",
        &format!(r#"{{"endpoint": "{endpoint}", "newsletters": {ONE}, "attempts": 1}}"#),
    );
    type_email(&gone, "jane@example.com").await;
    submit(&gone).await;
    gone.host.remove();
    // The endpoint answers after 1.5 s; the answer must find no slot, and break nothing.
    for _ in 0..100 {
        if requests("removed-while-sending").await.len() == 1 {
            break;
        }
        sleep(50).await;
    }
    sleep(2_000).await;
    let endpoint = format!("{}/t/after-removal/subscribed", base());
    let next = mounted(
        "after-removal",
        &format!(r#"{{"endpoint": "{endpoint}", "newsletters": {ONE}, "attempts": 1}}"#),
    );
    sign_up(&next, "olena@example.com").await;
    assert_eq!(requests("after-removal").await.len(), 1);
}

#[wasm_bindgen_test]
async fn two_slots_share_one_queued_signup_and_withdrawing_it_in_one_withdraws_both() {
    let slots = [
        unreachable_host(r#""attempts": 1"#),
        unreachable_host(r#""attempts": 1"#),
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
async fn a_signup_with_other_consent_wording_is_not_merged_into_another() {
    // The same address and newsletter at the same moment, but only one slot asks for consent:
    // each is its own signup, so the consent record is never lost to the other slot's request.
    let endpoint = format!("{}/t/consent-not-merged/slow", base());
    let asks = mounted(
        "consent-not-merged-asks",
        &format!(
            r#"{{"endpoint": "{endpoint}", "newsletters": {ONE}, "attempts": 1,
                "consent": {{"text": "I agree", "version": "v1"}}}}"#
        ),
    );
    let plain = mounted(
        "consent-not-merged-plain",
        &format!(r#"{{"endpoint": "{endpoint}", "newsletters": {ONE}, "attempts": 1}}"#),
    );
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
