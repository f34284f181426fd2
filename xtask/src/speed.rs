//! `cargo xtask bench widget`: what a reader waits for, measured side by side in one headless
//! Chromium run against a hand-written baseline form on the same page shell.
//!
//! Every round loads each page once per condition (1× CPU, 4× CPU through CDP throttling, and a
//! Slow-4G network profile at 1× CPU), the pages in a shuffled order (seeded, different each
//! round and condition) so no page always comes first or follows the same page, with the HTTP
//! cache off. A probe injected before any page script (CDP
//! `Page.addScriptToEvaluateOnNewDocument`) notes, in `performance.now()` time, when the first
//! typeable `input[type=email]` exists (looking inside open shadow roots and same-origin iframes,
//! whose frame must have a box), when the widget's own input does, and every long task
//! (`PerformanceObserver`, `longtask`). Each page's time is divided
//! by the baseline's time of the same round and condition; the table shows the medians of these
//! paired ratios, with the median times in milliseconds. Bytes are the page's own snippet plus
//! every file it requested, raw, gzip (-9) and brotli (-q 11), from the files on disk; the server
//! sends gzip (Chromium does not ask for brotli over plain http), so Slow-4G times are gzip times.
//!
//! Besides the baseline and Letterbox's pages, two peers are measured in the same rounds: a real
//! Mailchimp classic embed (markup from the embed corpus; jQuery and its Validation and Form
//! plugins from npm standing in for `mc-validate.js`) and Ghost's signup-form embed
//! (`@tryghost/signup-form` from npm, rendering into an iframe). Their scripts are installed from
//! npm into the tools cache and served by the bench's own server on 127.0.0.1: no page fetches
//! anything from elsewhere.
//!
//! Rounds: `--rounds N` or `LETTERBOX_BENCH_ROUNDS` (default 20); `--no-build` reuses `dist/`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::bundle::{self, Sizes};
use crate::e2e::Browser;
use crate::http::{header, Server};
use crate::tools::{self, Tools};
use crate::util::{root, Result};

/// Rounds when neither `--rounds` nor `LETTERBOX_BENCH_ROUNDS` says otherwise.
const DEFAULT_ROUNDS: usize = 20;

/// Slow 4G as the issue defines it: 1.6 Mb/s down, 750 kb/s up, 150 ms round trip.
const SLOW_4G_DOWN: f64 = 1_600_000.0 / 8.0;
const SLOW_4G_UP: f64 = 750_000.0 / 8.0;
const SLOW_4G_RTT_MS: f64 = 150.0;

/// The probe, run before anything else on every page.
const PROBE: &str = r#"(() => {
  const lb = window.__lb = { typeable: null, widget: null, widgets: [], longtasks: [] };
  const roots = [document];
  // Same-origin iframes' documents (Ghost's embed renders its form into one), each with its
  // frame, watched from here: this probe does run in a script-created frame, but only for its
  // first document (about:blank); when the frame's srcdoc document replaces it, Chromium keeps
  // the window and does not run the probe again (seen with Ghost's frame: its window's __lb
  // belongs to the discarded about:blank). So every document a frame has shown is watched.
  const frames = new Map();
  const iframes = document.getElementsByTagName('iframe');
  const hooked = new WeakSet();
  const ok = (i) => i.isConnected && !i.disabled && !i.readOnly && !i.closest('[hidden],[inert]');
  // An input in a frame can take typing only while its frame shows that document with a box
  // (Ghost's frame starts 0 px high and grows to its content).
  const shown = (r) => {
    const f = frames.get(r);
    if (!f) return true;
    if (!f.isConnected || f.contentDocument !== r) return false;
    const b = f.getBoundingClientRect();
    return b.width > 0 && b.height > 0;
  };
  const seen = new Set();
  const check = () => {
    for (const f of iframes) {
      if (!hooked.has(f)) { hooked.add(f); f.addEventListener('load', check); ro.observe(f); }
      let d = null;
      try { d = f.contentDocument; } catch (e) {}
      if (d && !frames.has(d)) { frames.set(d, f); roots.push(d); mo.observe(d, watch); }
    }
    const t = performance.now();
    for (const r of roots) {
      for (const i of r.querySelectorAll('input[type=email]')) {
        if (!ok(i) || !shown(r)) continue;
        if (lb.typeable === null) lb.typeable = t;
        if (r !== document && !seen.has(r)) {
          seen.add(r);
          lb.widgets.push(t);
          if (lb.widget === null) lb.widget = t;
        }
      }
    }
  };
  const mo = new MutationObserver(check);
  const ro = new ResizeObserver(() => check());
  const watch = { subtree: true, childList: true, attributes: true,
                  attributeFilter: ['disabled', 'readonly', 'hidden', 'inert'] };
  mo.observe(document, watch);
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const r = attach.call(this, init);
    if (init && init.mode === 'open') { roots.push(r); mo.observe(r, watch); }
    return r;
  };
  try {
    new PerformanceObserver((l) => {
      for (const e of l.getEntries()) lb.longtasks.push([e.startTime, e.duration]);
    }).observe({ type: 'longtask', buffered: true });
  } catch (e) {}
})();"#;

/// The article around every form: the same on every page, so only the form differs.
fn shell(title: &str, head: &str, body: &str) -> String {
    let para = "<p>The council met on Tuesday to discuss the new cycle lanes on the high street. \
                Residents who spoke were divided: shopkeepers worried about deliveries, parents \
                about the school run. A decision is expected next month.</p>\n";
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title>{head}</head><body><main><article><h1>Cycle lanes: the vote</h1>\n\
         {p}{p}{body}{p}{p}</article></main></body></html>\n",
        p = para.repeat(2)
    )
}

