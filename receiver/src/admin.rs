//! The operator page (`/admin`): per slot seen → submitted → signed up → confirmed over a chosen
//! period with conversion rates and a small server-rendered SVG chart per slot, confirmed
//! subscribers per newsletter over time, and the CSV export of the daily counts. Plain HTML (no
//! JavaScript), light and dark, behind `admin_token`.
//!
//! Access: the token is compared in constant time ([`ct_eq`]); it comes from the login form
//! (then kept in an `HttpOnly`, `SameSite=Strict` cookie limited to `/admin`) or an
//! `Authorization: Bearer` header (for scripts fetching the CSV). Without `admin_token` in the
//! configuration every `/admin` URL answers 404.

use std::collections::BTreeMap;

use crate::db::{SlotDay, StatRow, SubscriberChange};
use crate::export::{rfc3339, safe_field};
use crate::pages::escape;

/// The cookie that carries the token after the login form.
pub const COOKIE: &str = "letterbox_admin";
/// The longest period shown, in days.
pub const MAX_DAYS: i64 = 366;
/// The period shown without `from`/`to`, in days (ending today).
pub const DEFAULT_DAYS: i64 = 30;
const DAY_MS: i64 = 86_400_000;

/// Compares two byte strings in time that depends only on their lengths, never on where they
/// differ.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    let n = a.len().max(b.len());
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0xff);
        diff |= x ^ y;
    }
    // Keep the loop from being shortened.
    std::hint::black_box(diff) == 0
}

/// The operator session id in the request's `Cookie` headers, if any.
pub fn session_cookie<'a>(cookie_header: &[&'a str]) -> Option<&'a str> {
    cookie_header
        .iter()
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// Whether the request carries the token as a bearer token, or a live session's id (one of
/// `sessions`, made at login) in the cookie. Both compared in constant time.
pub fn authorized(
    expected: &str,
    sessions: &[String],
    cookie_header: &[&str],
    authorization: Option<&str>,
) -> bool {
    let mut ok = false;
    if let Some(bearer) = authorization.and_then(|v| v.strip_prefix("Bearer ")) {
        ok |= ct_eq(bearer.trim().as_bytes(), expected.as_bytes());
    }
    if let Some(id) = session_cookie(cookie_header) {
        for session in sessions {
            ok |= ct_eq(id.as_bytes(), session.as_bytes());
        }
    }
    ok
}

/// `YYYY-MM-DD` of a day number (days since the Unix epoch, UTC).
pub fn date(day: i64) -> String {
    rfc3339(day.saturating_mul(DAY_MS))
        .get(..10)
        .unwrap_or("")
        .to_owned()
}

/// The day number of `YYYY-MM-DD`, if it is a real date.
pub fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Days-from-civil (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let day = era * 146_097 + doe - 719_468;
    // 2026-02-31 and the like: the round trip differs.
    (date(day) == format!("{y:04}-{m:02}-{d:02}")).then_some(day)
}

/// The period from the query (`from`, `to` as `YYYY-MM-DD`), as inclusive day numbers: by
/// default the last [`DEFAULT_DAYS`] days up to `today`; reversed dates are swapped and a period
/// longer than [`MAX_DAYS`] is cut from its start.
pub fn period(from: Option<&str>, to: Option<&str>, today: i64) -> (i64, i64) {
    let to_day = to.and_then(parse_date).unwrap_or(today);
    let from_day = from
        .and_then(parse_date)
        .unwrap_or(to_day - (DEFAULT_DAYS - 1));
    let (a, b) = if from_day <= to_day {
        (from_day, to_day)
    } else {
        (to_day, from_day)
    };
    (a.max(b - (MAX_DAYS - 1)), b)
}

