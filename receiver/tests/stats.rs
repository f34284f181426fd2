//! The anonymous slot statistics, the operator page and the public count over real HTTP on
//! 127.0.0.1, on a fresh SQLite file and again on PostgreSQL when
//! `LETTERBOX_TEST_POSTGRES_URL` is set. Names are unique per test so runs sharing one
//! PostgreSQL database never see each other's counts.

#[macro_use]
mod common;

use common::{unique, Backend, Http, Server};
use letterbox_receiver::config::Newsletter;
use serde_json::json;

suite!(
    stats_are_kept_as_daily_counts_per_slot_page_and_newsletter,
    stats_with_invented_names_oversize_or_opted_out_are_not_counted,
    stats_are_rate_limited_per_ip,
    the_operator_page_needs_the_token_and_shows_what_was_sent,
    the_public_count_is_rounded_and_cacheable,
);

const TOKEN: &str = "test-operator-token-0123456789";

fn today() -> i64 {
    letterbox_receiver::db::now_ms().div_euclid(86_400_000)
}

async fn post_stats(http: &Http, s: &Server, body: &serde_json::Value) -> common::Reply {
    http.send(
        "POST",
        &s.url("/api/stats"),
        &[
            ("content-type", "text/plain;charset=UTF-8"),
            ("origin", "https://news.example"),
        ],
        body.to_string(),
    )
    .await
}

/// The stored counts of today for `slot`: (page, newsletter, event, n).
async fn counts(s: &Server, slot: &str) -> Vec<(String, String, String, i64)> {
    s.running
        .db
        .stats_rows(today() - 1, today())
        .await
        .expect("stats rows")
        .into_iter()
        .filter(|r| r.slot == slot)
        .map(|r| (r.page, r.newsletter, r.event, r.n))
        .collect()
}

async fn stats_are_kept_as_daily_counts_per_slot_page_and_newsletter(b: Backend) {
    let s = Server::start(b, |_| {}).await;
    let http = Http::default();
    let top = unique("top");
    let foot = unique("foot");
    let view = json!({"v": 1, "page": "https://news.example/2026/story?utm_source=x#c", "events": [
        {"slot": top, "event": "seen"},
        {"slot": top, "event": "submitted", "newsletter": "daily"},
        {"slot": top, "event": "failed", "outcome": "network", "newsletter": "daily"},
        {"slot": top, "event": "queued", "newsletter": "daily"},
        {"slot": foot, "event": "seen"},
    ]});
    for _ in 0..3 {
        let r = post_stats(&http, &s, &view).await;
        assert_eq!(r.status, 204, "{}", r.body);
    }
    let other = json!({"page": "/other", "events": [{"slot": top, "event": "seen", "n": 2}]});
    assert_eq!(post_stats(&http, &s, &other).await.status, 204);
    let mut got = counts(&s, &top).await;
    got.sort();
    let row = |p: &str, n: &str, e: &str, c: i64| (p.to_owned(), n.to_owned(), e.to_owned(), c);
    assert_eq!(
        got,
        vec![
            row("/2026/story", "", "seen", 3),
            row("/2026/story", "daily", "failed:network", 3),
            row("/2026/story", "daily", "queued", 3),
            row("/2026/story", "daily", "submitted", 3),
            row("/other", "", "seen", 2),
        ],
        "one row per day, slot, page, newsletter and event; the query and fragment are dropped"
    );
    assert_eq!(
        counts(&s, &foot).await,
        vec![row("/2026/story", "", "seen", 3)]
    );
    s.stop().await;
}

