//! End-to-end checks of the release bundle as a site would use it: plain host pages (not the
//! playground, see `tests/e2e/`) served on 127.0.0.1 with a strict Content-Security-Policy, the
//! widget loaded by the script tag, driven in real headless Chromium through WebDriver
//! (ChromeDriver). Typing and clicking go through WebDriver's own input, into the shadow roots.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::bundle::Bundle;
use crate::endpoint::{self, Statics};
use crate::tools::Tools;
use crate::util::{root, target_dir, Result};

/// The policy the test pages are served with: no inline script or style, no eval.
pub const STRICT_CSP: &str =
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
     connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'";

pub(crate) const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
const SHADOW: &str = "shadow-6066-11e4-a52e-4f735466cecf";

fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// One HTTP/1.1 exchange on loopback; returns the status and the decoded body.
fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<(u16, String)> {
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect {port}: {e}"))?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(120)));
    let payload = body.map(Value::to_string).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        payload.len()
    );
    stream
        .write_all(head.as_bytes())
        .and_then(|_| stream.write_all(payload.as_bytes()))
        .map_err(|e| format!("write to {port}: {e}"))?;
    // Read by the framing the server declares: ChromeDriver keeps the connection open despite
    // `Connection: close`, so reading to the end would wait for the timeout.
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream
            .read(&mut buf)
            .map_err(|e| format!("read from {port}: {e}"))?;
        if n == 0 {
            return Err(format!("{port} closed the connection before answering"));
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let headers = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    let status = headers
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no HTTP status")?;
    let length = headers
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = headers.contains("transfer-encoding: chunked");
    loop {
        let body = &raw[head_end..];
        let complete = match length {
            Some(n) => body.len() >= n,
            None if chunked => body.ends_with(b"0\r\n\r\n"),
            None => false,
        };
        if complete {
            break;
        }
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) => return Err(format!("read from {port}: {e}")),
        }
    }
    let body = &raw[head_end..];
    let body = if chunked {
        crate::http::dechunk(body)
    } else {
        body.to_vec()
    };
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// A ChromeDriver process and one browser session; both end when dropped.
pub(crate) struct Browser {
    driver: Child,
    port: u16,
    session: String,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = http(
            self.port,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// How long a navigation may wait for the page's load event: a page that has not loaded by
/// then fails the run (every test page loads in well under a second).
const PAGE_LOAD_MS: u64 = 20_000;

impl Browser {
    /// Sets the viewport (CSS pixels, not Chrome's mobile mode) through CDP.
    pub(crate) fn viewport(&self, width: u32, height: u32) -> Result<()> {
        self.call(
            "POST",
            "/goog/cdp/execute",
            Some(
                json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": {
                "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}}),
            ),
        )?;
        Ok(())
    }

    pub(crate) fn start(tools: &Tools) -> Result<Browser> {
        let port = free_port()?;
        let mut driver = Command::new(&tools.chromedriver)
            .arg(format!("--port={port}"))
            // LETTERBOX_E2E_DRIVER_LOG=<file>: ChromeDriver's verbose log, for a hang or a flake.
            .args(
                std::env::var("LETTERBOX_E2E_DRIVER_LOG")
                    .ok()
                    .map(|p| vec!["--verbose".to_owned(), format!("--log-path={p}")])
                    .unwrap_or_default(),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start chromedriver: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while http(port, "GET", "/status", None).is_err() {
            if Instant::now() > deadline {
                let _ = driver.kill();
                return Err("chromedriver did not start in 20 s".into());
            }
            thread::sleep(Duration::from_millis(100));
        }
        let profile = std::env::temp_dir().join(format!("letterbox-e2e-{port}"));
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--window-size=1280,1000", format!("--user-data-dir={}", profile.display())]
        }}}});
        let answer = match http(port, "POST", "/session", Some(&caps)) {
            Ok((_, body)) => body,
            Err(e) => {
                let _ = driver.kill();
                return Err(e);
            }
        };
        let value: Value = serde_json::from_str(&answer).unwrap_or(Value::Null);
        let Some(session) = value["value"]["sessionId"].as_str().map(str::to_owned) else {
            let _ = driver.kill();
            return Err(format!("chromedriver refused the session: {answer}"));
        };
        let browser = Browser {
            driver,
            port,
            session,
        };
        browser.call(
            "POST",
            "/timeouts",
            Some(json!({ "pageLoad": PAGE_LOAD_MS })),
        )?;
        Ok(browser)
    }

    pub(crate) fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        let (status, text) = http(
            self.port,
            method,
            &format!("/session/{}{path}", self.session),
            body.as_ref(),
        )?;
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| format!("WebDriver answer is not JSON ({e}): {text}"))?;
        if status >= 400 {
            return Err(format!(
                "WebDriver {method} {path}: {}",
                value["value"]["message"]
            ));
        }
        Ok(value["value"].clone())
    }

    /// Navigates to `url` and waits for its load event; an error if it has not come within
    /// [`PAGE_LOAD_MS`]. (Issue 10, item 10: the strict page's load used to hang intermittently
    /// when the test server left one of a burst of connections unread; see `crate::http`.)
    pub(crate) fn open(&self, url: &str) -> Result<()> {
        self.call("POST", "/url", Some(json!({ "url": url })))
            .map(|_| ())
            .map_err(|e| format!("opening {url}: {e}"))
    }

    pub(crate) fn script(&self, script: &str) -> Result<Value> {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// Polls `expression` until it is truthy; returns its value.
    pub(crate) fn wait(&self, what: &str, expression: &str) -> Result<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let v = self.script(&format!(
                "try {{ return ({expression}); }} catch (e) {{ return null; }}"
            ))?;
            if !(v.is_null() || v == Value::Bool(false)) {
                return Ok(v);
            }
            if Instant::now() > deadline {
                return Err(format!("timed out waiting for {what}"));
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// An element inside the shadow root of the host `host_selector`.
    pub(crate) fn in_shadow(&self, host_selector: &str, selector: &str) -> Result<String> {
        let host = self.call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": host_selector})),
        )?;
        let host = host[ELEMENT].as_str().ok_or("no host element")?.to_owned();
        let shadow = self.call("GET", &format!("/element/{host}/shadow"), None)?;
        let shadow = shadow[SHADOW].as_str().ok_or("no shadow root")?.to_owned();
        let el = self.call(
            "POST",
            &format!("/shadow/{shadow}/element"),
            Some(json!({"using": "css selector", "value": selector})),
        )?;
        el[ELEMENT]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no {selector} in {host_selector}"))
    }

    pub(crate) fn type_into(&self, element: &str, text: &str) -> Result<()> {
        self.call(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .map(|_| ())
    }

    pub(crate) fn click(&self, element: &str) -> Result<()> {
        self.call(
            "POST",
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .map(|_| ())
    }
}

/// Counts checks and says which failed, each line starting with the run's name (`e2e`, `ghost`).
pub struct Checks {
    name: &'static str,
    pub passed: usize,
    pub failed: Vec<String>,
}

impl Checks {
    pub fn new(name: &'static str) -> Self {
        Checks {
            name,
            passed: 0,
            failed: Vec::new(),
        }
    }

    pub fn check(&mut self, what: &str, ok: Result<bool>) {
        let name = self.name;
        match ok {
            Ok(true) => {
                self.passed += 1;
                println!("{name}: ok     {what}");
            }
            Ok(false) => {
                println!("{name}: FAILED {what}");
                self.failed.push(what.to_owned());
            }
            Err(e) => {
                println!("{name}: FAILED {what}: {e}");
                self.failed.push(what.to_owned());
            }
        }
    }
}

fn requests(port: u16, test: &str) -> Result<Vec<Value>> {
    let (_, body) = http(port, "GET", &format!("/t/{test}/requests"), None)?;
    match serde_json::from_str(&body) {
        Ok(Value::Array(items)) => Ok(items),
        _ => Err(format!("unexpected requests listing: {body}")),
    }
}

fn form_in(host: &str) -> String {
    format!("document.querySelector('{host}').shadowRoot.querySelector('form')")
}

/// Runs every end-to-end scenario against the bundle in `dist/`.
pub fn run(tools: &Tools, bundle: &Bundle) -> Result<()> {
    let root = root();
    let generated = target_dir().join("e2e-pages");
    let _ = std::fs::remove_dir_all(&generated);
    std::fs::create_dir_all(&generated)
        .map_err(|e| format!("cannot create {}: {e}", generated.display()))?;
    write_pinned_pages(bundle, &generated)?;
    // The reference receiver on its own origin, as a site without a backend would run it: the
    // pages' strict policy names it in connect-src.
    let receiver_port = free_port()?;
    let receiver_origin = format!("http://127.0.0.1:{receiver_port}");
    let statics = Statics {
        mounts: vec![
            ("/letterbox/".into(), root.join("dist")),
            ("/e2e/".into(), root.join("tests/e2e")),
            ("/gen/".into(), generated.clone()),
        ],
        csp: Some(STRICT_CSP.replace(
            "connect-src 'self'",
            &format!("connect-src 'self' {receiver_origin}"),
        )),
        ..Statics::default()
    };
    let server = endpoint::start_serving(0, false, statics)?;
    let port = server.addr.port();
    let base = server.url();
    let receiver = start_receiver(
        receiver_port,
        std::slice::from_ref(&base),
        &["daily".to_owned()],
        &generated,
        "receiver",
    )?;
    std::fs::write(
        generated.join("receiver.html"),
        format!(
            r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signup to the reference receiver</title></head><body>
<div data-letterbox id="real"><script type="application/json">{{"endpoint": "{}/api/subscribe", "min_fill_ms": 0,
  "newsletters": [{{"id": "daily", "name": "The Daily Briefing"}}]}}</script></div>
<script type="module" src="/letterbox/letterbox.js"></script></body></html>"#,
            receiver.url
        ),
    )
    .map_err(|e| format!("cannot write receiver.html: {e}"))?;
    let browser = Browser::start(tools)?;
    let _ = browser.call("POST", "/timeouts", Some(json!({"script": 30_000})));
    let run = Run {
        tools,
        browser: &browser,
        base,
        port,
        root,
        generated,
        receiver,
        receiver_port,
    };
    let mut c = Checks::new("e2e");
    // LETTERBOX_E2E_ONLY=<name>[,<name>…]: only these scenarios (while working on one).
    let only = std::env::var("LETTERBOX_E2E_ONLY").unwrap_or_default();
    for (name, scenario) in SCENARIOS {
        if !only.is_empty() && !only.split(',').any(|o| o.trim() == *name) {
            continue;
        }
        if let Err(e) = scenario(&run, &mut c) {
            c.check(&format!("{name}: the scenario ran to its end"), Err(e));
        }
    }

    println!("e2e: {} passed, {} failed", c.passed, c.failed.len());
    if c.failed.is_empty() {
        Ok(())
    } else {
        Err(format!("end-to-end checks failed: {}", c.failed.join("; ")))
    }
}

/// What every scenario gets: the browser, the test pages' server (`base`, `port`), the reference
/// receiver on its own origin.
struct Run<'a> {
    tools: &'a Tools,
    browser: &'a Browser,
    base: String,
    port: u16,
    root: std::path::PathBuf,
    generated: std::path::PathBuf,
    receiver: TestReceiver,
    receiver_port: u16,
}

type Scenario = fn(&Run, &mut Checks) -> Result<()>;

/// The end-to-end scenarios, in the order they run (each opens the pages it needs).
const SCENARIOS: &[(&str, Scenario)] = &[
    ("reference_receiver_journey", reference_receiver_journey),
    ("operator_page", operator_page),
    ("one_tag_under_strict_csp", one_tag_under_strict_csp),
    ("no_slot_at_load", no_slot_at_load),
    ("two_tabs", two_tabs),
    ("offline_then_online", offline_then_online),
    ("classic_script_in_ukrainian", classic_script_in_ukrainian),
    (
        "blocked_bundle_leaves_the_form",
        blocked_bundle_leaves_the_form,
    ),
    ("pinned_copies", pinned_copies),
    ("playground_without_trunk", playground_without_trunk),
    ("trunk_ignores_demo_data", trunk_ignores_demo_data),
    ("article_page_does_not_shift", article_page_does_not_shift),
];

/// The whole journey against the reference receiver: sign up, the confirmation email,
/// a mail scanner's GET that must not confirm, the reader's Confirm (a POST).
fn reference_receiver_journey(r: &Run, c: &mut Checks) -> Result<()> {
    let (browser, base) = (r.browser, r.base.as_str());
    let journey = (|| -> Result<bool> {
        browser.open(&format!("{base}/gen/receiver.html"))?;
        browser.wait("the form", &form_in("#real"))?;
        browser.type_into(
            &browser.in_shadow("#real", "input[type=email]")?,
            "reader@example.com",
        )?;
        browser.click(&browser.in_shadow("#real", "button[type=submit]")?)?;
        let title = browser.wait(
            "the success panel",
            "(() => { const s = document.querySelector('#real').shadowRoot.querySelector('.lb-success');
                      return s && !s.hidden && s.querySelector('h2').textContent; })()",
        )?;
        let rport = r.receiver_port;
        let (_, outbox) = http(rport, "GET", "/api/outbox", None)?;
        let outbox: Value = serde_json::from_str(&outbox).map_err(|e| format!("outbox: {e}"))?;
        let mail = outbox["emails"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["to"] == "reader@example.com"))
            .ok_or("no confirmation email in the outbox")?;
        let link = mail["link"].as_str().ok_or("no link")?;
        let path = link
            .split_once("/api/")
            .map(|(_, p)| format!("/api/{p}"))
            .ok_or("odd link")?;
        let (scanned, _) = http(rport, "GET", &path, None)?;
        let after_scan = r.receiver.export_confirmed()?;
        let (confirmed, _) = http(rport, "POST", &path, None)?;
        let after_confirm = r.receiver.export_confirmed()?;
        Ok(title == json!("Check your inbox")
            && scanned == 200
            && !after_scan.contains("reader@example.com")
            && confirmed == 200
            && after_confirm.contains("reader@example.com"))
    })();
    c.check(
        "a reader signs up to the reference receiver; the link's GET does not confirm, its POST does",
        journey,
    );
    Ok(())
}