/// The funnel of one slot over the period, and its days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlotFunnel {
    /// Seen (at least half in view for a second, once per page view).
    pub seen: i64,
    /// Submitted.
    pub submitted: i64,
    /// Failed, any outcome.
    pub failed: i64,
    /// Queued in the browser (offline).
    pub queued: i64,
    /// Subscriptions created (one per address and newsletter), from the database.
    pub signed_up: i64,
    /// Of all subscriptions this slot brought, those confirmed in the period.
    pub confirmed: i64,
    /// Per day of the period: (signed up, confirmed).
    pub days: BTreeMap<i64, (i64, i64)>,
}

/// Per slot, from the widget's counts and the database's subscriptions.
pub fn funnels(stats: &[StatRow], slots: &[SlotDay]) -> BTreeMap<String, SlotFunnel> {
    let mut out: BTreeMap<String, SlotFunnel> = BTreeMap::new();
    for r in stats {
        let f = out.entry(r.slot.clone()).or_default();
        match r.event.as_str() {
            "seen" => f.seen += r.n,
            "submitted" => f.submitted += r.n,
            "queued" => f.queued += r.n,
            e if e.starts_with("failed:") => f.failed += r.n,
            _ => {}
        }
    }
    for s in slots {
        let name = if s.slot.is_empty() {
            "(none)".to_owned()
        } else {
            s.slot.clone()
        };
        let f = out.entry(name).or_default();
        f.signed_up += s.signed_up;
        f.confirmed += s.confirmed;
        let d = f.days.entry(s.day).or_default();
        d.0 += s.signed_up;
        d.1 += s.confirmed;
    }
    out
}

/// `a / b` as a percentage with one decimal, or "–" when `b` is 0.
pub fn rate(a: i64, b: i64) -> String {
    if b <= 0 {
        "–".to_owned()
    } else {
        format!("{:.1} %", a as f64 * 100.0 / b as f64)
    }
}

/// Confirmed subscribers of each newsletter at the end of each day of the period.
pub fn subscribers(
    changes: &[SubscriberChange],
    newsletters: &[(String, String)],
    from: i64,
    to: i64,
) -> Vec<(String, String, Vec<i64>)> {
    newsletters
        .iter()
        .map(|(id, name)| {
            let mut total: i64 = changes
                .iter()
                .filter(|c| &c.newsletter == id && c.day < from)
                .map(|c| c.delta)
                .sum();
            let mut series = Vec::new();
            for day in from..=to {
                total += changes
                    .iter()
                    .filter(|c| &c.newsletter == id && c.day == day)
                    .map(|c| c.delta)
                    .sum::<i64>();
                series.push(total);
            }
            (id.clone(), name.clone(), series)
        })
        .collect()
}

const STYLE: &str = "\
:root{color-scheme:light dark;--fg:#1b1b1b;--bg:#fff;--muted:#555;--line:#c8c8c8;--a:#0b57d0;--b:#0a6b3c}
@media (prefers-color-scheme:dark){:root{--fg:#eee;--bg:#16181b;--muted:#b8b8b8;--line:#4a4d52;--a:#8ab4f8;--b:#6fd39b}}
body{margin:0;font:16px/1.5 system-ui,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:72rem;margin:0 auto;padding:1rem}
a{color:var(--a)}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;min-width:100%}
caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
.scroll{overflow-x:auto}
form{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:end;margin:1rem 0}
label{display:block;font-weight:600}
input,button{font:inherit;padding:.35rem .5rem;color:var(--fg);background:var(--bg);border:1px solid var(--muted);border-radius:4px}
button{cursor:pointer}
:focus-visible{outline:3px solid var(--a);outline-offset:2px}
.muted{color:var(--muted)}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(16rem,1fr));gap:1rem}
figure{margin:0}
figcaption{font-weight:600}
svg{display:block;width:100%;height:auto;color:var(--fg)}
.sa{fill:var(--a)}.sb{fill:var(--b)}.ln{stroke:var(--a);fill:none;stroke-width:2}.ax{stroke:var(--line)}
.key span{display:inline-block;width:.8em;height:.8em;margin:0 .3em 0 .8em;vertical-align:-.05em}
.key .ka{background:var(--a)}.key .kb{background:var(--b)}
";

