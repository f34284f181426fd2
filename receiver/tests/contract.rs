//! The receiver over real HTTP on 127.0.0.1: the JSON contract, double opt-in, unsubscribe, the
//! no-JS form, CORS, abuse controls and bad input. Every test runs against a fresh SQLite file,
//! and again against PostgreSQL when `LETTERBOX_TEST_POSTGRES_URL` is set.

#[macro_use]
mod common;

use common::{body, unique, Backend, Http, Server};
use serde_json::json;

suite!(
    a_new_signup_is_pending_confirmation_and_stored_once_per_newsletter,
    resubmitting_answers_pending_and_a_known_address_is_not_disclosed,
    an_already_subscribed_address_is_disclosed_only_when_the_site_opts_in,
    a_retried_idempotency_key_gets_exactly_the_first_answer,
    field_errors_are_422_with_the_field_and_a_message_in_the_readers_language,
    the_confirm_link_shows_a_button_and_only_the_post_confirms,
    the_unsubscribe_link_unsubscribes_only_on_post,
    the_no_js_form_gets_an_html_page_in_the_readers_language,
    cors_answers_only_the_allowed_origins,
    unreadable_requests_get_the_documented_errors_and_store_nothing,
    hostile_strings_in_every_field_are_refused_or_stored_verbatim,
    ten_thousand_addresses_from_one_ip_are_rate_limited,
    an_address_is_rate_limited_and_its_confirmation_emails_are_capped,
    honeypot_and_fill_time_drop_bots_without_storing,
    newsletters_health_and_outbox_endpoints_answer,
);

async fn rows_for(s: &Server, email: &str) -> Vec<(String, String)> {
    let key = email.to_lowercase();
    s.running
        .db
        .subscriptions()
        .await
        .expect("subscriptions")
        .into_iter()
        .filter(|r| r.email.to_lowercase() == key)
        .map(|r| (r.newsletter, r.status))
        .collect()
}

async fn outbox_links(s: &Server, http: &Http, email: &str) -> Vec<String> {
    let r = http.send("GET", &s.url("/api/outbox"), &[], "").await;
    assert_eq!(r.status, 200);
    r.json()["emails"]
        .as_array()
        .expect("emails")
        .iter()
        .filter(|e| e["to"] == email)
        .map(|e| {
            e["link"]
                .as_str()
                .expect("link")
                .trim_start_matches("http://receiver.test")
                .to_owned()
        })
        .collect()
}

fn unsubscribe_path(body: &str) -> String {
    let start = body.find("/api/unsubscribe/").expect("unsubscribe link");
    body[start..start + "/api/unsubscribe/".len() + 32].to_owned()
}

async fn a_new_signup_is_pending_confirmation_and_stored_once_per_newsletter(b: Backend) {
    let s = Server::start(b, |_| {}).await;
    let http = Http::default();
    let email = format!("{}@Example.COM", unique("Jane"));
    let r = http
        .signup(&s.base, &body(&email, &["daily", "culture"], "en"), None)
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(r.json(), json!({"status": "pending_confirmation"}));
    let normalised = email.replace("Example.COM", "example.com");
    let mut rows = rows_for(&s, &normalised).await;
    rows.sort();
    assert_eq!(
        rows,
        vec![
            ("culture".into(), "pending_confirmation".into()),
            ("daily".into(), "pending_confirmation".into())
        ]
    );
    let links = outbox_links(&s, &http, &normalised).await;
    assert_eq!(links.len(), 1);
    assert!(links[0].starts_with("/api/confirm/"));
    s.stop().await;
}

