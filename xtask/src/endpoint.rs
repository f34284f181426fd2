//! A small local endpoint on 127.0.0.1, used in two ways:
//!
//! - `POST /api/subscribe`: the playground's endpoint under `cargo xtask demo` (until the
//!   reference receiver exists). It prints each signup it receives and answers
//!   `{"status":"pending_confirmation"}`.
//! - `/t/<test>/<behaviour>`: the browser tests' endpoint. `POST` answers as `<behaviour>` says
//!   (see [`answer`]) and records the request; `GET /t/<test>/requests` returns the recorded
//!   requests of that test as JSON, so a test can assert how many requests arrived and what they
//!   held.
//!
//! It answers CORS preflights for any origin, since the test page is served from another port.
//!
//! Beside it runs a raw TCP "dropper" (its URL at `GET /t/dropper`), for the one thing an HTTP
//! library will not do: read a request and close the connection without answering. Its
//! `POST /t/<test>/drop-once` records the request (listed with the others at
//! `GET /t/<test>/requests`), closes unanswered the first time, and answers 200 subscribed after.

use std::collections::HashMap;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use crate::http::{header, Method, Request, Response, Server};

use crate::util::Result;

/// The largest body the endpoint reads.
const MAX_BODY: u64 = 64 * 1024;

/// One recorded POST.
#[derive(Debug, Clone)]
struct Recorded {
    behaviour: String,
    idempotency_key: Option<String>,
    content_type: Option<String>,
    body: String,
}

type Log = Arc<Mutex<HashMap<String, Vec<Recorded>>>>;

/// Static files the endpoint also serves (for the end-to-end pages): URL prefix → folder, and
/// the Content-Security-Policy header sent with HTML pages.
#[derive(Debug, Clone, Default)]
pub struct Statics {
    /// `("/letterbox/", dist)`, …
    pub mounts: Vec<(String, std::path::PathBuf)>,
    /// Sent as `Content-Security-Policy` on `.html` files.
    pub csp: Option<String>,
    /// The dropper's base URL, set by [`start_serving`].
    pub dropper: Option<String>,
}

/// A running endpoint; stops when dropped.
pub struct Endpoint {
    /// Where it listens.
    pub addr: SocketAddr,
    server: Arc<Server>,
    worker: Option<thread::JoinHandle<()>>,
    /// Held only to stop it with the endpoint.
    _dropper: Dropper,
}

/// The running dropper: stops when dropped.
struct Dropper {
    addr: SocketAddr,
    stop: Arc<std::sync::atomic::AtomicBool>,
    worker: Option<thread::JoinHandle<()>>,
}

impl Drop for Dropper {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wake the blocking accept so it sees the flag.
        let _ = std::net::TcpStream::connect(self.addr);
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

impl Endpoint {
    /// The base URL, e.g. `http://127.0.0.1:8787`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

/// Starts the endpoint on 127.0.0.1:`port` (0 for any free port). With `verbose`, every signup
/// is printed.
pub fn start(port: u16, verbose: bool) -> Result<Endpoint> {
    start_serving(port, verbose, Statics::default())
}

/// [`start`], also serving static files.
pub fn start_serving(port: u16, verbose: bool, statics: Statics) -> Result<Endpoint> {
    let server = Server::http(("127.0.0.1", port))
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let addr = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| "the endpoint is not listening on an IP address".to_owned())?;
    let server = Arc::new(server);
    let log: Log = Arc::default();
    let dropper = start_dropper(log.clone())?;
    let statics = Arc::new(Statics {
        dropper: Some(format!("http://{}", dropper.addr)),
        ..statics
    });
    let worker = {
        let server = server.clone();
        thread::spawn(move || {
            for request in server.incoming_requests() {
                let log = log.clone();
                let statics = statics.clone();
                // One thread per request: a test's slow answer must not hold up the others.
                thread::spawn(move || handle(request, &log, &statics, verbose));
            }
        })
    };
    Ok(Endpoint {
        addr,
        server,
        worker: Some(worker),
        _dropper: dropper,
    })
}

fn respond(
    request: Request,
    status: u16,
    content_type: &str,
    body: String,
    extra: &[(&str, &str)],
) {
    let mut response = Response::from_string(body).with_status_code(status);
    let cors = [
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Expose-Headers", "Retry-After"),
        ("Content-Type", content_type),
    ];
    for (name, value) in cors.iter().chain(extra) {
        if let Some(h) = header(name, value) {
            response.add_header(h);
        }
    }
    let _ = request.respond(response);
}

fn header_value(request: &Request, name: &'static str) -> Option<String> {
    request
        .headers()
        .iter()
        .find(|h| h.field.equiv(name))
        .map(|h| h.value.as_str().to_owned())
}

/// The Content-Type of a static file, by its extension.
pub fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    }
}

