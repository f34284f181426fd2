//! What every browser test shares: the one way to build a host ([`Host`] with a typed [`Config`],
//! serialised to JSON in [`Config::to_json`] alone), the local endpoint's routes and records, and
//! the reader's actions (type, click, submit) and queries (what is shown, what has focus).

use serde_json::{Map, Value};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Element, HtmlElement, HtmlInputElement};

const ENDPOINT: Option<&str> = option_env!("LETTERBOX_TEST_ENDPOINT");

/// The local endpoint's base URL.
pub fn base() -> &'static str {
    ENDPOINT.expect(
        "LETTERBOX_TEST_ENDPOINT is not set: run the browser tests through `cargo xtask test`",
    )
}

/// The local endpoint's route for test `test`, answering as `behaviour` (`subscribed`, `pending`,
/// `slow`, `fail-once`…; xtask/src/endpoint.rs lists them). Each test has its own route, so what
/// the endpoint recorded for it is its own.
pub fn route(test: &str, behaviour: &str) -> String {
    format!("{}/t/{test}/{behaviour}", base())
}

pub fn document() -> web_sys::Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("a document")
}

// ---------------------------------------------------------------------------------------------
// The slot's configuration, typed.

/// One newsletter a slot offers.
#[derive(Clone)]
pub struct Newsletter {
    pub id: &'static str,
    pub name: &'static str,
    pub frequency: Option<&'static str>,
    pub description: Option<&'static str>,
}

/// A newsletter with only its id and name.
pub fn newsletter(id: &'static str, name: &'static str) -> Newsletter {
    Newsletter {
        id,
        name,
        frequency: None,
        description: None,
    }
}

impl Newsletter {
    pub fn frequency(mut self, frequency: &'static str) -> Self {
        self.frequency = Some(frequency);
        self
    }

    pub fn description(mut self, description: &'static str) -> Self {
        self.description = Some(description);
        self
    }
}

/// Five newsletters, two with descriptions.
pub fn five() -> Vec<Newsletter> {
    vec![
        newsletter("daily", "The Daily Briefing")
            .frequency("Every weekday")
            .description("The day's main stories at 7am."),
        newsletter("explainer", "Explaining Ukraine")
            .frequency("Weekly")
            .description("One story explained in depth."),
        newsletter("culture", "Culture").frequency("Fortnightly"),
        newsletter("alerts", "Breaking news alerts").frequency("When it happens"),
        newsletter("uk-edition", "Ukrainian edition").frequency("Daily"),
    ]
}

/// One newsletter: the compact form.
pub fn one() -> Vec<Newsletter> {
    vec![newsletter("daily", "The Daily Briefing").frequency("Every weekday")]
}

/// The slot's consent (`"consent"`).
pub struct Consent {
    pub text: &'static str,
    pub version: &'static str,
    pub privacy_url: Option<&'static str>,
    /// `Some(false)`: a statement read with the button, no box to tick.
    pub checkbox: Option<bool>,
}

/// A service other than the default JSON endpoint, with its settings object. The host gets
/// `data-provider` with its name, the configuration its settings under the same name.
pub enum Provider {
    Form {
        action: String,
        email_field: &'static str,
        newsletter_field: &'static str,
        hidden: Vec<(&'static str, &'static str)>,
        success_texts: Vec<&'static str>,
        confirms_by_email: bool,
    },
    Listmonk {
        base: String,
        discover: bool,
    },
    Mailchimp {
        action: String,
        groups: Vec<(&'static str, &'static str)>,
    },
}

impl Provider {
    pub fn name(&self) -> &'static str {
        match self {
            Provider::Form { .. } => "form",
            Provider::Listmonk { .. } => "listmonk",
            Provider::Mailchimp { .. } => "mailchimp",
        }
    }
}

/// A slot's JSON configuration, as the `<script type="application/json">` in a host (or the JS
/// API's options) carries it. Only what a test sets is written.
#[derive(Default)]
pub struct Config {
    endpoint: Option<String>,
    newsletters: Option<Vec<Newsletter>>,
    attempts: Option<u32>,
    min_fill_ms: Option<u64>,
    pending_days: Option<u32>,
    bots: Option<&'static str>,
    consent: Option<Consent>,
    texts: Vec<(&'static str, &'static str)>,
    provider: Option<Provider>,
    stats_endpoint: Option<String>,
    /// Other top-level keys (`title`, `heading_level`…), as JSON values.
    other: Vec<(&'static str, Value)>,
}

impl Config {
    /// An empty configuration with no minimum fill time: tests type and submit at once unless
    /// they set one ([`Config::min_fill_ms`]).
    pub fn new() -> Self {
        Config {
            min_fill_ms: Some(0),
            ..Config::default()
        }
    }

    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    pub fn newsletters(mut self, newsletters: Vec<Newsletter>) -> Self {
        self.newsletters = Some(newsletters);
        self
    }