fn head(title: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{}</title><style>{STYLE}</style></head><body><main>",
        escape(title)
    )
}

/// The login form (shown without a valid token); `problem` says why the last try failed.
pub fn login_page(site: &str, problem: Option<&str>) -> String {
    let mut html = head(&format!("Operator page · {site}"));
    html.push_str(&format!("<h1>Operator page · {}</h1>", escape(site)));
    if let Some(p) = problem {
        html.push_str(&format!(
            "<p role=\"alert\" id=\"problem\"><strong>{}</strong></p>",
            escape(p)
        ));
    }
    let described = if problem.is_some() {
        " aria-describedby=\"problem\" aria-invalid=\"true\""
    } else {
        ""
    };
    html.push_str(&format!(
        "<form method=\"post\" action=\"/admin\"><div><label for=\"token\">Operator token</label>\
         <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" required{described}></div>\
         <button type=\"submit\">Open</button></form>\
         <p class=\"muted\">The token is <code>admin_token</code> in the receiver's configuration.</p></main></body></html>"
    ));
    html
}

/// A bar chart of signed up (and, inside, confirmed) per day: an image with a text alternative
/// that says the totals and the best day.
fn slot_chart(slot: &str, f: &SlotFunnel, from: i64, to: i64) -> String {
    let days = (to - from + 1).max(1);
    let (w, h) = (320.0_f64, 80.0_f64);
    let max = f
        .days
        .values()
        .map(|d| d.0.max(d.1))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let bw = w / days as f64;
    let mut bars = String::new();
    for (day, (signed, confirmed)) in &f.days {
        if *day < from || *day > to {
            continue;
        }
        let x = (day - from) as f64 * bw;
        for (value, class) in [(*signed, "sa"), (*confirmed, "sb")] {
            if value <= 0 {
                continue;
            }
            let bh = value as f64 / max * (h - 2.0);
            let inset = if class == "sb" { bw * 0.25 } else { 0.0 };
            bars.push_str(&format!(
                "<rect class=\"{class}\" x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{:.2}\"></rect>",
                x + inset + bw * 0.1,
                h - bh,
                (bw * 0.8 - 2.0 * inset).max(0.5),
                bh
            ));
        }
    }
    let best = f
        .days
        .iter()
        .filter(|(d, _)| **d >= from && **d <= to)
        .max_by_key(|(d, v)| (v.0, -**d));
    let summary = match best {
        Some((day, (n, _))) if *n > 0 => format!(
            "{slot}: {} signed up and {} confirmed from {} to {}; most signups on {} ({n}).",
            f.signed_up,
            f.confirmed,
            date(from),
            date(to),
            date(*day)
        ),
        _ => format!("{slot}: no signups from {} to {}.", date(from), date(to)),
    };
    format!(
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\" focusable=\"false\">\
         <line class=\"ax\" x1=\"0\" y1=\"{h}\" x2=\"{w}\" y2=\"{h}\"></line>{bars}</svg>",
        escape(&summary)
    )
}

/// A line of confirmed subscribers per day.
fn subscriber_chart(name: &str, series: &[i64], from: i64, to: i64) -> String {
    let (w, h) = (320.0_f64, 80.0_f64);
    let max = series.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = if series.len() > 1 {
        w / (series.len() - 1) as f64
    } else {
        0.0
    };
    let points: Vec<String> = series
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{:.2},{:.2}",
                i as f64 * step,
                h - 2.0 - *v as f64 / max * (h - 4.0)
            )
        })
        .collect();
    let first = series.first().copied().unwrap_or(0);
    let last = series.last().copied().unwrap_or(0);
    let summary = format!(
        "{name}: {first} confirmed subscribers on {}, {last} on {}.",
        date(from),
        date(to)
    );
    format!(
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\" focusable=\"false\">\
         <line class=\"ax\" x1=\"0\" y1=\"{h}\" x2=\"{w}\" y2=\"{h}\"></line>\
         <polyline class=\"ln\" points=\"{}\"></polyline></svg>",
        escape(&summary),
        points.join(" ")
    )
}

