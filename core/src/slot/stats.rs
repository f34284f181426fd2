//! Anonymous statistics per slot, for the site's own conversion figures (the receiver's
//! `POST /api/stats`, `docs/configuration.md#statistics`).
//!
//! Only when a slot sets `stats_endpoint`, and never when the browser asks not to be tracked
//! (Global Privacy Control or Do Not Track: [`allowed`]). The widget keeps a [`Tally`] per
//! endpoint for the page view: counts of `seen`, `submitted`, `succeeded`, `failed` (with the
//! outcome kind) and `queued` per slot, derived from the slot's host events ([`stat_of`]), plus
//! `seen` once per slot when [`Seen`] says so. On page hide it sends [`Tally::take_body`] once
//! with `navigator.sendBeacon`. Nothing in it names a reader or a device: no address, no
//! identifier, no time finer than the receiver's day.

use crate::json::ObjectWriter;
use crate::slot::events::{EventKind, HostEvent};

/// The share of a slot that must be in the viewport for it to count as seen.
pub const SEEN_RATIO: f64 = 0.5;
/// How long, in milliseconds, it must stay so.
pub const SEEN_MS: u32 = 1000;
/// The most entries one page view sends (the receiver refuses more).
pub const MAX_ENTRIES: usize = 64;
/// The largest count of one entry (the receiver refuses more).
pub const MAX_N: u32 = 50;

/// Whether statistics may be sent at all: a `stats_endpoint` is configured and the browser sends
/// neither Global Privacy Control (`navigator.globalPrivacyControl`) nor Do Not Track
/// (`navigator.doNotTrack == "1"`).
pub fn allowed(
    stats_endpoint: Option<&str>,
    global_privacy_control: bool,
    do_not_track: Option<&str>,
) -> bool {
    stats_endpoint.is_some_and(|e| !e.is_empty())
        && !global_privacy_control
        && do_not_track.map(str::trim) != Some("1")
}

/// The statistics event of a host event: `submitted` for `letterbox:submit`, `succeeded` for
/// `letterbox:success`, `queued` or `failed:<outcome>` for `letterbox:error`; none for the others.
pub fn stat_of(e: &HostEvent) -> Option<String> {
    match e.kind {
        EventKind::Submit => Some("submitted".into()),
        EventKind::Success => Some("succeeded".into()),
        EventKind::Error => match e.outcome {
            Some("queued") => Some("queued".into()),
            Some(kind) => Some(format!("failed:{kind}")),
            None => Some("failed:invalid".into()),
        },
        EventKind::Ready | EventKind::Suggestion => None,
    }
}

/// The newsletter an event is counted for: its one newsletter, or none when it concerns several.
pub fn newsletter_of(e: &HostEvent) -> Option<&str> {
    match e.newsletters.as_slice() {
        [one] => Some(one.as_str()),
        _ => None,
    }
}

/// One page view's counts for one statistics endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    page: String,
    /// (slot, newsletter or "", event, n)
    entries: Vec<(String, String, String, u32)>,
    seen: Vec<String>,
}

impl Tally {
    /// An empty tally for the page at `location` (a URL or path; only its path is sent).
    pub fn new(location: &str) -> Tally {
        Tally {
            page: page_path(location),
            ..Tally::default()
        }
    }

    /// Counts `event` (`seen`, `submitted`, `succeeded`, `queued`, `failed:<kind>`) for `slot`.
    /// Beyond [`MAX_ENTRIES`] distinct entries, or [`MAX_N`] of one, more are not counted.
    pub fn add(&mut self, slot: &str, newsletter: Option<&str>, event: &str) {
        let newsletter = newsletter.unwrap_or("");
        if let Some(entry) = self
            .entries
            .iter_mut()
            .find(|(s, n, e, _)| s == slot && n == newsletter && e == event)
        {
            entry.3 = (entry.3 + 1).min(MAX_N);
        } else if self.entries.len() < MAX_ENTRIES {
            self.entries
                .push((slot.to_owned(), newsletter.to_owned(), event.to_owned(), 1));
        }
    }

