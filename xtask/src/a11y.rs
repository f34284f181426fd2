//! The accessibility audit of the release bundle: a plain host page (`tests/a11y/widget.html`)
//! served with the strict CSP, driven in headless Chromium through WebDriver (the same
//! [`Browser`] as the end-to-end check), with axe-core injected by WebDriver's execute script
//! (which the page's CSP does not govern; the page's own violation log is checked too). axe-core
//! descends into the open shadow roots. Every state a reader can reach is audited: freshly mounted
//! (several newsletters, one, Ukrainian, a broken configuration), errors after an empty submit, a
//! typo suggestion, the failure panel (endpoint answering 500), the success panels and a
//! returning reader; in light and dark colour schemes (CDP `Emulation.setEmulatedMedia` through
//! ChromeDriver) and at a 320 px wide viewport (CDP `Emulation.setDeviceMetricsOverride`). The
//! keyboard is checked with WebDriver key presses: Tab order, focus rings, the error summary's
//! links, focus on result headings; and each slot's computed language (`:lang`).
//!
//! axe-core comes from npm, pinned, installed under `~/.cache/letterbox/` when missing.

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::e2e::{Browser, STRICT_CSP};
use crate::endpoint::{self, Statics};
use crate::tools::Tools;
use crate::util::{root, Result};

/// The axe-core release installed from npm.
const AXE_VERSION: &str = "4.14.1";
/// The rule tags the audit runs.
const TAGS: &str = r#"["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]"#;

const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";

/// Makes sure the pinned axe-core is installed; returns `axe.min.js`.
fn ensure_axe() -> Result<PathBuf> {
    let script = crate::tools::ensure_npm_packages(&[&format!("axe-core@{AXE_VERSION}")])?
        .join("axe-core/axe.min.js");
    if script.is_file() {
        Ok(script)
    } else {
        Err(format!("{} is missing after npm install", script.display()))
    }
}

/// Counts checks and says which failed.
#[derive(Default)]
struct Checks {
    passed: usize,
    failed: Vec<String>,
    /// Results to review already printed (each is printed once per run).
    reviewed: std::collections::BTreeSet<String>,
}

impl Checks {
    fn check(&mut self, what: &str, ok: Result<bool>) -> bool {
        match ok {
            Ok(true) => {
                self.passed += 1;
                println!("a11y: ok     {what}");
                return true;
            }
            Ok(false) => println!("a11y: FAILED {what}"),
            Err(e) => println!("a11y: FAILED {what}: {e}"),
        }
        self.failed.push(what.to_owned());
        false
    }
}

/// One way of viewing the page.
struct Condition {
    name: &'static str,
    dark: bool,
    width: u32,
}

const CONDITIONS: [Condition; 4] = [
    Condition {
        name: "light, 1280px",
        dark: false,
        width: 1280,
    },
    Condition {
        name: "dark, 1280px",
        dark: true,
        width: 1280,
    },
    Condition {
        name: "light, 320px",
        dark: false,
        width: 320,
    },
    // What a 1280 px window shows at 200% zoom.
    Condition {
        name: "dark, 640px (200% zoom)",
        dark: true,
        width: 640,
    },
];

/// True when nothing scrolls sideways: the document, each slot's host and every element inside
/// the shadow roots fit (WCAG 1.4.10 reflow).
const REFLOWS: &str = "return document.documentElement.scrollWidth <= window.innerWidth
    && [...document.querySelectorAll('[data-letterbox]')].every(h =>
         [...h.shadowRoot.querySelectorAll('*')].every(e => e.scrollWidth <= e.clientWidth + 1
             || getComputedStyle(e).overflow !== 'visible' || e.clientWidth === 0)
         && h.getBoundingClientRect().right <= window.innerWidth)";

