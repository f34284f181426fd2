//! Abuse and retries over real HTTP on 127.0.0.1 (SQLite, and PostgreSQL when
//! `LETTERBOX_TEST_POSTGRES_URL` is set): concurrent retries of one key, the inbox-flood cap per
//! mailbox, `X-Forwarded-For` behind proxies, IPv6 networks, a key reused with changed consent or
//! locale.

#[macro_use]
mod common;

use std::sync::Arc;

use common::{body, unique, Backend, Http, Server};
use serde_json::json;

suite!(
    concurrent_retries_of_one_key_spend_no_tokens_and_get_the_first_answer,
    the_inbox_flood_cap_counts_per_mailbox_and_mails_the_address_as_typed,
    x_forwarded_for_is_read_across_header_lines_from_the_trusted_hop,
    ipv6_clients_are_limited_per_network_prefix,
    the_same_key_with_changed_consent_or_locale_is_refused,
);

async fn outbox_to(s: &Server, http: &Http) -> Vec<String> {
    let r = http.send("GET", &s.url("/api/outbox"), &[], "").await;
    r.json()["emails"]
        .as_array()
        .expect("emails")
        .iter()
        .filter_map(|e| e["to"].as_str().map(str::to_owned))
        .collect()
}

async fn concurrent_retries_of_one_key_spend_no_tokens_and_get_the_first_answer(b: Backend) {
    let s = Server::start(b, |c| {
        c.limits.per_address_per_hour = 2;
        c.limits.per_ip_per_minute = 3;
    })
    .await;
    let http = Http::default();
    let email = format!("{}@example.com", unique("twin"));
    let key = unique("twin-key-");
    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (http, base, email, key, barrier) = (
            http.clone(),
            s.base.clone(),
            email.clone(),
            key.clone(),
            barrier.clone(),
        );
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            http.signup(&base, &body(&email, &["daily"], "en"), Some(&key))
                .await
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        let r = t.await.expect("task");
        answers.push((r.status, r.body));
    }
    for a in &answers {
        assert_eq!(a.0, 202, "{answers:?}");
        assert_eq!(a.1, json!({"status": "pending_confirmation"}).to_string());
    }
    let sent = outbox_to(&s, &http).await;
    assert_eq!(sent.iter().filter(|t| **t == email).count(), 1, "{sent:?}");
    // One token of each limit was spent: another address from this client still gets in.
    let other = http
        .signup(
            &s.base,
            &body(
                &format!("{}@example.com", unique("other")),
                &["daily"],
                "en",
            ),
            None,
        )
        .await;
    assert_eq!(other.status, 202, "{}", other.body);
    s.stop().await;
}

async fn the_inbox_flood_cap_counts_per_mailbox_and_mails_the_address_as_typed(b: Backend) {
    let s = Server::start(
        Backend {
            url: b.url.clone(),
            dir: None,
        },
        |c| {
            c.limits.confirmations_per_address_per_day = 3;
        },
    )
    .await;
    let http = Http::default();
    let user = unique("jane");
    let tagged: Vec<String> = (0..8).map(|i| format!("{user}+t{i}@example.com")).collect();
    let gmail_user = unique("mail");
    let dotted: Vec<String> = (1..8)
        .map(|i| {
            let (a, b) = gmail_user.split_at(i);
            format!("{a}.{b}@gmail.com")
        })
        .chain([format!("{gmail_user}+x@googlemail.com")])
        .collect();
    for e in tagged.iter().chain(&dotted) {
        let r = http.signup(&s.base, &body(e, &["daily"], "en"), None).await;
        assert_eq!(r.status, 202, "{e}: {}", r.body);
    }
    let sent = outbox_to(&s, &http).await;
    let to_jane: Vec<&String> = sent.iter().filter(|t| tagged.contains(t)).collect();
    let to_gmail: Vec<&String> = sent.iter().filter(|t| dotted.contains(t)).collect();
    assert_eq!(to_jane.len(), 3, "{to_jane:?}");
    assert_eq!(to_gmail.len(), 3, "{to_gmail:?}");
    // Each email went to the address exactly as typed.
    for t in to_jane.iter().chain(&to_gmail) {
        assert!(t.contains('+') || t.contains('.'), "{t}");
    }
    s.stop().await;

    // The per-address rate limit counts per mailbox too.
    let s = Server::start(
        Backend {
            url: b.url.clone(),
            dir: None,
        },
        |c| {
            c.limits.per_address_per_hour = 2;
        },
    )
    .await;
    let user = unique("limit");
    let statuses: Vec<u16> = {
        let mut v = Vec::new();
        for i in 0..4 {
            let e = format!("{user}+{i}@example.com");
            v.push(
                http.signup(&s.base, &body(&e, &["daily"], "en"), None)
                    .await
                    .status,
            );
        }
        v
    };
    assert_eq!(statuses, vec![202, 202, 429, 429]);
    s.stop().await;
    drop(b);
}