/// The operator page (issue 14): token required, the numbers sent, axe-clean.
fn operator_page(r: &Run, c: &mut Checks) -> Result<()> {
    let receiver_port = r.receiver_port;
    crate::operators::run(
        r.browser,
        &r.receiver.url,
        &|method, path, body| http(receiver_port, method, path, body),
        &mut |what, ok| c.check(what, ok),
    );
    Ok(())
}

/// The one-tag embed, pasted twice plus a copy under another URL, on a strict-CSP page
/// with a hostile stylesheet.
fn one_tag_under_strict_csp(r: &Run, c: &mut Checks) -> Result<()> {
    let (browser, base, port) = (r.browser, r.base.as_str(), r.port);
    browser.open(&format!("{base}/e2e/strict.html"))?;
    c.check(
        "the widget mounts under a strict CSP",
        browser
            .wait("the form", &form_in("#in-article"))
            .map(|_| true),
    );
    c.check(
        "no Content-Security-Policy violation",
        browser
            .script("return window.__violations")
            .map(|v| v == json!([])),
    );
    c.check(
        "the tag pasted three times mounts each slot once",
        browser
            .script(
                "return [document.querySelector('#in-article').shadowRoot.querySelectorAll('form').length,
                         window.__events.filter(e => e.type === 'letterbox:ready').length,
                         typeof window.Letterbox.version]",
            )
            .map(|v| v == json!([1, 2, "string"])),
    );
    c.check(
        "the widget's own stylesheet applies under the CSP (accent-coloured button)",
        browser
            .script(
                "const b = document.querySelector('#in-article').shadowRoot.querySelector('button[type=submit]');
                 return getComputedStyle(b).backgroundColor",
            )
            .map(|v| v == json!("rgb(29, 112, 184)")),
    );
    c.check(
        "a broken slot shows its own error beside the working one",
        browser
            .script("return document.querySelector('#broken').shadowRoot.textContent")
            .map(|v| {
                v.as_str()
                    .is_some_and(|t| t.contains("newsleters") && t.contains("not available"))
            }),
    );
    c.check(
        "the page's hostile CSS does not hide or break the form",
        browser
            .script(
                "const r = document.querySelector('#in-article').shadowRoot;
                 const input = r.querySelector('input[type=email]');
                 const box = input.getBoundingClientRect();
                 return getComputedStyle(input).display !== 'none'
                     && getComputedStyle(r.querySelector('form')).visibility === 'visible'
                     && box.width > 150 && box.height > 20 && box.height < 120",
            )
            .map(|v| v == json!(true)),
    );
    let signed_up = (|| -> Result<bool> {
        let email = browser.in_shadow("#in-article", "input[type=email]")?;
        browser.type_into(&email, "reader@example.com")?;
        browser.click(&browser.in_shadow("#in-article", "input[value=explainer]")?)?;
        browser.click(&browser.in_shadow("#in-article", "button[type=submit]")?)?;
        let title = browser.wait(
            "the success panel",
            "(() => { const s = document.querySelector('#in-article').shadowRoot.querySelector('.lb-success');
                      return s && !s.hidden && s.querySelector('h2').textContent; })()",
        )?;
        Ok(title == json!("Check your inbox"))
    })();
    c.check(
        "a reader types, ticks and submits with real input and sees the success panel",
        signed_up,
    );
    c.check(
        "the endpoint received exactly one signup with the contract body and the challenge token",
        requests(port, "e2e-strict").map(|r| {
            r.len() == 1
                && serde_json::from_str::<Value>(r[0]["body"].as_str().unwrap_or("")).is_ok_and(
                    |b| {
                        b["email"] == "reader@example.com"
                            && b["newsletters"] == json!(["explainer"])
                            && b["locale"] == "en"
                            && b["challenge"] == "e2e-token-in-article"
                    },
                )
        }),
    );
    c.check(
        "no script error on the page (a panic in the widget would show here)",
        browser
            .script("return window.__errors")
            .map(|v| v == json!([])),
    );
    c.check(
        "the page's challenge provider, registered on letterbox:loaded, was asked once, on submit",
        browser
            .script("return window.__challenges")
            .map(|v| v == json!(1)),
    );
    c.check(
        "ready, submit and success reach a listener on document, without the address",
        browser
            .script(
                "return window.__events.filter(e => e.detail.slot === 'in-article')
                       .map(e => e.type + ':' + (e.detail.outcome || '') + ':' + ('email' in e.detail))",
            )
            .map(|v| v == json!(["letterbox:ready::false", "letterbox:submit::false", "letterbox:success:pending:false"])),
    );
    browser.script(
        "const host = document.createElement('div');
         host.id = 'late'; host.setAttribute('data-letterbox', '');
         const config = document.createElement('script'); config.type = 'application/json';
         config.textContent = JSON.stringify({endpoint: '/t/e2e-late/subscribed', newsletters: [{id: 'daily', name: 'Daily'}]});
         host.appendChild(config); document.body.appendChild(host); return true;",
    )?;
    c.check(
        "a slot added after load is mounted",
        browser
            .wait("the late form", &form_in("#late"))
            .map(|_| true),
    );
    Ok(())
}

