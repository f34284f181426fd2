//! The upgrade against real embeds (issue 12): every fixture under `tests/fixtures/embeds/` is
//! a signup form copied unchanged from a public repository (provenance in `embeds.json`). Each
//! is read into the [`FormMarkup`] the widget's page code (`src/page.rs`, `form_markup`) builds
//! from the DOM, upgraded by core, and what the upgraded slot would send is compared with what
//! the original form sends, as written down in `embeds.json` by reading the markup.
//!
//! Each fixture is reported as upgraded faithfully, left alone correctly, or wrong (with why).
//! The test fails only on a change against `known-wrong.txt`: an unlisted fixture that is wrong,
//! or a listed one that is no longer wrong (then update the list).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use letterbox_core::config::upgrade::{config, FieldKind, FormField, FormMarkup, TextAbove};
use letterbox_core::config::{Config, HostInput};
use letterbox_core::delivery::Adapter;
use scraper::{ElementRef, Html, Selector};
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/embeds");

/// The page the fixtures are assumed to be pasted into, for resolving relative actions
/// (`form.action` is always absolute).
const PAGE: &str = "https://www.example.org/newsletter/";

// ---- The widget's DOM reading, over html5ever's tree ------------------------------------------

fn fold(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn text_of(el: ElementRef<'_>) -> String {
    fold(&el.text().collect::<String>())
}

/// `el.closest(selector)`-like walk over the element and its ancestors.
fn self_and_ancestors(el: ElementRef<'_>) -> impl Iterator<Item = ElementRef<'_>> {
    std::iter::once(el).chain(el.ancestors().filter_map(ElementRef::wrap))
}

/// A CSS declaration's value in an inline style (`left`, `display`), lower-cased.
fn style_value(el: ElementRef<'_>, property: &str) -> Option<String> {
    let style = el.value().attr("style")?;
    style.split(';').find_map(|decl| {
        let (k, v) = decl.split_once(':')?;
        (k.trim().eq_ignore_ascii_case(property)).then(|| v.trim().to_ascii_lowercase())
    })
}

/// Stands in for `getBoundingClientRect().right < 0`: an element (or ancestor) moved far left
/// with an inline `left: -NNNpx`, unless something on the way is `display: none` (no box at all).
fn off_screen(el: ElementRef<'_>) -> bool {
    let mut left = false;
    for e in self_and_ancestors(el) {
        if style_value(e, "display").is_some_and(|d| d.starts_with("none")) {
            return false;
        }
        if let Some(v) = style_value(e, "left") {
            let v = v.trim_end_matches("!important").trim();
            // `-5000px`, or `-999em` (16px to the em, as a browser's default font size).
            let px = match v.strip_suffix("em") {
                Some(em) => em.trim().parse::<f64>().map(|n| n * 16.0),
                None => v.trim_end_matches("px").trim().parse::<f64>(),
            };
            if px.is_ok_and(|n| n <= -500.0) {
                left = true;
            }
        }
    }
    left
}

/// `form.action`: the action attribute resolved against the page (the page itself when absent).
fn form_action(form: ElementRef<'_>, page: &str) -> String {
    let base = url::Url::parse(page).expect("page URL");
    match form.value().attr("action") {
        // page.rs gives no action for a form without one (it would post to the page itself).
        None => String::new(),
        Some(raw) => base
            .join(raw.trim())
            .map(|u| u.to_string())
            .unwrap_or_else(|_| raw.to_owned()),
    }
}

/// `form.method`: get, post or dialog (anything else reads as get).
fn form_method(form: ElementRef<'_>) -> String {
    let m = form
        .value()
        .attr("method")
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if ["get", "post", "dialog"].contains(&m.as_str()) {
        m
    } else {
        "get".into()
    }
}

/// What `src/page.rs`'s `form_markup` collects, from the fixture's first `<form>`.
fn form_markup(html: &str, page: &str) -> Option<FormMarkup> {
    let doc = Html::parse_document(html);
    let form = doc.select(&Selector::parse("form").unwrap()).next()?;
    let controls = Selector::parse("input, select, textarea, button").unwrap();
    let mut fields = Vec::new();
    for el in form.select(&controls) {
        let v = el.value();
        let tag = v.name().to_ascii_lowercase();
        let ty = v.attr("type").unwrap_or("").to_ascii_lowercase();
        let kind = match (tag.as_str(), ty.as_str()) {
            ("input", "email") => FieldKind::Email,
            ("input", "hidden") => FieldKind::Hidden,
            ("input", "checkbox") => FieldKind::Checkbox,
            ("input", "radio") => FieldKind::Radio,
            ("input", "submit") | ("button", "submit" | "") => FieldKind::Submit,
            ("input", "" | "text" | "tel" | "url" | "search") | ("textarea", _) => FieldKind::Text,
            _ => FieldKind::Other,
        };
        let mut field = FormField::new(kind, v.attr("name").unwrap_or(""));
        // `get_attribute("value")`, as the page code reads it (a <select> has none).
        field.value = v.attr("value").unwrap_or("").to_owned();
        field.id = v.attr("id").unwrap_or("").to_owned();
        let by_for = (!field.id.is_empty())
            .then(|| {
                form.select(&Selector::parse("label").unwrap())
                    .find(|l| l.value().attr("for") == Some(field.id.as_str()))
            })
            .flatten();
        let label = by_for.or_else(|| self_and_ancestors(el).find(|e| e.value().name() == "label"));
        // A label just before the control whose `for` names nothing (`for=""`): what readers
        // see as its label, as page.rs reads it.
        let before = || {
            el.prev_siblings()
                .filter_map(ElementRef::wrap)
                .next()
                .filter(|l| l.value().name() == "label" && l.value().attr("for") == Some(""))
        };
        field.label = label.or_else(before).map(text_of).unwrap_or_default();
        field.placeholder = fold(v.attr("placeholder").unwrap_or(""));
        if ty == "radio" {
            // The group's title: its fieldset's legend, or Mailchimp's <strong> heading.
            let legend = Selector::parse("legend").unwrap();
            let strong = Selector::parse("strong").unwrap();
            field.group = self_and_ancestors(el)
                .find_map(|e| match e.value().name() {
                    "fieldset" => e.select(&legend).next(),
                    _ if e.value().attr("class").is_some_and(|c| {
                        c.split_ascii_whitespace().any(|c| c == "mc-field-group")
                    }) =>
                    {
                        e.select(&strong).next()
                    }
                    _ => None,
                })
                .map(text_of)
                .unwrap_or_default();
        }
        if tag == "select" {
            // `select.value`: the selected option's value, else the first option's.
            let option = Selector::parse("option").unwrap();
            let opts: Vec<_> = el.select(&option).collect();
            let value_of = |o: &ElementRef<'_>| {
                o.value()
                    .attr("value")
                    .map_or_else(|| text_of(*o), str::to_owned)
            };
            field.options = opts.iter().map(|o| (value_of(o), text_of(*o))).collect();
            field.value = opts
                .iter()
                .find(|o| o.value().attr("selected").is_some())
                .or(opts.first())
                .map(value_of)
                .unwrap_or_default();
        }
        field.checked = v.attr("checked").is_some();
        field.required = v.attr("required").is_some()
            || v.attr("class")
                .is_some_and(|c| c.split_ascii_whitespace().any(|c| c == "required"));
        field.hidden_from_people = self_and_ancestors(el).any(|e| {
            e.value().attr("aria-hidden") == Some("true") || e.value().attr("hidden").is_some()
        }) || (kind != FieldKind::Hidden && off_screen(el));
        fields.push(field);
    }
    let legend = form
        .select(&Selector::parse("legend, h1, h2, h3, h4").unwrap())
        .next()
        .map(text_of)
        .filter(|t| !t.is_empty());
    let text_above = if legend.is_none() {
        text_above(form, &fields)
    } else {
        None
    };
    Some(FormMarkup {
        action: form_action(form, page),
        method: form_method(form),
        fields,
        legend,
        text_above,
    })
}

/// What `src/page.rs`'s `text_above` reads: the first visible `<label>` or `<p>` before the
/// form's first field a reader sees that is not another field's label.
fn text_above(form: ElementRef<'_>, fields: &[FormField]) -> Option<TextAbove> {
    let nodes = Selector::parse("label, p, input, select, textarea, button").unwrap();
    let mut controls = fields.iter();
    for el in form.select(&nodes) {
        let tag = el.value().name().to_ascii_lowercase();
        if tag != "label" && tag != "p" {
            match controls.next() {
                Some(f) if f.kind == FieldKind::Hidden || f.hidden_from_people => continue,
                _ => return None,
            }
        }
        // `[hidden], [aria-hidden='true'], [style*='display:none'], [style*='display: none']`.
        let hidden = self_and_ancestors(el).any(|e| {
            let v = e.value();
            v.attr("hidden").is_some()
                || v.attr("aria-hidden") == Some("true")
                || v.attr("style")
                    .is_some_and(|st| st.contains("display:none") || st.contains("display: none"))
        });
        let in_label = self_and_ancestors(el)
            .skip(1)
            .any(|e| e.value().name().eq_ignore_ascii_case("label"));
        if hidden || (tag == "p" && in_label) {
            continue;
        }
        let text = text_of(el);
        if text.is_empty() {
            continue;
        }
        if let Some(found) = TextAbove::candidate(text, tag == "label", fields) {
            return Some(found);
        }
    }
    None
}

// ---- What a slot sends, in one comparable shape ---------------------------------------------

/// What the reader is asked and what is sent, for the original form (written in `embeds.json`)
/// and for the upgraded slot (read from the configuration core produces).
#[derive(Debug, Default, PartialEq)]
struct Sends {
    /// `mailchimp` or `form`.
    provider: String,
    /// Mailchimp: `host u=… id=…[ f_id=…]`; a form: its action URL.
    endpoint: String,
    /// The address field's name (Mailchimp: the adapter always sends `EMAIL`).
    email_field: String,
    /// Fields the reader fills in besides the address: (name, label, required).
    fields: Vec<(String, String, bool)>,
    /// Choices offered: (field, value sent, label, ticked by default).
    choices: Vec<(String, String, String, bool)>,
    /// Whether the reader must tick at least one choice.
    choice_required: bool,
    /// Fixed fields sent as they are, sorted (a plain form's honeypot is one, sent empty).
    hidden: Vec<(String, String)>,
    /// Mailchimp: the honeypot field sent empty.
    honeypot: Option<String>,
    /// Consent boxes the reader ticks: (field, value sent, wording).
    consent: Vec<(String, String, String)>,
    /// The name of the one list a form without choices signs up to (from its heading or the
    /// text above its fields; "Newsletter" when these ask or describe rather than name).
    title: Option<String>,
}

fn strs(v: &Value, key: &str) -> Vec<Vec<Value>> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|x| x.as_array().cloned().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn expected(expect: &Value) -> Sends {
    let mut hidden: Vec<(String, String)> = strs(expect, "hidden")
        .iter()
        .map(|p| (s(&p[0]), s(&p[1])))
        .collect();
    hidden.sort();
    Sends {
        provider: s(&expect["upgrade"]),
        endpoint: s(&expect["endpoint"]),
        email_field: s(&expect["email_field"]),
        fields: strs(expect, "fields")
            .iter()
            .map(|p| (s(&p[0]), s(&p[1]), p[2].as_bool().unwrap_or(false)))
            .collect(),
        choices: strs(expect, "choices")
            .iter()
            .map(|p| {
                (
                    s(&p[0]),
                    s(&p[1]),
                    s(&p[2]),
                    p[3].as_bool().unwrap_or(false),
                )
            })
            .collect(),
        choice_required: expect["choice_required"].as_bool().unwrap_or(false),
        hidden,
        honeypot: expect["honeypot"].as_str().map(str::to_owned),
        consent: strs(expect, "consent")
            .iter()
            .map(|p| (s(&p[0]), s(&p[1]), s(&p[2])))
            .collect(),
        title: expect["title"].as_str().map(str::to_owned),
    }
}

/// What the slot configured by `layer` (core's upgrade output, as the widget passes it) sends.
fn upgraded(layer: &letterbox_core::json::Value) -> Result<Sends, String> {
    let config = Config::from_host(&HostInput {
        upgraded: Some(layer),
        ..Default::default()
    })
    .map_err(|e| format!("the produced configuration is refused: {e}"))?;
    let name_of = |id: &str| {
        config
            .newsletters
            .iter()
            .find(|n| n.id == id)
            .map(|n| (n.name.clone(), n.checked))
            .unwrap_or_default()
    };
    let mut out = Sends {
        fields: config
            .fields
            .iter()
            .map(|f| (f.name.clone(), f.label.clone(), f.required))
            .collect(),
        ..Sends::default()
    };
    let consent_text = config.consent.as_ref().map(|c| c.text.clone());
    let consent_field = match &config.adapter {
        Adapter::Mailchimp(mc) => {
            out.provider = "mailchimp".into();
            // Where the widget calls from the page: an http action is called over https
            // from an https page (the adapter's rule), so read the host off the real request.
            let mut envelope = letterbox_core::delivery::Envelope::example();
            envelope.signup.source.page = PAGE.into();
            envelope.signup.newsletters = config.newsletters.iter().map(|n| n.id.clone()).collect();
            let called = match config.adapter.start(&envelope) {
                letterbox_core::delivery::Next::Send(ex) => match ex.request {
                    letterbox_core::delivery::Request::Jsonp { url, .. } => url
                        .split("/subscribe/")
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                    _ => mc.host.clone(),
                },
                letterbox_core::delivery::Next::Done(_) => mc.host.clone(),
            };
            out.endpoint = format!("{} u={} id={}", called, mc.u, mc.id);
            if let Some(f_id) = &mc.f_id {
                let _ = write!(out.endpoint, " f_id={f_id}");
            }
            out.email_field = "EMAIL".into();
            for g in &mc.groups {
                let (name, checked) = name_of(&g.newsletter);
                out.choices
                    .push((g.field.clone(), g.value.clone(), name, checked));
            }
            out.hidden = mc.hidden.clone();
            out.honeypot = Some(format!("b_{}_{}", mc.u, mc.id));
            mc.consent_field.clone().map(|f| (f, "Y".to_owned()))
        }
        Adapter::Form(f) => {
            out.provider = "form".into();
            out.endpoint = f.action.clone();
            out.email_field = f.email_field.clone();
            if let Some(field) = &f.newsletter_field {
                for n in &config.newsletters {
                    out.choices
                        .push((field.clone(), n.id.clone(), n.name.clone(), n.checked));
                }
            }
            out.hidden = f.hidden.clone();
            f.consent_field.clone().map(|c| (c, "Y".to_owned()))
        }
        other => return Err(format!("unexpected adapter {other:?}")),
    };
    out.choice_required = !out.choices.is_empty() && !config.choice_optional;
    if let ([one], true) = (config.newsletters.as_slice(), out.choices.is_empty()) {
        out.title = Some(one.name.clone());
    }
    let choices = config
        .consent
        .as_ref()
        .map(|c| c.choices.clone())
        .unwrap_or_default();
    if !choices.is_empty() {
        // Marketing permissions: each ticked choice is sent as field=value with its wording.
        out.consent = choices;
    } else if let (Some((field, value)), Some(text)) = (consent_field, consent_text.clone()) {
        out.consent.push((field, value, text));
    } else if let Some(text) = consent_text {
        // The upgrade keeps a required box's field in `hidden`; which one is not recorded, so
        // the comparison takes it from the expectation (see `compare`).
        out.consent.push((String::new(), String::new(), text));
    }
    out.hidden.sort();
    Ok(out)
}

/// The differences between what the original sends and what the upgraded slot sends.
fn compare(want: &Sends, mut got: Sends) -> Vec<String> {
    // A plain form's consent box is sent through `hidden`: match it to the expected field.
    if let (Some(w), Some(g)) = (want.consent.first(), got.consent.first_mut()) {
        if g.0.is_empty() {
            if let Some(i) = got.hidden.iter().position(|(n, v)| *n == w.0 && *v == w.1) {
                got.hidden.remove(i);
                g.0 = w.0.clone();
                g.1 = w.1.clone();
            }
        }
    }
    // The original's honeypot may be one the adapter does not name itself (copied from another
    // audience): sending it empty as a fixed field is as faithful.
    if let Some(name) = &want.honeypot {
        if got.honeypot.as_ref() != Some(name) {
            if let Some(i) = got
                .hidden
                .iter()
                .position(|(n, v)| n == name && v.is_empty())
            {
                got.hidden.remove(i);
                got.honeypot = Some(name.clone());
            }
        }
    }
    // A label written down as "" is one the markup does not tie to its control: not compared.
    for (w, g) in want.fields.iter().zip(got.fields.iter_mut()) {
        if w.1.is_empty() {
            g.1.clear();
        }
    }
    let mut why = Vec::new();
    if want.provider != got.provider {
        why.push(format!(
            "provider {:?}, not {:?}",
            got.provider, want.provider
        ));
    }
    if want.endpoint != got.endpoint {
        why.push(format!(
            "sends to {:?}, not {:?}",
            got.endpoint, want.endpoint
        ));
    }
    if want.email_field != got.email_field {
        why.push(format!(
            "address sent as {:?}, not {:?}",
            got.email_field, want.email_field
        ));
    }
    if want.fields != got.fields {
        why.push(format!("fields {:?}, not {:?}", got.fields, want.fields));
    }
    if want.choices != got.choices {
        why.push(format!("choices {:?}, not {:?}", got.choices, want.choices));
    }
    if want.choice_required != got.choice_required {
        why.push(if got.choice_required {
            "requires a choice the original does not".to_owned()
        } else {
            "does not require a choice the original requires".to_owned()
        });
    }
    if want.hidden != got.hidden {
        why.push(format!(
            "fixed fields {:?}, not {:?}",
            got.hidden, want.hidden
        ));
    }
    if want.honeypot.is_some() && want.honeypot != got.honeypot {
        why.push(format!(
            "honeypot {:?}, not {:?}",
            got.honeypot.unwrap_or_default(),
            want.honeypot.clone().unwrap_or_default()
        ));
    }
    if want.title.is_some() && want.title != got.title {
        why.push(format!(
            "names its list {:?}, not {:?}",
            got.title.unwrap_or_default(),
            want.title.clone().unwrap_or_default()
        ));
    }
    if want.consent != got.consent {
        why.push(format!("consent {:?}, not {:?}", got.consent, want.consent));
    }
    why
}

// ---- The corpus ----------------------------------------------------------------------------

#[derive(Debug, PartialEq)]
enum Verdict {
    Faithful,
    LeftAloneCorrectly,
    Wrong(String),
}

fn judge(entry: &Value) -> Verdict {
    let file = entry["file"].as_str().expect("file");
    let html =
        std::fs::read_to_string(format!("{DIR}/{file}")).unwrap_or_else(|e| panic!("{file}: {e}"));
    let page = entry["page"].as_str().unwrap_or(PAGE);
    let expect = &entry["expect"];
    let Some(markup) = form_markup(&html, page) else {
        return Verdict::Wrong("no <form> in the fixture".into());
    };
    let result = config(&markup);
    match (expect["upgrade"].as_str(), result) {
        (None, Err(_)) => Verdict::LeftAloneCorrectly,
        (None, Ok(layer)) => Verdict::Wrong(format!(
            "upgraded, but should be left alone ({}): {layer:?}",
            expect["left_alone_because"].as_str().unwrap_or("?")
        )),
        (Some(_), Err(e)) => Verdict::Wrong(format!("refused: {e}")),
        (Some(_), Ok(layer)) => match upgraded(&layer) {
            Err(e) => Verdict::Wrong(e),
            Ok(got) => {
                let why = compare(&expected(expect), got);
                if why.is_empty() {
                    Verdict::Faithful
                } else {
                    Verdict::Wrong(why.join("; "))
                }
            }
        },
    }
}

fn known_wrong() -> BTreeSet<String> {
    std::fs::read_to_string(format!("{DIR}/known-wrong.txt"))
        .expect("known-wrong.txt")
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn real_embeds_are_upgraded_faithfully_or_left_alone() {
    let index: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{DIR}/embeds.json")).expect("embeds.json"),
    )
    .expect("embeds.json is JSON");
    let entries = index["embeds"].as_array().expect("embeds array");
    let known = known_wrong();
    let (mut faithful, mut alone, mut wrong) = (0, 0, 0);
    let mut regressions = Vec::new();
    let mut report = String::new();
    for entry in entries {
        let file = entry["file"].as_str().expect("file").to_owned();
        let verdict = judge(entry);
        let listed = known.contains(&file);
        match &verdict {
            Verdict::Faithful => faithful += 1,
            Verdict::LeftAloneCorrectly => alone += 1,
            Verdict::Wrong(_) => wrong += 1,
        }
        let _ = match &verdict {
            Verdict::Faithful => writeln!(report, "  upgraded faithfully  {file}"),
            Verdict::LeftAloneCorrectly => writeln!(report, "  left alone correctly {file}"),
            Verdict::Wrong(why) => writeln!(report, "  WRONG                {file}: {why}"),
        };
        match (&verdict, listed) {
            (Verdict::Wrong(why), false) => {
                regressions.push(format!("{file} is wrong and not in known-wrong.txt: {why}"))
            }
            (Verdict::Faithful | Verdict::LeftAloneCorrectly, true) => regressions.push(format!(
                "{file} is now right: remove it from known-wrong.txt"
            )),
            _ => {}
        }
    }
    for name in &known {
        if !entries.iter().any(|e| e["file"].as_str() == Some(name)) {
            regressions.push(format!(
                "known-wrong.txt lists {name}, which is not in embeds.json"
            ));
        }
    }
    println!("{report}");
    println!(
        "{} embeds: {faithful} upgraded faithfully, {alone} left alone correctly, {wrong} wrong",
        entries.len()
    );
    assert!(regressions.is_empty(), "{}", regressions.join("\n"));
}

#[test]
fn every_fixture_has_provenance_and_an_expectation() {
    let index: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{DIR}/embeds.json")).expect("embeds.json"),
    )
    .expect("embeds.json is JSON");
    let entries = index["embeds"].as_array().expect("embeds array");
    let mut files = BTreeSet::new();
    for e in entries {
        let file = e["file"].as_str().expect("file");
        assert!(files.insert(file.to_owned()), "{file} listed twice");
        for key in ["service", "repo", "path", "commit", "note"] {
            assert!(
                e[key].as_str().is_some_and(|v| !v.is_empty()),
                "{file}: no {key}"
            );
        }
        assert_eq!(e["commit"].as_str().unwrap().len(), 40, "{file}: commit");
        let expect = &e["expect"];
        assert!(
            expect["upgrade"].is_string() || expect["left_alone_because"].is_string(),
            "{file}: expect.upgrade or expect.left_alone_because"
        );
        assert!(
            std::path::Path::new(&format!("{DIR}/{file}")).exists(),
            "{file} missing"
        );
    }
    // Every .html file in the directory is in the index.
    for dir in std::fs::read_dir(DIR).unwrap() {
        let path = dir.unwrap().path();
        if path.is_dir() {
            for f in std::fs::read_dir(&path).unwrap() {
                let p = f.unwrap().path();
                let rel = format!(
                    "{}/{}",
                    path.file_name().unwrap().to_string_lossy(),
                    p.file_name().unwrap().to_string_lossy()
                );
                assert!(files.contains(&rel), "{rel} is not in embeds.json");
            }
        }
    }
}