/// A hand-written form with a 27-line vanilla check: the baseline.
const BASELINE: &str = r#"<form id="hand" action="/t/bench/form" method="post" novalidate>
<label for="hand-email">Email address</label>
<input type="email" name="email" id="hand-email" autocomplete="email" required>
<label><input type="checkbox" name="list" value="daily" checked> The Daily Briefing</label>
<button type="submit">Subscribe</button>
<p id="hand-msg" role="status"></p>
</form>
<script>
(function () {
  var form = document.getElementById('hand');
  var input = document.getElementById('hand-email');
  var msg = document.getElementById('hand-msg');
  function valid(v) {
    var at = v.lastIndexOf('@');
    if (at < 1 || at === v.length - 1) return false;
    var domain = v.slice(at + 1);
    if (domain.indexOf('.') < 1 || /\s/.test(v)) return false;
    return domain.split('.').every(function (p) { return p.length > 0; });
  }
  form.addEventListener('submit', function (e) {
    var v = input.value.trim();
    if (!valid(v)) {
      e.preventDefault();
      msg.textContent = 'Enter an email address like name@example.com';
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    input.removeAttribute('aria-invalid');
    msg.textContent = 'Sending…';
  });
})();
</script>"#;

const CONFIG_SLOT: &str = r#"<div data-letterbox><script type="application/json">{"endpoint": "/t/bench/subscribe", "newsletters": [{"id": "daily", "name": "The Daily Briefing"}]}</script></div>"#;

const FALLBACK_SLOT: &str = r#"<div data-letterbox><form action="/t/bench/form" method="post">
<label for="fb-email">Email address</label>
<input type="email" name="email" id="fb-email" autocomplete="email">
<label><input type="checkbox" name="list" value="daily" checked> The Daily Briefing</label>
<button type="submit">Subscribe</button>
</form></div>"#;

/// The Ghost signup-form embed from npm (what Ghost's embed code loads from
/// `cdn.jsdelivr.net/ghost/signup-form@~0.3`): React and the form in one script that renders the
/// form into a same-origin iframe.
const GHOST_NPM: &str = "@tryghost/signup-form@0.3.592";
/// Where the bench server serves it.
const GHOST_PATH: &str = "/peers/ghost/signup-form.min.js";

/// The stand-in for Mailchimp's `mc-validate.js` (s3.amazonaws.com; jQuery 1.9.0, the jQuery
/// Validation and jQuery Form plugins and Mailchimp's glue in one file; on no registry, and
/// third-party code is not committed): the same libraries from npm, the earliest releases of the
/// two plugins whose npm package carries a minified build, concatenated into one file as
/// mc-validate.js is one. Mailchimp's glue is not in it.
const MAILCHIMP_STANDIN_NPM: [&str; 3] = [
    "jquery@1.9.1",
    "jquery-validation@1.16.0",
    "jquery-form@4.2.0",
];
/// The stand-in's files inside `node_modules`, in load order.
const MAILCHIMP_STANDIN_FILES: [&str; 3] = [
    "jquery/jquery.min.js",
    "jquery-validation/dist/jquery.validate.min.js",
    "jquery-form/dist/jquery.form.min.js",
];
/// Where the bench server serves the stand-in.
const MAILCHIMP_STANDIN_PATH: &str = "/peers/mailchimp/mc-validate-standin.js";

/// A real Mailchimp classic (classic-10_7, with the GDPR block) embed's form, unchanged: the
/// corpus file copied from CambridgeRefugees/cambridgerefugees.github.io
/// `_includes/mailchimp.html` @ 80d72063e998 (see `core/tests/fixtures/embeds/embeds.json`).
const MAILCHIMP_FORM: &str =
    include_str!("../../core/tests/fixtures/embeds/mailchimp/cambridgerefugees-gdpr-channels.html");
/// What that source file has before the form, without its `<link>` to
/// `cdn-images.mailchimp.com/embedcode/classic-10_7.css` (on no registry: left out).
const MAILCHIMP_BEFORE: &str = concat!(
    "<!-- Begin Mailchimp Signup Form -->\n",
    "<style type='text/css'>\n",
    "\t#mc_embed_signup{background:#fff; clear:left; font:14px Helvetica,Arial,sans-serif; }\n",
    "\t/* Add your own Mailchimp form style overrides in your site stylesheet or in this style block.\n",
    "\t   We recommend moving this block and the preceding CSS link to the HEAD of your HTML file. */\n",
    "</style>\n",
    "<style type='text/css'>\n",
    "\t#mc-embedded-subscribe-form input[type=checkbox]{display: inline; width: auto;margin-right: 10px;}\n",
    "\t#mergeRow-gdpr {margin-top: 20px;}\n",
    "\t#mergeRow-gdpr fieldset label {font-weight: normal;}\n",
    "\t#mc-embedded-subscribe-form .mc_fieldset{border:none;min-height: 0px;padding-bottom:0px;}\n",
    "</style>\n",
    "<div id='mc_embed_signup'>\n",
);
/// What it has after the form, around its `mc-validate.js` script tag (which the stand-in's tag
/// replaces, at the same place: a classic parser-blocking script right after the form).
const MAILCHIMP_CLOSE: &str = "</div>\n";
/// The source file's inline script right after that tag, and its closing comment.
const MAILCHIMP_INLINE: &str = concat!(
    "<script type='text/javascript'>(function($) {window.fnames = new Array(); window.ftypes = new Array();fnames[0]='EMAIL';ftypes[0]='email';fnames[1]='FNAME';ftypes[1]='text';fnames[2]='LNAME';ftypes[2]='text';fnames[3]='ADDRESS';ftypes[3]='address';fnames[4]='PHONE';ftypes[4]='phone';}(jQuery));var $mcj = jQuery.noConflict(true);</script>\n",
    "<!--End mc_embed_signup-->\n",
);

/// What `cargo xtask embed` puts in the head: the script and its wasm fetched from the start of
/// parsing instead of after it.
const HINTS: &str = r#"<link rel="modulepreload" href="/letterbox/letterbox.js"><link rel="preload" href="/letterbox/letterbox_bg.wasm" as="fetch" type="application/wasm" crossorigin>"#;

const MODULE_TAG: &str = r#"<script type="module" src="/letterbox/letterbox.js"></script>"#;
const CLASSIC_TAG: &str = r#"<script src="/letterbox/letterbox.classic.js" defer></script>"#;

/// One page of the benchmark: its name, its snippet (what a site pastes) and the whole page.
struct Page {
    name: &'static str,
    label: &'static str,
    snippet: String,
    html: String,
    /// How many widgets must be typeable before the page counts as done.
    widgets: usize,
}

/// The pages, for a server at `origin` (`http://127.0.0.1:PORT`, which Ghost's embed names as
/// its site).
fn pages(origin: &str) -> Vec<Page> {
    let ten: String = (0..10)
        .map(|_| format!("{CONFIG_SLOT}\n<p>More of the article between the slots.</p>\n"))
        .collect();
    let make = |name, label, head: &str, body: &str, widgets| Page {
        name,
        label,
        snippet: format!("{head}{body}"),
        html: shell(label, head, body),
        widgets,
    };
    vec![
        make(
            "baseline",
            "hand-written form + 27-line check",
            "",
            BASELINE,
            0,
        ),
        make(
            "config",
            "Letterbox, slot from JSON config",
            "",
            &format!("{CONFIG_SLOT}{MODULE_TAG}"),
            1,
        ),
        make(
            "hints",
            "Letterbox, config slot with preload hints",
            HINTS,
            &format!("{CONFIG_SLOT}{MODULE_TAG}"),
            1,
        ),
        make(
            "upgrade",
            "Letterbox, upgrading a fallback form",
            "",
            &format!("{FALLBACK_SLOT}{MODULE_TAG}"),
            1,
        ),
        make(
            "classic",
            "Letterbox, classic script tag",
            CLASSIC_TAG,
            CONFIG_SLOT,
            1,
        ),
        make(
            "ten",
            "Letterbox, ten slots on one page",
            "",
            &format!("{ten}{MODULE_TAG}"),
            10,
        ),
        make(
            "mailchimp",
            "Mailchimp classic embed (real markup, CSS left out; jQuery 1.9.1 + Validation 1.16.0 + Form 4.2.0 from npm standing in for mc-validate.js)",
            "",
            &mailchimp_embed(),
            0,
        ),
        make(
            "ghost",
            "Ghost signup-form 0.3.592 (npm), all-in-one embed",
            "",
            &ghost_embed(origin),
            1,
        ),
    ]
}

/// The Mailchimp classic embed as its source file has it, with the stand-in's script tag where
/// its `mc-validate.js` tag is and the CSS link left out. Its form is in the page's own
/// markup, so "widget ready" is when it is typeable.
fn mailchimp_embed() -> String {
    format!(
        "{MAILCHIMP_BEFORE}{MAILCHIMP_FORM}{MAILCHIMP_CLOSE}<script type='text/javascript' src='{MAILCHIMP_STANDIN_PATH}'></script>{MAILCHIMP_INLINE}"
    )
}

/// Ghost's embed as Ghost 6.65's admin writes it for the all-in-one layout of a site without an
/// icon (`embed-signup-form-modal`: a sized `<div>` around an async script whose data
/// attributes carry the options; `data-site` is where the form would send signups, used only
/// on submit), with this page's own title and colours, served from the bench server. The script
/// finds itself through `document.currentScript` and renders the form into an iframe
/// (`srcdoc`) it inserts before itself: the widget is that iframe's input.
fn ghost_embed(origin: &str) -> String {
    format!(
        r##"<div style="height: 40vmin;min-height: 360px"><script src="{origin}{GHOST_PATH}" data-background-color="#F1F3F4" data-text-color="#000000" data-button-color="#FF1A75" data-button-text-color="#FFFFFF" data-title="The Daily Briefing" data-description="The council, the schools and the high street, every morning." data-site="{origin}/" data-locale="en" async></script></div>"##
    )
}

/// A measuring condition: CPU slowdown and network profile.
struct Condition {
    name: &'static str,
    cpu: f64,
    slow_network: bool,
}

const CONDITIONS: [Condition; 3] = [
    Condition {
        name: "1× CPU",
        cpu: 1.0,
        slow_network: false,
    },
    Condition {
        name: "4× CPU",
        cpu: 4.0,
        slow_network: false,
    },
    Condition {
        name: "Slow-4G",
        cpu: 1.0,
        slow_network: true,
    },
];

/// What one page load measured.
#[derive(Clone, Debug)]
struct Load {
    typeable: f64,
    widget: Option<f64>,
    all_widgets: Option<f64>,
    longtask_max: f64,
    longtask_count: usize,
    requests: Vec<String>,
}

/// Every file a page may request, by path, with its content type.
type Files = BTreeMap<String, (Vec<u8>, &'static str)>;

/// `dist/` under `/letterbox/`, and the peers' scripts under `/peers/` (installed from npm into
/// the tools cache when missing).
fn static_files() -> Result<Files> {
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let mut files = Files::new();
    let dist = root().join("dist");
    for entry in std::fs::read_dir(&dist).map_err(|e| format!("cannot list dist/: {e}"))? {
        let path = entry.map_err(|e| format!("cannot list dist/: {e}"))?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let kind = if name.ends_with(".wasm") {
            "application/wasm"
        } else {
            "text/javascript"
        };
        files.insert(format!("/letterbox/{name}"), (read(&path)?, kind));
    }
    let ghost = tools::ensure_npm_packages(&[GHOST_NPM])?
        .join("@tryghost/signup-form/umd/signup-form.min.js");
    files.insert(GHOST_PATH.into(), (read(&ghost)?, "text/javascript"));
    let modules = tools::ensure_npm_packages(&MAILCHIMP_STANDIN_NPM)?;
    let mut standin = Vec::new();
    for file in MAILCHIMP_STANDIN_FILES {
        standin.extend(read(&modules.join(file))?);
        // A minified file may end in a `//# sourceMappingURL` comment without a newline.
        standin.push(b'\n');
    }
    files.insert(MAILCHIMP_STANDIN_PATH.into(), (standin, "text/javascript"));
    Ok(files)
}

/// A server on a free port of 127.0.0.1 (only), and its port.
fn listen() -> Result<(Server, u16)> {
    let server = Server::http(("127.0.0.1", 0)).map_err(|e| format!("cannot listen: {e}"))?;
    let port = server
        .server_addr()
        .to_ip()
        .map(|a| a.port())
        .ok_or("the bench server has no IP address")?;
    Ok((server, port))
}

/// Serves the pages (`/p/NAME.html`) and `files`, gzip-encoded when asked; 404 for anything
/// else.
fn serve(server: Server, pages: &[Page], files: &Files) -> Arc<Server> {
    let server = Arc::new(server);
    // Every file, plain and gzip-encoded, prepared once so no request waits for compression.
    let mut prepared: BTreeMap<String, (Vec<u8>, Vec<u8>, &'static str)> = pages
        .iter()
        .map(|p| {
            let bytes = p.html.clone().into_bytes();
            let gz = gzip_bytes(&bytes);
            (
                format!("/p/{}.html", p.name),
                (bytes, gz, "text/html; charset=utf-8"),
            )
        })
        .collect();
    for (path, (bytes, kind)) in files {
        prepared.insert(path.clone(), (bytes.clone(), gzip_bytes(bytes), kind));
    }
    let files = Arc::new(prepared);
    let s = server.clone();
    thread::spawn(move || {
        for request in s.incoming_requests() {
            let files = files.clone();
            thread::spawn(move || {
                let path = request.url().split('?').next().unwrap_or("").to_owned();
                let gzip = request
                    .headers()
                    .iter()
                    .any(|h| h.field.equiv("accept-encoding") && h.value.as_str().contains("gzip"));
                let response = match files.get(&path) {
                    Some((plain, gz, kind)) => {
                        let mut r = crate::http::Response::from_data(if gzip {
                            gz.clone()
                        } else {
                            plain.clone()
                        });
                        for h in [
                            header("Content-Type", kind),
                            gzip.then(|| header("Content-Encoding", "gzip")).flatten(),
                            header("Cache-Control", "no-store"),
                        ]
                        .into_iter()
                        .flatten()
                        {
                            r.add_header(h);
                        }
                        r
                    }
                    None => crate::http::Response::from_string("not here").with_status_code(404),
                };
                let _ = request.respond(response);
            });
        }
    });
    server
}

fn gzip_bytes(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let _ = gz.write_all(bytes);
    gz.finish().unwrap_or_default()
}

fn cdp(b: &Browser, cmd: &str, params: Value) -> Result<Value> {
    b.call(
        "POST",
        "/goog/cdp/execute",
        Some(json!({"cmd": cmd, "params": params})),
    )
}

fn apply(b: &Browser, c: &Condition) -> Result<()> {
    cdp(b, "Emulation.setCPUThrottlingRate", json!({"rate": c.cpu}))?;
    let (down, up, rtt) = if c.slow_network {
        (SLOW_4G_DOWN, SLOW_4G_UP, SLOW_4G_RTT_MS)
    } else {
        (-1.0, -1.0, 0.0)
    };
    cdp(
        b,
        "Network.emulateNetworkConditions",
        json!({"offline": false, "latency": rtt, "downloadThroughput": down, "uploadThroughput": up}),
    )?;
    Ok(())
}

/// Loads one page and waits until it is done: its inputs typeable, then a quiet moment for the
/// long tasks that follow.
fn load(b: &Browser, base: &str, page: &Page, c: &Condition) -> Result<Load> {
    b.open("about:blank")?;
    b.open(&format!("{base}/p/{}.html", page.name))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let settle = 400.0 * c.cpu;
    loop {
        let v = b.script(&format!(
            "const lb = window.__lb; if (!lb) return null;
             const done = lb.typeable !== null && lb.widgets.length >= {widgets};
             return {{ done, now: performance.now(), lb,
                      requests: performance.getEntriesByType('resource').map(e => e.name) }};",
            widgets = page.widgets
        ))?;
        let lb = &v["lb"];
        if v["done"] == json!(true) {
            let last = lb["widgets"]
                .as_array()
                .and_then(|w| w.last())
                .and_then(Value::as_f64)
                .or(lb["typeable"].as_f64())
                .unwrap_or(0.0);
            let now = v["now"].as_f64().unwrap_or(0.0);
            if now - last >= settle {
                let tasks: Vec<f64> = lb["longtasks"]
                    .as_array()
                    .map(|t| t.iter().filter_map(|e| e[1].as_f64()).collect())
                    .unwrap_or_default();
                return Ok(Load {
                    typeable: lb["typeable"].as_f64().unwrap_or(f64::NAN),
                    widget: lb["widget"].as_f64(),
                    all_widgets: (page.widgets > 0).then_some(last),
                    longtask_max: tasks.iter().copied().fold(0.0, f64::max),
                    longtask_count: tasks.len(),
                    requests: v["requests"]
                        .as_array()
                        .map(|r| {
                            r.iter()
                                .filter_map(|u| u.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default(),
                });
            }
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{} under {}: no typeable input in 60 s ({})",
                page.name, c.name, v["lb"]
            ));
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// The order of the pages in one round under one condition: a shuffle seeded by `seed`, so no
/// page always comes first and none always follows the same page (a rotation left the JSON-config
/// page always right after the baseline; it was then the slowest of the Letterbox pages in every
/// run, with the longest task).
fn order(pages: usize, seed: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..pages).collect();
    // SplitMix64 steps: a reproducible order for the same seed, with no dependency.
    let mut state = (seed as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    for i in (1..pages).rev() {
        order.swap(i, (next() % (i as u64 + 1)) as usize);
    }
    order
}

/// "k/n, longest M ms": how many of the loads had a main-thread task of 50 ms or more (the Long
/// Tasks API reports no shorter one), and the longest in any of them.
fn long_tasks(loads: &[Load]) -> String {
    let with = loads.iter().filter(|l| l.longtask_count > 0).count();
    let longest = loads.iter().map(|l| l.longtask_max).fold(0.0, f64::max);
    format!("{with}/{}, longest {longest:.0} ms", loads.len())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The rounds asked for: `--rounds N`, else `LETTERBOX_BENCH_ROUNDS`, else 20.
pub fn rounds_from(args: &[String]) -> Result<usize> {
    let given = args
        .iter()
        .position(|a| a == "--rounds")
        .map(|i| {
            args.get(i + 1)
                .cloned()
                .ok_or_else(|| "--rounds needs a number".to_owned())
        })
        .transpose()?
        .or_else(|| std::env::var("LETTERBOX_BENCH_ROUNDS").ok());
    match given {
        None => Ok(DEFAULT_ROUNDS),
        Some(s) => match s.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!(
                "the round count must be a positive number, not {s:?}"
            )),
        },
    }
}

/// Sizes of a page's snippet plus the files it requested (each file compressed once); a request
/// for something the server does not have counts as a request of no bytes.
fn page_bytes(
    page: &Page,
    requests: &[String],
    files: &Files,
    known: &mut BTreeMap<String, (usize, usize, usize)>,
) -> (Sizes, usize) {
    let mut total = bundle::sizes(page.snippet.as_bytes());
    for url in requests {
        let path = url_path(url).to_owned();
        let s = match known.get(&path) {
            Some(s) => *s,
            None => {
                let s = files
                    .get(&path)
                    .map(|(b, _)| bundle::sizes(b))
                    .map(|s| (s.raw, s.gzip, s.brotli))
                    .unwrap_or_default();
                known.insert(path, s);
                s
            }
        };
        total.raw += s.0;
        total.gzip += s.1;
        total.brotli += s.2;
    }
    (total, requests.len())
}

/// The path of an absolute URL, without its query: `http://127.0.0.1:8/a/b.js?x` → `/a/b.js`.
fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    path.split(['?', '#']).next().unwrap_or(path)
}

/// Runs the widget benchmark and prints its table.
pub fn run(tools: &Tools, rounds: usize, build: bool) -> Result<()> {
    if build {
        let b = bundle::build(tools)?;
        bundle::report(&b.shipped)?;
    } else if !root().join("dist/letterbox.js").exists() {
        return Err("no dist/letterbox.js: run without --no-build first".into());
    }
    let files = static_files()?;
    let (server, port) = listen()?;
    let base = format!("http://127.0.0.1:{port}");
    let pages = pages(&base);
    let server = serve(server, &pages, &files);
    let browser = Browser::start(tools)?;
    cdp(&browser, "Network.enable", json!({}))?;
    cdp(
        &browser,
        "Network.setCacheDisabled",
        json!({"cacheDisabled": true}),
    )?;
    cdp(
        &browser,
        "Page.addScriptToEvaluateOnNewDocument",
        json!({"source": PROBE}),
    )?;
    // results[condition][page] = one Load per round.
    let mut results: Vec<Vec<Vec<Load>>> = vec![vec![Vec::new(); pages.len()]; CONDITIONS.len()];
    // One unmeasured load of each page first, so the first round does not pay for a cold
    // browser (its first process, first wasm compile).
    apply(&browser, &CONDITIONS[0])?;
    for page in &pages {
        load(&browser, &base, page, &CONDITIONS[0])?;
    }
    let started = Instant::now();
    for round in 0..rounds {
        for (ci, c) in CONDITIONS.iter().enumerate() {
            apply(&browser, c)?;
            for pi in order(pages.len(), round * CONDITIONS.len() + ci) {
                let l = load(&browser, &base, &pages[pi], c)?;
                results[ci][pi].push(l);
            }
        }
        println!(
            "bench widget: round {}/{rounds} ({:.0} s)",
            round + 1,
            started.elapsed().as_secs_f64()
        );
    }
    apply(
        &browser,
        &Condition {
            name: "",
            cpu: 1.0,
            slow_network: false,
        },
    )?;
    drop(browser);
    server.unblock();

    let ratio = |ci: usize, pi: usize, base_pi: usize, f: &dyn Fn(&Load) -> Option<f64>| {
        median(
            results[ci][pi]
                .iter()
                .zip(&results[ci][base_pi])
                .filter_map(|(l, b)| Some(f(l)? / f(b)?))
                .collect(),
        )
    };
    let ms = |ci: usize, pi: usize, f: &dyn Fn(&Load) -> Option<f64>| {
        median(results[ci][pi].iter().filter_map(f).collect())
    };
    let typeable = |l: &Load| Some(l.typeable);
    let widget = |l: &Load| l.widget.or(Some(l.typeable));
    let all = |l: &Load| l.all_widgets.or(Some(l.typeable));

    println!(
        "\nWidget benchmark, {} (Chromium, {rounds} interleaved rounds, medians of ratios to the baseline of the same round)",
        date()
    );
    println!(
        "| page | raw B | gzip B | brotli B | requests | typeable 1× CPU | 4× CPU | Slow-4G | widget ready 1× | 4× | Slow-4G | loads with a long task (≥ 50 ms), longest: 1× / 4× CPU |"
    );
    println!("|---|---:|---:|---:|---:|---|---|---|---|---|---|---|");
    let mut known = BTreeMap::new();
    for (pi, page) in pages.iter().enumerate() {
        let (sizes, requests) = results[0][pi]
            .first()
            .map(|l| page_bytes(page, &l.requests, &files, &mut known))
            .unwrap_or((bundle::sizes(page.snippet.as_bytes()), 0));
        let cell = |ci: usize, f: &dyn Fn(&Load) -> Option<f64>| {
            format!("{:.2}× ({:.0} ms)", ratio(ci, pi, 0, f), ms(ci, pi, f))
        };
        let tasks = |ci: usize| long_tasks(&results[ci][pi]);
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} / {} |",
            page.label,
            sizes.raw,
            sizes.gzip,
            sizes.brotli,
            requests,
            cell(0, &typeable),
            cell(1, &typeable),
            cell(2, &typeable),
            cell(0, &widget),
            cell(1, &widget),
            cell(2, &widget),
            tasks(0),
            tasks(1),
        );
    }
    // Ten slots against one, paired by round.
    let index = |name: &str| {
        pages
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| format!("the bench has no page called {name:?}"))
    };
    let (one, ten) = (index("config")?, index("ten")?);
    println!("\nTen slots against one (medians of paired ratios; all ten typeable vs the one):");
    for (ci, c) in CONDITIONS.iter().enumerate() {
        let counts: Vec<f64> = results[ci][ten]
            .iter()
            .map(|l| l.longtask_count as f64)
            .collect();
        println!(
            "  {}: first widget {:.2}×, all ten {:.2}×; long tasks per load (median) {:.0}, loads with one {}",
            c.name,
            ratio(ci, ten, one, &widget),
            ratio(ci, ten, one, &all),
            median(counts),
            long_tasks(&results[ci][ten]),
        );
    }
    println!(
        "\nSlow-4G here: {:.1} Mb/s down, {:.0} ms round trip, bodies gzip-encoded; times are from navigation start.",
        SLOW_4G_DOWN * 8.0 / 1e6,
        SLOW_4G_RTT_MS
    );
    Ok(())
}

/// The recommended embed for the slot configured by the JSON file `config`, with the files of
/// `dist/` (built first unless it exists) under `base`: preload hints that start the script and
/// the wasm at the start of parsing, the content-hashed script pinned by SRI (it pins its wasm
/// itself; the hint carries the same hash so the browser reuses the preloaded response), and
/// the slot.
pub fn embed(tools: &Tools, config: &std::path::Path, base: &str) -> Result<()> {
    let text = std::fs::read_to_string(config)
        .map_err(|e| format!("cannot read {}: {e}", config.display()))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not JSON: {e}", config.display()))?;
    if !value.is_object() {
        return Err(format!(
            "{} must hold one JSON object, a slot's configuration",
            config.display()
        ));
    }
    let dist = root().join("dist");
    if !dist.join("letterbox.js").exists() {
        bundle::build(tools)?;
    }
    println!("{}", snippet(&value, &hashed_files(&dist)?, base)?);
    Ok(())
}

/// The content-hashed module script and wasm in `dir`, each with its SRI hash.
pub(crate) fn hashed_files(dir: &std::path::Path) -> Result<[(String, String); 2]> {
    let mut js = None;
    let mut wasm = None;
    for entry in std::fs::read_dir(dir).map_err(|e| format!("cannot list dist/: {e}"))? {
        let path = entry.map_err(|e| format!("cannot list dist/: {e}"))?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parts: Vec<&str> = name.split('.').collect();
        let slot = match parts.as_slice() {
            ["letterbox", h, "js"] if h.len() == 10 => &mut js,
            ["letterbox_bg", h, "wasm"] if h.len() == 10 => &mut wasm,
            _ => continue,
        };
        let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {name}: {e}"))?;
        *slot = Some((name, bundle::sri(&bytes)));
    }
    match (js, wasm) {
        (Some(js), Some(wasm)) => Ok([js, wasm]),
        _ => Err(
            "dist/ has no content-hashed letterbox.<hash>.js and wasm: run cargo xtask dist".into(),
        ),
    }
}

/// The snippet itself (see [`embed`]): core's [`letterbox_core::config::fallback::snippet`], the
/// one implementation the playground's embed builder uses too, with the configuration
/// pretty-printed.
fn snippet(config: &Value, files: &[(String, String); 2], base: &str) -> Result<String> {
    let [(js, js_sri), (wasm, wasm_sri)] = files;
    let json = serde_json::to_string_pretty(config)
        .map_err(|e| format!("cannot write the configuration: {e}"))?;
    let parsed = match letterbox_core::config::Kind::from_host(&letterbox_core::config::HostInput {
        json: Some(&json),
        ..Default::default()
    })
    .map_err(|e| format!("the configuration cannot be used: {e}"))?
    {
        letterbox_core::config::Kind::Signup(config) => *config,
        letterbox_core::config::Kind::Goal(_) => {
            return Err(
                "a goal slot (\"kind\": \"goal\") has no form to render: embed it as <div data-letterbox> with its JSON and the script tag".into(),
            )
        }
    };
    let files = letterbox_core::config::fallback::BuiltFiles {
        script: js,
        script_sri: js_sri,
        wasm,
        wasm_sri,
    };
    Ok(letterbox_core::config::fallback::snippet(
        &parsed, &json, &files, base,
    ))
}

/// Today's date (UTC), from the system clock.
fn date() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0) as i64;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_round_loads_every_page_once_in_orders_that_vary() {
        let orders: Vec<Vec<usize>> = (0..60).map(|seed| order(8, seed)).collect();
        for o in &orders {
            let mut sorted = o.clone();
            sorted.sort();
            assert_eq!(sorted, (0..8).collect::<Vec<_>>());
        }
        assert_eq!(
            order(8, 7),
            order(8, 7),
            "the same seed gives the same order"
        );
        // Every page comes first sometimes, and the page before page 1 is not always the same.
        for page in 0..8 {
            assert!(
                orders.iter().any(|o| o[0] == page),
                "page {page} never first"
            );
        }
        let before_one: std::collections::BTreeSet<usize> = orders
            .iter()
            .filter_map(|o| {
                let at = o.iter().position(|&p| p == 1)?;
                at.checked_sub(1).map(|i| o[i])
            })
            .collect();
        assert!(before_one.len() >= 5, "{before_one:?}");
    }

    #[test]
    fn medians_of_odd_and_even_counts_ignore_nan() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(vec![f64::NAN, 5.0]), 5.0);
        assert!(median(vec![]).is_nan());
    }

    #[test]
    fn rounds_come_from_the_flag_and_refuse_nonsense() {
        let args = |s: &[&str]| s.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        assert_eq!(rounds_from(&args(&["widget", "--rounds", "3"])), Ok(3));
        assert!(rounds_from(&args(&["widget", "--rounds", "0"])).is_err());
        assert!(rounds_from(&args(&["widget", "--rounds", "many"])).is_err());
        assert!(rounds_from(&args(&["widget", "--rounds"])).is_err());
    }

    const ORIGIN: &str = "http://127.0.0.1:4173";

    #[test]
    fn every_page_shares_the_shell_and_carries_its_snippet() {
        let pages = pages(ORIGIN);
        assert_eq!(pages[0].name, "baseline");
        assert!(pages
            .iter()
            .all(|p| p.html.contains("Cycle lanes: the vote")));
        // A page without its title and snippet (head part and body part): the bare shell.
        let bare = |p: &Page| {
            let body = p
                .snippet
                .trim_start_matches(CLASSIC_TAG)
                .trim_start_matches(HINTS);
            let head = &p.snippet[..p.snippet.len() - body.len()];
            assert!(p.html.contains(body), "{} lacks its snippet", p.name);
            p.html
                .replacen(body, "", 1)
                .replacen(head, "", 1)
                .replacen(p.label, "", 1)
        };
        for p in &pages {
            assert_eq!(bare(p), bare(&pages[0]), "{} has another shell", p.name);
        }
        let names: Vec<&str> = pages.iter().map(|p| p.name).collect();
        assert_eq!(
            names,
            [
                "baseline",
                "config",
                "hints",
                "upgrade",
                "classic",
                "ten",
                "mailchimp",
                "ghost"
            ]
        );
        let widgets = |name: &str| pages.iter().find(|p| p.name == name).map(|p| p.widgets);
        assert_eq!(widgets("baseline"), Some(0));
        assert_eq!(widgets("ten"), Some(10));
        // Mailchimp's form is the page's own markup; Ghost's is in the iframe its script adds.
        assert_eq!(widgets("mailchimp"), Some(0));
        assert_eq!(widgets("ghost"), Some(1));
    }

    /// Every URL a page would fetch by itself: `src`, `data-site` and `<link href>` values.
    fn fetched_urls(html: &str) -> Vec<String> {
        let mut urls = Vec::new();
        for attr in [" src=", " data-site=", " href="] {
            for (at, _) in html.match_indices(attr) {
                if attr == " href="
                    && !html[..at]
                        .rsplit('<')
                        .next()
                        .is_some_and(|t| t.starts_with("link"))
                {
                    continue;
                }
                let rest = &html[at + attr.len()..];
                let quote = rest.chars().next().unwrap_or(' ');
                let value = rest[1..].split(quote).next().unwrap_or("");
                urls.push(value.to_owned());
            }
        }
        urls
    }

    #[test]
    fn the_peer_pages_reference_only_the_local_server() {
        let pages = pages(ORIGIN);
        for name in ["mailchimp", "ghost"] {
            let page = pages.iter().find(|p| p.name == name).unwrap();
            let urls = fetched_urls(&page.html);
            assert!(!urls.is_empty(), "{name} loads a script");
            for url in &urls {
                let local = (url.starts_with('/') && !url.starts_with("//"))
                    || url.starts_with(&format!("{ORIGIN}/"));
                assert!(local, "{name} would fetch {url}");
            }
            for elsewhere in [
                "unpkg",
                "jsdelivr",
                "amazonaws",
                "cdn-images",
                "<link",
                "<img",
                "@import",
                "url(",
            ] {
                assert!(
                    !page.html.contains(elsewhere),
                    "{name} mentions {elsewhere}"
                );
            }
        }
        let ghost = pages.iter().find(|p| p.name == "ghost").unwrap();
        assert!(ghost
            .html
            .contains(&format!(r#"<script src="{ORIGIN}{GHOST_PATH}""#)));
        assert!(ghost.html.contains(&format!(r#"data-site="{ORIGIN}/""#)));
        assert!(ghost.html.contains("data-title=") && ghost.html.contains(" async></script>"));
        // The checks above do see a fetched URL elsewhere.
        assert_eq!(
            fetched_urls("<link rel=stylesheet href='//x.example/a.css'><a href=/b>"),
            ["//x.example/a.css"]
        );
    }

    #[test]
    fn the_mailchimp_page_carries_the_fixtures_markup_unchanged() {
        let fixture = std::fs::read_to_string(
            root()
                .join("core/tests/fixtures/embeds/mailchimp/cambridgerefugees-gdpr-channels.html"),
        )
        .unwrap();
        assert_eq!(MAILCHIMP_FORM, fixture);
        let page = pages(ORIGIN)
            .into_iter()
            .find(|p| p.name == "mailchimp")
            .unwrap();
        assert!(page.html.contains(&fixture));
        assert!(page
            .html
            .contains("<div id='mc_embed_signup'>\n<form action='https://cambridgerefugees"));
        // The stand-in's tag, a classic parser-blocking script, right after the embed's form,
        // then the embed's own inline script.
        let tag = format!("</form>\n</div>\n<script type='text/javascript' src='{MAILCHIMP_STANDIN_PATH}'></script><script type='text/javascript'>(function($) {{window.fnames");
        assert!(page.html.contains(&tag), "{}", page.html);
        assert!(!page.html.contains(" async") && !page.html.contains(" defer"));
        // The embed's inline script is the source file's, byte for byte.
        assert!(MAILCHIMP_INLINE.ends_with(
            "var $mcj = jQuery.noConflict(true);</script>\n<!--End mc_embed_signup-->\n"
        ));
        // The embed as its source file has it, but for the CSS link and the script's address.
        let source = format!("{MAILCHIMP_BEFORE}{fixture}{MAILCHIMP_CLOSE}{MAILCHIMP_INLINE}");
        assert_eq!(source.len() + "<link href='//cdn-images.mailchimp.com/embedcode/classic-10_7.css' rel='stylesheet' type='text/css'>\n".len() + "<script type='text/javascript' src='//s3.amazonaws.com/downloads.mailchimp.com/js/mc-validate.js'></script>".len(), 4590);
    }

    #[test]
    fn request_urls_map_to_served_paths() {
        assert_eq!(
            url_path("http://127.0.0.1:8/peers/ghost/signup-form.min.js?v=1"),
            "/peers/ghost/signup-form.min.js"
        );
        assert_eq!(
            url_path("http://127.0.0.1:8/letterbox/letterbox.js#x"),
            "/letterbox/letterbox.js"
        );
        assert_eq!(url_path("http://127.0.0.1:8"), "/");
    }

    #[test]
    fn the_embed_pins_both_files_and_cannot_be_closed_early_by_the_config() {
        let files = [
            ("letterbox.0123456789.js".to_owned(), "sha384-JS".to_owned()),
            (
                "letterbox_bg.abcdef0123.wasm".to_owned(),
                "sha384-WASM".to_owned(),
            ),
        ];
        let config = json!({"endpoint": "/api/subscribe", "newsletters": [{"id": "d", "name": "</script><b>"}]});
        let s = snippet(&config, &files, "https://cdn.example/lb/").unwrap();
        assert!(s.contains(r#"<link rel="modulepreload" href="https://cdn.example/lb/letterbox.0123456789.js" integrity="sha384-JS""#));
        assert!(s.contains(r#"href="https://cdn.example/lb/letterbox_bg.abcdef0123.wasm" as="fetch" type="application/wasm" integrity="sha384-WASM" crossorigin="anonymous""#));
        assert!(s.contains(r#"<script type="module" src="https://cdn.example/lb/letterbox.0123456789.js" integrity="sha384-JS" crossorigin="anonymous">"#));
        assert_eq!(s.matches("</script>").count(), 2, "{s}");
        let inline = s
            .split(r#"<script type="application/json">"#)
            .nth(1)
            .unwrap();
        let inline = inline.split("</script>").next().unwrap();
        let back: Value = serde_json::from_str(inline).unwrap();
        assert_eq!(back, config);
    }

    #[test]
    fn a_goal_slot_has_no_fallback_form_to_embed() {
        let files = [
            ("letterbox.0123456789.js".to_owned(), "sha384-JS".to_owned()),
            (
                "letterbox_bg.abcdef0123.wasm".to_owned(),
                "sha384-WASM".to_owned(),
            ),
        ];
        let goal = json!({"kind": "goal", "goal": 20000, "count_url": "/api/count/members"});
        let e = snippet(&goal, &files, "https://cdn.example/lb/").unwrap_err();
        assert!(
            e.starts_with("a goal slot (\"kind\": \"goal\") has no form to render"),
            "{e}"
        );
    }

    #[test]
    fn the_embed_carries_the_fallback_form_inside_the_slot() {
        let files = [
            ("letterbox.0123456789.js".to_owned(), "sha384-JS".to_owned()),
            (
                "letterbox_bg.abcdef0123.wasm".to_owned(),
                "sha384-WASM".to_owned(),
            ),
        ];
        let config = json!({"endpoint": "https://news.example/api/subscribe", "lang": "uk",
            "newsletters": [{"id": "d", "name": "Daily & <more>"}, {"id": "w", "name": "Weekly"}]});
        let s = snippet(&config, &files, "https://cdn.example/lb/").unwrap();
        let slot = s.split("<div data-letterbox>").nth(1).unwrap();
        let form_at =
            slot.find("<form action=\"https://news.example/api/subscribe\" method=\"post\">");
        let script_at = slot.find("<script type=\"application/json\">");
        assert!(form_at.is_some() && form_at < script_at, "{s}");
        assert!(slot.contains("Daily &amp; &lt;more&gt;"), "{s}");
        assert!(
            slot.contains(">Підписатися</button>"),
            "the slot's language: {s}"
        );
        assert!(
            slot.contains(r#"<input type="hidden" name="lang" value="uk">"#),
            "the receiver's answer page in the slot's language: {s}"
        );
        let bad = json!({"newsletters": "none"});
        assert!(
            snippet(&bad, &files, "").is_err(),
            "a configuration the widget would refuse"
        );
    }

    #[test]
    fn the_date_is_a_calendar_date() {
        let d = date();
        assert_eq!(d.len(), 10);
        assert!(d.starts_with("20"));
    }
}