async fn signup_from(http: &Http, base: &str, email: &str, xff: &[&str]) -> u16 {
    let mut headers = vec![("content-type", "application/json")];
    for line in xff {
        headers.push(("x-forwarded-for", line));
    }
    http.send(
        "POST",
        &format!("{base}/api/subscribe"),
        &headers,
        body(email, &["daily"], "en").to_string(),
    )
    .await
    .status
}

async fn x_forwarded_for_is_read_across_header_lines_from_the_trusted_hop(b: Backend) {
    // One proxy that appends its own header line (HAProxy style): the client forges the first.
    let s = Server::start(
        Backend {
            url: b.url.clone(),
            dir: None,
        },
        |c| {
            c.trust_forwarded_for = true;
            c.limits.per_ip_per_minute = 20;
        },
    )
    .await;
    let http = Http::default();
    let mut accepted = 0;
    for i in 0..40 {
        let forged = format!("10.9.{}.{}", i / 200, i % 200 + 1);
        let e = format!("{}@example.com", unique("xff"));
        if signup_from(&http, &s.base, &e, &[&forged, "198.51.100.7"]).await == 202 {
            accepted += 1;
        }
    }
    assert_eq!(
        accepted, 20,
        "one client past its limit with forged entries"
    );
    // Another real client still gets in.
    let e = format!("{}@example.com", unique("xff"));
    assert_eq!(
        signup_from(&http, &s.base, &e, &["198.51.100.8"]).await,
        202
    );
    s.stop().await;

    // Two proxies: the outer one appended the client, the inner one the outer proxy.
    let s = Server::start(
        Backend {
            url: b.url.clone(),
            dir: None,
        },
        |c| {
            c.trusted_proxies = 2;
            c.limits.per_ip_per_minute = 5;
        },
    )
    .await;
    let mut accepted = 0;
    for i in 0..10 {
        let line = format!("10.8.0.{}, 203.0.113.9", i + 1);
        let e = format!("{}@example.com", unique("xff"));
        if signup_from(&http, &s.base, &e, &[&line, "192.0.2.50"]).await == 202 {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 5);
    let e = format!("{}@example.com", unique("xff"));
    assert_eq!(
        signup_from(&http, &s.base, &e, &["203.0.113.10", "192.0.2.50"]).await,
        202
    );
    s.stop().await;
    drop(b);
}

async fn ipv6_clients_are_limited_per_network_prefix(b: Backend) {
    for (prefix, expected) in [(None, 10), (Some(128), 30)] {
        let s = Server::start(
            Backend {
                url: b.url.clone(),
                dir: None,
            },
            |c| {
                c.trust_forwarded_for = true;
                c.limits.per_ip_per_minute = 10;
                if let Some(p) = prefix {
                    c.limits.ipv6_prefix = p;
                }
            },
        )
        .await;
        let http = Http::default();
        let mut accepted = 0;
        for i in 0..30 {
            let ip = format!("2001:db8:77:1:{:x}::{:x}", i * 7 + 1, i + 1);
            let e = format!("{}@example.com", unique("v6"));
            if signup_from(&http, &s.base, &e, &[&ip]).await == 202 {
                accepted += 1;
            }
        }
        assert_eq!(accepted, expected, "prefix {prefix:?}");
        // Another /64 is another client.
        let e = format!("{}@example.com", unique("v6"));
        assert_eq!(
            signup_from(&http, &s.base, &e, &["2001:db8:77:2::1"]).await,
            202
        );
        s.stop().await;
    }
    drop(b);
}

async fn the_same_key_with_changed_consent_or_locale_is_refused(b: Backend) {
    let s = Server::start(b, |_| {}).await;
    let http = Http::default();
    let email = format!("{}@example.com", unique("consent"));
    let key = unique("consent-key-");
    let consent = |version: &str, at: u64| {
        json!({"text": "I agree to receive the newsletter", "version": version,
               "locale": "en", "page": "https://news.example/a", "at_ms": at})
    };
    let mut first = body(&email, &["daily"], "en");
    first["consent"] = consent("v1", 1_700_000_000_000);
    let r = http.signup(&s.base, &first, Some(&key)).await;
    assert_eq!(r.status, 202);
    // The same submission resent (even with a renewed at_ms) is replayed.
    let mut resent = first.clone();
    resent["consent"] = consent("v1", 1_700_000_009_000);
    let r = http.signup(&s.base, &resent, Some(&key)).await;
    assert_eq!(r.status, 202);
    assert_eq!(r.header("idempotent-replayed"), Some("true"));
    // Another consent version, no consent, or another locale under the same key: 422.
    let mut changed = first.clone();
    changed["consent"] = consent("v2", 1_700_000_000_000);
    let mut dropped = first.clone();
    dropped.as_object_mut().expect("object").remove("consent");
    let mut locale = first.clone();
    locale["locale"] = json!("uk");
    for (what, req) in [
        ("consent", changed),
        ("no consent", dropped),
        ("locale", locale),
    ] {
        let r = http.signup(&s.base, &req, Some(&key)).await;
        assert_eq!(r.status, 422, "{what}: {}", r.body);
        assert_eq!(r.json()["error"]["field"], serde_json::Value::Null);
    }
    // The stored record is the first one.
    let rows = s.running.db.subscriptions().await.expect("rows");
    let row = rows.iter().find(|r| r.email == email).expect("row");
    assert!(row.consent.as_deref().unwrap_or("").contains("\"v1\""));
    s.stop().await;
}

/// Opens a TCP connection to `addr` from the local address `from` (any 127.x.y.z works on
/// Linux loopback), sends nothing.
async fn idle_from(from: &str, addr: std::net::SocketAddr) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(format!("{from}:0").parse().expect("address"))
        .expect("bind");
    socket.connect(addr).await.expect("connect")
}

