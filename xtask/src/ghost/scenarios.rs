//! The real-Ghost scenarios of `cargo xtask test`: the release bundle on a page of another
//! origin (strict CSP naming the Ghost site in connect-src), signing up through Ghost's members
//! API in headless Chromium, the emailed magic link followed, and the result read back through
//! the Admin API.

use std::path::Path;

use serde_json::{json, Value};

use super::{sign_up, Ghost, Shown};
use crate::e2e::{Browser, STRICT_CSP};
use crate::endpoint::{self, Statics};
use crate::tools::Tools;
use crate::util::{root, target_dir, Result};

fn slot(id: &str, ghost: &Value, newsletters: &Value) -> String {
    let config =
        json!({"provider": "ghost", "ghost": ghost, "min_fill_ms": 0, "newsletters": newsletters});
    format!(
        "<div data-letterbox id=\"{id}\"><script type=\"application/json\">{config}</script></div>\n"
    )
}

fn write_page(dir: &Path, name: &str, slots: &str) -> Result<()> {
    std::fs::write(
        dir.join(name),
        format!(
            r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>An article on another origin</title></head><body>
<h1>An article</h1>
{slots}<script type="module" src="/letterbox/letterbox.js"></script></body></html>"#
        ),
    )
    .map_err(|e| format!("cannot write {name}: {e}"))
}