async fn stats_with_invented_names_oversize_or_opted_out_are_not_counted(b: Backend) {
    let s = Server::start(b, |_| {}).await;
    let http = Http::default();
    let slot = unique("s");
    let bad = [
        json!({"page": "/a", "events": [{"slot": "<img src=x>", "event": "seen"}]}),
        json!({"page": "/a", "events": [{"slot": slot, "event": "clicked"}]}),
        json!({"page": "/a", "events": [{"slot": slot, "event": "failed", "outcome": "made-up"}]}),
        json!({"page": "/a", "events": [{"slot": slot, "event": "seen", "newsletter": "nope"}]}),
        json!({"page": "/a", "events": [{"slot": slot, "event": "seen", "n": 100000}]}),
        json!({"page": "not a path", "events": [{"slot": slot, "event": "seen"}]}),
        json!({"page": "/a", "events": [{"slot": slot, "event": "seen", "email": "x@example.com"}], "v": 9}),
    ];
    for body in &bad {
        let r = post_stats(&http, &s, body).await;
        assert_eq!(r.status, 422, "{body}: {}", r.body);
    }
    let many: Vec<_> = (0..65)
        .map(|i| json!({"slot": format!("{slot}{i}"), "event": "seen"}))
        .collect();
    let r = post_stats(&http, &s, &json!({"page": "/a", "events": many})).await;
    assert_eq!(r.status, 422, "more than 64 entries");
    let huge = format!(
        r#"{{"page":"/a","events":[],"pad":"{}"}}"#,
        "x".repeat(10_000)
    );
    let r = http
        .send(
            "POST",
            &s.url("/api/stats"),
            &[("content-type", "text/plain")],
            huge,
        )
        .await;
    assert_eq!(r.status, 413);
    let r = http
        .send(
            "POST",
            &s.url("/api/stats"),
            &[("content-type", "image/png")],
            "{}",
        )
        .await;
    assert_eq!(r.status, 415);
    let r = http
        .send(
            "POST",
            &s.url("/api/stats"),
            &[("content-type", "text/plain")],
            "{not json",
        )
        .await;
    assert_eq!(r.status, 400);
    let good = json!({"page": "/a", "events": [{"slot": slot, "event": "seen"}]});
    let r = http
        .send(
            "POST",
            &s.url("/api/stats"),
            &[
                ("content-type", "text/plain"),
                ("origin", "https://evil.example"),
            ],
            good.to_string(),
        )
        .await;
    assert_eq!(r.status, 403, "a page of another site");
    for (h, v) in [("sec-gpc", "1"), ("dnt", "1")] {
        let r = http
            .send(
                "POST",
                &s.url("/api/stats"),
                &[("content-type", "text/plain"), (h, v)],
                good.to_string(),
            )
            .await;
        assert_eq!(r.status, 204);
    }
    assert!(
        counts(&s, &slot).await.is_empty(),
        "nothing counted: {:?}",
        counts(&s, &slot).await
    );
    assert_eq!(post_stats(&http, &s, &good).await.status, 204);
    assert_eq!(counts(&s, &slot).await.len(), 1, "the good one is counted");
    s.stop().await;
}

async fn stats_are_rate_limited_per_ip(b: Backend) {
    let s = Server::start(b, |c| c.stats.per_ip_per_minute = 3).await;
    let http = Http::default();
    let slot = unique("r");
    let body = json!({"page": "/a", "events": [{"slot": slot, "event": "seen"}]});
    for _ in 0..3 {
        assert_eq!(post_stats(&http, &s, &body).await.status, 204);
    }
    let r = post_stats(&http, &s, &body).await;
    assert_eq!(r.status, 429);
    assert!(r.header("retry-after").is_some());
    assert_eq!(counts(&s, &slot).await[0].3, 3);
    s.stop().await;
}

/// The numbers of one slot's row on the operator page: seen, submitted, signed up, confirmed.
fn slot_row(html: &str, slot: &str) -> Vec<String> {
    let start = html
        .find(&format!("<th scope=\"row\">{slot}</th>"))
        .unwrap_or_else(|| panic!("no row for {slot}"));
    let rest = &html[start..];
    let end = rest.find("</tr>").expect("row end");
    rest[..end]
        .split("<td>")
        .skip(1)
        .map(|c| c.trim_end_matches("</td>").to_owned())
        .collect()
}