    /// How many times one signup is tried before the reader is told (the widget's default is
    /// more than one).
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = Some(attempts);
        self
    }

    pub fn min_fill_ms(mut self, ms: u64) -> Self {
        self.min_fill_ms = Some(ms);
        self
    }

    pub fn pending_days(mut self, days: u32) -> Self {
        self.pending_days = Some(days);
        self
    }

    /// `"flag"` or `"drop"`.
    pub fn bots(mut self, policy: &'static str) -> Self {
        self.bots = Some(policy);
        self
    }

    pub fn consent(mut self, consent: Consent) -> Self {
        self.consent = Some(consent);
        self
    }

    /// One of the slot's texts (`"texts": {key: value}`).
    pub fn text(mut self, key: &'static str, value: &'static str) -> Self {
        self.texts.push((key, value));
        self
    }

    /// Where the slot's anonymous statistics go.
    pub fn stats_endpoint(mut self, url: impl Into<String>) -> Self {
        self.stats_endpoint = Some(url.into());
        self
    }

    pub fn provider(mut self, provider: Provider) -> Self {
        self.provider = Some(provider);
        self
    }

    /// Sets a top-level key the typed fields do not cover (`"title"`, `"heading_level"`…).
    pub fn key(mut self, key: &'static str, value: impl Into<Value>) -> Self {
        self.other.push((key, value.into()));
        self
    }

    /// The configuration as JSON: the one place a test configuration becomes text.
    pub fn to_json(&self) -> String {
        fn object<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Value {
            Value::Object(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), Value::from(v)))
                    .collect(),
            )
        }
        let mut json = Map::new();
        let mut set = |key: &str, value: Value| {
            json.insert(key.to_owned(), value);
        };
        if let Some(endpoint) = &self.endpoint {
            set("endpoint", endpoint.as_str().into());
        }
        if let Some(url) = &self.stats_endpoint {
            set("stats_endpoint", url.as_str().into());
        }
        if let Some(newsletters) = &self.newsletters {
            let list = newsletters
                .iter()
                .map(|n| {
                    let mut item = Map::new();
                    item.insert("id".into(), n.id.into());
                    item.insert("name".into(), n.name.into());
                    if let Some(frequency) = n.frequency {
                        item.insert("frequency".into(), frequency.into());
                    }
                    if let Some(description) = n.description {
                        item.insert("description".into(), description.into());
                    }
                    Value::Object(item)
                })
                .collect();
            set("newsletters", Value::Array(list));
        }
        if let Some(attempts) = self.attempts {
            set("attempts", attempts.into());
        }
        if let Some(ms) = self.min_fill_ms {
            set("min_fill_ms", ms.into());
        }
        if let Some(days) = self.pending_days {
            set("pending_days", days.into());
        }
        if let Some(bots) = self.bots {
            set("bots", bots.into());
        }
        if let Some(consent) = &self.consent {
            let mut record = Map::new();
            record.insert("text".into(), consent.text.into());
            record.insert("version".into(), consent.version.into());
            if let Some(url) = consent.privacy_url {
                record.insert("privacy_url".into(), url.into());
            }
            if let Some(checkbox) = consent.checkbox {
                record.insert("checkbox".into(), checkbox.into());
            }
            set("consent", Value::Object(record));
        }
        if !self.texts.is_empty() {
            set("texts", object(self.texts.iter().copied()));
        }
        for (key, value) in &self.other {
            set(key, value.clone());
        }
        match &self.provider {
            None => {}
            Some(Provider::Form {
                action,
                email_field,
                newsletter_field,
                hidden,
                success_texts,
                confirms_by_email,
            }) => set(
                "form",
                serde_json::json!({
                    "action": action,
                    "email_field": email_field,
                    "newsletter_field": newsletter_field,
                    "hidden": object(hidden.iter().copied()),
                    "success_texts": success_texts,
                    "confirms_by_email": confirms_by_email,
                }),
            ),
            Some(Provider::Listmonk { base, discover }) => set(
                "listmonk",
                serde_json::json!({"base": base, "discover": discover}),
            ),
            Some(Provider::Mailchimp { action, groups }) => set(
                "mailchimp",
                serde_json::json!({"action": action, "groups": object(groups.iter().copied())}),
            ),
        }
        Value::Object(json).to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// The host element: the one builder.