/// A page with no slot at load (a client-side app adds them later): the widget starts,
/// Letterbox.ready resolves, and a slot added later mounts, without any script error.
fn no_slot_at_load(r: &Run, c: &mut Checks) -> Result<()> {
    let (browser, base) = (r.browser, r.base.as_str());
    browser.open(&format!("{base}/e2e/empty.html"))?;
    c.check(
        "a page without slots at load: Letterbox.ready resolves",
        browser
            .wait("Letterbox.ready", "window.__ready === true")
            .map(|_| true),
    );
    browser.script(
        "const host = document.createElement('div');
         host.id = 'later'; host.setAttribute('data-letterbox', '');
         host.setAttribute('data-endpoint', '/t/e2e-later/subscribed');
         const config = document.createElement('script'); config.type = 'application/json';
         config.textContent = JSON.stringify({newsletters: [{id: 'daily', name: 'Daily'}]});
         host.appendChild(config); document.body.appendChild(host); return true;",
    )?;
    c.check(
        "a page without slots at load: a slot added later mounts, and no script error",
        browser
            .wait("the later form", &form_in("#later"))
            .and_then(|_| browser.script("return window.__errors"))
            .map(|v| v == json!([])),
    );
    Ok(())
}

/// One reader, two tabs: a signup in one tab updates the other without a reload.
fn two_tabs(r: &Run, c: &mut Checks) -> Result<()> {
    let (browser, base, port) = (r.browser, r.base.as_str(), r.port);
    let tabs = (|| -> Result<bool> {
        let first = browser.call("GET", "/window", None)?;
        browser.open(&format!("{base}/e2e/tab.html"))?;
        browser.wait("the first tab's form", &form_in("#tab-slot"))?;
        let second = browser.call("POST", "/window/new", Some(json!({"type": "tab"})))?;
        let second = second["handle"].as_str().ok_or("no new tab")?.to_owned();
        browser.call("POST", "/window", Some(json!({ "handle": second })))?;
        browser.open(&format!("{base}/e2e/tab.html"))?;
        browser.wait("the second tab's form", &form_in("#tab-slot"))?;
        browser.type_into(
            &browser.in_shadow("#tab-slot", "input[type=email]")?,
            "reader@example.com",
        )?;
        browser.click(&browser.in_shadow("#tab-slot", "button[type=submit]")?)?;
        browser.wait(
            "the second tab's success panel",
            "!document.querySelector('#tab-slot').shadowRoot.querySelector('.lb-success').hidden",
        )?;
        browser.call("DELETE", "/window", None)?;
        browser.call("POST", "/window", Some(json!({ "handle": first })))?;
        let text = browser.wait(
            "the first tab to show it is signed up",
            "(() => { const r = document.querySelector('#tab-slot').shadowRoot.querySelector('.lb-remembered');
                      return !r.hidden && r.textContent; })()",
        )?;
        Ok(text == json!("You’re signed up to Culture.") && requests(port, "e2e-tabs")?.len() == 1)
    })();
    c.check(
        "a signup in one tab switches the same newsletter's slot in another tab",
        tabs,
    );
    Ok(())
}