async fn resubmitting_answers_pending_and_a_known_address_is_not_disclosed(b: Backend) {
    let s = Server::start(b, |_| {}).await;
    let http = Http::default();
    let email = format!("{}@example.com", unique("re"));
    let first = http
        .signup(&s.base, &body(&email, &["daily"], "en"), None)
        .await;
    assert_eq!(first.status, 202);
    let again = http
        .signup(&s.base, &body(&email, &["daily"], "en"), None)
        .await;
    assert_eq!(again.status, 202, "still pending: {}", again.body);
    let link = outbox_links(&s, &http, &email).await.pop().expect("a link");
    let confirmed = http.send("POST", &s.url(&link), &[], "").await;
    assert_eq!(confirmed.status, 200);
    let third = http
        .signup(
            &s.base,
            &body(&email.to_uppercase(), &["daily"], "en"),
            None,
        )
        .await;
    // The domain is lower-cased, the local part keeps its case: the key is case-insensitive.
    // By default an address that already receives everything asked for is answered exactly like
    // a new one (nothing disclosed to whoever typed it) and its owner gets a notice instead.
    assert_eq!(third.status, 202, "{}", third.body);
    assert_eq!(third.json(), json!({"status": "pending_confirmation"}));
    let emails = http
        .send("GET", &s.url("/api/outbox"), &[], "")
        .await
        .json();
    let notice = emails["emails"]
        .as_array()
        .expect("emails")
        .iter()
        .find(|e| e["to"].as_str().unwrap_or("").eq_ignore_ascii_case(&email) && e["link"] == "")
        .cloned()
        .expect("a notice to the owner, to the address as typed");
    assert!(notice["body"]
        .as_str()
        .expect("body")
        .contains("already receives"));
    // A new newsletter for a subscribed address is pending again.
    let more = http
        .signup(&s.base, &body(&email, &["daily", "culture"], "en"), None)
        .await;
    assert_eq!(more.json(), json!({"status": "pending_confirmation"}));
    let rows = rows_for(&s, &email).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.contains(&("daily".into(), "subscribed".into())));
    s.stop().await;
}

async fn an_already_subscribed_address_is_disclosed_only_when_the_site_opts_in(b: Backend) {
    for disclose in [false, true] {
        let s = Server::start(
            Backend {
                url: b.url.clone(),
                dir: None,
            },
            |c| {
                c.disclose_subscriptions = disclose;
            },
        )
        .await;
        let http = Http::default();
        let email = format!("{}@example.com", unique("known"));
        let fresh = format!("{}@example.com", unique("fresh"));
        http.signup(&s.base, &body(&email, &["daily"], "en"), None)
            .await;
        let link = outbox_links(&s, &http, &email).await.pop().expect("a link");
        assert_eq!(http.send("POST", &s.url(&link), &[], "").await.status, 200);
        let known = http
            .signup(&s.base, &body(&email, &["daily"], "en"), None)
            .await;
        let new = http
            .signup(&s.base, &body(&fresh, &["daily"], "en"), None)
            .await;
        // The no-JS form: the same page for both unless the site opts in.
        let form = |e: &str| {
            format!(
                "email={}&newsletters=daily&locale=en",
                e.replace('@', "%40")
            )
        };
        let ct = [("content-type", "application/x-www-form-urlencoded")];
        let known_page = http
            .send("POST", &s.url("/api/subscribe"), &ct, form(&email))
            .await;
        let fresh2 = format!("{}@example.com", unique("fresh"));
        let new_page = http
            .send("POST", &s.url("/api/subscribe"), &ct, form(&fresh2))
            .await;
        if disclose {
            assert_eq!(known.status, 200);
            assert_eq!(known.json(), json!({"status": "already_subscribed"}));
            assert_ne!(
                known_page.body.replace(&email, ""),
                new_page.body.replace(&fresh2, "")
            );
        } else {
            assert_eq!((known.status, &known.body), (new.status, &new.body));
            assert_eq!(known_page.status, new_page.status);
            assert_eq!(
                known_page.body.replace(&email, "ADDRESS"),
                new_page.body.replace(&fresh2, "ADDRESS")
            );
            // The owner hears of it, within the daily cap like any email.
            let all = http
                .send("GET", &s.url("/api/outbox"), &[], "")
                .await
                .json();
            let notices = all["emails"]
                .as_array()
                .expect("emails")
                .iter()
                .filter(|e| e["to"] == email.as_str() && e["link"] == "")
                .count();
            assert_eq!(notices, 2);
        }
        s.stop().await;
    }
    drop(b);
}