/// WCAG 1.4.12's text spacing (the W3C bookmarklet's values), applied to the page and inside
/// every slot's shadow root through constructable stylesheets (which the strict CSP allows).
const TEXT_SPACING: &str = "const sheet = new CSSStyleSheet();
    sheet.replaceSync('* { line-height: 1.5 !important; letter-spacing: 0.12em !important; word-spacing: 0.16em !important; } p { margin-bottom: 2em !important; }');
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
    document.querySelectorAll('[data-letterbox]').forEach(h => {
        if (h.shadowRoot) h.shadowRoot.adoptedStyleSheets = [...h.shadowRoot.adoptedStyleSheets, sheet];
    });
    return true;";

/// At narrow widths (320 px, and 640 px for 200% zoom) checks that `state` reflows; at 320 px
/// with WCAG 1.4.12's text spacing too, which stays applied for the rest of the pass.
fn reflow(b: &Browser, c: &mut Checks, state: &str, condition: &Condition) {
    if condition.width >= 700 {
        return;
    }
    c.check(
        &format!("nothing scrolls sideways: {state} ({})", condition.name),
        b.script(REFLOWS).map(|v| v == json!(true)),
    );
    if condition.width < 400 {
        let spaced = b.script(TEXT_SPACING).and_then(|_| b.script(REFLOWS));
        c.check(
            &format!(
                "nothing scrolls sideways with WCAG 1.4.12 text spacing: {state} ({})",
                condition.name
            ),
            spaced.map(|v| v == json!(true)),
        );
    }
}

/// Runs the whole audit against the bundle in `dist/` (built by the caller).
pub fn run(tools: &Tools) -> Result<()> {
    let axe_path = ensure_axe()?;
    let axe = std::fs::read_to_string(&axe_path)
        .map_err(|e| format!("cannot read {}: {e}", axe_path.display()))?;
    let root = root();
    let statics = Statics {
        mounts: vec![
            ("/letterbox/".into(), root.join("dist")),
            ("/e2e/".into(), root.join("tests/e2e")),
            ("/a11y/".into(), root.join("tests/a11y")),
        ],
        csp: Some(STRICT_CSP.into()),
        ..Statics::default()
    };
    let server = endpoint::start_serving(0, false, statics)?;
    let page = format!("{}/a11y/widget.html", server.url());
    let browser = Browser::start(tools)?;
    let _ = browser.call("POST", "/timeouts", Some(json!({"script": 30_000})));
    let mut c = Checks::default();
    println!("a11y: axe-core {AXE_VERSION}, rules tagged {TAGS}");
    for condition in &CONDITIONS {
        if let Err(e) = audit_condition(&browser, &page, &axe, condition, &mut c) {
            c.check(
                &format!("the audit ran to its end ({})", condition.name),
                Err(e),
            );
        }
    }
    if let Err(e) = playground_states(tools, &browser, &axe, &mut c) {
        c.check("the playground's states were audited to the end", Err(e));
    }
    println!("a11y: {} passed, {} failed", c.passed, c.failed.len());
    if c.failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "accessibility checks failed: {}",
            c.failed.join("; ")
        ))
    }
}

/// What shows, in the playground's in-article slot, that it is in each scene: a part that must
/// be visible (not inside anything `hidden`) in its shadow root.
fn shown_in_scene(scene: &str) -> &'static str {
    match scene {
        "errors" => ".lb-summary",
        "suggestion" => ".lb-suggestion",
        "sending" => "form[aria-busy=true]",
        "subscribed" | "confirm" | "already" => ".lb-success",
        "server-field-error" => "input[aria-invalid=true]",
        "queued" => ".lb-queued",
        "remembered-some" => ".lb-remembered-note",
        "remembered" => ".lb-remembered",
        s if s.contains("fail")
            || [
                "maybe-sent",
                "rejected",
                "spam",
                "misconfigured",
                "rate-limited",
                "timeout",
            ]
            .contains(&s) =>
        {
            ".lb-failure"
        }
        _ => ".lb-form",
    }
}

