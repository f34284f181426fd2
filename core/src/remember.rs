//! What this browser remembers about the reader's signups, so that no slot asks again for a
//! newsletter the reader just subscribed to, on this page, in other tabs, or on the next visit.
//!
//! The record lives in `localStorage` under [`STORAGE_KEY`] as compact JSON:
//! `{"v":1,"subscribed":[{"endpoint":"/api/subscribe","id":"daily","at":1732600000000}]}`. It holds
//! newsletter ids, the endpoint and the time, never the address. Entries expire after the slot's
//! `remember_days`; a corrupted or foreign value is treated as empty and never panics.

use crate::json::{self, ObjectWriter, Value};

/// The `localStorage` key.
pub const STORAGE_KEY: &str = "letterbox:subscribed";
/// The record's format version.
const VERSION: u64 = 1;
/// At most this many entries are kept (oldest dropped first).
pub const MAX_ENTRIES: usize = 100;
/// Milliseconds in a day.
pub const DAY_MS: f64 = 86_400_000.0;

/// One remembered subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The endpoint it was sent to (a newsletter id means something only at its endpoint).
    pub endpoint: String,
    /// The newsletter id.
    pub id: String,
    /// When it succeeded, in milliseconds since the epoch.
    pub at: f64,
}

/// The remembered subscriptions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Remembered {
    /// The entries, oldest first.
    pub entries: Vec<Entry>,
}

impl Remembered {
    /// Reads the stored value; anything unreadable is an empty record.
    ///
    /// ```
    /// use letterbox_core::remember::Remembered;
    /// assert!(Remembered::load(Some("not json")).entries.is_empty());
    /// ```
    pub fn load(stored: Option<&str>) -> Remembered {
        let Some(value) = stored.and_then(|s| json::parse(s).ok()) else {
            return Remembered::default();
        };
        if !matches!(value.get("v"), Some(Value::Number(v)) if v.parse::<u64>() == Ok(VERSION)) {
            return Remembered::default();
        }
        let Some(Value::Array(items)) = value.get("subscribed") else {
            return Remembered::default();
        };
        let entries = items
            .iter()
            .filter_map(|item| {
                let endpoint = item.get("endpoint")?.as_str()?.to_owned();
                let id = item.get("id")?.as_str()?.to_owned();
                let at = match item.get("at")? {
                    Value::Number(n) => n.parse::<u64>().ok().map(|t| t as f64)?,
                    _ => return None,
                };
                Some(Entry { endpoint, id, at })
            })
            .collect();
        Remembered { entries }
    }

    /// The value to store.
    pub fn to_storage(&self) -> String {
        let mut out = String::new();
        let mut o = ObjectWriter::new(&mut out);
        o.number("v", VERSION)
            .objects("subscribed", &self.entries, |e, o| {
                o.string("endpoint", &e.endpoint)
                    .string("id", &e.id)
                    .number("at", e.at.max(0.0).floor() as u64);
            });
        o.end();
        out
    }

    /// Records that `ids` were subscribed at `endpoint` at `now`; a repeated id is refreshed.
    pub fn add(&mut self, endpoint: &str, ids: &[String], now: f64) {
        self.entries
            .retain(|e| !(e.endpoint == endpoint && ids.contains(&e.id)));
        self.entries.extend(ids.iter().map(|id| Entry {
            endpoint: endpoint.to_owned(),
            id: id.clone(),
            at: now,
        }));
        let excess = self.entries.len().saturating_sub(MAX_ENTRIES);
        self.entries.drain(..excess);
    }

    /// Of `offered` (newsletter ids at `endpoint`), those remembered within `days` of `now`, in
    /// the order offered. `days` of 0 remembers nothing.
    pub fn covered(&self, endpoint: &str, offered: &[String], now: f64, days: u32) -> Vec<String> {
        let oldest = now - f64::from(days) * DAY_MS;
        offered
            .iter()
            .filter(|id| {
                days > 0
                    && self.entries.iter().any(|e| {
                        e.endpoint == endpoint
                            && &e.id == *id
                            && e.at >= oldest
                            && e.at <= now + DAY_MS
                    })
            })
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    const NOW: f64 = 1_764_000_000_000.0;

    #[test]
    fn a_stored_record_reads_back_the_same() {
        let mut r = Remembered::default();
        r.add("/api/subscribe", &ids(&["daily", "culture"]), NOW);
        let back = Remembered::load(Some(&r.to_storage()));
        assert_eq!(back, r);
        assert!(!r.to_storage().contains('@'), "no address is stored");
    }

    #[test]
    fn only_newsletters_at_the_same_endpoint_within_the_days_are_covered() {
        let mut r = Remembered::default();
        r.add("/api/subscribe", &ids(&["daily"]), NOW - 10.0 * DAY_MS);
        r.add("/api/subscribe", &ids(&["culture"]), NOW - 40.0 * DAY_MS);
        r.add("https://other.example/s", &ids(&["alerts"]), NOW);
        let offered = ids(&["alerts", "culture", "daily"]);
        assert_eq!(r.covered("/api/subscribe", &offered, NOW, 30), ["daily"]);
        assert_eq!(
            r.covered("/api/subscribe", &offered, NOW, 60),
            ["culture", "daily"]
        );
        assert!(
            r.covered("/api/subscribe", &offered, NOW, 0).is_empty(),
            "0 days remembers nothing"
        );
    }

    #[test]
    fn adding_again_refreshes_and_the_record_stays_bounded() {
        let mut r = Remembered::default();
        r.add("/s", &ids(&["daily"]), NOW - 50.0 * DAY_MS);
        r.add("/s", &ids(&["daily"]), NOW);
        assert_eq!(r.entries.len(), 1);
        assert_eq!(r.covered("/s", &ids(&["daily"]), NOW, 30), ["daily"]);
        for i in 0..(MAX_ENTRIES + 20) {
            r.add("/s", &[format!("n{i}")], NOW);
        }
        assert_eq!(r.entries.len(), MAX_ENTRIES);
        assert_eq!(r.entries.last().map(|e| e.id.as_str()), Some("n119"));
    }

    #[test]
    fn corrupted_or_foreign_values_read_as_empty() {
        for stored in [
            None,
            Some(""),
            Some("{"),
            Some("[]"),
            Some(r#"{"v":2,"subscribed":[]}"#),
            Some(r#"{"v":1,"subscribed":{}}"#),
            Some(r#"{"v":1}"#),
        ] {
            assert!(Remembered::load(stored).entries.is_empty(), "{stored:?}");
        }
        let partly = r#"{"v":1,"subscribed":[{"endpoint":"/s","id":"a","at":1},{"id":"b"},{"endpoint":"/s","id":"c","at":"x"}]}"#;
        assert_eq!(
            Remembered::load(Some(partly)).entries.len(),
            1,
            "bad entries are dropped, good ones kept"
        );
    }

    #[test]
    fn a_timestamp_from_the_future_is_not_trusted() {
        let mut r = Remembered::default();
        r.add("/s", &ids(&["daily"]), NOW + 10.0 * DAY_MS);
        assert!(r.covered("/s", &ids(&["daily"]), NOW, 30).is_empty());
    }
}