/// Offline: the signup waits in the browser and is sent once when the connection is back.
fn offline_then_online(r: &Run, c: &mut Checks) -> Result<()> {
    let (browser, base, port) = (r.browser, r.base.as_str(), r.port);
    let offline = (|| -> Result<bool> {
        let network = |offline: bool| {
            browser.call(
                "POST",
                "/goog/cdp/execute",
                Some(json!({"cmd": "Network.emulateNetworkConditions", "params": {
                    "offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}})),
            )
        };
        browser.open(&format!("{base}/e2e/offline.html"))?;
        browser.wait("the form", &form_in("#offline-slot"))?;
        browser.call(
            "POST",
            "/goog/cdp/execute",
            Some(json!({"cmd": "Network.enable", "params": {}})),
        )?;
        network(true)?;
        browser.type_into(
            &browser.in_shadow("#offline-slot", "input[type=email]")?,
            "reader@example.com",
        )?;
        browser.click(&browser.in_shadow("#offline-slot", "button[type=submit]")?)?;
        browser.wait(
            "the queued panel",
            "!document.querySelector('#offline-slot').shadowRoot.querySelector('.lb-queued').hidden",
        )?;
        let kept = browser.script("return localStorage.getItem('letterbox:pending') || ''")?;
        let nothing_sent = requests(port, "e2e-offline")?.is_empty();
        network(false)?;
        browser.wait(
            "the signup to be sent when the browser is back online",
            "!document.querySelector('#offline-slot').shadowRoot.querySelector('.lb-success').hidden",
        )?;
        thread::sleep(Duration::from_millis(500));
        let sent = requests(port, "e2e-offline")?;
        let left = browser.script("return localStorage.getItem('letterbox:pending') || ''")?;
        Ok(kept
            .as_str()
            .is_some_and(|k| k.contains("reader@example.com"))
            && nothing_sent
            && sent.len() == 1
            && left
                .as_str()
                .is_some_and(|l| !l.contains("reader@example.com")))
    })();
    c.check(
        "offline, the signup waits in the browser and is sent exactly once when back online",
        offline,
    );
    Ok(())
}

/// The classic-script variant for CMSs that strip module scripts, in Ukrainian.
fn classic_script_in_ukrainian(r: &Run, c: &mut Checks) -> Result<()> {
    let (browser, base, port) = (r.browser, r.base.as_str(), r.port);
    browser.open(&format!("{base}/e2e/classic.html"))?;
    c.check(
        "the classic <script defer> variant mounts, in the page's language",
        browser
            .wait("the classic form", &form_in("#classic"))
            .and_then(|_| browser.script("return document.querySelector('#classic').shadowRoot.querySelector('label').textContent.trim().startsWith('Електронна пошта для ')"))
            .map(|v| v == json!(true)),
    );
    let classic = (|| -> Result<bool> {
        browser.type_into(
            &browser.in_shadow("#classic", "input[type=email]")?,
            "olena@ukr.net",
        )?;
        browser.click(&browser.in_shadow("#classic", "button[type=submit]")?)?;
        browser.wait(
            "the Ukrainian success panel",
            "(() => { const s = document.querySelector('#classic').shadowRoot.querySelector('.lb-success');
                      return s && !s.hidden && s.querySelector('h2').textContent === 'Ви підписалися'; })()",
        )?;
        Ok(requests(port, "e2e-classic")?.len() == 1)
    })();
    c.check("the classic variant delivers one signup", classic);
    Ok(())
}

/// The widget never starts (blocked bundle): the site's own form still posts.
fn blocked_bundle_leaves_the_form(r: &Run, c: &mut Checks) -> Result<()> {
    let (browser, base, port) = (r.browser, r.base.as_str(), r.port);
    let fallback = (|| -> Result<bool> {
        browser.open(&format!("{base}/e2e/fallback.html"))?;
        thread::sleep(Duration::from_millis(500));
        let untouched = browser.script(
            "return typeof window.Letterbox === 'undefined' && !document.querySelector('#fallback').shadowRoot",
        )?;
        let email = browser.call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": "#fallback-email"})),
        )?;
        let email = email[ELEMENT]
            .as_str()
            .ok_or("no fallback email field")?
            .to_owned();
        browser.type_into(&email, "reader@example.com")?;
        let button = browser.call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": "#fallback button"})),
        )?;
        browser.click(button[ELEMENT].as_str().ok_or("no fallback button")?)?;
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut sent = requests(port, "e2e-fallback")?;
        while sent.is_empty() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(100));
            sent = requests(port, "e2e-fallback")?;
        }
        Ok(untouched == json!(true)
            && sent.len() == 1
            && sent[0]["content_type"] == "application/x-www-form-urlencoded"
            && sent[0]["body"] == "email=reader%40example.com&list=daily")
    })();
    c.check(
        "with the bundle blocked, the site's own form still posts",
        fallback,
    );
    Ok(())
}