/// What a GET of a static path finds.
enum StaticFile {
    /// The file's bytes and headers.
    Found(Vec<u8>, Vec<(&'static str, String)>),
    /// Under a mount, but no such file (or a path that tries to leave the folder).
    Missing(String),
}

/// The static file for `path`, or `None` if the path is under no mount.
fn find_static(path: &str, statics: &Statics) -> Option<StaticFile> {
    let (prefix, dir) = statics
        .mounts
        .iter()
        .find(|(prefix, _)| path.starts_with(prefix.as_str()))?;
    let rest = &path[prefix.len()..];
    if rest.split('/').any(|seg| seg == ".." || seg.is_empty()) {
        return Some(StaticFile::Missing(format!("no file {path}")));
    }
    Some(match std::fs::read(dir.join(rest)) {
        Ok(bytes) => {
            let mut headers = vec![("Content-Type", content_type(rest).to_owned())];
            if let (true, Some(csp)) = (rest.ends_with(".html"), &statics.csp) {
                headers.push(("Content-Security-Policy", csp.clone()));
            }
            StaticFile::Found(bytes, headers)
        }
        Err(_) => StaticFile::Missing(format!("no file {path}")),
    })
}

fn handle(request: Request, log: &Log, statics: &Statics, verbose: bool) {
    let path = request.url().split('?').next().unwrap_or("").to_owned();
    let found = if *request.method() == Method::Get {
        find_static(&path, statics)
    } else {
        None
    };
    match found {
        Some(StaticFile::Found(bytes, headers)) => {
            let mut response = Response::from_data(bytes).with_status_code(200);
            for (name, value) in headers
                .iter()
                .map(|(n, v)| (*n, v.as_str()))
                .chain([("Access-Control-Allow-Origin", "*")])
            {
                if let Some(h) = header(name, value) {
                    response.add_header(h);
                }
            }
            let _ = request.respond(response);
        }
        Some(StaticFile::Missing(message)) => respond(request, 404, "text/plain", message, &[]),
        None => handle_api(request, log, statics, verbose),
    }
}

fn handle_api(mut request: Request, log: &Log, statics: &Statics, verbose: bool) {
    let url = request.url().to_owned();
    let path = url.split('?').next().unwrap_or("").to_owned();
    // `/t/<test>/redirect`: every request, the preflight too, is redirected (301) to
    // `/t/<test>/subscribed`, as a site moved to https:// or www. answers; a cross-origin
    // request with a preflight cannot follow it. The redirected requests are recorded.
    if let Some(test) = path
        .strip_prefix("/t/")
        .and_then(|p| p.strip_suffix("/redirect"))
        .filter(|t| !t.contains('/'))
    {
        let test = test.to_owned();
        let method = request.method().to_string();
        record(
            log,
            &test,
            Recorded {
                behaviour: format!("redirect {method}"),
                idempotency_key: None,
                content_type: None,
                body: String::new(),
            },
        );
        let to = format!("/t/{test}/subscribed");
        return respond(
            request,
            301,
            "text/plain",
            String::new(),
            &[("Location", &to)],
        );
    }
    if *request.method() == Method::Options {
        let allow = [
            ("Access-Control-Allow-Methods", "POST, GET, OPTIONS"),
            (
                "Access-Control-Allow-Headers",
                "content-type, idempotency-key, accept",
            ),
            ("Access-Control-Max-Age", "600"),
        ];
        return respond(request, 204, "text/plain", String::new(), &allow);
    }
    let query = url
        .split_once('?')
        .map(|(_, q)| q.to_owned())
        .unwrap_or_default();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let method = request.method().clone();
    match (method, segments.as_slice()) {
        (Method::Get, ["t", test, "subscribe", "post-json"]) => {
            mailchimp_jsonp(request, log, test, &query)
        }
        // The same at Mailchimp's own path, for pages whose embed code names a `*.list-manage.com`
        // host that the browser tests map to 127.0.0.1: the audience id (`id`) names the test.
        (Method::Get, ["subscribe", "post-json"]) => {
            let test = query_param(&query, "id").unwrap_or_default();
            mailchimp_jsonp(request, log, &test, &query)
        }
        (Method::Get, ["t", "dropper"]) => respond(
            request,
            200,
            "text/plain",
            statics.dropper.clone().unwrap_or_default(),
            &[],
        ),
        // A listmonk instance at /t/<test>: its public lists, and double opt-in subscriptions.
        (Method::Get, ["t", test, "api", "public", "lists"]) => {
            record(
                log,
                test,
                Recorded {
                    behaviour: "listmonk-lists".into(),
                    idempotency_key: None,
                    content_type: None,
                    body: String::new(),
                },
            );
            respond(
                request,
                200,
                "application/json",
                r#"[{"uuid":"e6b6a7d2-61c4-4b5e-9e1a-0c1c2f7d9a10","name":"The Daily Briefing"},{"uuid":"0f4c3b8e-2d7a-4c1b-9a6e-5b2d8c7e1f30","name":"Culture Notes"}]"#.into(),
                &[],
            )
        }
        (Method::Post, ["t", test, "api", "public", "subscription"]) => {
            let recorded = read_recorded(&mut request, "listmonk-subscription");
            record(log, test, recorded);
            respond(
                request,
                200,
                "application/json",
                r#"{"data":{"has_optin":true}}"#.into(),
                &[],
            )
        }
        // A public count (a goal slot's `count_url`, a signup slot's `social_proof`), recorded so
        // a test can tell how many reads arrived: see [`count_answer`].
        (Method::Get, ["t", test, "count", answer]) => {
            record(
                log,
                test,
                Recorded {
                    behaviour: format!("count {answer}"),
                    idempotency_key: None,
                    content_type: None,
                    body: String::new(),
                },
            );
            count_answer(request, answer);
        }
        (Method::Get, ["t", test, "requests"]) => {
            let recorded = log
                .lock()
                .map(|l| l.get(*test).cloned().unwrap_or_default())
                .unwrap_or_default();
            respond(
                request,
                200,
                "application/json",
                requests_json(&recorded),
                &[],
            );
        }
        (Method::Post, ["t", test, behaviour]) => {
            let recorded = read_recorded(&mut request, behaviour);
            let earlier = record(log, test, recorded);
            answer(request, behaviour, earlier);
        }
        (Method::Post, ["api", "subscribe"]) => {
            let recorded = read_recorded(&mut request, "demo");
            if verbose {
                println!(
                    "endpoint: POST /api/subscribe  Idempotency-Key: {}\n          {}",
                    recorded.idempotency_key.as_deref().unwrap_or("(none)"),
                    recorded.body
                );
            }
            respond(
                request,
                200,
                "application/json",
                r#"{"status":"pending_confirmation"}"#.into(),
                &[],
            );
        }
        _ => respond(
            request,
            404,
            "text/plain",
            format!("no route for {path}"),
            &[],
        ),
    }
}

/// Records a request of `test`; returns how many that test made before it.
fn record(log: &Log, test: &str, recorded: Recorded) -> usize {
    match log.lock() {
        Ok(mut l) => {
            let list = l.entry(test.to_owned()).or_default();
            list.push(recorded);
            list.len() - 1
        }
        Err(_) => 0,
    }
}

/// Starts the raw TCP dropper on 127.0.0.1 (any free port); it records into `log`.
fn start_dropper(log: Log) -> Result<Dropper> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| format!("the dropper cannot listen: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("the dropper has no address: {e}"))?;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopping = stop.clone();
    let worker = thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            if stopping.load(std::sync::atomic::Ordering::SeqCst) {
                break;
            }
            let log = log.clone();
            thread::spawn(move || drop_or_answer(stream, &log));
        }
    });
    Ok(Dropper {
        addr,
        stop,
        worker: Some(worker),
    })
}