    /// Counts a host event of `slot`, if it is one that is counted.
    pub fn add_event(&mut self, slot: &str, e: &HostEvent) {
        if let Some(event) = stat_of(e) {
            self.add(slot, newsletter_of(e), &event);
        }
    }

    /// Counts `slot` as seen, once per page view; true if this was the first time.
    pub fn add_seen(&mut self, slot: &str) -> bool {
        if self.seen.iter().any(|s| s == slot) {
            return false;
        }
        self.seen.push(slot.to_owned());
        self.add(slot, None, "seen");
        true
    }

    /// Whether nothing is counted (then nothing is sent).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The request body, `{"v":1,"page":…,"events":[{"slot","event","outcome"?,"newsletter"?,"n"}]}`,
    /// and the counts emptied (a later page hide in the same view sends only what came after);
    /// `None` when there is nothing to send.
    pub fn take_body(&mut self) -> Option<String> {
        if self.entries.is_empty() {
            return None;
        }
        let entries = std::mem::take(&mut self.entries);
        let mut out = String::new();
        let mut o = ObjectWriter::new(&mut out);
        o.number("v", 1);
        o.string("page", &self.page);
        o.objects("events", entries, |(slot, newsletter, event, n), e| {
            e.string("slot", &slot);
            match event.split_once(':') {
                Some((kind, outcome)) => {
                    e.string("event", kind);
                    e.string("outcome", outcome);
                }
                None => {
                    e.string("event", &event);
                }
            }
            if !newsletter.is_empty() {
                e.string("newsletter", &newsletter);
            }
            e.number("n", u64::from(n));
        });
        o.end();
        Some(out)
    }
}

/// The longest page path counted; a longer one is cut.
pub const MAX_PAGE_CHARS: usize = 300;

/// The path of a page's address (an http(s) URL or a path), without origin, query or fragment:
/// `/` when it has none, one leading `/` however many the address has, at most
/// [`MAX_PAGE_CHARS`]. The receiver reads a page it is sent with the same function.
///
/// ```
/// use letterbox_core::slot::stats::page_path;
/// assert_eq!(page_path("https://news.example/world/ukraine?utm=x#top"), "/world/ukraine");
/// assert_eq!(page_path("https://news.example?next=/a/b"), "/");
/// assert_eq!(page_path("https://news.example//double"), "/double");
/// ```
pub fn page_path(location: &str) -> String {
    let rest = match location.split_once("://") {
        // The host ends at the first '/', '?' or '#'.
        Some((_, after)) => match after.find(['/', '?', '#']) {
            Some(i) if after[i..].starts_with('/') => &after[i..],
            _ => "/",
        },
        None => location,
    };
    let path = rest.split(['?', '#']).next().unwrap_or("");
    match path.strip_prefix('/') {
        Some(tail) => std::iter::once('/')
            .chain(tail.trim_start_matches('/').chars())
            .take(MAX_PAGE_CHARS)
            .collect(),
        None => "/".to_owned(),
    }
}

/// Whether a slot has been seen: at least [`SEEN_RATIO`] of it in the viewport for [`SEEN_MS`]
/// without a break. Feed it each visibility change and ask [`Seen::due`] when its timer fires.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Seen {
    since_ms: Option<f64>,
}

impl Seen {
    /// The slot's visible share changed to `ratio` at `now_ms`. Returns true when a timer should
    /// be started (it just became visible enough); leaving the viewport resets the wait.
    pub fn changed(&mut self, ratio: f64, now_ms: f64) -> bool {
        if ratio >= SEEN_RATIO {
            if self.since_ms.is_none() {
                self.since_ms = Some(now_ms);
                return true;
            }
            false
        } else {
            self.since_ms = None;
            false
        }
    }