/// The built playground (`dist-playground/`, built here beside `dist/`): every scene of core's
/// picked with the page's own state control, in light and dark; each shows its part in the
/// in-article slot, and axe-core finds nothing on the whole page (the page, its controls, the
/// embed builder and all six slots).
fn playground_states(tools: &Tools, b: &Browser, axe: &str, c: &mut Checks) -> Result<()> {
    let built = crate::playground::build_beside_dist(tools)?;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("cannot find a free port: {e}"))?;
    let server = crate::playground::start(0, &built, &format!("http://{closed}"))?;
    b.viewport(1280, 900)?;
    for scheme in ["light", "dark"] {
        b.open(&format!("{}/?scheme={scheme}", server.url()))?;
        let options = b.wait(
            "the playground's state picker to list core's scenes",
            "document.documentElement.dataset.pgShown === 'first' && document.getElementById('pg-state').options.length",
        )?;
        c.check(
            &format!("the playground lists every scene of core's in its state picker ({scheme})"),
            Ok(options == json!(letterbox_core::slot::scenes::Scene::ALL.len())),
        );
        // Only slot (e) is broken on purpose (it may not be mounted yet: slots far below the
        // fold mount when they come near); any other slot showing the configuration error means
        // the playground's own configuration is wrong.
        let broken = b.script(
            "return [...document.querySelectorAll('[data-letterbox]')]
               .filter(h => h.id !== 'broken-config' && h.shadowRoot
                            && h.shadowRoot.querySelector('.lb-config-error'))
               .map(h => h.id)",
        )?;
        c.check(
            &format!("no slot of the playground but the deliberately broken one shows a configuration error ({scheme}): {broken}"),
            Ok(broken == json!([])),
        );
        c.check(
            &format!("the playground's embed builder shows core's snippet with the release bundle's SRI hashes ({scheme})"),
            b.wait(
                "the embed builder's snippet",
                r#"(t => t.includes('<form action="https://news.example/api/subscribe"') && /integrity="sha384-[A-Za-z0-9+\/]{64}"/.test(t))(document.getElementById('pg-embed-output').textContent)"#,
            )
            .map(|_| true),
        );
        for scene in letterbox_core::slot::scenes::Scene::ALL {
            let name = scene.name();
            b.script(&format!(
                "const s = document.getElementById('pg-state'); s.value = {name:?};
                 s.dispatchEvent(new Event('change', {{bubbles: true}}));"
            ))?;
            let part = shown_in_scene(name);
            let shown = b.wait(
                &format!("the playground to show {name}"),
                &format!(
                    "document.documentElement.dataset.pgShown === {name:?}
                     && (e => e && !e.closest('[hidden]'))(document.getElementById('in-article').shadowRoot.querySelector({part:?}))"
                ),
            );
            c.check(
                &format!("the playground's picker shows {name}: the in-article slot shows {part} ({scheme})"),
                shown.map(|_| true),
            );
            let found = violations(b, axe);
            let clean = found.as_ref().is_ok_and(Vec::is_empty);
            if !c.check(
                &format!("no axe violations on the playground page: {name} ({scheme})"),
                found.as_ref().map(|_| clean).map_err(Clone::clone),
            ) {
                for line in found.unwrap_or_default() {
                    println!("a11y:          {line}");
                }
            }
        }
    }
    playground_reflows(b, &server.url(), c)
}

/// The playground page's own parts that stick out of a 320 px viewport (its state and theme
/// selects, its controls' labels, the code in its notes, the embed builder): a tag and the right
/// edge of each, for the check's message. The snippet's `<pre>` scrolls in its own box, so what
/// is inside it does not count.
const PAGE_OVERFLOW: &str = "return [...document.querySelectorAll('body *')]
    .filter(e => e.getClientRects().length && !e.closest('pre')
                 && e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' ends at ' + Math.round(e.getBoundingClientRect().right))";

