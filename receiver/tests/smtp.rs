//! Confirmation emails over real SMTP: the receiver talks to a small SMTP server on 127.0.0.1
//! (written here, speaking the plain RFC 5321 dialogue lettre uses) and the test reads what
//! arrived. No mail leaves the machine.

#[macro_use]
mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{body, unique, Backend, Http, Server};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message as the sink received it.
#[derive(Debug, Clone, Default)]
struct Received {
    from: String,
    to: Vec<String>,
    data: String,
}

/// An SMTP server that accepts every message and keeps it.
async fn smtp_sink() -> (u16, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the SMTP sink");
    let port = listener.local_addr().expect("sink address").port();
    let inbox: Arc<Mutex<Vec<Received>>> = Arc::default();
    let kept = inbox.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let inbox = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 sink.test ESMTP\r\n").await;
                let mut message = Received::default();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250 sink.test\r\n"
                    } else if upper.starts_with("MAIL FROM:") {
                        message.from = line[10..].trim().to_owned();
                        b"250 OK\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        message.to.push(line[8..].trim().to_owned());
                        b"250 OK\r\n"
                    } else if upper == "DATA" {
                        let _ = write.write_all(b"354 End with <CRLF>.<CRLF>\r\n").await;
                        while let Ok(Some(data)) = lines.next_line().await {
                            if data == "." {
                                break;
                            }
                            message.data.push_str(&data);
                            message.data.push('\n');
                        }
                        if let Ok(mut inbox) = inbox.lock() {
                            inbox.push(std::mem::take(&mut message));
                        }
                        b"250 OK: queued\r\n"
                    } else if upper == "QUIT" {
                        let _ = write.write_all(b"221 Bye\r\n").await;
                        break;
                    } else {
                        b"250 OK\r\n"
                    };
                    if write.write_all(reply).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    (port, inbox)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_smtp_url_the_confirmation_email_is_delivered_and_marked_sent() {
    let (port, inbox) = smtp_sink().await;
    let s = Server::start(Backend::sqlite(), |c| {
        c.mail.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
    })
    .await;
    let http = Http::default();
    let email = format!("{}@example.com", unique("reader"));
    let r = http
        .signup(&s.base, &body(&email, &["daily"], "uk"), None)
        .await;
    assert_eq!(r.status, 202);

    let mut arrived = None;
    for _ in 0..200 {
        if let Some(m) = inbox.lock().ok().and_then(|i| {
            i.iter()
                .find(|m| m.to.iter().any(|t| t.contains(&email)))
                .cloned()
        }) {
            arrived = Some(m);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mail = arrived.expect("the confirmation email reached the SMTP server within 10 s");
    let text = body_text(&mail.data);
    assert!(
        text.contains("/api/confirm/"),
        "it carries the confirmation link: {text}"
    );
    assert!(
        text.contains("/api/unsubscribe/"),
        "and the unsubscribe link: {text}"
    );
    assert!(
        mail.data.to_ascii_lowercase().contains("subject:"),
        "{}",
        mail.data
    );

    // The outbox records it as sent.
    let mut sent = false;
    for _ in 0..100 {
        let outbox = http
            .send("GET", &format!("{}/api/outbox", s.base), &[], "")
            .await;
        let value: Value = serde_json::from_str(&outbox.body).unwrap_or(Value::Null);
        sent = value["emails"].as_array().is_some_and(|m| {
            m.iter()
                .any(|m| m["to"] == email.as_str() && !m["sent_at"].is_null())
        });
        if sent {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(sent, "the outbox row is marked sent");
    s.stop().await;
}

/// The message body as text: after the headers, decoded from base64 when the message says so.
fn body_text(data: &str) -> String {
    let (headers, body) = data.split_once("\n\n").unwrap_or((data, ""));
    if !headers
        .to_ascii_lowercase()
        .contains("content-transfer-encoding: base64")
    {
        return body.to_owned();
    }
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in body.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        bits = (bits << 6) | u32::from(v);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