/// The operator page for the period `from..=to`.
pub fn page(
    site: &str,
    from: i64,
    to: i64,
    funnels: &BTreeMap<String, SlotFunnel>,
    subscribers: &[(String, String, Vec<i64>)],
) -> String {
    let (f, t) = (date(from), date(to));
    let mut html = head(&format!("Signups by slot · {site}"));
    html.push_str(&format!(
        "<h1>Signups by slot · {}</h1>\
         <form method=\"get\" action=\"/admin\">\
         <div><label for=\"from\">From</label><input id=\"from\" name=\"from\" type=\"date\" value=\"{f}\"></div>\
         <div><label for=\"to\">To</label><input id=\"to\" name=\"to\" type=\"date\" value=\"{t}\"></div>\
         <button type=\"submit\">Show</button></form>\
         <p>Days in UTC, {f} to {t}. <a href=\"/admin/stats.csv?from={f}&amp;to={t}\" download>Download the daily counts (CSV)</a></p>",
        escape(site)
    ));
    html.push_str(
        "<h2>Slots</h2><div class=\"scroll\" role=\"region\" tabindex=\"0\" aria-label=\"Slots table (scrolls sideways)\"><table><caption>Seen → submitted → signed up → confirmed, per slot</caption>\
         <thead><tr><th scope=\"col\">Slot</th><th scope=\"col\">Seen</th><th scope=\"col\">Submitted</th>\
         <th scope=\"col\">Signed up</th><th scope=\"col\">Confirmed</th><th scope=\"col\">Submitted of seen</th>\
         <th scope=\"col\">Signed up of seen</th><th scope=\"col\">Confirmed of signed up</th>\
         <th scope=\"col\">Failed</th><th scope=\"col\">Queued offline</th></tr></thead><tbody>",
    );
    if funnels.is_empty() {
        html.push_str("<tr><td colspan=\"10\">Nothing counted in this period.</td></tr>");
    }
    for (slot, x) in funnels {
        html.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(slot),
            x.seen,
            x.submitted,
            x.signed_up,
            x.confirmed,
            rate(x.submitted, x.seen),
            rate(x.signed_up, x.seen),
            rate(x.confirmed, x.signed_up),
            x.failed,
            x.queued
        ));
    }
    html.push_str(
        "</tbody></table></div>\
         <p class=\"muted\">Seen, submitted, failed and queued come from the widget (anonymous daily counts; \
         readers with Global Privacy Control or Do Not Track send none). Signed up counts subscriptions \
         (one per address and newsletter); confirmed counts confirmations in the period, credited to the \
         slot that brought the signup.</p>\
         <h2>Signups per day</h2><p class=\"key\" aria-hidden=\"true\"><span class=\"ka\"></span>signed up<span class=\"kb\"></span>confirmed</p>\
         <div class=\"charts\">",
    );
    for (slot, x) in funnels {
        html.push_str(&format!(
            "<figure><figcaption>{}</figcaption>{}</figure>",
            escape(slot),
            slot_chart(slot, x, from, to)
        ));
    }
    html.push_str("</div><h2>Confirmed subscribers</h2><div class=\"scroll\" role=\"region\" tabindex=\"0\" aria-label=\"Subscribers table (scrolls sideways)\"><table><caption>Per newsletter</caption>\
        <thead><tr><th scope=\"col\">Newsletter</th><th scope=\"col\">At the start</th><th scope=\"col\">At the end</th><th scope=\"col\">Change</th></tr></thead><tbody>");
    for (_, name, series) in subscribers {
        let first = series.first().copied().unwrap_or(0);
        let last = series.last().copied().unwrap_or(0);
        html.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td>{first}</td><td>{last}</td><td>{:+}</td></tr>",
            escape(name),
            last - first
        ));
    }
    html.push_str("</tbody></table></div><div class=\"charts\">");
    for (_, name, series) in subscribers {
        html.push_str(&format!(
            "<figure><figcaption>{}</figcaption>{}</figure>",
            escape(name),
            subscriber_chart(name, series, from, to)
        ));
    }
    html.push_str(
        "</div><form method=\"post\" action=\"/admin/logout\"><button type=\"submit\">Log out</button></form></main></body></html>",
    );
    html
}