async fn a_retried_idempotency_key_gets_exactly_the_first_answer(b: Backend) {
    let s = Server::start(b, |_| {}).await;
    let http = Http::default();
    let email = format!("{}@example.com", unique("idem"));
    let key = unique("key-");
    let req = body(&email, &["daily"], "en");
    let first = http.signup(&s.base, &req, Some(&key)).await;
    assert_eq!(first.status, 202);
    // Even after the state changed, the same key answers as the first time.
    let link = outbox_links(&s, &http, &email).await.pop().expect("link");
    http.send("POST", &s.url(&link), &[], "").await;
    let retry = http.signup(&s.base, &req, Some(&key)).await;
    assert_eq!(
        (retry.status, retry.body.as_str()),
        (first.status, first.body.as_str())
    );
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    // The same key with another request is refused, not replayed.
    let other = http
        .signup(&s.base, &body(&email, &["culture"], "en"), Some(&key))
        .await;
    assert_eq!(other.status, 422);
    assert!(other.json()["error"]["field"].is_null());
    // Concurrent twins with one key: one signup, one email, identical answers.
    let email2 = format!("{}@example.com", unique("twin"));
    let key2 = unique("key-");
    let req2 = body(&email2, &["daily", "culture"], "uk");
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (http, base, req2, key2) = (http.clone(), s.base.clone(), req2.clone(), key2.clone());
        tasks.push(tokio::spawn(async move {
            let r = http.signup(&base, &req2, Some(&key2)).await;
            (r.status, r.body)
        }));
    }
    for t in tasks {
        assert_eq!(
            t.await.expect("task"),
            (202, r#"{"status":"pending_confirmation"}"#.to_owned())
        );
    }
    assert_eq!(rows_for(&s, &email2).await.len(), 2);
    assert_eq!(outbox_links(&s, &http, &email2).await.len(), 1);
    s.stop().await;
}

async fn field_errors_are_422_with_the_field_and_a_message_in_the_readers_language(b: Backend) {
    let s = Server::start(b, |_| {}).await;
    let http = Http::default();
    let cases: Vec<(serde_json::Value, &str, &str)> = vec![
        (
            body("", &["daily"], "en"),
            "email",
            "Enter your email address",
        ),
        (
            body("jane@example", &["daily"], "en"),
            "email",
            "Enter the full domain",
        ),
        (body("jane.example.com", &["daily"], "en"), "email", "@"),
        (
            json!({"newsletters": ["daily"], "locale": "en"}),
            "email",
            "Enter your email address",
        ),
        (
            json!({"email": 42, "newsletters": ["daily"]}),
            "email",
            "correct format",
        ),
        (
            body("jane@example.com", &[], "en"),
            "newsletters",
            "Select at least one newsletter",
        ),
        (
            json!({"email": "jane@example.com"}),
            "newsletters",
            "Select at least one newsletter",
        ),
        (
            body("jane@example.com", &["nope"], "en"),
            "newsletters",
            "Select a newsletter from the list",
        ),
        (
            json!({"email": "jane@example.com", "newsletters": "daily"}),
            "newsletters",
            "Select a newsletter from the list",
        ),
        (body("", &["daily"], "uk-UA"), "email", "Введіть"),
        (
            body("jane@example.com", &["nope"], "uk"),
            "newsletters",
            "Оберіть",
        ),
    ];
    for (req, field, text) in cases {
        let r = http.signup(&s.base, &req, None).await;
        assert_eq!(r.status, 422, "{req}: {}", r.body);
        let v = r.json();
        assert_eq!(v["error"]["field"], field, "{req}");
        let message = v["error"]["message"].as_str().expect("message");
        assert!(message.contains(text), "{req}: {message}");
        assert!(!message.contains("invalid") && !message.contains("please"));
    }
    assert!(
        s.running.db.subscriptions().await.expect("rows").is_empty() || s.backend.dir.is_none()
    );
    s.stop().await;
}