async fn the_operator_page_needs_the_token_and_shows_what_was_sent(b: Backend) {
    let url = b.url.clone();
    // Without a token in the configuration the page does not exist.
    let s = Server::start(b, |_| {}).await;
    let http = Http::default();
    for path in ["/admin", "/admin/stats.csv"] {
        let r = http
            .send("GET", &s.url(path), &[("authorization", "Bearer ")], "")
            .await;
        assert_eq!(r.status, 404, "{path}");
    }
    let r = http
        .send(
            "POST",
            &s.url("/admin"),
            &[("content-type", "application/x-www-form-urlencoded")],
            "token=",
        )
        .await;
    assert_eq!(r.status, 404);
    let backend = s.backend;
    s.running.stop().await.expect("stop");
    let backend = Backend {
        url,
        dir: backend.dir,
    };
    let s = Server::start(backend, |c| c.admin_token = Some(TOKEN.into())).await;

    let slot = unique("hero");
    let view = json!({"page": "/story", "events": [
        {"slot": slot, "event": "seen"}, {"slot": slot, "event": "submitted", "newsletter": "daily"}]});
    let seen_only = json!({"page": "/story", "events": [{"slot": slot, "event": "seen"}]});
    for body in [&view, &view, &seen_only, &seen_only] {
        assert_eq!(post_stats(&http, &s, body).await.status, 204);
    }
    // Two signups from this slot, one of them confirmed.
    let mut links = Vec::new();
    for _ in 0..2 {
        let email = format!("{}@example.com", unique("op"));
        let body = json!({"email": email, "newsletters": ["daily"], "locale": "en",
            "source": {"page": "https://news.example/story", "slot": slot}});
        assert_eq!(http.signup(&s.base, &body, None).await.status, 202);
        let outbox = http
            .send("GET", &s.url("/api/outbox"), &[], "")
            .await
            .json();
        let link = outbox["emails"]
            .as_array()
            .expect("emails")
            .iter()
            .find(|e| e["to"] == email)
            .and_then(|e| e["link"].as_str())
            .expect("a link")
            .trim_start_matches("http://receiver.test")
            .to_owned();
        links.push(link);
    }
    assert_eq!(
        http.send("POST", &s.url(&links[0]), &[], "").await.status,
        200
    );

    // No token, a wrong cookie, a wrong bearer, a wrong form: the login form, never the figures.
    let wrong = format!("letterbox_admin={}x", &TOKEN[..TOKEN.len() - 1]);
    for headers in [
        vec![],
        vec![("cookie", wrong.as_str())],
        vec![("authorization", "Bearer test-operator-token-012345678")],
    ] {
        let r = http.send("GET", &s.url("/admin"), &headers, "").await;
        assert_eq!(r.status, 401, "{headers:?}");
        assert!(!r.body.contains(&slot));
        assert!(r.body.contains("<label for=\"token\">"));
        let r = http
            .send("GET", &s.url("/admin/stats.csv"), &headers, "")
            .await;
        assert_eq!(r.status, 401);
        assert!(!r.body.contains(&slot));
    }
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let r = http
        .send("POST", &s.url("/admin"), &form, "token=not-the-token")
        .await;
    assert_eq!(r.status, 401);
    assert!(r.header("set-cookie").is_none());
    let r = http
        .send("POST", &s.url("/admin"), &form, format!("token={TOKEN}"))
        .await;
    assert_eq!(r.status, 303);
    let cookie = r.header("set-cookie").expect("a cookie").to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().expect("name=value").to_owned();

    let r = http
        .send("GET", &s.url("/admin"), &[("cookie", pair.as_str())], "")
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    // seen 4, submitted 2, signed up 2, confirmed 1, 50 % of seen submitted, 50 % signed up,
    // 50 % of signups confirmed.
    assert_eq!(
        slot_row(&r.body, &slot)[..7],
        ["4", "2", "2", "1", "50.0 %", "50.0 %", "50.0 %"]
    );
    assert!(r.body.contains("<svg"), "a chart per slot");
    assert!(r
        .body
        .contains(&format!("aria-label=\"{slot}: 2 signed up and 1 confirmed")));

    let r = http
        .send(
            "GET",
            &s.url("/admin/stats.csv"),
            &[("authorization", &format!("Bearer {TOKEN}"))],
            "",
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .unwrap_or("")
        .starts_with("text/csv"));
    let mine: Vec<&str> = r.body.lines().filter(|l| l.contains(&slot)).collect();
    let ends = |suffix: &str| mine.iter().any(|l| l.ends_with(suffix));
    assert!(ends("\"/story\",\"\",\"seen\",4"), "{mine:?}");
    assert!(ends("\"/story\",\"daily\",\"submitted\",2"), "{mine:?}");
    assert!(ends("\"daily\",signed_up,2"), "{mine:?}");
    assert!(ends("\"daily\",confirmed,1"), "{mine:?}");
    s.stop().await;
}