/// One connection to the dropper: one request, then the connection is closed (answered or not).
fn drop_or_answer(mut stream: std::net::TcpStream, log: &Log) {
    use std::io::Write;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) if raw.len() + n <= MAX_BODY as usize => raw.extend_from_slice(&buf[..n]),
            Ok(_) => return,
        }
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let header = |name: &str| {
        head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
        .min(MAX_BODY as usize);
    while raw.len() < head_end + length {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    let mut line = head.lines().next().unwrap_or("").split(' ');
    let (method, path) = (line.next().unwrap_or(""), line.next().unwrap_or(""));
    let cors = "Access-Control-Allow-Origin: *\r\nConnection: close\r\n";
    let answer = match (method, path.trim_matches('/').split('/').collect::<Vec<_>>().as_slice()) {
        ("OPTIONS", _) => format!(
            "HTTP/1.1 204 No Content\r\n{cors}Access-Control-Allow-Methods: POST, OPTIONS\r\n\
             Access-Control-Allow-Headers: content-type, idempotency-key, accept\r\nContent-Length: 0\r\n\r\n"
        ),
        ("POST", ["t", test, "drop-once"]) => {
            let recorded = Recorded {
                behaviour: "drop-once".into(),
                idempotency_key: header("idempotency-key"),
                content_type: header("content-type"),
                body: String::from_utf8_lossy(&raw[head_end..head_end + length]).into_owned(),
            };
            if record(log, test, recorded) == 0 {
                // Read, recorded, and dropped: the client gets no answer at all.
                let _ = stream.shutdown(std::net::Shutdown::Both);
                return;
            }
            let body = r#"{"status":"subscribed"}"#;
            format!(
                "HTTP/1.1 200 OK\r\n{cors}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        }
        _ => format!("HTTP/1.1 404 Not Found\r\n{cors}Content-Length: 0\r\n\r\n"),
    };
    let _ = stream.write_all(answer.as_bytes());
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

fn read_recorded(request: &mut Request, behaviour: &str) -> Recorded {
    let mut body = String::new();
    let _ = request.as_reader().take(MAX_BODY).read_to_string(&mut body);
    Recorded {
        behaviour: behaviour.to_owned(),
        idempotency_key: header_value(request, "Idempotency-Key"),
        content_type: header_value(request, "Content-Type"),
        body,
    }
}

/// The value of `name` in a query string, as written.
fn query_param(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A Mailchimp-style JSONP request: records its query under `test`, answers through `c`.
fn mailchimp_jsonp(request: Request, log: &Log, test: &str, query: &str) {
    let recorded = Recorded {
        behaviour: "mailchimp".into(),
        idempotency_key: None,
        content_type: None,
        body: query.to_owned(),
    };
    record(log, test, recorded);
    mailchimp_answer(request, query);
}

/// The JSONP answer of the Mailchimp-style route: the account id `u` picks the answer (`ok`,
/// `pending`, `already`), the answers being the recorded ones in core/tests/fixtures/mailchimp/.
fn mailchimp_answer(request: Request, query: &str) {
    let param = |name: &str| query_param(query, name);
    let callback = param("c").filter(|c| c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    let Some(callback) = callback else {
        return respond(
            request,
            400,
            "text/plain",
            "missing or odd callback".into(),
            &[],
        );
    };
    let body = match param("u").as_deref() {
        Some("pending") => {
            r#"{"result":"success","msg":"Almost finished... We need to confirm your email address. To complete the subscription process, please click the link in the email we just sent you."}"#
        }
        Some("already") => {
            r#"{"result":"error","msg":"jane@example.com is already subscribed to list The Daily Briefing. <a href=\"https://example.us21.list-manage.com/subscribe/send-email?e=x\">Click here to update your profile</a>"}"#
        }
        _ => r#"{"result":"success","msg":"Thank you for subscribing!"}"#,
    };
    // The browser-test runner's page is cross-origin isolated (COEP require-corp), so a no-cors
    // script from another origin needs this header to load. (Mailchimp itself does not send it: a
    // page with COEP require-corp cannot use Mailchimp's JSONP; see docs/providers.md.)
    let corp = [("Cross-Origin-Resource-Policy", "cross-origin")];
    respond(
        request,
        200,
        "application/javascript",
        format!("{callback}({body})"),
        &corp,
    );
}

/// Answers a test POST as its behaviour says. `earlier` is how many requests this test made
/// before this one.
///
/// | behaviour | answer |
/// |---|---|
/// | `subscribed` | 200 `{"status":"subscribed"}` |
/// | `pending` | 200 `{"status":"pending_confirmation"}` |
/// | `empty-204` | 204, no body |
/// | `conflict` | 409 |
/// | `server-error` | 500 with an HTML page |
/// | `fail-once` | 500 the first time, then 200 subscribed |
/// | `email-error` | 422 with an email field error whose message contains HTML |
/// | `rate-limited` | 429, `Retry-After: 30` |
/// | `slow` | 200 subscribed after 1.5 s |
/// | `form-ok` | 200 `text/plain` body `1` (Sendy's success answer) |
/// | `rate-once` | 429 with `Retry-After: 1` the first time, then 200 subscribed |
/// | `hang-once` | the first time, nothing for 20 s (past the widget's 15 s timeout), then 200 subscribed; later ones 200 subscribed at once |
fn answer(request: Request, behaviour: &str, earlier: usize) {
    let json = "application/json";
    match behaviour {
        "subscribed" => respond(request, 200, json, r#"{"status":"subscribed"}"#.into(), &[]),
        "pending" => respond(
            request,
            200,
            json,
            r#"{"status":"pending_confirmation"}"#.into(),
            &[],
        ),
        "empty-204" => respond(request, 204, json, String::new(), &[]),
        "conflict" => respond(
            request,
            409,
            json,
            r#"{"status":"already_subscribed"}"#.into(),
            &[],
        ),
        "server-error" => respond(
            request,
            500,
            "text/html",
            "<html><body><h1>500 Internal Server Error</h1></body></html>".into(),
            &[],
        ),
        "fail-once" if earlier == 0 => respond(
            request,
            500,
            "text/html",
            "<h1>Bad gateway</h1>".into(),
            &[],
        ),
        "fail-once" => respond(request, 200, json, r#"{"status":"subscribed"}"#.into(), &[]),
        "email-error" => respond(
            request,
            422,
            json,
            r#"{"error":{"field":"email","message":"<b>This domain does not accept mail</b>"}}"#
                .into(),
            &[],
        ),
        "rate-limited" => respond(request, 429, json, "{}".into(), &[("Retry-After", "30")]),
        // A refusal whose message (no field) carries markup that must stay text.
        "refused-html" => respond(
            request,
            400,
            json,
            r#"{"error":{"message":"<img src=x onerror=\"window.__lbx=4\">Signups are <b>closed</b>"}}"#
                .into(),
            &[],
        ),
        "form-ok" => respond(request, 200, "text/plain", "1".into(), &[]),
        "rate-once" if earlier == 0 => {
            respond(request, 429, json, "{}".into(), &[("Retry-After", "1")])
        }
        "rate-once" => respond(request, 200, json, r#"{"status":"subscribed"}"#.into(), &[]),
        // A wait long enough to watch the retry note count down.
        "rate-once-3" if earlier == 0 => {
            respond(request, 429, json, "{}".into(), &[("Retry-After", "3")])
        }
        "rate-once-3" => respond(request, 200, json, r#"{"status":"subscribed"}"#.into(), &[]),
        "hang-once" => {
            if earlier == 0 {
                thread::sleep(Duration::from_secs(20));
            }
            respond(request, 200, json, r#"{"status":"subscribed"}"#.into(), &[])
        }
        "slow" => {
            thread::sleep(Duration::from_millis(1500));
            respond(request, 200, json, r#"{"status":"subscribed"}"#.into(), &[])
        }
        other => respond(
            request,
            400,
            "text/plain",
            format!("unknown test behaviour {other:?}"),
            &[],
        ),
    }
}

/// The answer of `GET /t/<test>/count/<answer>`:
///
/// | answer | response |
/// |---|---|
/// | a whole number `n` | 200 `{"count": n, "rounded_to": 1}`, as the receiver's `/api/count/<newsletter>` |
/// | `malformed` | 200 `{"count": "lots"}` |
/// | `html` | 200 `text/html`, a proxy's error page |
/// | `error` | 503 `count unavailable` |
/// | `slow-<n>` | 200 `{"count": n}` after 1.5 s |
fn count_answer(request: Request, answer: &str) {
    let json = "application/json";
    if let Some(n) = answer.strip_prefix("slow-") {
        thread::sleep(Duration::from_millis(1500));
        return respond(request, 200, json, format!(r#"{{"count": {n}}}"#), &[]);
    }
    match answer {
        n if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => respond(
            request,
            200,
            json,
            format!(r#"{{"count": {n}, "rounded_to": 1}}"#),
            &[],
        ),
        "malformed" => respond(request, 200, json, r#"{"count": "lots"}"#.into(), &[]),
        "html" => respond(
            request,
            200,
            "text/html",
            "<html><body><h1>502 Bad Gateway</h1></body></html>".into(),
            &[],
        ),
        _ => respond(request, 503, "text/plain", "count unavailable".into(), &[]),
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn opt(s: &Option<String>) -> String {
    s.as_deref().map_or_else(|| "null".to_owned(), json_string)
}

fn requests_json(recorded: &[Recorded]) -> String {
    let items: Vec<String> = recorded
        .iter()
        .map(|r| {
            format!(
                r#"{{"behaviour":{},"idempotency_key":{},"content_type":{},"body":{}}}"#,
                json_string(&r.behaviour),
                opt(&r.idempotency_key),
                opt(&r.content_type),
                json_string(&r.body)
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;
    use std::net::TcpStream;

    fn http(addr: SocketAddr, raw: &str) -> String {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.write_all(raw.as_bytes()).expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        out
    }

    fn post(addr: SocketAddr, path: &str, body: &str) -> String {
        http(
            addr,
            &format!(
                "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nIdempotency-Key: k-1\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ),
        )
    }

    #[test]
    fn the_dropper_closes_the_first_request_unanswered_and_records_it() {
        let ep = start(0, false).expect("start");
        let url = http(
            ep.addr,
            "GET /t/dropper HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        let dropper: SocketAddr = url
            .rsplit("http://")
            .next()
            .and_then(|a| a.trim().parse().ok())
            .unwrap_or_else(|| panic!("no dropper address in {url}"));
        assert_eq!(
            post(dropper, "/t/d/drop-once", "{}"),
            "",
            "no answer at all"
        );
        assert!(post(dropper, "/t/d/drop-once", "{}").starts_with("HTTP/1.1 200"));
        let listed = http(
            ep.addr,
            "GET /t/d/requests HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(
            listed.matches(r#""idempotency_key":"k-1""#).count(),
            2,
            "{listed}"
        );
    }

    #[test]
    fn records_test_requests_and_answers_as_the_behaviour_says() {
        let ep = start(0, false).expect("start");
        assert!(
            post(ep.addr, "/t/a/fail-once", r#"{"email":"a@b.co"}"#).starts_with("HTTP/1.1 500")
        );
        assert!(
            post(ep.addr, "/t/a/fail-once", r#"{"email":"a@b.co"}"#).starts_with("HTTP/1.1 200")
        );
        let listed = http(
            ep.addr,
            "GET /t/a/requests HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert!(listed.contains(r#""idempotency_key":"k-1""#), "{listed}");
        assert!(
            listed.contains(r#""body":"{\"email\":\"a@b.co\"}""#),
            "{listed}"
        );
        assert_eq!(listed.matches("\"behaviour\"").count(), 2);
        let other = http(
            ep.addr,
            "GET /t/b/requests HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert!(other.ends_with("[]"), "{other}");
    }

    #[test]
    fn answers_cors_preflight_for_the_contract_headers() {
        let ep = start(0, false).expect("start");
        let out = http(
            ep.addr,
            "OPTIONS /t/a/subscribed HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert!(out.starts_with("HTTP/1.1 204"), "{out}");
        assert!(
            out.to_ascii_lowercase().contains("idempotency-key"),
            "{out}"
        );
    }

    #[test]
    fn rate_limit_carries_retry_after_and_unknown_routes_are_404() {
        let ep = start(0, false).expect("start");
        let out = post(ep.addr, "/t/r/rate-limited", "{}");
        assert!(
            out.starts_with("HTTP/1.1 429") && out.contains("Retry-After: 30"),
            "{out}"
        );
        assert!(post(ep.addr, "/nope", "{}").starts_with("HTTP/1.1 404"));
        let get = |path: &str| {
            http(
                ep.addr,
                &format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            )
        };
        let counted = get("/t/c/count/12345");
        assert!(counted.starts_with("HTTP/1.1 200"), "{counted}");
        assert!(
            counted.contains(r#"{"count": 12345, "rounded_to": 1}"#),
            "{counted}"
        );
        assert!(counted
            .to_ascii_lowercase()
            .contains("access-control-allow-origin: *"));
        assert!(get("/t/c/count/error").starts_with("HTTP/1.1 503"));
        assert!(get("/t/c/count/malformed").contains(r#"{"count": "lots"}"#));
        assert!(get("/t/c/requests").contains("count 12345"));
    }
}