async fn the_confirm_link_shows_a_button_and_only_the_post_confirms(b: Backend) {
    let s = Server::start(b, |_| {}).await;
    let http = Http::default();
    let email = format!("{}@example.com", unique("confirm"));
    http.signup(&s.base, &body(&email, &["daily"], "uk"), None)
        .await;
    let link = outbox_links(&s, &http, &email).await.pop().expect("link");
    for _ in 0..3 {
        let page = http.send("GET", &s.url(&link), &[], "").await;
        assert_eq!(page.status, 200);
        assert!(page
            .header("content-type")
            .unwrap_or("")
            .starts_with("text/html"));
        assert!(page.body.contains("<form method=\"post\""), "{}", page.body);
        assert!(page.body.contains("Підтвердити підписку"));
        assert!(page.body.contains("lang=\"uk\""));
        assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    }
    assert_eq!(
        rows_for(&s, &email).await,
        vec![("daily".into(), "pending_confirmation".into())],
        "a GET must not confirm"
    );
    let done = http.send("POST", &s.url(&link), &[], "").await;
    assert_eq!(done.status, 200);
    assert!(done.body.contains("Підписку підтверджено"));
    assert_eq!(
        rows_for(&s, &email).await,
        vec![("daily".into(), "subscribed".into())]
    );
    // Confirming twice is harmless; a made-up token is a 404 page.
    assert_eq!(http.send("POST", &s.url(&link), &[], "").await.status, 200);
    let bogus = http
        .send(
            "GET",
            &s.url("/api/confirm/00000000000000000000000000000000"),
            &[],
            "",
        )
        .await;
    assert_eq!(bogus.status, 404);
    let junk = http
        .send("POST", &s.url("/api/confirm/'%20OR%201=1--"), &[], "")
        .await;
    assert_eq!(junk.status, 404);
    s.stop().await;
}

async fn the_unsubscribe_link_unsubscribes_only_on_post(b: Backend) {
    let s = Server::start(b, |_| {}).await;
    let http = Http::default();
    let email = format!("{}@example.com", unique("unsub"));
    http.signup(&s.base, &body(&email, &["daily", "culture"], "en"), None)
        .await;
    let out = http
        .send("GET", &s.url("/api/outbox"), &[], "")
        .await
        .json();
    let mail = out["emails"]
        .as_array()
        .expect("emails")
        .iter()
        .find(|e| e["to"] == email.as_str())
        .expect("email")
        .clone();
    let path = unsubscribe_path(mail["body"].as_str().expect("body"));
    let page = http.send("GET", &s.url(&path), &[], "").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Unsubscribe"));
    assert!(page.body.contains("<form method=\"post\""));
    assert!(rows_for(&s, &email)
        .await
        .iter()
        .all(|(_, st)| st == "pending_confirmation"));
    // RFC 8058 one-click body, as a mail client sends it.
    let done = http
        .send(
            "POST",
            &s.url(&path),
            &[("content-type", "application/x-www-form-urlencoded")],
            "List-Unsubscribe=One-Click",
        )
        .await;
    assert_eq!(done.status, 200);
    assert!(done.body.contains("You’re unsubscribed"));
    assert!(rows_for(&s, &email)
        .await
        .iter()
        .all(|(_, st)| st == "unsubscribed"));
    // Signing up again needs a new confirmation.
    let again = http
        .signup(&s.base, &body(&email, &["daily"], "en"), None)
        .await;
    assert_eq!(again.json(), json!({"status": "pending_confirmation"}));
    assert!(rows_for(&s, &email)
        .await
        .contains(&("daily".into(), "pending_confirmation".into())));
    s.stop().await;
}

async fn the_no_js_form_gets_an_html_page_in_the_readers_language(b: Backend) {
    let s = Server::start(b, |_| {}).await;
    let http = Http::default();
    let email = format!("{}@example.com", unique("form"));
    let form = format!(
        "email={}&newsletters=daily&newsletters=culture&locale=uk&page=https%3A%2F%2Fnews.example%2Fa",
        email.replace('@', "%40")
    );
    let headers = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("origin", "https://news.example"),
        ("referer", "https://news.example/a"),
    ];
    let r = http
        .send("POST", &s.url("/api/subscribe"), &headers, form)
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert!(r
        .header("content-type")
        .unwrap_or("")
        .starts_with("text/html"));
    assert!(r.body.contains("lang=\"uk\""));
    assert!(r.body.contains("Перевірте свою пошту"), "{}", r.body);
    assert!(r.body.contains("The Daily Briefing та Culture"));
    assert!(r.body.contains("href=\"https://news.example/a\""));
    assert_eq!(rows_for(&s, &email).await.len(), 2);
    // An error is an HTML page with the message, in English from Accept-Language.
    let bad = http
        .send(
            "POST",
            &s.url("/api/subscribe"),
            &[
                (
                    "content-type",
                    "application/x-www-form-urlencoded; charset=UTF-8",
                ),
                ("accept-language", "en-GB,en;q=0.8"),
            ],
            "email=%3Cscript%3Ealert(1)%3C%2Fscript%3E&newsletters=daily",
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("There is a problem"));
    assert!(!bad.body.contains("<script>alert"));
    s.stop().await;
}