async fn the_public_count_is_rounded_and_cacheable(b: Backend) {
    let id = unique("n");
    let id2 = id.clone();
    let s = Server::start(b, move |c| {
        c.stats.count_round_to = 10;
        c.newsletters.push(Newsletter {
            id: id2,
            name: "Members".into(),
            description: None,
            frequency: None,
        });
    })
    .await;
    let http = Http::default();
    let r = http
        .send("GET", &s.url("/api/count/unknown"), &[], "")
        .await;
    assert_eq!(r.status, 404);
    for _ in 0..6 {
        let email = format!("{}@example.com", unique("c"));
        let body = json!({"email": email, "newsletters": [id], "locale": "en"});
        assert_eq!(http.signup(&s.base, &body, None).await.status, 202);
        let outbox = http
            .send("GET", &s.url("/api/outbox"), &[], "")
            .await
            .json();
        let link = outbox["emails"]
            .as_array()
            .expect("emails")
            .iter()
            .find(|e| e["to"] == email)
            .and_then(|e| e["link"].as_str())
            .expect("a link")
            .trim_start_matches("http://receiver.test")
            .to_owned();
        assert_eq!(http.send("POST", &s.url(&link), &[], "").await.status, 200);
    }
    let r = http
        .send(
            "GET",
            &s.url(&format!("/api/count/{id}")),
            &[("origin", "https://elsewhere.example")],
            "",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json(),
        json!({"count": 10, "rounded_to": 10}),
        "6 rounds to 10"
    );
    assert_eq!(r.header("cache-control"), Some("public, max-age=300"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    s.stop().await;
}

/// The day's row cap (SQLite only: on a shared PostgreSQL database other tests add rows to the
/// same day at the same time).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invented_names_cannot_fill_the_database_beyond_the_days_row_cap() {
    let s = Server::start(Backend::sqlite(), |c| c.stats.max_rows_per_day = 5).await;
    let http = Http::default();
    for i in 0..4 {
        let body = json!({"page": format!("/p{i}"), "events": [
            {"slot": "a", "event": "seen"}, {"slot": "b", "event": "seen"}]});
        assert_eq!(post_stats(&http, &s, &body).await.status, 204);
    }
    let rows = s
        .running
        .db
        .stats_rows(today(), today())
        .await
        .expect("rows");
    assert_eq!(rows.len(), 5, "{rows:?}");
    // Rows already there still count.
    let again = json!({"page": "/p0", "events": [{"slot": "a", "event": "seen", "n": 3}]});
    assert_eq!(post_stats(&http, &s, &again).await.status, 204);
    let rows = s
        .running
        .db
        .stats_rows(today(), today())
        .await
        .expect("rows");
    assert_eq!(rows.len(), 5);
    assert!(
        rows.iter()
            .any(|r| r.page == "/p0" && r.slot == "a" && r.n == 4),
        "{rows:?}"
    );
    s.stop().await;
}