/// At 320 px, light and dark, with the embed builder open: the playground page itself (not only
/// the slots in it) reflows, nothing scrolls sideways (WCAG 1.4.10).
fn playground_reflows(b: &Browser, url: &str, c: &mut Checks) -> Result<()> {
    b.viewport(320, 900)?;
    for scheme in ["light", "dark"] {
        b.open(&format!("{url}/?scheme={scheme}"))?;
        b.wait(
            "the playground to show its first state",
            "document.documentElement.dataset.pgShown === 'first'",
        )?;
        b.script("document.getElementById('pg-embed-details').open = true; return true")?;
        b.wait(
            "the embed builder's snippet",
            "document.getElementById('pg-embed-output').textContent.includes('<form action=')",
        )?;
        // The viewport must really be 320 px wide, or a page laid out at 1280 px would pass.
        let fits = b.script(
            "const d = document.documentElement; return window.innerWidth === 320 && d.scrollWidth <= d.clientWidth",
        )?;
        let over = b.script(PAGE_OVERFLOW)?;
        c.check(
            &format!(
                "nothing on the playground page scrolls sideways at 320 px, embed builder open ({scheme}): {over}"
            ),
            Ok(fits == json!(true) && over == json!([])),
        );
    }
    b.viewport(1280, 900)?;
    Ok(())
}

/// Sets the colour scheme and the viewport width.
fn apply(b: &Browser, condition: &Condition) -> Result<()> {
    let scheme = if condition.dark { "dark" } else { "light" };
    b.call(
        "POST",
        "/goog/cdp/execute",
        Some(json!({"cmd": "Emulation.setEmulatedMedia", "params": {
            "features": [{"name": "prefers-color-scheme", "value": scheme}]}})),
    )?;
    b.viewport(condition.width, 900)?;
    Ok(())
}

fn shadow(host: &str) -> String {
    format!("document.querySelector('#{host}').shadowRoot")
}

/// Presses keys one after the other through the WebDriver Actions API.
fn press(b: &Browser, keys: &[&str]) -> Result<()> {
    let actions: Vec<Value> = keys
        .iter()
        .flat_map(|k| {
            [
                json!({"type": "keyDown", "value": k}),
                json!({"type": "keyUp", "value": k}),
            ]
        })
        .collect();
    b.call(
        "POST",
        "/actions",
        Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})),
    )?;
    b.call("DELETE", "/actions", None).map(|_| ())
}

/// Describes the focused element, looking into shadow roots: `host:what`.
const FOCUSED: &str = "(() => {
    let a = document.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
    if (!a || a === document.body) return 'body';
    const host = a.getRootNode().host ? a.getRootNode().host.id : 'page';
    const what = a.type === 'checkbox' ? 'checkbox:' + a.value
        : a.type === 'email' ? 'email' : a.type === 'submit' ? 'submit'
        : a.classList.contains('lb-summary') ? 'summary'
        : a.tagName.toLowerCase() + (a.textContent ? ':' + a.textContent.trim() : '');
    return host + ':' + what;
})()";

/// Injects axe-core into the current page and checks the page's CSP let everything be.
fn inject(b: &Browser, axe: &str, c: &mut Checks, condition: &Condition) -> Result<()> {
    let ok = b.script(&format!(
        "{axe}\n;return typeof window.axe === 'object' && typeof window.axe.run === 'function';"
    ))?;
    c.check(
        &format!(
            "axe-core is injected by WebDriver under the strict CSP ({})",
            condition.name
        ),
        Ok(ok == json!(true)),
    );
    Ok(())
}

/// Each node of each axe result as `<rule> (<impact>): <help> at <target>`.
fn describe(results: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    for v in results.as_array().into_iter().flatten() {
        for target in v["nodes"].as_array().into_iter().flatten() {
            lines.push(format!(
                "{} ({}): {} at {}",
                v["id"].as_str().unwrap_or("?"),
                v["impact"].as_str().unwrap_or("?"),
                v["help"].as_str().unwrap_or("?"),
                selector(target)
            ));
        }
    }
    lines
}