/// What goes into the host's `<script type="application/json">`.
enum Script {
    Typed(Config),
    /// Text the typed configuration cannot write on purpose (a misspelt key).
    Raw(&'static str),
}

/// A host element (`data-letterbox`) as a site writes one: optional id, attributes, page markup
/// (an embed to upgrade) and the configuration script.
pub struct Host {
    id: Option<String>,
    attributes: Vec<(&'static str, String)>,
    markup: String,
    script: Script,
}

impl Host {
    /// A host with id `id`: the slot's name in what it sends.
    pub fn new(id: &str, config: Config) -> Self {
        Host {
            id: Some(id.to_owned()),
            ..Host::anonymous(config)
        }
    }

    /// A host without an id (its name is its position among the page's slots).
    pub fn anonymous(config: Config) -> Self {
        Host {
            id: None,
            attributes: Vec::new(),
            markup: String::new(),
            script: Script::Typed(config),
        }
    }

    /// A host without an id whose configuration script holds `json` as written.
    pub fn raw(json: &'static str) -> Self {
        Host {
            script: Script::Raw(json),
            ..Host::anonymous(Config::default())
        }
    }

    pub fn attribute(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.attributes.push((name, value.into()));
        self
    }

    /// Page markup inside the host, before its configuration script.
    pub fn markup(mut self, html: impl Into<String>) -> Self {
        self.markup = html.into();
        self
    }

    /// The host element, not yet in the page.
    pub fn build(self) -> HtmlElement {
        let host: HtmlElement = document()
            .create_element("div")
            .unwrap()
            .dyn_into()
            .unwrap();
        if let Some(id) = &self.id {
            host.set_id(id);
        }
        host.set_attribute("data-letterbox", "").unwrap();
        let json = match &self.script {
            Script::Typed(config) => {
                if let Some(provider) = &config.provider {
                    host.set_attribute("data-provider", provider.name())
                        .unwrap();
                }
                config.to_json()
            }
            Script::Raw(json) => (*json).to_owned(),
        };
        for (name, value) in &self.attributes {
            host.set_attribute(name, value).unwrap();
        }
        host.set_inner_html(&format!(
            r#"{}<script type="application/json">{json}</script>"#,
            self.markup
        ));
        host
    }

    /// The host, added at the end of the body and mounted.
    pub fn mount(self) -> Slot {
        self.mount_in(&document().body().unwrap())
    }

