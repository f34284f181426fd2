//! The end-to-end check of the operator page (`/admin`, issue 14): a reference receiver with an
//! `admin_token` is sent anonymous statistics and signups for one slot; in headless Chromium
//! the page shows only the login form without the token, then, after the form, exactly those
//! numbers; axe-core finds no violation on it in light and dark.

use serde_json::{json, Value};

use crate::e2e::Browser;
use crate::util::Result;

/// The token the e2e run's receiver is configured with.
pub const E2E_TOKEN: &str = "e2e-operator-token-0123456789abcdef";

/// One HTTP exchange with the receiver: (method, path, JSON body) → (status, body).
pub type Exchange<'a> = &'a dyn Fn(&str, &str, Option<&Value>) -> Result<(u16, String)>;

/// Sends the figures and checks the page; each check goes to `check(what, outcome)`.
pub fn run(
    browser: &Browser,
    receiver_url: &str,
    http: Exchange<'_>,
    check: &mut dyn FnMut(&str, Result<bool>),
) {
    let slot = "e2e-hero";
    // 3 page views see the slot, 2 submit; 2 signups arrive, 1 is confirmed.
    let sent = (|| -> Result<bool> {
        let mut ok = true;
        for i in 0..3 {
            let mut events = vec![json!({"slot": slot, "event": "seen"})];
            if i < 2 {
                events.push(json!({"slot": slot, "event": "submitted", "newsletter": "daily"}));
            }
            let (status, _) = http(
                "POST",
                "/api/stats",
                Some(&json!({"v": 1, "page": "/story", "events": events})),
            )?;
            ok &= status == 204;
        }
        for who in ["op1@example.com", "op2@example.com"] {
            let (status, _) = http(
                "POST",
                "/api/subscribe",
                Some(
                    &json!({"email": who, "newsletters": ["daily"], "locale": "en",
                    "source": {"page": "/story", "slot": slot}}),
                ),
            )?;
            ok &= status == 202;
        }
        let (_, outbox) = http("GET", "/api/outbox", None)?;
        let outbox: Value = serde_json::from_str(&outbox).map_err(|e| format!("outbox: {e}"))?;
        let link = outbox["emails"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["to"] == "op1@example.com"))
            .and_then(|m| m["link"].as_str())
            .and_then(|l| l.split_once("/api/"))
            .map(|(_, p)| format!("/api/{p}"))
            .ok_or("no confirmation link for op1@example.com")?;
        let (status, _) = http("POST", &link, None)?;
        Ok(ok && status == 200)
    })();
    check(
        "operator page: the receiver takes the slot's statistics (204) and two signups, one confirmed",
        sent,
    );

    let admin = format!("{receiver_url}/admin");
    let locked = (|| -> Result<bool> {
        browser.open(&admin)?;
        let text = browser.script("return document.body.innerText")?;
        let form =
            browser.script("return !!document.querySelector('form input#token[type=password]')")?;
        Ok(form == json!(true) && !text.as_str().unwrap_or("").contains(slot))
    })();
    check(
        "operator page: without the token only the login form shows, no figures",
        locked,
    );

    let opened = (|| -> Result<bool> {
        let field = element(browser, "#token")?;
        browser.type_into(&field, "not-the-token")?;
        browser.click(&element(browser, "form button[type=submit]")?)?;
        browser.wait("the refusal", "document.querySelector('[role=alert]')")?;
        let field = element(browser, "#token")?;
        browser.type_into(&field, E2E_TOKEN)?;
        browser.click(&element(browser, "form button[type=submit]")?)?;
        let cells = browser.wait(
            "the slot's row",
            &format!(
                "(() => {{ const r = [...document.querySelectorAll('tbody tr')]
                    .find(tr => tr.querySelector('th') && tr.querySelector('th').textContent === '{slot}');
                  return r && [...r.querySelectorAll('td')].slice(0, 7).map(td => td.textContent); }})()"
            ),
        )?;
        let expected = json!(["3", "2", "2", "1", "66.7 %", "66.7 %", "50.0 %"]);
        if cells != expected {
            return Err(format!("the row shows {cells}, expected {expected}"));
        }
        let chart = browser.script(&format!(
            "return [...document.querySelectorAll('svg[role=img]')].some(s => s.getAttribute('aria-label').startsWith('{slot}: 2 signed up and 1 confirmed'))"
        ))?;
        Ok(chart == json!(true))
    })();
    check(
        "operator page: a wrong token is refused; the right one shows seen 3 → submitted 2 → signed up 2 → confirmed 1 and the slot's chart",
        opened,
    );

    match crate::a11y::axe_script() {
        Ok(axe) => {
            for dark in [false, true] {
                let scheme = if dark { "dark" } else { "light" };
                let clean = (|| -> Result<bool> {
                    browser.call(
                        "POST",
                        "/goog/cdp/execute",
                        Some(json!({"cmd": "Emulation.setEmulatedMedia", "params": {
                            "features": [{"name": "prefers-color-scheme", "value": scheme}]}})),
                    )?;
                    let violations = crate::a11y::violations(browser, &axe)?;
                    if violations.is_empty() {
                        Ok(true)
                    } else {
                        Err(violations.join("; "))
                    }
                })();
                check(
                    &format!("operator page: no axe violations ({scheme})"),
                    clean,
                );
            }
            let _ = browser.call(
                "POST",
                "/goog/cdp/execute",
                Some(json!({"cmd": "Emulation.setEmulatedMedia", "params": {"features": []}})),
            );
        }
        Err(e) => check("operator page: axe-core is available", Err(e)),
    }
}

fn element(browser: &Browser, selector: &str) -> Result<String> {
    let el = browser.call(
        "POST",
        "/element",
        Some(json!({"using": "css selector", "value": selector})),
    )?;
    el[crate::e2e::ELEMENT]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no {selector}"))
}