/// Runs axe-core over the whole document and fails on any violation, printing each. Results
/// axe cannot decide ("incomplete") are printed for a person to review; they do not fail.
fn audit(b: &Browser, c: &mut Checks, state: &str, condition: &Condition) {
    let what = format!("no axe violations: {state} ({})", condition.name);
    let script = format!(
        "const done = arguments[arguments.length - 1];
         axe.run(document, {{runOnly: {TAGS}, resultTypes: ['violations', 'incomplete']}})
           .then(r => done({{violations: r.violations.map(v => ({{id: v.id, impact: v.impact,
               help: v.help, nodes: v.nodes.map(n => n.target)}})),
               incomplete: r.incomplete.map(v => ({{id: v.id, impact: v.impact,
               help: v.help, nodes: v.nodes.map(n => n.target)}})), passes: r.passes.length}}))
           .catch(e => done({{error: String(e)}}));"
    );
    let result = b.call(
        "POST",
        "/execute/async",
        Some(json!({"script": script, "args": []})),
    );
    let result = match result {
        Ok(r) if r["error"].is_null() => r,
        Ok(r) => {
            c.check(&what, Err(format!("axe.run failed: {}", r["error"])));
            return;
        }
        Err(e) => {
            c.check(&what, Err(e));
            return;
        }
    };
    let clean = result["violations"].as_array().is_some_and(Vec::is_empty);
    if !c.check(&what, Ok(clean)) {
        for line in describe(&result["violations"]) {
            println!("a11y:          {line}");
        }
    }
    for line in describe(&result["incomplete"]) {
        if c.reviewed.insert(line.clone()) {
            println!("a11y: review {line} (axe cannot decide; first seen: {state})");
        }
    }
}