/// The five slots of `tests/e2e/article.html`, top to bottom.
const ARTICLE_SLOTS: [&str; 5] = [
    "header-slot",
    "in-article",
    "sidebar",
    "ukrainian",
    "footer-slot",
];

/// The layout shift measured on a page, and each slot's (id, reserved px, drawn px).
type Shift = (f64, Vec<(String, f64, f64)>);

/// The article page's cumulative layout shift (every `layout-shift` entry not caused by input,
/// summed: never below the windowed CLS) on a 360 px phone over DevTools' Fast 3G (562.5 ms
/// round trip, 1.44 Mb/s down, cache off), scrolled to the bottom in steps so the slots far
/// below mount on the way; and, for each slot, its reserved height and the height the widget
/// drew. `extra` is a stylesheet link put in the page's head; without `blocking` the script tag
/// loses its `blocking="render"`, so the page may paint before the script reserves anything.
fn article_shift(r: &Run, page: &str, extra: &str, blocking: bool) -> Result<Shift> {
    let (browser, base) = (r.browser, r.base.as_str());
    let mut html = std::fs::read_to_string(r.root.join("tests/e2e/article.html"))
        .map_err(|e| format!("cannot read tests/e2e/article.html: {e}"))?
        .replace("<!--EXTRA-->", extra);
    if !blocking {
        html = html.replace(r#" blocking="render""#, "");
    }
    std::fs::write(r.generated.join(page), html)
        .map_err(|e| format!("cannot write {page}: {e}"))?;
    let cdp = |cmd: &str, params: Value| {
        browser.call(
            "POST",
            "/goog/cdp/execute",
            Some(json!({"cmd": cmd, "params": params})),
        )
    };
    let measured = (|| -> Result<Shift> {
        cdp("Network.enable", json!({}))?;
        cdp("Network.setCacheDisabled", json!({"cacheDisabled": true}))?;
        cdp(
            "Emulation.setDeviceMetricsOverride",
            // Not Chrome's mobile mode: it holds the first paint back in a way that hides a
            // shift made before the wasm arrives (measured: 0 here, 0.21 as a 360 px window).
            json!({"width": 360, "height": 780, "deviceScaleFactor": 1, "mobile": false}),
        )?;
        cdp(
            "Network.emulateNetworkConditions",
            json!({"offline": false, "latency": 562.5,
                "downloadThroughput": 1_440_000.0 * 0.9 / 8.0, "uploadThroughput": 675_000.0 * 0.9 / 8.0}),
        )?;
        browser.open(&format!("{base}/gen/{page}"))?;
        browser.wait(
            "the slot in the article",
            "document.querySelector('#in-article').shadowRoot.querySelector('.lb-root')",
        )?;
        // Down the page in steps, as a reader scrolls (scrolling is not input for layout shifts).
        let height = browser
            .script("return document.documentElement.scrollHeight")?
            .as_f64()
            .unwrap_or(0.0);
        let mut y = 0.0;
        while y < height {
            y += 300.0;
            browser.script(&format!("window.scrollTo(0, {y})"))?;
            thread::sleep(Duration::from_millis(150));
        }
        browser.wait(
            "every slot to mount",
            &format!(
                "[{}].every((id) => document.getElementById(id).shadowRoot?.querySelector('.lb-root'))",
                ARTICLE_SLOTS.map(|s| format!("'{s}'")).join(",")
            ),
        )?;
        thread::sleep(Duration::from_millis(1000));
        browser.script(
            "window.__lbShift = null; new PerformanceObserver((list) => { \
               window.__lbShift = list.getEntries().filter((e) => !e.hadRecentInput) \
                 .map((e) => [e.value, e.sources.map((s) => s.node && (s.node.id || s.node.nodeName)).join(' ')]); \
             }).observe({type: 'layout-shift', buffered: true});",
        )?;
        thread::sleep(Duration::from_millis(300));
        let shifts = browser.script("return window.__lbShift || []")?;
        let shifts = shifts.as_array().cloned().unwrap_or_default();
        let total = shifts
            .iter()
            .filter_map(|s| s[0].as_f64())
            .fold(0.0, |a, b| a + b);
        for s in &shifts {
            println!(
                "e2e:        {page}: shift {:.4} of {}",
                s[0].as_f64().unwrap_or(0.0),
                s[1]
            );
        }
        let slots = browser.script(&format!(
            "return [{}].map((id) => {{ const h = document.getElementById(id); \
               const r = h.shadowRoot.querySelector('.lb-root'); const m = parseFloat(getComputedStyle(r).marginBottom) || 0; \
               return [id, parseFloat(h.style.minHeight) || 0, r.getBoundingClientRect().height + m]; }})",
            ARTICLE_SLOTS.map(|s| format!("'{s}'")).join(",")
        ))?;
        let slots = slots
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|s| {
                (
                    s[0].as_str().unwrap_or_default().to_owned(),
                    s[1].as_f64().unwrap_or(0.0),
                    s[2].as_f64().unwrap_or(f64::MAX),
                )
            })
            .collect();
        Ok((total, slots))
    })();
    // Back to an unthrottled desktop for the scenarios after this one, whatever happened.
    let _ = cdp(
        "Network.emulateNetworkConditions",
        json!({"offline": false, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
    );
    let _ = cdp("Network.setCacheDisabled", json!({"cacheDisabled": false}));
    let _ = cdp("Emulation.clearDeviceMetricsOverride", json!({}));
    measured
}

/// Issue 11, item 5: the widget arriving moves nothing on a realistic article page (header,
/// in-article, sidebar, Ukrainian and footer slots; the footer an upgraded fallback form) at
/// 360 px on Fast 3G: the entry script reserves each slot's space from its configuration and
/// the form the wasm draws lands inside it. The same page with the reservation switched off
/// (the site's CSS giving every host a 1 px min-height, which the script respects) must shift,
/// or this check could not fail.
fn article_page_does_not_shift(r: &Run, c: &mut Checks) -> Result<()> {
    let (cls, slots) = article_shift(r, "article.html", "", true)?;
    println!("e2e:        article page at 360 px on Fast 3G: layout shift {cls:.4} (at most 0.01)");
    for (id, reserved, drawn) in &slots {
        println!("e2e:        {id}: reserved {reserved:.0} px, the widget drew {drawn:.0} px");
    }
    c.check(
        &format!("the article page's layout shift at 360 px on Fast 3G is at most 0.01 (measured {cls:.4})"),
        Ok(cls <= 0.01),
    );
    c.check(
        "every slot's form lands inside the space the entry script reserved",
        Ok(slots.len() == ARTICLE_SLOTS.len()
            && slots
                .iter()
                .all(|(_, reserved, drawn)| *reserved > 0.0 && drawn <= &(reserved + 0.5))),
    );
    let (unreserved, _) = article_shift(
        r,
        "article-unreserved.html",
        r#"<link rel="stylesheet" href="/e2e/unreserved.css">"#,
        true,
    )?;
    println!("e2e:        the same page without the reservation: layout shift {unreserved:.4}");
    c.check(
        &format!("without the reservation the same page shifts by more than 0.01 (measured {unreserved:.4})"),
        Ok(unreserved > 0.01),
    );
    // For the record (docs/embedding.md): without blocking="render" the page may paint before
    // the entry script has reserved anything, and the reservation itself moves what is below.
    let (late, _) = article_shift(r, "article-late.html", "", false)?;
    println!("e2e:        the same page without blocking=\"render\" on the script: layout shift {late:.4}");
    Ok(())
}

/// Versioned copies pinned with integrity=: the right hash loads, a wrong one is refused.
fn pinned_copies(r: &Run, c: &mut Checks) -> Result<()> {
    let (browser, base) = (r.browser, r.base.as_str());
    browser.open(&format!("{base}/gen/pinned.html"))?;
    c.check(
        "a content-hashed copy loads with its SRI hash",
        browser
            .wait("the pinned form", &form_in("#pinned"))
            .map(|_| true),
    );
    browser.open(&format!("{base}/gen/tampered.html"))?;
    thread::sleep(Duration::from_secs(2));
    c.check(
        "a script whose integrity does not match is not run",
        browser.script("return typeof window.Letterbox === 'undefined' && !document.querySelector('#pinned').shadowRoot").map(|v| v == json!(true)),
    );
    Ok(())
}

/// The playground as `cargo xtask demo` serves it without trunk (a newcomer's first run,
/// and CI, which has no trunk): the page is served with the bundle, a slot mounts, and a
/// signup goes through /api to the reference receiver, whose outbox the page lists.
fn playground_without_trunk(r: &Run, c: &mut Checks) -> Result<()> {
    let browser = r.browser;
    let index = std::fs::read_to_string(r.root.join("index.html"))
        .map_err(|e| format!("cannot read index.html: {e}"))?;
    let demo_port = free_port()?;
    let playground = crate::playground::start(
        0,
        &r.root.join("dist"),
        &format!("http://127.0.0.1:{demo_port}"),
    )?;
    let _demo_receiver = start_receiver(
        demo_port,
        &[playground.url()],
        &crate::playground::newsletter_ids(&index),
        &r.generated,
        "playground",
    )?;
    c.check(
        "the playground without trunk: the page is served with the bundle's tag",
        http(playground.addr.port(), "GET", "/", None).map(|(status, page)| {
            status == 200
                && page.contains("<script type=\"module\" src=\"/letterbox.js\">")
                && !page.contains("data-trunk")
        }),
    );
    browser.open(&format!("{}/", playground.url()))?;
    c.check(
        "the playground without trunk: its header slot mounts",
        browser
            .wait("the playground's header slot", &form_in("#header"))
            .map(|_| true),
    );
    let demo_signup = (|| -> Result<bool> {
        // The widget drops a submit within 1 s of the form appearing (its bot check).
        thread::sleep(Duration::from_millis(1100));
        browser.type_into(
            &browser.in_shadow("#header", "input[type=email]")?,
            "designer@example.com",
        )?;
        browser.click(&browser.in_shadow("#header", "button[type=submit]")?)?;
        browser.wait(
            "the header slot's success panel",
            "!document.querySelector('#header').shadowRoot.querySelector('.lb-success').hidden",
        )?;
        let (_, outbox) = http(demo_port, "GET", "/api/outbox", None)?;
        let listed = browser.wait(
            "the page's outbox to list the confirmation email (GET /api/outbox through the playground)",
            "[...document.querySelectorAll('#outbox-list li')].some(li => li.textContent.includes('designer@example.com'))",
        )?;
        Ok(outbox.contains("designer@example.com") && listed == json!(true))
    })();
    c.check(
        "the playground without trunk: a signup reaches the receiver through /api, and the page's outbox lists it",
        demo_signup,
    );
    Ok(())
}

/// With trunk installed (not in CI): trunk itself ignores the demo's database writes.
fn trunk_ignores_demo_data(r: &Run, c: &mut Checks) -> Result<()> {
    match crate::tools::find_trunk(&r.tools.path) {
        Some(trunk) => c.check(
            "trunk watch does not rebuild when the demo's database is written (Trunk.toml [watch])",
            crate::playground::check_trunk_ignores_demo_data(&trunk, &r.tools.path).map(|_| true),
        ),
        None => println!("e2e: skipped trunk's own watch check (trunk is not installed; the Trunk.toml rule is checked by the xtask's unit tests)"),
    }
    Ok(())
}

/// Pages that load the content-hashed module copy with `integrity=` (right and wrong).
fn write_pinned_pages(bundle: &Bundle, dir: &Path) -> Result<()> {
    let pinned = bundle
        .files
        .iter()
        .find(|(p, _)| {
            let n = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            n.starts_with("letterbox.")
                && n.ends_with(".js")
                && !n.contains("classic")
                && n != "letterbox.js"
        })
        .ok_or("the bundle has no content-hashed letterbox.<hash>.js")?;
    let name = pinned
        .0
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let page = |integrity: &str| {
        format!(
            r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Pinned</title></head><body>
<div data-letterbox id="pinned"><script type="application/json">{{"endpoint": "/t/e2e-pinned/subscribed", "newsletters": [{{"id": "daily", "name": "Daily"}}]}}</script></div>
<script type="module" src="/letterbox/{name}" integrity="{integrity}" crossorigin="anonymous"></script>
</body></html>"#
        )
    };
    let wrong = crate::bundle::sri(b"not the bundle");
    std::fs::write(dir.join("pinned.html"), page(&pinned.1))
        .map_err(|e| format!("cannot write pinned.html: {e}"))?;
    std::fs::write(dir.join("tampered.html"), page(&wrong))
        .map_err(|e| format!("cannot write tampered.html: {e}"))
}

/// The reference receiver (debug build) on 127.0.0.1:`port`, with a fresh SQLite file, allowing
/// the test pages' origin, its outbox on.
struct TestReceiver {
    url: String,
    config: std::path::PathBuf,
    exe: std::path::PathBuf,
    _process: crate::receiver::Receiver,
}

impl TestReceiver {
    /// The confirmed subscribers, as `export --format csv` prints them.
    fn export_confirmed(&self) -> Result<String> {
        let out = Command::new(&self.exe)
            .arg("--config")
            .arg(&self.config)
            .args(["export", "--format", "csv"])
            .output()
            .map_err(|e| format!("export could not start: {e}"))?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// The reference receiver on 127.0.0.1:`port` with its SQLite file `<name>.db` in `dir`,
/// allowing `origins` and knowing the newsletters `ids`.
fn start_receiver(
    port: u16,
    origins: &[String],
    ids: &[String],
    dir: &Path,
    name: &str,
) -> Result<TestReceiver> {
    let exe = crate::receiver::build_debug()?;
    let db = dir.join(format!("{name}.db"));
    let config = dir.join(format!("{name}.toml"));
    let quoted = |items: &[String]| {
        items
            .iter()
            .map(|i| format!("{i:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let newsletters: String = ids
        .iter()
        .map(|id| format!("[[newsletters]]\nid = {id:?}\nname = {id:?}\n"))
        .collect();
    std::fs::write(
        &config,
        format!(
            r#"listen = "127.0.0.1:{port}"
database_url = "sqlite://{db}"
public_url = "http://127.0.0.1:{port}"
allowed_origins = [{origins}]
demo = true
min_fill_ms = 0
admin_token = "{token}"
{newsletters}"#,
            db = db.display(),
            origins = quoted(origins),
            token = crate::operators::E2E_TOKEN,
        ),
    )
    .map_err(|e| format!("cannot write {}: {e}", config.display()))?;
    let process = crate::receiver::Receiver::spawn(&exe, &config, &[])?;
    Ok(TestReceiver {
        url: process.url.clone(),
        config,
        exe,
        _process: process,
    })
}