fn names(list: &Value, key: &str) -> Vec<String> {
    let mut v: Vec<String> = list
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x[key].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Runs the scenarios against a fresh Ghost.
pub fn run(tools: &Tools) -> Result<()> {
    let install = super::ensure(true)?;
    let run_dir = target_dir().join("ghost-run");
    let ghost = Ghost::start(&install, &run_dir)?;
    let gurl = ghost.url();
    let daily = ghost.create_newsletter("The Daily Briefing")?;
    let weekly = ghost.create_newsletter("Weekend Reads")?;
    println!(
        "ghost: newsletters {} and {}",
        daily["slug"], weekly["slug"]
    );

    let pages = run_dir.join("pages");
    std::fs::create_dir_all(&pages)
        .map_err(|e| format!("cannot create {}: {e}", pages.display()))?;
    let statics = Statics {
        mounts: vec![
            // LETTERBOX_GHOST_DIST: another bundle folder (to try one without rebuilding).
            (
                "/letterbox/".into(),
                std::env::var_os("LETTERBOX_GHOST_DIST")
                    .map(std::path::PathBuf::from)
                    .unwrap_or_else(|| root().join("dist")),
            ),
            ("/gen/".into(), pages.clone()),
        ],
        csp: Some(STRICT_CSP.replace(
            "connect-src 'self'",
            &format!("connect-src 'self' {gurl} http://127.0.0.1:*"),
        )),
        ..Statics::default()
    };
    let server = endpoint::start_serving(0, false, statics)?;
    let base = server.url();
    let both = json!([{"id": "daily", "name": "The Daily Briefing"}, {"id": "weekly", "name": "Weekend Reads"}]);
    let ghost_config = json!({"site": gurl, "newsletters": {"daily": "The Daily Briefing", "weekly": "Weekend Reads"},
                              "labels": ["letterbox"]});
    write_page(&pages, "article.html", &slot("news", &ghost_config, &both))?;
    // Its own newsletter id: "daily" is remembered in this browser after the first signup.
    let wrong = json!({"site": gurl, "newsletters": {"culture": "No Such Newsletter"}});
    write_page(
        &pages,
        "wrong-newsletter.html",
        &slot(
            "wrong",
            &wrong,
            &json!([{"id": "culture", "name": "Culture"}]),
        ),
    )?;

    // A server that redirects every request to the real Ghost, as a site moved to https:// or
    // www. answers its old address.
    let mover = Redirector::start(&gurl)?;
    std::fs::write(
        pages.join("errors.js"),
        "window.__errors = []; const e = console.error.bind(console); \
         console.error = (...a) => { window.__errors.push(a.map(String).join(' ')); e(...a); };",
    )
    .map_err(|e| format!("cannot write errors.js: {e}"))?;
    let moved = json!({"site": mover.url(), "newsletters": {"moved": "The Daily Briefing"}});
    write_page(
        &pages,
        "redirected.html",
        &format!(
            "<script src=\"/gen/errors.js\"></script>\n{}",
            slot(
                "moved",
                &moved,
                &json!([{"id": "moved", "name": "The Daily Briefing"}])
            )
        ),
    )?;

    let browser = Browser::start(tools)?;
    let _ = browser.call("POST", "/timeouts", Some(json!({"script": 30_000})));
    let mut c = crate::e2e::Checks::new("ghost");
    let article = format!("{base}/gen/article.html");

    // 1. A new reader signs up to one of two newsletters from another origin; Ghost emails a
    //    magic link; following it creates the member with that newsletter, the label and the
    //    page as its attribution.
    let reader = "reader@example.com";
    let first = (|| -> Result<Shown> {
        browser.open(&article)?;
        sign_up(&browser, "#news", reader, &["daily"])
    })();
    println!("ghost: a new reader's signup shows {first:?}");
    c.check(
        "a new reader signing up through the real Ghost is told to check their inbox",
        first
            .as_ref()
            .map(|s| s.panel == "success" && s.title == "Check your inbox")
            .map_err(Clone::clone),
    );
    let member = (|| -> Result<Value> {
        let mails = ghost.sink.wait_for(reader, 1, 60)?;
        let link = super::magic_link(&mails[0], &gurl).ok_or("no magic link in Ghost's email")?;
        let before = ghost.member(reader)?;
        if before.is_some() {
            return Err("the member exists before the magic link was followed".into());
        }
        let path = link.trim_start_matches(&gurl).to_owned();
        let a = super::request(ghost.port, "GET", &path, &[], None)?;
        println!(
            "ghost: the magic link answered {} (Location {:?})",
            a.status,
            a.header("location")
        );
        ghost
            .member(reader)?
            .ok_or_else(|| "no member after the magic link".into())
    })();
    c.check(
        "the emailed magic link creates the member with exactly the newsletter ticked",
        member
            .as_ref()
            .map(|m| names(&m["newsletters"], "name") == ["The Daily Briefing"])
            .map_err(Clone::clone),
    );
    c.check(
        "the member has the configured label",
        member
            .as_ref()
            .map(|m| names(&m["labels"], "name") == ["letterbox"])
            .map_err(Clone::clone),
    );
    if let Ok(m) = &member {
        println!("ghost: attribution {}", m["attribution"]);
    }
    // What Ghost 6.65 stores from an embed's urlHistory (as from its own signup-form embed):
    // the page's host (with its port) as the source, "Embed" as the medium, and the host name
    // alone as the referrer URL; `url` (a page of the Ghost site itself) stays empty.
    let page_host = base.trim_start_matches("http://").to_owned();
    c.check(
        "Ghost attributes the member to the page's site as an Embed (urlHistory)",
        member
            .as_ref()
            .map(|m| {
                m["attribution"]["referrer_source"] == json!(page_host)
                    && m["attribution"]["referrer_medium"] == json!("Embed")
            })
            .map_err(Clone::clone),
    );
    c.check(
        "exactly one email was sent for the signup",
        Ok(ghost.sink.messages_to(reader).len() == 1),
    );

    // 2. Issue 16, item 2: the same reader, now a member, adds the other newsletter. Ghost
    //    answers as for a new reader, but emails a sign-in link, and following it adds nothing;
    //    the widget must say so rather than promise a confirmation.
    let again = (|| -> Result<(Shown, String, Value)> {
        browser.open(&article)?;
        let shown = sign_up(&browser, "#news", reader, &["weekly"])?;
        let mails = ghost.sink.wait_for(reader, 2, 60)?;
        let mail = super::readable(&mails[1]);
        let link = super::magic_link(&mails[1], &gurl).ok_or("no link in the second email")?;
        let path = link.trim_start_matches(&gurl).to_owned();
        super::request(ghost.port, "GET", &path, &[], None)?;
        let member = ghost.member(reader)?.ok_or("the member is gone")?;
        Ok((shown, mail, member))
    })();
    match &again {
        Ok((shown, mail, member)) => println!(
            "ghost: an existing member adding a newsletter: the widget shows {shown:?}; Ghost's email is {:?}; the member's newsletters after its link: {:?}",
            mail.lines().find(|l| l.starts_with("Subject:")).unwrap_or(""),
            names(&member["newsletters"], "name")
        ),
        Err(e) => println!("ghost: an existing member adding a newsletter: {e}"),
    }
    c.check(
        "an existing member adding a newsletter gets Ghost's sign-in email, and its link adds no newsletter (what Ghost really does)",
        again.as_ref().map(|(_, mail, member)| {
            mail.contains("sign in") || mail.contains("Sign in") || mail.contains("sign-in")
        } && names(&member["newsletters"], "name") == ["The Daily Briefing"]).map_err(Clone::clone),
    );
    c.check(
        "the widget tells an existing member that the email signs them in instead of confirming",
        again
            .as_ref()
            .map(|(shown, _, _)| {
                shown.panel == "success"
                    && shown
                        .text
                        .contains("If you already have an account, the email signs you in instead")
            })
            .map_err(Clone::clone),
    );

    // 3. Issue 16, item 3: the site URL redirects (as http→https or apex→www would) to the
    //    real Ghost. The console says what is most likely wrong with the configuration; the
    //    signup, of which nothing was sent, is kept (a proxy's error page looks the same to the
    //    page, and a reader behind one must lose nothing).
    let redirected = (|| -> Result<(Shown, Value, String)> {
        browser.open(&format!("{base}/gen/redirected.html"))?;
        let shown = sign_up(&browser, "#moved", "moved@example.com", &[])?;
        let errors = browser.script("return window.__errors || []")?;
        let queue = browser
            .script("return localStorage.getItem('letterbox:pending') || ''")?
            .as_str()
            .unwrap_or_default()
            .to_owned();
        Ok((shown, errors, queue))
    })();
    println!("ghost: a redirecting site URL: {redirected:?}");
    c.check(
        "a Ghost site URL that redirects is named on the console as a likely configuration error, and the signup is kept",
        redirected
            .as_ref()
            .map(|(shown, errors, queue)| {
                shown.panel == "queued"
                    && errors.to_string().contains("not this page's cross-origin requests")
                    && queue.contains("moved@example.com")
            })
            .map_err(Clone::clone),
    );

    // 4. Ghost's errors: a newsletter name Ghost does not have.
    let wrong_shown = (|| -> Result<Shown> {
        browser.open(&format!("{base}/gen/wrong-newsletter.html"))?;
        sign_up(&browser, "#wrong", "other@example.com", &[])
    })();
    println!("ghost: an unknown newsletter name shows {wrong_shown:?}");
    c.check(
        "a newsletter name Ghost does not know shows the failure, and no email is sent",
        wrong_shown
            .as_ref()
            .map(|s| s.panel == "failure" && ghost.sink.messages_to("other@example.com").is_empty())
            .map_err(Clone::clone),
    );

    drop(browser);
    drop(server);
    println!("ghost: {} checks passed", c.passed);
    if c.failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} real-Ghost checks failed: {}; Ghost's log is {}",
            c.failed.len(),
            c.failed.join("; "),
            ghost.log.display()
        ))
    }
}