/// An axe target: a list of selectors, each a string or, across shadow roots, a list.
fn selector(target: &Value) -> String {
    target
        .as_array()
        .into_iter()
        .flatten()
        .map(|part| match part {
            Value::Array(chain) => chain
                .iter()
                .map(|s| s.as_str().unwrap_or("?"))
                .collect::<Vec<_>>()
                .join(" >>> "),
            other => other.as_str().unwrap_or("?").to_owned(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Presses Tab from the top of the page and checks every control is reached once, in the
/// visual order (down the page; left to right on a line).
fn tab_order(b: &Browser, c: &mut Checks, condition: &Condition) -> Result<()> {
    let expected = [
        "several:checkbox:daily",
        "several:checkbox:explainer",
        "several:checkbox:culture",
        "several:email",
        "several:submit",
        "single:email",
        "single:submit",
        "uk:email",
        "uk:submit",
        "uk-attr:email",
        "uk-attr:submit",
        "consent:checkbox:on",
        "consent:a:Privacy policy (opens in a new tab)",
        "consent:email",
        "consent:submit",
        "goal:a:Become a member",
        "goal-uk:a:Стати учасником",
    ];
    let mut seen = Vec::new();
    let mut boxes = Vec::new();
    for _ in 0..expected.len() {
        press(b, &[TAB])?;
        seen.push(b.script(&format!("return {FOCUSED}"))?);
        boxes.push(b.script(
            "let a = document.activeElement;
             while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
             const r = a.getBoundingClientRect(), s = getComputedStyle(a);
             return [r.left + scrollX, r.top + scrollY, r.bottom + scrollY,
                     s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2];",
        )?);
    }
    let ok = seen == expected.map(Value::from);
    if !ok {
        println!("a11y:          Tab reached {}", json!(seen));
    }
    c.check(
        &format!(
            "Tab reaches the checkboxes, the email field and the button of each slot ({})",
            condition.name
        ),
        Ok(ok),
    );
    let n = |v: &Value, i: usize| v[i].as_f64().unwrap_or(0.0);
    let in_visual_order = boxes.windows(2).all(|w| {
        let (a, z) = (&w[0], &w[1]);
        // Below the previous control, or beside it on the same line and to its right.
        n(z, 1) >= n(a, 2) - 1.0 || (n(z, 1) < n(a, 2) && n(z, 0) > n(a, 0))
    });
    if !in_visual_order {
        println!(
            "a11y:          focus boxes [left, top, bottom]: {}",
            json!(boxes)
        );
    }
    c.check(
        &format!(
            "the Tab order follows the visual order ({})",
            condition.name
        ),
        Ok(in_visual_order),
    );
    let ring = boxes.iter().all(|v| v[3] == json!(true));
    c.check(
        &format!(
            "every control reached by Tab shows a focus ring of 2px or more ({})",
            condition.name
        ),
        Ok(ring),
    );
    Ok(())
}

/// One pass over every state, in one colour scheme and viewport.
fn audit_condition(
    b: &Browser,
    page: &str,
    axe: &str,
    condition: &Condition,
    c: &mut Checks,
) -> Result<()> {
    apply(b, condition)?;
    // Signups are remembered in localStorage; each pass starts as a first-time reader.
    b.open(page)?;
    b.script("localStorage.clear(); sessionStorage.clear(); return true")?;
    b.open(page)?;
    let several = shadow("several");
    let single = shadow("single");
    let uk = shadow("uk");
    b.wait(
        "every slot mounted",
        &format!(
            "{several}.querySelector('form') && {single}.querySelector('form')
             && {uk}.querySelector('form') && {}.querySelector('.lb-config-error')
             && {}.querySelector('form') && {}.querySelector('form')
             && {goal}.querySelector('progress') && !{goal}.querySelector('.lb-pending')
             && {goal_uk}.querySelector('progress') && !{goal_uk}.querySelector('.lb-pending')
             && {}.querySelector('.lb-goal-count[hidden]')",
            shadow("broken"),
            shadow("uk-attr"),
            shadow("consent"),
            shadow("goal-none"),
            goal = shadow("goal"),
            goal_uk = shadow("goal-uk"),
        ),
    )?;
    c.check(
        "the goal slots say how far they are, in their language, with a named bar",
        b.script(&format!(
            "return [{}, {}].map(r => [r.querySelector('[part=letterbox-count]').textContent,
                     r.querySelector('progress').getAttribute('aria-valuetext'),
                     r.getElementById(r.querySelector('progress').getAttribute('aria-labelledby')).textContent])",
            shadow("goal"),
            shadow("goal-uk")
        ))
        .map(|v| {
            let ok = v
                == json!([
                    ["12,345 of 20,000 members", "12,345 of 20,000 members", "Help us reach 20,000 members"],
                    ["21 учасник із 20\u{a0}000", "21 учасник із 20\u{a0}000", "Чи зберемо 20\u{a0}000 учасників?"]
                ]);
            if !ok {
                println!("a11y:          goal slots: {v}");
            }
            ok
        }),
    );
    // The page supports both schemes (dark when the system is); the slot follows the page,
    // and the slot in its light-only section stays light.
    let text = if condition.dark {
        "rgb(243, 242, 241)"
    } else {
        "rgb(11, 12, 12)"
    };
    c.check(
        &format!(
            "the colour scheme and width are emulated and the slot follows the page ({})",
            condition.name
        ),
        b.script(&format!(
            "return [matchMedia('(prefers-color-scheme: dark)').matches, window.innerWidth,
                     getComputedStyle({several}.querySelector('.lb-root')).color]"
        ))
        .map(|v| v == json!([condition.dark, condition.width, text])),
    );
    c.check(
        &format!(
            "a slot in a light-only part of the page stays light, checkboxes too ({})",
            condition.name
        ),
        b.script(&format!(
            "const r = {}.querySelector('.lb-root');
             return [getComputedStyle(r).color, getComputedStyle(r).colorScheme]",
            shadow("uk-attr")
        ))
        .map(|v| v == json!(["rgb(11, 12, 12)", "light"])),
    );
    inject(b, axe, c, condition)?;
    audit(
        b,
        c,
        "freshly mounted (several newsletters, one, Ukrainian, broken configuration, goals in English, in Ukrainian and without a count)",
        condition,
    );
    reflow(b, c, "freshly mounted", condition);
    let keyboard = condition.name == CONDITIONS[0].name;
    if keyboard {
        // WCAG 3.1.2: a screen reader picks its voice from the computed language, which a
        // shadow tree inherits from its host; a slot whose language differs from the page's
        // (data-lang) must declare it itself.
        c.check(
            "each slot's text is in its own language (:lang of the shadow content)",
            b.script(&format!(
                "return [{several}, {uk}, {}].map(r => ['en', 'uk'].find(l =>
                     r.querySelector('.lb-root').matches(':lang(' + l + ')')) || 'none')",
                shadow("uk-attr")
            ))
            .map(|v| {
                let ok = v == json!(["en", "uk", "uk"]);
                if !ok {
                    println!("a11y:          languages of several, uk, uk-attr: {v}");
                }
                ok
            }),
        );
    }
    if keyboard || condition.width < 400 {
        tab_order(b, c, condition)?;
    }

    // Errors after an empty submit: the summary takes focus and links to each field.
    b.click(&b.in_shadow("#several", "button[type=submit]")?)?;
    b.wait(
        "the error summary",
        &format!("!{several}.querySelector('.lb-summary').hidden"),
    )?;
    audit(
        b,
        c,
        "error summary and inline errors after an empty submit",
        condition,
    );
    reflow(b, c, "errors", condition);
    if keyboard {
        c.check(
            "the error summary takes focus after the submit",
            b.wait(
                "focus on the summary",
                &format!("{FOCUSED} === 'several:summary'"),
            )
            .map(|_| true),
        );
        press(b, &[TAB, ENTER])?;
        c.check(
            "Tab then Enter on the summary's first link moves focus to the first checkbox",
            b.script(&format!("return {FOCUSED}"))
                .map(|v| v == json!("several:checkbox:daily")),
        );
        b.script(&format!(
            "{several}.querySelector('.lb-summary').focus(); return true"
        ))?;
        press(b, &[TAB, TAB, ENTER])?;
        c.check(
            "Tab, Tab, Enter on the summary's email link moves focus to the email field",
            b.script(&format!("return {FOCUSED}"))
                .map(|v| v == json!("several:email")),
        );
    }

    // A typo suggestion, shown when the reader leaves the field.
    let email = b.in_shadow("#several", "input[type=email]")?;
    // A long address: the suggestion's button ("Use …") must wrap at 320 px.
    b.type_into(&email, "jane.doe-correspondent.kyiv@gmial.com")?;
    press(b, &[TAB])?;
    b.wait(
        "the typo suggestion",
        &format!("!{several}.querySelector('.lb-suggestion-text').hidden"),
    )?;
    audit(b, c, "typo suggestion shown", condition);
    reflow(b, c, "a long address's typo suggestion", condition);

    // A consent box left unticked: its error in the summary, on the box, and the way back to it.
    let consent = shadow("consent");
    b.type_into(
        &b.in_shadow("#consent", "input[type=email]")?,
        "reader@example.com",
    )?;
    b.click(&b.in_shadow("#consent", "button[type=submit]")?)?;
    b.wait(
        "the consent error",
        &format!("!{consent}.querySelector('.lb-summary').hidden"),
    )?;
    audit(b, c, "consent box left unticked", condition);
    if keyboard {
        b.wait(
            "focus on the consent slot's summary",
            &format!("{FOCUSED} === 'consent:summary'"),
        )?;
        press(b, &[TAB, ENTER])?;
        c.check(
            "Tab then Enter on the consent error's link moves focus to the consent box",
            b.script(&format!("return {FOCUSED}"))
                .map(|v| v == json!("consent:checkbox:on")),
        );
        press(b, &[" "])?;
        c.check(
            "Space ticks the consent box and clears its error",
            b.wait(
                "the consent error gone",
                &format!(
                    "{consent}.querySelector('input[name=consent]').checked
                     && {consent}.querySelector('.lb-summary').hidden"
                ),
            )
            .map(|_| true),
        );
    }

    // The failure panel: the endpoint answers 500.
    b.type_into(
        &b.in_shadow("#single", "input[type=email]")?,
        "reader@example.com",
    )?;
    b.click(&b.in_shadow("#single", "button[type=submit]")?)?;
    b.wait(
        "the failure panel",
        &format!("!{single}.querySelector('.lb-failure').hidden"),
    )?;
    audit(b, c, "failure panel (endpoint answered 500)", condition);
    reflow(b, c, "the failure panel", condition);
    if keyboard {
        c.check(
            "the failure panel's heading takes focus",
            b.wait(
                "focus on the failure heading",
                &format!("{FOCUSED}.startsWith('single:h2:')"),
            )
            .map(|_| true),
        );
    }

    // Success panels: several newsletters in English, one in Ukrainian.
    b.click(&b.in_shadow("#several", ".lb-suggestion .lb-button")?)?;
    b.click(&b.in_shadow("#several", "input[value=explainer]")?)?;
    b.click(&b.in_shadow("#several", "button[type=submit]")?)?;
    b.wait(
        "the success panel",
        &format!("!{several}.querySelector('.lb-success').hidden"),
    )?;
    if keyboard {
        c.check(
            "the success panel's heading takes focus",
            b.wait(
                "focus on the success heading",
                &format!("{FOCUSED}.startsWith('several:h2:')"),
            )
            .map(|_| true),
        );
    }
    b.type_into(&b.in_shadow("#uk", "input[type=email]")?, "olena@ukr.net")?;
    b.click(&b.in_shadow("#uk", "button[type=submit]")?)?;
    b.wait(
        "the success panels",
        &format!(
            "!{several}.querySelector('.lb-success').hidden && !{uk}.querySelector('.lb-success').hidden"
        ),
    )?;
    audit(b, c, "success panels (English and Ukrainian)", condition);
    reflow(b, c, "the success panels", condition);
    c.check(
        &format!(
            "no Content-Security-Policy violation on the page ({})",
            condition.name
        ),
        b.script("return window.__violations")
            .map(|v| v == json!([])),
    );

    // A returning reader: the same page again, with the signups remembered.
    b.open(page)?;
    b.wait(
        "every slot mounted again",
        &format!("{several}.querySelector('.lb-root') && {uk}.querySelector('.lb-root')"),
    )?;
    inject(b, axe, c, condition)?;
    audit(b, c, "returning reader, signups remembered", condition);
    reflow(b, c, "a returning reader", condition);
    Ok(())
}

/// The pinned axe-core's script (installed when missing), for other checks (the operator page).
pub(crate) fn axe_script() -> Result<String> {
    let path = ensure_axe()?;
    std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Injects axe-core into the current page and returns its violations, one line per node.
pub(crate) fn violations(b: &Browser, axe: &str) -> Result<Vec<String>> {
    let ok = b.script(&format!(
        "{axe}\n;return typeof window.axe === 'object' && typeof window.axe.run === 'function';"
    ))?;
    if ok != json!(true) {
        return Err("axe-core could not be injected".into());
    }
    let script = format!(
        "const done = arguments[arguments.length - 1];
         axe.run(document, {{runOnly: {TAGS}, resultTypes: ['violations']}})
           .then(r => done({{violations: r.violations.map(v => ({{id: v.id, impact: v.impact,
               help: v.help, nodes: v.nodes.map(n => n.target)}}))}}))
           .catch(e => done({{error: String(e)}}));"
    );
    let result = b.call(
        "POST",
        "/execute/async",
        Some(json!({"script": script, "args": []})),
    )?;
    if !result["error"].is_null() {
        return Err(format!("axe.run failed: {}", result["error"]));
    }
    Ok(describe(&result["violations"]))
}