/// Whether the server closed `stream` (EOF) within a second.
async fn closed_soon(stream: &mut tokio::net::TcpStream) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 64];
    matches!(
        tokio::time::timeout(std::time::Duration::from_secs(1), stream.read(&mut buf)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_floods_are_capped_per_client_and_in_total() {
    // Per client: one address holding its share cannot take more, others still sign up.
    let s = Server::start(Backend::sqlite(), |c| {
        c.connections.per_client = 5;
        c.connections.total = 100;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(idle_from("127.0.0.2", s.running.addr).await);
    }
    let mut extra = idle_from("127.0.0.2", s.running.addr).await;
    assert!(closed_soon(&mut extra).await, "a 6th connection was kept");
    assert!(
        !closed_soon(&mut held[0]).await,
        "an admitted connection was closed"
    );
    let http = Http::default();
    let r = http
        .signup(
            &s.base,
            &body(&format!("{}@example.com", unique("conn")), &["daily"], "en"),
            None,
        )
        .await;
    assert_eq!(r.status, 202, "another client was locked out");
    drop(held);
    s.stop().await;

    // In total.
    let s = Server::start(Backend::sqlite(), |c| {
        c.connections.per_client = 0;
        c.connections.total = 8;
    })
    .await;
    let mut held = Vec::new();
    for i in 0..8 {
        held.push(idle_from(&format!("127.0.1.{}", i + 1), s.running.addr).await);
    }
    let mut extra = idle_from("127.0.2.1", s.running.addr).await;
    assert!(closed_soon(&mut extra).await, "a 9th connection was kept");
    drop(held);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let r = Http::default()
        .signup(
            &s.base,
            &body(&format!("{}@example.com", unique("conn")), &["daily"], "en"),
            None,
        )
        .await;
    assert_eq!(r.status, 202, "no recovery once the flood closed");
    s.stop().await;
}
