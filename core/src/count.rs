//! Public counts: a goal slot's "12,345 of 20,000 members" and a signup slot's "Join 48,000
//! readers". A count comes from a URL answering `{"count": n}` (the reference receiver's
//! `GET /api/count/<newsletter>`) or from the configuration. Here: reading that answer, the
//! record this browser keeps of it (`letterbox:count:<url>` in `localStorage`, reused while
//! fresh so a reader moving through the site asks once per [`crate::config::goal::Goal::cache_seconds`]),
//! and what a goal slot shows for a count or for none.
//!
//! A count that cannot be had (no answer, an error status, an answer that is not a count) is no
//! error for readers: the slot shows its text without a number, and the widget writes one line
//! on the console ([`CountError`]'s message).

use std::fmt;

use crate::config::goal::Goal;
use crate::delivery::{Method, Reply, Request};
use crate::json::{self, ObjectWriter, Value};
use crate::messages::Key;

/// The largest count read (a billion): anything above is taken for a broken answer.
pub const MAX_COUNT: u64 = 1_000_000_000;

/// Why a count could not be read; the widget logs it, readers see the text without a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CountError {
    /// The server answered with a status other than 200.
    Status(u16),
    /// No answer (network error, timeout, refused by CORS).
    NoAnswer,
    /// The answer is not `{"count": n}` with a whole number from 0 to [`MAX_COUNT`].
    NotACount,
}

impl fmt::Display for CountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CountError::Status(s) => write!(f, "the count's URL answered with status {s}"),
            CountError::NoAnswer => f.write_str("the count's URL did not answer"),
            CountError::NotACount => f.write_str(
                "the count's URL answered with something other than {\"count\": n} (a whole number from 0 to 1000000000)",
            ),
        }
    }
}

/// The count in an answer of `status` with `body`: `{"count": n}` (other members, such as the
/// reference receiver's `rounded_to`, are ignored).
///
/// ```
/// use letterbox_core::count::{read_answer, CountError};
/// assert_eq!(read_answer(200, r#"{"count": 48000, "rounded_to": 100}"#), Ok(48000));
/// assert_eq!(read_answer(200, r#"{"count": "many"}"#), Err(CountError::NotACount));
/// assert_eq!(read_answer(503, "count unavailable"), Err(CountError::Status(503)));
/// ```
pub fn read_answer(status: u16, body: &str) -> Result<u64, CountError> {
    if status != 200 {
        return Err(CountError::Status(status));
    }
    match json::parse(body) {
        Ok(value) => count_of(&value).ok_or(CountError::NotACount),
        Err(_) => Err(CountError::NotACount),
    }
}

/// The count in what a read of the count's URL got back ([`read_answer`] for an HTTP answer).
pub fn read_reply(reply: &Reply<'_>) -> Result<u64, CountError> {
    match reply {
        Reply::Http(http) => read_answer(http.status, http.body),
        _ => Err(CountError::NoAnswer),
    }
}

/// The request that reads the count at `url`: a plain `GET` (with only a CORS-safelisted
/// header, so no preflight) that a public, cacheable count answers from any origin.
pub fn request(url: &str) -> Request {
    Request::Fetch {
        method: Method::Get,
        url: url.to_owned(),
        headers: vec![("Accept".into(), "application/json".into())],
        body: None,
    }
}

/// How long a read of a count may take before the slot shows its text without one.
pub const TIMEOUT_MS: u32 = 8_000;

/// The whole number `count` of an object, within 0..=[`MAX_COUNT`].
fn count_of(value: &Value) -> Option<u64> {
    match value.get("count")? {
        Value::Number(n) => n.parse::<u64>().ok().filter(|n| *n <= MAX_COUNT),
        _ => None,
    }
}

/// The `localStorage` key under which this browser keeps the count read from `url`.
pub fn storage_key(url: &str) -> String {
    format!("letterbox:count:{url}")
}

/// The record kept of a count read at `now_ms`: `{"count": n, "at": ms}`.
pub fn record(count: u64, now_ms: u64) -> String {
    let mut out = String::new();
    let mut w = ObjectWriter::new(&mut out);
    w.number("count", count).number("at", now_ms);
    w.end();
    out
}

/// The count in `stored` (a [`record`]) if it was read less than `max_age_seconds` before
/// `now_ms`; `None` when there is none, it is stale (or from the future: a clock put back), or
/// it is not a record. A maximum age of 0 never reuses one.
///
/// ```
/// use letterbox_core::count::{fresh, record};
/// let kept = record(12345, 1_000_000);
/// assert_eq!(fresh(Some(&kept), 1_000_000 + 299_999, 300), Some(12345));
/// assert_eq!(fresh(Some(&kept), 1_000_000 + 300_000, 300), None);
/// ```
pub fn fresh(stored: Option<&str>, now_ms: u64, max_age_seconds: u32) -> Option<u64> {
    let value = json::parse(stored?).ok()?;
    let at = match value.get("at")? {
        Value::Number(n) => n.parse::<u64>().ok()?,
        _ => return None,
    };
    let age = now_ms.checked_sub(at)?;
    (age < u64::from(max_age_seconds) * 1000)
        .then(|| count_of(&value))
        .flatten()
}