    /// The host, added at the end of `parent` and mounted.
    pub fn mount_in(self, parent: &Element) -> Slot {
        let host = self.build();
        parent.append_child(&host).unwrap();
        letterbox::mount(&host);
        slot(host)
    }
}

/// The usual slot: named `test`, posting to the test's own route answering as `behaviour`, with
/// one attempt (these tests check what one answer does; retries have their own tests).
pub fn answering(test: &str, behaviour: &str, newsletters: Vec<Newsletter>) -> Host {
    Host::new(
        test,
        Config::new()
            .endpoint(route(test, behaviour))
            .newsletters(newsletters)
            .attempts(1),
    )
}

// ---------------------------------------------------------------------------------------------
// A mounted slot and the reader's view of it.

/// A mounted slot: the host element on the page and the widget's root inside its shadow root.
/// Queries go to the widget (`Deref`), as a reader's screen shows it.
pub struct Slot {
    pub host: HtmlElement,
    ui: Element,
}

impl std::ops::Deref for Slot {
    type Target = Element;
    fn deref(&self) -> &Element {
        &self.ui
    }
}

/// The mounted slot in `host`.
pub fn slot(host: HtmlElement) -> Slot {
    let ui = host
        .shadow_root()
        .and_then(|r| r.first_element_child())
        .expect("a widget in the host's shadow root");
    Slot { host, ui }
}

/// The focused element inside the slot's shadow root.
pub fn focused(slot: &Slot) -> Option<Element> {
    slot.host.shadow_root().and_then(|r| r.active_element())
}

pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

/// Waits until `f` finds something, up to 20 s (a ceiling for slow machines, not a timing check).
pub async fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..1000 {
        if let Some(v) = f() {
            return v;
        }
        sleep(20).await;
    }
    panic!("timed out waiting for {what}");
}

pub fn find(host: &Element, selector: &str) -> Option<Element> {
    host.query_selector(selector).unwrap()
}

/// The first element matching `selector` that is shown: neither it nor an ancestor inside the
/// page is `hidden`.
pub fn shown(host: &Element, selector: &str) -> Option<Element> {
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

pub fn get(host: &Element, selector: &str) -> Element {
    find(host, selector).unwrap_or_else(|| panic!("no {selector} in {}", host.inner_html()))
}

/// The computed value of a CSS `property` of `el`.
pub fn computed(el: &Element, property: &str) -> String {
    web_sys::window()
        .unwrap()
        .get_computed_style(el)
        .unwrap()
        .unwrap()
        .get_property_value(property)
        .unwrap()
}

pub fn text(host: &Element, selector: &str) -> String {
    get(host, selector).text_content().unwrap_or_default()
}

pub fn input(host: &Element, selector: &str) -> HtmlInputElement {
    get(host, selector).dyn_into().unwrap()
}

pub fn all(host: &Element, selector: &str) -> Vec<Element> {
    let list = host.query_selector_all(selector).unwrap();
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into().ok())
        .collect()
}

pub fn dispatch(target: &Element, event: &str) {
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    let e = web_sys::Event::new_with_event_init_dict(event, &init).unwrap();
    target.dispatch_event(&e).unwrap();
}

/// Types into the email field as a reader would: value change, `input`, then leaving the field.
pub async fn type_email(host: &Element, value: &str) {
    let field = input(host, "input[type=email]");
    field.focus().unwrap();
    field.set_value(value);
    dispatch(&field, "input");
    sleep(0).await;
}

pub fn click(host: &Element, selector: &str) {
    get(host, selector)
        .dyn_into::<HtmlElement>()
        .unwrap()
        .click();
}

pub async fn submit(host: &Element) {
    click(host, "button[type=submit]");
    sleep(0).await;
}

/// Types `email`, submits, and waits for the success panel.
pub async fn sign_up(host: &Element, email: &str) {
    type_email(host, email).await;
    submit(host).await;
    wait_for("the success panel", || shown(host, ".lb-success")).await;
}

/// What the widget keeps in this browser's pending queue (`letterbox:pending`), as stored.
pub fn pending_queue() -> String {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item("letterbox:pending").ok().flatten())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// The page-wide API and the endpoint's records.

/// Runs the entry point (idempotent: a second call finds `window.Letterbox` and stays idle).
pub fn started() -> js_sys::Object {
    letterbox::start();
    let window = web_sys::window().unwrap();
    js_sys::Reflect::get(&window, &"Letterbox".into())
        .unwrap()
        .dyn_into()
        .unwrap()
}

/// Calls `window.Letterbox[method](...args)`.
pub fn call(api: &js_sys::Object, method: &str, args: &[JsValue]) -> JsValue {
    let f: js_sys::Function = js_sys::Reflect::get(api, &method.into())
        .unwrap()
        .dyn_into()
        .unwrap();
    f.apply(api, &args.iter().collect::<js_sys::Array>())
        .unwrap()
}

/// The body of a GET of `url`, as text.
pub async fn fetch_text(url: &str) -> String {
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

/// What the endpoint recorded for test `name`.
pub async fn requests(name: &str) -> Vec<Value> {
    let body = fetch_text(&format!("{}/t/{name}/requests", base())).await;
    match serde_json::from_str(&body).unwrap() {
        Value::Array(items) => items,
        other => panic!("unexpected {other}"),
    }
}

/// A recorded request's body, parsed as JSON.
pub fn body_of(request: &Value) -> Value {
    serde_json::from_str(request["body"].as_str().unwrap()).unwrap()
}

/// Nothing a page or a server wrote ran: the marker the hostile markup would set is unset.
pub fn no_script_ran() {
    let marker = js_sys::Reflect::get(&web_sys::window().unwrap(), &"__lbx".into()).unwrap();
    assert!(marker.is_undefined(), "injected markup ran: {marker:?}");
}