/// The CSV of the period: `day,slot,page,newsletter,event,count`, the widget's daily counts and
/// then, with event `signed_up` or `confirmed` and an empty page, the subscriptions per slot.
pub fn csv(stats: &[StatRow], slots: &[SlotDay]) -> String {
    let mut out = String::from("day,slot,page,newsletter,event,count\n");
    for r in stats {
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            date(r.day),
            safe_field(&r.slot),
            safe_field(&r.page),
            safe_field(&r.newsletter),
            safe_field(&r.event),
            r.n
        ));
    }
    for s in slots {
        for (event, n) in [("signed_up", s.signed_up), ("confirmed", s.confirmed)] {
            if n > 0 {
                out.push_str(&format!(
                    "{},{},\"\",{},{event},{n}\n",
                    date(s.day),
                    safe_field(&s.slot),
                    safe_field(&s.newsletter)
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(ct_eq(b"abcdef", b"abcdef"));
        assert!(!ct_eq(b"abcdef", b"abcdeg"));
        assert!(!ct_eq(b"abcdef", b"abcde"));
        assert!(!ct_eq(b"", b"x"));
        let t = "0123456789abcdef01234567";
        let live = vec!["5e55"; 1]
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>();
        // A live session's id in the cookie, or the token as a bearer token.
        assert!(authorized(t, &live, &["a=b; letterbox_admin=5e55"], None));
        assert!(authorized(
            t,
            &[],
            &[],
            Some("Bearer 0123456789abcdef01234567")
        ));
        // The token itself is no cookie, and an ended session is no session.
        assert!(!authorized(
            t,
            &live,
            &["letterbox_admin=0123456789abcdef01234567"],
            None
        ));
        assert!(!authorized(t, &[], &["letterbox_admin=5e55"], None));
        assert!(!authorized(t, &live, &["other=5e55"], None));
        assert!(!authorized(
            t,
            &[],
            &[],
            Some("Basic 0123456789abcdef01234567")
        ));
    }

    #[test]
    fn dates_round_trip_and_periods_are_bounded() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(
            parse_date("2026-11-27").map(date).as_deref(),
            Some("2026-11-27")
        );
        assert_eq!(parse_date("2026-02-31"), None);
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("x"), None);
        let today = parse_date("2026-11-27").unwrap();
        assert_eq!(period(None, None, today), (today - 29, today));
        assert_eq!(
            period(Some("2026-11-27"), Some("2026-11-01"), today),
            (today - 26, today)
        );
        let (a, b) = period(Some("2000-01-01"), None, today);
        assert_eq!(b - a + 1, MAX_DAYS);
    }

    #[test]
    fn the_page_escapes_names_and_says_rates() {
        let stats = vec![StatRow {
            day: 10,
            slot: "<b>".into(),
            page: "/".into(),
            newsletter: String::new(),
            event: "seen".into(),
            n: 8,
        }];
        let slots = vec![SlotDay {
            day: 10,
            slot: "<b>".into(),
            newsletter: "daily".into(),
            signed_up: 2,
            confirmed: 1,
        }];
        let f = funnels(&stats, &slots);
        assert_eq!(f["<b>"].seen, 8);
        assert_eq!(rate(2, 8), "25.0 %");
        assert_eq!(rate(1, 0), "–");
        let html = page("Site", 5, 12, &f, &[]);
        assert!(!html.contains("<b>"));
        assert!(html.contains("&lt;b&gt;"));
        assert!(html.contains("25.0 %"));
        let csv = csv(&stats, &slots);
        assert!(
            csv.contains("1970-01-11,\"<b>\",\"/\",\"\",\"seen\",8"),
            "{csv}"
        );
        assert!(csv.contains("signed_up,2"));
    }
}