async fn cors_answers_only_the_allowed_origins(b: Backend) {
    let s = Server::start(b, |_| {}).await;
    let http = Http::default();
    let preflight = |origin: &'static str| {
        let http = http.clone();
        let url = s.url("/api/subscribe");
        async move {
            http.send(
                "OPTIONS",
                &url,
                &[
                    ("origin", origin),
                    ("access-control-request-method", "POST"),
                    (
                        "access-control-request-headers",
                        "content-type,idempotency-key",
                    ),
                ],
                "",
            )
            .await
        }
    };
    let ok = preflight("https://news.example").await;
    assert!(ok.status < 300);
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some("https://news.example")
    );
    let methods = ok.header("access-control-allow-methods").unwrap_or("");
    assert!(methods.contains("POST"), "{methods}");
    let allowed = ok
        .header("access-control-allow-headers")
        .unwrap_or("")
        .to_ascii_lowercase();
    assert!(allowed.contains("idempotency-key") && allowed.contains("content-type"));
    let evil = preflight("https://evil.example").await;
    assert_eq!(evil.header("access-control-allow-origin"), None);
    // A real POST: allowed origin is readable and exposes Retry-After; another origin is refused.
    let email = format!("{}@example.com", unique("cors"));
    let post = |origin: &'static str, email: String| {
        let http = http.clone();
        let url = s.url("/api/subscribe");
        async move {
            http.send(
                "POST",
                &url,
                &[("content-type", "application/json"), ("origin", origin)],
                body(&email, &["daily"], "en").to_string(),
            )
            .await
        }
    };
    let good = post("https://news.example", email.clone()).await;
    assert_eq!(good.status, 202);
    assert_eq!(
        good.header("access-control-allow-origin"),
        Some("https://news.example")
    );
    assert!(good
        .header("access-control-expose-headers")
        .unwrap_or("")
        .to_ascii_lowercase()
        .contains("retry-after"));
    let other = format!("{}@example.com", unique("cors"));
    let refused = post("https://evil.example", other.clone()).await;
    assert_eq!(refused.status, 403);
    assert!(refused.json()["error"]["message"].is_string());
    assert!(rows_for(&s, &other).await.is_empty());
    s.stop().await;
}

async fn unreadable_requests_get_the_documented_errors_and_store_nothing(b: Backend) {
    let s = Server::start(b, |c| c.max_body_bytes = 4096).await;
    let http = Http::default();
    let url = s.url("/api/subscribe");
    let email = format!("{}@example.com", unique("bad"));
    let good = body(&email, &["daily"], "en").to_string();
    let json_ct = [("content-type", "application/json")];
    let big = format!(
        r#"{{"email":"{email}","newsletters":["daily"],"pad":"{}"}}"#,
        "x".repeat(100_000)
    );
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<u8>, u16);
    let cases: Vec<Case> = vec![
        ("oversized", json_ct.to_vec(), big.into_bytes(), 413),
        (
            "invalid JSON",
            json_ct.to_vec(),
            b"{\"email\": ".to_vec(),
            400,
        ),
        ("a JSON array", json_ct.to_vec(), b"[1,2]".to_vec(), 400),
        ("a JSON string", json_ct.to_vec(), b"\"x\"".to_vec(), 400),
        ("empty body", json_ct.to_vec(), Vec::new(), 400),
        (
            "invalid UTF-8",
            json_ct.to_vec(),
            [
                b"{\"email\":\"".as_slice(),
                &[0xff, 0xfe, 0xc3],
                b"@example.com\"}",
            ]
            .concat(),
            400,
        ),
        (
            "invalid UTF-8 form",
            vec![("content-type", "application/x-www-form-urlencoded")],
            vec![b'e', b'=', 0xff, 0xfe],
            400,
        ),
        (
            "text/plain",
            vec![("content-type", "text/plain")],
            good.clone().into_bytes(),
            415,
        ),
        ("no content type", vec![], good.clone().into_bytes(), 415),
        (
            "multipart",
            vec![("content-type", "multipart/form-data; boundary=x")],
            b"--x--".to_vec(),
            415,
        ),
        (
            "over-long idempotency key",
            vec![
                ("content-type", "application/json"),
                (
                    "idempotency-key",
                    &*Box::leak("k".repeat(500).into_boxed_str()),
                ),
            ],
            good.clone().into_bytes(),
            400,
        ),
    ];
    for (what, headers, bytes, status) in cases {
        let r = http.send("POST", &url, &headers, bytes).await;
        assert_eq!(r.status, status, "{what}: {}", r.body);
        if what.contains("form") {
            // The no-JS form gets a page, not JSON.
            assert!(r.body.contains("There is a problem"), "{what}");
            continue;
        }
        let v = r.json();
        assert!(v["error"]["message"].is_string(), "{what}: {}", r.body);
        assert!(v["error"]["field"].is_null(), "{what}");
    }
    assert!(rows_for(&s, &email).await.is_empty());
    // Wrong methods and paths are refused; the service is still healthy.
    assert_eq!(http.send("GET", &url, &[], "").await.status, 405);
    assert_eq!(
        http.send("POST", &s.url("/api/nothing"), &[], "")
            .await
            .status,
        404
    );
    assert_eq!(
        http.send("GET", &s.url("/healthz"), &[], "").await.status,
        200
    );
    let ok = http.send("POST", &url, &json_ct, good).await;
    assert_eq!(ok.status, 202);
    s.stop().await;
}