    /// Whether, at `now_ms`, it has stayed visible enough for [`SEEN_MS`].
    pub fn due(&self, now_ms: f64) -> bool {
        self.since_ms
            .is_some_and(|since| now_ms - since >= f64::from(SEEN_MS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: EventKind, outcome: Option<&'static str>, newsletters: &[&str]) -> HostEvent {
        HostEvent {
            kind,
            newsletters: newsletters.iter().map(|s| s.to_string()).collect(),
            outcome,
            fields: Vec::new(),
            domain: None,
            email: Some("jane@example.com".into()),
        }
    }

    #[test]
    fn nothing_is_allowed_without_an_endpoint_or_with_gpc_or_dnt() {
        assert!(allowed(Some("/api/stats"), false, None));
        assert!(allowed(Some("/api/stats"), false, Some("0")));
        assert!(!allowed(None, false, None));
        assert!(!allowed(Some(""), false, None));
        assert!(!allowed(Some("/api/stats"), true, None));
        assert!(!allowed(Some("/api/stats"), false, Some("1")));
    }

    #[test]
    fn host_events_become_counts_without_the_address() {
        let mut t = Tally::new("https://news.example/2026/story?utm=1#comments");
        assert!(t.take_body().is_none(), "nothing counted, nothing sent");
        assert!(t.add_seen("top"));
        assert!(!t.add_seen("top"), "seen once per page view");
        t.add_event("top", &event(EventKind::Ready, None, &["daily"]));
        t.add_event("top", &event(EventKind::Submit, None, &["daily"]));
        t.add_event("top", &event(EventKind::Error, Some("network"), &["daily"]));
        t.add_event("top", &event(EventKind::Submit, None, &["daily"]));
        t.add_event("top", &event(EventKind::Error, Some("queued"), &["daily"]));
        t.add_event(
            "foot",
            &event(EventKind::Success, Some("pending"), &["a", "b"]),
        );
        t.add_event(
            "foot",
            &event(EventKind::Suggestion, Some("shown"), &["a", "b"]),
        );
        let body = t.take_body().expect("a body");
        assert_eq!(
            body,
            r#"{"v":1,"page":"/2026/story","events":[{"slot":"top","event":"seen","n":1},{"slot":"top","event":"submitted","newsletter":"daily","n":2},{"slot":"top","event":"failed","outcome":"network","newsletter":"daily","n":1},{"slot":"top","event":"queued","newsletter":"daily","n":1},{"slot":"foot","event":"succeeded","n":1}]}"#
        );
        assert!(!body.contains("jane"));
        assert!(t.take_body().is_none(), "sent once");
        assert!(!t.add_seen("top"), "still the same page view");
    }

    #[test]
    fn counts_are_bounded() {
        let mut t = Tally::new("/");
        for i in 0..100 {
            t.add(&format!("s{i}"), None, "seen");
            t.add("s0", None, "submitted");
        }
        let body = t.take_body().unwrap_or_default();
        assert_eq!(body.matches("\"slot\"").count(), MAX_ENTRIES);
        assert!(body.contains(r#"{"slot":"s0","event":"submitted","n":50}"#));
    }

    #[test]
    fn seen_needs_half_the_slot_for_a_second_without_a_break() {
        let mut s = Seen::default();
        assert!(!s.changed(0.3, 0.0));
        assert!(s.changed(0.5, 100.0), "start the timer");
        assert!(!s.changed(0.9, 500.0), "already waiting");
        assert!(!s.due(1099.0));
        assert!(s.due(1100.0));
        s.changed(0.2, 1200.0);
        assert!(!s.due(5000.0), "it left the viewport");
        assert!(s.changed(1.0, 6000.0));
        assert!(!s.due(6999.0) && s.due(7000.0));
    }

    #[test]
    fn page_paths() {
        assert_eq!(page_path("http://127.0.0.1:8080"), "/");
        assert_eq!(page_path("https://a.example/x/y?z"), "/x/y");
        assert_eq!(page_path("/p#f"), "/p");
        assert_eq!(page_path("about:blank"), "/");
        assert_eq!(page_path("https://a.example?next=/x/y"), "/");
        assert_eq!(page_path("https://a.example//x"), "/x");
    }
}
