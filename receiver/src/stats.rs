//! `POST /api/stats`: the anonymous slot statistics a widget sends once per page view, read and
//! checked before anything is counted.
//!
//! The body (JSON; sent by `navigator.sendBeacon` as `text/plain`, which needs no preflight):
//!
//! ```json
//! {"v": 1, "page": "/2026/11/story",
//!  "events": [{"slot": "top", "event": "seen", "n": 1},
//!             {"slot": "top", "event": "failed", "outcome": "network", "newsletter": "daily"}]}
//! ```
//!
//! Nothing in it names a reader or a device; the receiver keeps only the daily count of each
//! (slot, page, newsletter, event). Every name is checked and bounded: a slot is 1–64 letters,
//! digits, `-`, `_`, `.` or `:`; the page is a path (a full URL is cut to its path; query and
//! fragment are dropped) cut to [`MAX_PAGE_CHARS`]; a newsletter must be configured; an
//! event is one of [`EVENTS`], a failure's outcome one of [`FAILURES`]; at most [`MAX_EVENTS`]
//! entries, each `n` from 1 to [`MAX_N`].

use serde_json::Value;

use crate::config::Config;
use crate::db::StatEvent;

/// The most entries one request may carry.
pub const MAX_EVENTS: usize = 64;
/// The largest `n` of one entry (one page view cannot see hundreds of submissions).
pub const MAX_N: i64 = 50;
/// The longest page path kept.
pub const MAX_PAGE_CHARS: usize = letterbox_core::slot::stats::MAX_PAGE_CHARS;
/// The longest slot name.
pub const MAX_SLOT_CHARS: usize = 64;
/// The events counted.
pub const EVENTS: &[&str] = &["seen", "submitted", "succeeded", "failed", "queued"];
/// The outcome kinds of a failure (the widget's `letterbox:error` outcomes).
pub const FAILURES: &[&str] = &[
    "invalid",
    "network",
    "timeout",
    "server",
    "rate_limited",
    "rejected",
    "spam",
    "configuration",
];

/// A checked statistics request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The page path.
    pub page: String,
    /// The entries, merged when the same (slot, newsletter, event) came twice.
    pub events: Vec<StatEvent>,
}

/// Why a statistics request is refused (the message is for the developer of the page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

fn refused(text: impl Into<String>) -> Refused {
    Refused(text.into())
}

/// A slot name the receiver keeps.
pub fn slot_ok(slot: &str) -> bool {
    !slot.is_empty()
        && slot.len() <= MAX_SLOT_CHARS
        && slot
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
}

/// The path of `page` (a path or an absolute http(s) URL), without query or fragment, cut to
/// [`MAX_PAGE_CHARS`], read as the widget reads it ([`letterbox_core::slot::stats::page_path`]);
/// None when it is neither or holds control characters or spaces.
pub fn page_path(page: &str) -> Option<String> {
    // `//host/…` is an address on another site, not a path.
    let url_or_path = page.starts_with("https://")
        || page.starts_with("http://")
        || (page.starts_with('/') && !page.starts_with("//"));
    let clean = !page.chars().any(|c| c.is_control() || c.is_whitespace());
    (url_or_path && clean).then(|| letterbox_core::slot::stats::page_path(page))
}

/// Reads and checks a statistics body against the configured newsletters.
pub fn parse(bytes: &[u8], config: &Config) -> Result<Report, Refused> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|_| refused("the body is not JSON"))?;
    let obj = value
        .as_object()
        .ok_or_else(|| refused("the body is not a JSON object"))?;
    match obj.get("v") {
        None => {}
        Some(v) if v.as_u64() == Some(1) => {}
        Some(_) => return Err(refused("v: only version 1 is understood")),
    }
    let page = obj
        .get("page")
        .and_then(Value::as_str)
        .and_then(page_path)
        .ok_or_else(|| {
            refused(format!(
                "page: a path like /news/story (at most {MAX_PAGE_CHARS} characters)"
            ))
        })?;
    let items = obj
        .get("events")
        .and_then(Value::as_array)
        .ok_or_else(|| refused("events: a list is required"))?;
    if items.len() > MAX_EVENTS {
        return Err(refused(format!("events: at most {MAX_EVENTS} entries")));
    }
    let mut events: Vec<StatEvent> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let e = item
            .as_object()
            .ok_or_else(|| refused(format!("events[{i}]: an object")))?;
        let slot = e.get("slot").and_then(Value::as_str).unwrap_or("");
        if !slot_ok(slot) {
            return Err(refused(format!(
                "events[{i}].slot: 1–{MAX_SLOT_CHARS} letters, digits, - _ . or :"
            )));
        }
        let kind = e.get("event").and_then(Value::as_str).unwrap_or("");
        if !EVENTS.contains(&kind) {
            return Err(refused(format!(
                "events[{i}].event: one of {}",
                EVENTS.join(", ")
            )));
        }
        let event = if kind == "failed" {
            let outcome = e.get("outcome").and_then(Value::as_str).unwrap_or("");
            if !FAILURES.contains(&outcome) {
                return Err(refused(format!(
                    "events[{i}].outcome: one of {}",
                    FAILURES.join(", ")
                )));
            }
            format!("failed:{outcome}")
        } else {
            kind.to_owned()
        };
        let newsletter = match e.get("newsletter") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(id)) if config.newsletter(id).is_some() => id.clone(),
            Some(_) => {
                return Err(refused(format!(
                    "events[{i}].newsletter: a configured newsletter id"
                )))
            }
        };
        let n = match e.get("n") {
            None => 1,
            Some(v) => v
                .as_i64()
                .filter(|n| (1..=MAX_N).contains(n))
                .ok_or_else(|| refused(format!("events[{i}].n: 1 to {MAX_N}")))?,
        };
        match events
            .iter_mut()
            .find(|x| x.slot == slot && x.newsletter == newsletter && x.event == event)
        {
            Some(x) => x.n = (x.n + n).min(MAX_N),
            None => events.push(StatEvent {
                slot: slot.to_owned(),
                newsletter,
                event,
                n,
            }),
        }
    }
    Ok(Report { page, events })
}