async fn hostile_strings_in_every_field_are_refused_or_stored_verbatim(b: Backend) {
    let s = Server::start(b, |_| {}).await;
    let http = Http::default();
    let hostile = [
        "'; DROP TABLE subscriptions; --",
        "\" OR 1=1 --",
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "$1; SELECT * FROM addresses",
        "\u{0}\u{1b}[31m",
    ];
    for h in hostile {
        // As the address: refused with an email field error.
        let r = http
            .signup(
                &s.base,
                &body(&format!("{h}@example.com"), &["daily"], "en"),
                None,
            )
            .await;
        assert_eq!(r.status, 422, "{h}");
        assert_eq!(r.json()["error"]["field"], "email");
        assert!(!r.body.contains("<script>"));
        // As a newsletter id: refused.
        let r = http
            .signup(&s.base, &body("jane@example.com", &[h], "en"), None)
            .await;
        assert_eq!(r.status, 422, "{h}");
        assert_eq!(r.json()["error"]["field"], "newsletters");
        // As locale, page and slot: accepted, stored verbatim, locale falls back to English.
        let email = format!("{}@example.com", unique("hostile"));
        let req = json!({"email": email, "newsletters": ["daily"], "locale": h,
                         "source": {"page": h, "slot": h}});
        let r = http.signup(&s.base, &req, Some(&unique("k"))).await;
        assert_eq!(r.status, 202, "{h}: {}", r.body);
        let stored: Vec<_> = s
            .running
            .db
            .subscriptions()
            .await
            .expect("rows")
            .into_iter()
            .filter(|r| r.email == email)
            .collect();
        assert_eq!(stored.len(), 1);
        // Control characters are dropped (PostgreSQL text cannot hold NUL); the rest is verbatim.
        let visible: String = h.chars().filter(|c| !c.is_control()).collect();
        assert_eq!(stored[0].source_page, visible);
        assert_eq!(stored[0].locale, "en");
    }
    // SQL-looking characters that the email rule allows are stored exactly as sent.
    let tricky = format!("{}'or'1'='1@example.com", unique("x"));
    let r = http
        .signup(&s.base, &body(&tricky, &["daily"], "en"), None)
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(rows_for(&s, &tricky).await.len(), 1);
    // The tables are intact and the service healthy.
    assert_eq!(
        http.send("GET", &s.url("/healthz"), &[], "").await.status,
        200
    );
    assert!(!s.running.db.subscriptions().await.expect("rows").is_empty());
    s.stop().await;
}