/// What a goal slot shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoalScreen {
    /// Its heading: the site's `label` or "Help us reach 20,000 members".
    pub label: String,
    /// "12,345 of 20,000 members", when the count is known.
    pub count: Option<String>,
    /// The progress bar's value, out of [`Goal::goal`] (at most the goal: a goal passed shows a
    /// full bar, and the text says by how much); `None` without a count (no bar is shown: an
    /// empty or indeterminate bar would tell readers something untrue).
    pub value: Option<u64>,
}

/// What `goal` shows with `count` (`None`: not known).
///
/// ```
/// use letterbox_core::config::{goal::Goal, HostInput};
/// use letterbox_core::count::goal_screen;
/// let json = r#"{"kind": "goal", "goal": 20000, "count_url": "/api/count/members"}"#;
/// let goal = Goal::from_host(&HostInput { json: Some(json), ..Default::default() }).unwrap();
/// let screen = goal_screen(&goal, Some(12345));
/// assert_eq!(screen.label, "Help us reach 20,000 members");
/// assert_eq!(screen.count.as_deref(), Some("12,345 of 20,000 members"));
/// assert_eq!(screen.value, Some(12345));
/// assert_eq!(goal_screen(&goal, None).count, None);
/// ```
pub fn goal_screen(goal: &Goal, count: Option<u64>) -> GoalScreen {
    let t = &goal.texts;
    GoalScreen {
        label: t.counted(Key::GoalLabel, Key::GoalUnit, 0, Some(goal.goal)),
        count: count.map(|c| t.counted(Key::GoalCount, Key::GoalUnit, c, Some(goal.goal))),
        value: count.map(|c| c.min(goal.goal)),
    }
}