/// `n` rounded to the nearest multiple of `to` (halves up); `to` of 0 or 1 leaves it.
pub fn round_count(n: i64, to: u32) -> i64 {
    let to = i64::from(to.max(1));
    (n.max(0) + to / 2) / to * to
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Newsletter;

    fn config() -> Config {
        Config {
            newsletters: vec![Newsletter {
                id: "daily".into(),
                name: "Daily".into(),
                description: None,
                frequency: None,
            }],
            ..Config::default()
        }
    }

    #[test]
    fn a_report_is_read_merged_and_bounded() {
        let body = br#"{"v":1,"page":"https://news.example/2026/story?utm=x#top","events":[
            {"slot":"top","event":"seen"},
            {"slot":"top","event":"failed","outcome":"network","newsletter":"daily","n":2},
            {"slot":"top","event":"seen","n":1}]}"#;
        let r = parse(body, &config()).unwrap();
        assert_eq!(r.page, "/2026/story");
        assert_eq!(r.events.len(), 2);
        assert_eq!(r.events[0].n, 2, "the two seen entries are merged");
        assert_eq!(r.events[1].event, "failed:network");
        assert_eq!(r.events[1].newsletter, "daily");
    }

    #[test]
    fn invented_names_and_sizes_are_refused() {
        let c = config();
        let bad = [
            r#"{"page":"/a","events":[{"slot":"<script>","event":"seen"}]}"#,
            r#"{"page":"/a","events":[{"slot":"top","event":"clicked"}]}"#,
            r#"{"page":"/a","events":[{"slot":"top","event":"failed","outcome":"anything"}]}"#,
            r#"{"page":"/a","events":[{"slot":"top","event":"seen","newsletter":"weekly"}]}"#,
            r#"{"page":"/a","events":[{"slot":"top","event":"seen","n":1000}]}"#,
            r#"{"page":"/a","events":[{"slot":"top","event":"seen","n":0}]}"#,
            r#"{"page":"a b","events":[]}"#,
            r#"{"page":"//evil.example/x","events":[]}"#,
            r#"{"page":"/a","v":2,"events":[]}"#,
            r#"{"page":"/a"}"#,
            r#"[1]"#,
        ];
        for b in bad {
            assert!(parse(b.as_bytes(), &c).is_err(), "{b}");
        }
        let many: Vec<String> = (0..=MAX_EVENTS)
            .map(|i| format!(r#"{{"slot":"s{i}","event":"seen"}}"#))
            .collect();
        let body = format!(r#"{{"page":"/a","events":[{}]}}"#, many.join(","));
        assert!(parse(body.as_bytes(), &c).is_err());
        let long = format!(
            r#"{{"page":"/{}","events":[]}}"#,
            "a".repeat(MAX_PAGE_CHARS)
        );
        assert!(parse(long.as_bytes(), &c).is_ok_and(|r| r.page.chars().count() == MAX_PAGE_CHARS));
    }

    #[test]
    fn page_paths_and_rounding() {
        assert_eq!(page_path("https://news.example").as_deref(), Some("/"));
        assert_eq!(page_path("http://news.example?x").as_deref(), Some("/"));
        assert_eq!(page_path("/a/b?c#d").as_deref(), Some("/a/b"));
        assert_eq!(page_path("javascript:alert(1)"), None);
        // As the widget reads it: a query's path is no path, and `//` is one `/`.
        assert_eq!(
            page_path("https://news.example?next=/a/b").as_deref(),
            Some("/")
        );
        assert_eq!(page_path("https://news.example//a").as_deref(), Some("/a"));
        assert_eq!(round_count(48_049, 100), 48_000);
        assert_eq!(round_count(48_050, 100), 48_100);
        assert_eq!(round_count(4, 10), 0);
        assert_eq!(round_count(17, 1), 17);
        assert_eq!(round_count(-3, 10), 0);
    }
}