async fn ten_thousand_addresses_from_one_ip_are_rate_limited(b: Backend) {
    let s = Server::start(b, |c| c.limits.per_ip_per_minute = 20).await;
    let http = Http::default();
    let run = unique("flood");
    let started = std::time::Instant::now();
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (http, base, run, next) = (http.clone(), s.base.clone(), run.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut limited, mut other) = (Vec::new(), 0usize, 0usize);
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= 10_000 {
                    break;
                }
                let email = format!("{run}n{i}@example.com");
                let r = http
                    .signup(&base, &body(&email, &["daily"], "en"), None)
                    .await;
                match r.status {
                    202 => ok.push(email),
                    429 => {
                        let wait: u64 = r
                            .header("retry-after")
                            .and_then(|v| v.parse().ok())
                            .expect("Retry-After seconds");
                        assert!((1..=60).contains(&wait));
                        limited += 1;
                    }
                    _ => other += 1,
                }
            }
            (ok, limited, other)
        }));
    }
    let (mut ok, mut limited, mut other) = (Vec::new(), 0, 0);
    for t in tasks {
        let (o, l, x) = t.await.expect("task");
        ok.extend(o);
        limited += l;
        other += x;
    }
    assert_eq!(other, 0);
    // The burst of 20, plus one token every 3 seconds the flood lasted.
    let refilled = (started.elapsed().as_secs() / 3) as usize + 1;
    assert!(
        (20..=20 + refilled).contains(&ok.len()),
        "accepted {} in {:?}",
        ok.len(),
        started.elapsed()
    );
    assert_eq!(ok.len() + limited, 10_000);
    let stored: Vec<_> = s
        .running
        .db
        .subscriptions()
        .await
        .expect("rows")
        .into_iter()
        .filter(|r| r.email.starts_with(&run))
        .collect();
    assert_eq!(stored.len(), ok.len());
    s.stop().await;
}

async fn an_address_is_rate_limited_and_its_confirmation_emails_are_capped(b: Backend) {
    let s = Server::start(b, |c| {
        c.limits.per_address_per_hour = 3;
        c.limits.confirmations_per_address_per_day = 2;
    })
    .await;
    let http = Http::default();
    let email = format!("{}@example.com", unique("bomb"));
    for _ in 0..3 {
        let r = http
            .signup(&s.base, &body(&email, &["daily"], "en"), None)
            .await;
        assert_eq!(r.status, 202);
    }
    // Two emails were written; the third signup was answered the same but sent nothing.
    assert_eq!(outbox_links(&s, &http, &email).await.len(), 2);
    let limited = http
        .signup(
            &s.base,
            &body(&email.to_uppercase(), &["daily"], "en"),
            None,
        )
        .await;
    assert_eq!(limited.status, 429);
    let wait: u64 = limited
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!(wait > 0 && wait <= 3600);
    assert!(limited.json()["error"]["message"].is_string());
    s.stop().await;
}

async fn honeypot_and_fill_time_drop_bots_without_storing(b: Backend) {
    let s = Server::start(b, |_| {}).await;
    let http = Http::default();
    let bot1 = format!("{}@example.com", unique("bot"));
    let mut req = body(&bot1, &["daily"], "en");
    req["honeypot"] = json!("http://spam.example");
    let r = http.signup(&s.base, &req, None).await;
    assert_eq!(r.status, 202, "a bot learns nothing");
    let bot2 = format!("{}@example.com", unique("bot"));
    let mut req = body(&bot2, &["daily"], "en");
    req["fill_ms"] = json!(120);
    assert_eq!(http.signup(&s.base, &req, None).await.status, 202);
    assert!(rows_for(&s, &bot1).await.is_empty());
    assert!(rows_for(&s, &bot2).await.is_empty());
    assert!(outbox_links(&s, &http, &bot1).await.is_empty());
    let human = format!("{}@example.com", unique("human"));
    let mut req = body(&human, &["daily"], "en");
    req["honeypot"] = json!("");
    req["fill_ms"] = json!(5400);
    assert_eq!(http.signup(&s.base, &req, None).await.status, 202);
    assert_eq!(rows_for(&s, &human).await.len(), 1);
    s.stop().await;
}

async fn newsletters_health_and_outbox_endpoints_answer(b: Backend) {
    let s = Server::start(b, |c| c.demo = false).await;
    let http = Http::default();
    let list = http.send("GET", &s.url("/api/newsletters"), &[], "").await;
    assert_eq!(list.status, 200);
    let v = list.json();
    assert_eq!(v["newsletters"][0]["id"], "daily");
    assert_eq!(v["newsletters"][0]["frequency"], "Every weekday");
    assert_eq!(v["newsletters"][1]["name"], "Culture");
    let health = http.send("GET", &s.url("/healthz"), &[], "").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
    // Without demo = true the outbox is not served.
    assert_eq!(
        http.send("GET", &s.url("/api/outbox"), &[], "")
            .await
            .status,
        404
    );
    s.stop().await;
}