/// A signup slot's social proof for `count` ("Join 48,000 readers"); `None` for 0 (nobody to
/// join yet: the line is left out).
pub fn social_proof(texts: &crate::messages::Catalogue, count: u64) -> Option<String> {
    (count > 0).then(|| texts.counted(Key::SocialProof, Key::SocialProofUnit, count, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HostInput;
    use crate::messages::{Catalogue, Lang};

    fn goal(json: &str) -> Goal {
        let json = json.replacen(
            r#"{"kind": "goal","#,
            r#"{"kind": "goal", "count_url": "/c","#,
            1,
        );
        Goal::from_host(&HostInput {
            json: Some(&json),
            ..HostInput::default()
        })
        .unwrap()
    }

    #[test]
    fn an_answer_is_a_whole_count_or_nothing() {
        assert_eq!(read_answer(200, r#"{"count": 0}"#), Ok(0));
        assert_eq!(read_answer(200, r#"{"count": 1000000000}"#), Ok(MAX_COUNT));
        for bad in [
            r#"{"count": 1000000001}"#,
            r#"{"count": -5}"#,
            r#"{"count": 12.5}"#,
            r#"{"count": 1e4}"#,
            r#"{"count": "12345"}"#,
            r#"{"count": null}"#,
            r#"{"total": 5}"#,
            r#"[{"count": 5}]"#,
            "<html><body>Bad gateway</body></html>",
            "",
        ] {
            assert_eq!(read_answer(200, bad), Err(CountError::NotACount), "{bad}");
        }
        assert_eq!(
            read_answer(404, r#"{"count": 5}"#),
            Err(CountError::Status(404))
        );
        assert!(CountError::NotACount.to_string().contains("{\"count\": n}"));
    }

    #[test]
    fn a_kept_count_is_reused_only_while_fresh() {
        let kept = record(48000, 5_000);
        assert_eq!(fresh(Some(&kept), 5_000, 60), Some(48000));
        assert_eq!(fresh(Some(&kept), 64_999, 60), Some(48000));
        assert_eq!(fresh(Some(&kept), 65_000, 60), None);
        // A clock put back, no caching, nothing kept, or a broken record.
        assert_eq!(fresh(Some(&kept), 4_999, 60), None);
        assert_eq!(fresh(Some(&kept), 5_000, 0), None);
        assert_eq!(fresh(None, 5_000, 60), None);
        assert_eq!(fresh(Some("{\"count\": 3}"), 5_000, 60), None);
        assert_eq!(fresh(Some("not json"), 5_000, 60), None);
        assert_eq!(
            storage_key("/api/count/daily"),
            "letterbox:count:/api/count/daily"
        );
    }

    #[test]
    fn the_goal_reads_with_grouped_numbers_and_agreeing_plurals_in_both_languages() {
        let en = goal(r#"{"kind": "goal", "goal": 20000}"#);
        assert_eq!(
            goal_screen(&en, Some(1)).count.as_deref(),
            Some("1 of 20,000 members")
        );
        let one = goal(r#"{"kind": "goal", "goal": 1}"#);
        assert_eq!(
            goal_screen(&one, Some(0)).count.as_deref(),
            Some("0 of 1 member")
        );
        assert_eq!(goal_screen(&one, None).label, "Help us reach 1 member");
        let uk = goal(r#"{"kind": "goal", "goal": 20000, "lang": "uk"}"#);
        assert_eq!(
            goal_screen(&uk, None).label,
            "Наша мета — 20\u{a0}000 учасників"
        );
        let said = |n| goal_screen(&uk, Some(n)).count.unwrap_or_default();
        for (n, text) in [
            (1, "1 учасник із 20\u{a0}000"),
            (2, "2 учасники із 20\u{a0}000"),
            (4, "4 учасники із 20\u{a0}000"),
            (5, "5 учасників із 20\u{a0}000"),
            (11, "11 учасників із 20\u{a0}000"),
            (12, "12 учасників із 20\u{a0}000"),
            (14, "14 учасників із 20\u{a0}000"),
            (21, "21 учасник із 20\u{a0}000"),
            (22, "22 учасники із 20\u{a0}000"),
            (25, "25 учасників із 20\u{a0}000"),
            (111, "111 учасників із 20\u{a0}000"),
            (1001, "1\u{a0}001 учасник із 20\u{a0}000"),
            (12345, "12\u{a0}345 учасників із 20\u{a0}000"),
        ] {
            assert_eq!(said(n), text, "{n}");
        }
        let uk21 = goal(r#"{"kind": "goal", "goal": 21, "lang": "uk"}"#);
        assert_eq!(goal_screen(&uk21, None).label, "Наша мета — 21 учасник");
        let uk3 = goal(r#"{"kind": "goal", "goal": 3, "lang": "uk"}"#);
        assert_eq!(goal_screen(&uk3, None).label, "Наша мета — 3 учасники");
    }

    #[test]
    fn the_bar_stops_at_the_goal_and_is_absent_without_a_count() {
        let g = goal(r#"{"kind": "goal", "goal": 20000}"#);
        let passed = goal_screen(&g, Some(21000));
        assert_eq!(passed.value, Some(20000));
        assert_eq!(passed.count.as_deref(), Some("21,000 of 20,000 members"));
        assert_eq!(goal_screen(&g, None).value, None);
    }

    #[test]
    fn the_sites_label_and_unit_are_used_with_the_numbers_filled_in() {
        let g = goal(
            r#"{"kind": "goal", "goal": 20000, "label": "Can we reach {goal} {unit}?",
                "texts": {"goal_unit": "supporter|supporters"}}"#,
        );
        let s = goal_screen(&g, Some(1));
        assert_eq!(s.label, "Can we reach 20,000 supporters?");
        assert_eq!(s.count.as_deref(), Some("1 of 20,000 supporters"));
        // An override written "{count} {unit} …" agrees with the count; one form serves all.
        let g = goal(
            r#"{"kind": "goal", "goal": 100, "texts": {"goal_count": "{count} {unit} so far, of {goal}", "goal_unit": "friend|friends"}}"#,
        );
        assert_eq!(
            goal_screen(&g, Some(1)).count.as_deref(),
            Some("1 friend so far, of 100")
        );
        let g =
            goal(r#"{"kind": "goal", "goal": 5, "lang": "uk", "texts": {"goal_unit": "друзів"}}"#);
        assert_eq!(
            goal_screen(&g, Some(1)).count.as_deref(),
            Some("1 друзів із 5")
        );
    }

    #[test]
    fn social_proof_says_how_many_to_join_and_nothing_for_none() {
        let en = Catalogue::new(Lang::En, Vec::new());
        let uk = Catalogue::new(Lang::Uk, Vec::new());
        assert_eq!(
            social_proof(&en, 48000).as_deref(),
            Some("Join 48,000 readers")
        );
        assert_eq!(social_proof(&en, 1).as_deref(), Some("Join 1 reader"));
        assert_eq!(social_proof(&en, 0), None);
        for (n, text) in [
            (1, "Приєднуйтеся до 1 читача"),
            (2, "Приєднуйтеся до 2 читачів"),
            (5, "Приєднуйтеся до 5 читачів"),
            (21, "Приєднуйтеся до 21 читача"),
            (48000, "Приєднуйтеся до 48\u{a0}000 читачів"),
        ] {
            assert_eq!(social_proof(&uk, n).as_deref(), Some(text), "{n}");
        }
    }
}