/// One answer recorded from the real Ghost into `core/tests/fixtures/ghost/`.
struct Recorded {
    file: &'static str,
    what: &'static str,
    status: u16,
    content_type: String,
    retry_after: Option<String>,
}

/// `cargo xtask ghost --record`: asks a fresh real Ghost what the adapter's tests need and
/// writes its answers, byte for byte, into `core/tests/fixtures/ghost/`, with `recorded.md`
/// saying how each was got (Ghost version, request, status, headers).
pub fn record() -> Result<()> {
    let install = super::ensure(true)?;
    let run_dir = target_dir().join("ghost-record");
    let ghost = Ghost::start(&install, &run_dir)?;
    ghost.create_newsletter("The Daily Briefing")?;
    let dir = root().join("core/tests/fixtures/ghost");
    let origin = "https://news.example";
    let headers = [
        ("Origin", origin),
        ("app-pragma", "no-cache"),
        ("x-ghost-version", "5.90"),
    ];
    let mut out: Vec<Recorded> = Vec::new();
    let mut save = |file: &'static str, what: &'static str, a: &super::Answer| -> Result<()> {
        std::fs::write(dir.join(file), &a.body).map_err(|e| format!("cannot write {file}: {e}"))?;
        out.push(Recorded {
            file,
            what,
            status: a.status,
            content_type: a.header("content-type").unwrap_or("").to_owned(),
            retry_after: a.header("retry-after").map(str::to_owned),
        });
        Ok(())
    };
    let token = |_: ()| -> Result<super::Answer> {
        super::request(
            ghost.port,
            "GET",
            "/members/api/integrity-token/",
            &headers,
            None,
        )
    };
    let t = token(())?;
    save(
        "integrity-token.txt",
        "`GET /members/api/integrity-token/`",
        &t,
    )?;
    let send = |email: &str, newsletter: &str| -> Result<super::Answer> {
        let token = token(())?.body;
        let body = json!({"email": email, "emailType": "signup",
            "newsletters": [{"name": newsletter}], "labels": ["letterbox"],
            "urlHistory": [{"time": 0, "referrerSource": "news.example", "referrerMedium": "Embed",
                            "referrerUrl": "https://news.example/article"}],
            "honeypot": "", "integrityToken": token});
        let mut h = headers.to_vec();
        h.push(("Content-Type", "application/json"));
        super::request(
            ghost.port,
            "POST",
            "/members/api/send-magic-link/",
            &h,
            Some(&body.to_string()),
        )
    };
    save(
        "send-magic-link-created.json",
        "`POST /members/api/send-magic-link/` for a new address (`jane@example.com`, newsletter \"The Daily Briefing\")",
        &send("jane@example.com", "The Daily Briefing")?,
    )?;
    save(
        "error-invalid-newsletters.json",
        "the same with the newsletter name \"The Daily Brefing\" (not a newsletter of the site)",
        &send("jane@example.com", "The Daily Brefing")?,
    )?;
    save(
        "error-invalid-email.json",
        "the same with the address `jane@example` (no dot in the domain)",
        &send("jane@example", "The Daily Briefing")?,
    )?;
    ghost.admin_json(
        "PUT",
        "settings/",
        Some(&json!({"settings": [{"key": "blocked_email_domains", "value": "[\"blocked.example\"]"}]})),
    )?;
    save(
        "error-blocked-domain.json",
        "the same with `jane@blocked.example` after the Admin API set `blocked_email_domains` to `[\"blocked.example\"]`",
        &send("jane@blocked.example", "The Daily Briefing")?,
    )?;
    ghost.admin_json(
        "PUT",
        "settings/",
        Some(&json!({"settings": [{"key": "members_signup_access", "value": "invite"}]})),
    )?;
    save(
        "error-invite-only.json",
        "the same with `sam@example.com` after the Admin API set `members_signup_access` to `invite`",
        &send("sam@example.com", "The Daily Briefing")?,
    )?;
    ghost.admin_json(
        "PUT",
        "settings/",
        Some(&json!({"settings": [{"key": "members_signup_access", "value": "all"}]})),
    )?;
    // Ghost's spam prevention: signups from one address, until it answers 429.
    let mut limited = None;
    for i in 0..30 {
        let email = format!("reader{i}@example.com");
        let a = send(&email, "The Daily Briefing")?;
        if a.status == 429 {
            limited = Some((i, a));
            break;
        }
    }
    let (n, a) = limited.ok_or("Ghost did not answer 429 within 30 signups")?;
    println!("ghost: 429 after {n} more signups");
    save(
        "error-429.json",
        "the same, repeated for new addresses from one IP until Ghost's spam prevention answered 429",
        &a,
    )?;
    let mut md = format!(
        "# Answers recorded from a real Ghost {}\n\nWritten by `cargo xtask ghost --record` (xtask/src/ghost/scenarios.rs) from a fresh Ghost \
         installed from npm and run on 127.0.0.1 (development mode, SQLite, mail to the xtask SMTP sink), \
         with the requests Letterbox's adapter sends (`Origin: {origin}`, `app-pragma`, `x-ghost-version`; \
         the send-magic-link body as `GhostAdapter::body` builds it). Bodies are byte for byte; the token \
         and the error ids are whatever that run produced.\n\n| file | request | status | content-type | retry-after |\n|---|---|---|---|---|\n",
        super::GHOST_VERSION
    );
    for r in &out {
        md.push_str(&format!(
            "| `{}` | {} | {} | `{}` | {} |\n",
            r.file,
            r.what,
            r.status,
            r.content_type,
            r.retry_after.as_deref().unwrap_or("–")
        ));
    }
    std::fs::write(dir.join("recorded.md"), md)
        .map_err(|e| format!("cannot write recorded.md: {e}"))?;
    println!(
        "ghost: recorded {} answers into {}",
        out.len(),
        dir.display()
    );
    Ok(())
}

/// Answers every request on 127.0.0.1 with `301 Moved Permanently` to the same path at `to`;
/// stops when dropped.
struct Redirector {
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Redirector {
    fn start(to: &str) -> Result<Redirector> {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .map_err(|e| format!("the redirector cannot listen: {e}"))?;
        let port = listener
            .local_addr()
            .map_err(|e| format!("the redirector has no address: {e}"))?
            .port();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (flag, to) = (stop.clone(), to.to_owned());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let Ok(reader) = conn.try_clone() else {
                    continue;
                };
                let mut lines = BufReader::new(reader);
                let mut first = String::new();
                if lines.read_line(&mut first).is_err() {
                    continue;
                }
                // The rest of the head (a body, if any, is not read: the answer does not need it).
                let mut line = String::new();
                while lines.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let path = first.split_whitespace().nth(1).unwrap_or("/");
                let _ = conn.write_all(
                    format!(
                        "HTTP/1.1 301 Moved Permanently\r\nLocation: {to}{path}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                    .as_bytes(),
                );
            }
        });
        Ok(Redirector { port, stop })
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Redirector {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
    }
}
