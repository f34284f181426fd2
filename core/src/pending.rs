//! The offline queue's records: submissions the page could not finish (offline, or every retry
//! spent), kept in `localStorage` under [`STORAGE_KEY`] and sent on the next chance, once.
//!
//! This module owns the record ([`Pending`]), its compact JSON form, and the queue's rules
//! ([`PendingQueue`]): reading storage robustly (a corrupted, foreign or future-version entry is
//! dropped, never a panic), expiry, de-duplication (the same address, newsletters and endpoint
//! are one entry, keeping the first idempotency key), withdrawal, and a short lease so that two
//! tabs do not send the same entry at once. The widget does the storage I/O and the sending.
//!
//! ```
//! use letterbox_core::pending::{Pending, PendingQueue};
//! let mut queue = PendingQueue::load(None, 0, PendingQueue::DEFAULT_MAX_AGE_MS);
//! queue.add(Pending::example());
//! let stored = queue.to_storage();
//! let again = PendingQueue::load(Some(&stored), 1_000, PendingQueue::DEFAULT_MAX_AGE_MS);
//! assert_eq!(again.entries(), queue.entries());
//! ```

use crate::delivery::retry::{is_retryable, unrepeatable};
use crate::json::{self, ObjectWriter, Value};
use crate::signup::{Consent, Outcome, Signup, Source};

/// The `localStorage` key of the queue.
pub const STORAGE_KEY: &str = "letterbox:pending";

/// The record format written now. Entries of another version are dropped on load.
pub const VERSION: u64 = 1;

/// One signup waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The signup, with the idempotency key it is finally sent with.
    pub signup: Signup,
    /// When the reader submitted, in milliseconds since the Unix epoch.
    pub created_ms: u64,
    /// Where it goes: [`crate::delivery::Adapter::destination`].
    pub destination: String,
    /// Which tab is sending it, and until when (ms): another tab leaves it alone until then.
    pub lease: Option<(String, u64)>,
    /// [`crate::delivery::Adapter::fingerprint`] of the slot that queued it: a page sends it
    /// through a slot with the same settings when it has one.
    pub adapter: Option<String>,
    /// How long it may wait before it is dropped unsent, in milliseconds (the slot's
    /// `pending_days`; [`PendingQueue::DEFAULT_MAX_AGE_MS`] unless the site set another).
    pub max_age_ms: u64,
}

/// What an answer to a queued signup does to its entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement {
    /// No final answer (no token, no answer, a passing failure): release the claim and keep the
    /// entry for the next chance.
    Keep,
    /// A final answer that subscribed nobody: drop the entry, tell the slots that wait for it.
    Drop,
    /// Subscribed (or already, or pending confirmation): drop the entry, remember the
    /// newsletters as subscribed, tell the slots that wait for it.
    Delivered,
}

/// How the `outcome` of sending a queued signup settles its entry, and the outcome the slots
/// waiting for it are given. `online` is `navigator.onLine`; `repeats_safely` is
/// [`crate::delivery::Adapter::repeats_safely`]: an unanswered request to a service that must not
/// get a signup twice is not kept for another try ([`unrepeatable`]).
///
/// ```
/// use letterbox_core::pending::{settle, Settlement};
/// use letterbox_core::signup::Outcome;
/// assert_eq!(settle(&Outcome::Timeout, true, true), (Settlement::Keep, Outcome::Timeout));
/// assert_eq!(settle(&Outcome::Timeout, true, false), (Settlement::Drop, Outcome::MaybeSent));
/// let wait = Outcome::RateLimited { retry_after_secs: Some(600) };
/// assert_eq!(settle(&wait, true, true).0, Settlement::Keep);
/// assert_eq!(settle(&Outcome::PendingConfirmation, true, true).0, Settlement::Delivered);
/// assert_eq!(settle(&Outcome::Rejected { status: 403, message: None }, true, true).0, Settlement::Drop);
/// ```
pub fn settle(outcome: &Outcome, online: bool, repeats_safely: bool) -> (Settlement, Outcome) {
    if let Some(shown) = unrepeatable(outcome, online, repeats_safely) {
        return (Settlement::Drop, shown);
    }
    let settlement = match outcome {
        // No token (the provider failed or is not there yet) is no answer.
        Outcome::ChallengeFailed { .. } => Settlement::Keep,
        o if is_retryable(o) => Settlement::Keep,
        Outcome::Subscribed | Outcome::PendingConfirmation | Outcome::AlreadySubscribed => {
            Settlement::Delivered
        }
        _ => Settlement::Drop,
    };
    (settlement, outcome.clone())
}

impl Pending {
    /// The record of `signup` for `destination`, made at `now_ms`. A challenge token is not
    /// kept: it is short-lived, and a fresh one is asked for when the entry is sent.
    pub fn new(signup: Signup, destination: &str, now_ms: u64) -> Pending {
        Pending {
            signup,
            created_ms: now_ms,
            destination: destination.to_owned(),
            lease: None,
            adapter: None,
            max_age_ms: PendingQueue::DEFAULT_MAX_AGE_MS,
        }
    }

    /// A sample record for examples and tests.
    pub fn example() -> Pending {
        Pending::new(Signup::example(), "json /api/subscribe", 0)
    }

    /// True when this is the same signup as `other` ([`Signup::is_same_as`]) for the same
    /// destination.
    pub fn same_signup(&self, other: &Pending) -> bool {
        self.destination == other.destination && self.signup.is_same_as(&other.signup)
    }

    // The stored form keeps its version-1 member names ("target" is the destination), so
    // entries written by earlier releases are still sent.
    fn write(&self, out: &mut String) {
        let signup = &self.signup;
        let mut o = ObjectWriter::new(out);
        o.number("v", VERSION)
            .string("email", &signup.email)
            .strings("newsletters", &signup.newsletters)
            .string("key", &signup.key)
            .number("created_ms", self.created_ms)
            .string("target", &self.destination)
            .string("locale", &signup.locale)
            .string("page", &signup.source.page)
            .string("slot", &signup.source.slot)
            .number("at_ms", signup.at_ms);
        if let Some(consent) = &signup.consent {
            o.object("consent", |c| consent.write(c));
        }
        if !signup.fields.is_empty() {
            o.object("fields", |f| {
                for (name, value) in &signup.fields {
                    f.string(name, value);
                }
            });
        }
        if let Some((owner, until)) = &self.lease {
            o.object("lease", |l| {
                l.string("owner", owner).number("until_ms", *until);
            });
        }
        o.optional_string("adapter", self.adapter.as_deref())
            .number("max_age_ms", self.max_age_ms);
        o.end();
    }

    /// Reads one stored entry; `None` for anything that is not a complete record of this version.
    fn read(value: &Value) -> Option<Pending> {
        let text = |v: &Value, name: &str| v.get(name)?.as_str().map(str::to_owned);
        let number = |v: &Value, name: &str| match v.get(name)? {
            Value::Number(n) => n.parse::<u64>().ok(),
            _ => None,
        };
        if number(value, "v")? != VERSION {
            return None;
        }
        let newsletters = match value.get("newsletters")? {
            Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()?,
            _ => return None,
        };
        let consent = match value.get("consent") {
            None | Some(Value::Null) => None,
            Some(c) => Some(Consent {
                text: text(c, "text")?,
                version: text(c, "version")?,
                locale: text(c, "locale")?,
                page: text(c, "page")?,
                at_ms: number(c, "at_ms")?,
            }),
        };
        // Written only when the reader filled in other fields.
        let fields = match value.get("fields") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(members)) => members
                .iter()
                .map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect::<Option<Vec<_>>>()?,
            Some(_) => return None,
        };
        let lease = value
            .get("lease")
            .and_then(|l| Some((text(l, "owner")?, number(l, "until_ms")?)));
        let entry = Pending {
            signup: Signup {
                email: text(value, "email")?,
                newsletters,
                key: text(value, "key")?,
                locale: text(value, "locale")?,
                source: Source {
                    page: text(value, "page")?,
                    slot: text(value, "slot")?,
                },
                consent,
                fields,
                // Entries written before it was kept were queued moments after their submit.
                at_ms: number(value, "at_ms").or_else(|| number(value, "created_ms"))?,
            },
            created_ms: number(value, "created_ms")?,
            destination: text(value, "target")?,
            lease,
            adapter: text(value, "adapter"),
            // Records written before the setting existed waited the default time.
            max_age_ms: number(value, "max_age_ms").unwrap_or(PendingQueue::DEFAULT_MAX_AGE_MS),
        };
        // No newsletter is a signup to the list alone (a slot whose groups are all optional).
        let usable = entry.signup.email.contains('@')
            && !entry.signup.key.is_empty()
            && !entry.destination.is_empty();
        usable.then_some(entry)
    }
}

/// The queue of pending submissions of one site (one `localStorage`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PendingQueue {
    entries: Vec<Pending>,
}

impl PendingQueue {
    /// Entries older than this (7 days) are dropped unless the site configures another age.
    pub const DEFAULT_MAX_AGE_MS: u64 = 7 * 24 * 60 * 60 * 1000;

    /// No entry waits longer than this (30 days), whatever its record says.
    pub const MAX_AGE_MS: u64 = 30 * 24 * 60 * 60 * 1000;

    /// At most this many entries are kept; the oldest go first.
    pub const MAX_ENTRIES: usize = 20;

    /// The queue from the stored text (`None` when nothing is stored), without entries that are
    /// corrupted, of another version, or past their own `max_age_ms` (capped at `max_age_ms`) at
    /// `now_ms`. Entries dated further in the future than that (a broken clock) are dropped too.
    /// Never panics.
    ///
    /// ```
    /// use letterbox_core::pending::PendingQueue;
    /// for junk in ["", "{", "null", "[1,{}]", "\u{0}", "[{\"v\":2}]"] {
    ///     assert!(PendingQueue::load(Some(junk), 0, 1).is_empty());
    /// }
    /// ```
    pub fn load(stored: Option<&str>, now_ms: u64, max_age_ms: u64) -> PendingQueue {
        let items = match stored.map(json::parse) {
            Some(Ok(Value::Array(items))) => items,
            _ => Vec::new(),
        };
        let mut queue = PendingQueue::default();
        for entry in items.iter().filter_map(Pending::read) {
            queue.add(entry);
        }
        queue.expire(now_ms, max_age_ms);
        queue
    }

    /// The text to store: a compact JSON array (an empty queue is `[]`; the widget may remove
    /// the key instead).
    pub fn to_storage(&self) -> String {
        let mut out = String::from("[");
        for (i, entry) in self.entries.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            entry.write(&mut out);
        }
        out.push(']');
        out
    }

    /// The entries, oldest first.
    pub fn entries(&self) -> &[Pending] {
        &self.entries
    }

    /// True when nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds `entry` unless the same signup is already waiting, in which case the waiting one (and
    /// its idempotency key) stays. Returns the entry that is now queued for this signup.
    ///
    /// ```
    /// use letterbox_core::pending::{Pending, PendingQueue};
    /// let mut q = PendingQueue::default();
    /// q.add(Pending::example());
    /// let mut twin = Pending::example();
    /// twin.signup.key = "another-key".into();
    /// assert_eq!(q.add(twin).signup.key, Pending::example().signup.key);
    /// assert_eq!(q.entries().len(), 1);
    /// ```
    pub fn add(&mut self, entry: Pending) -> &Pending {
        let index = match self.entries.iter().position(|e| e.same_signup(&entry)) {
            Some(i) => i,
            None => {
                if self.entries.len() >= Self::MAX_ENTRIES {
                    self.entries.remove(0);
                }
                self.entries.push(entry);
                self.entries.len() - 1
            }
        };
        &self.entries[index]
    }

    /// Drops entries older than their own `max_age_ms`, capped at `max_age_ms` (or dated that far
    /// in the future).
    pub fn expire(&mut self, now_ms: u64, max_age_ms: u64) {
        self.entries.retain(|e| {
            let max_age_ms = e.max_age_ms.min(max_age_ms);
            now_ms.saturating_sub(e.created_ms) <= max_age_ms
                && e.created_ms.saturating_sub(now_ms) <= max_age_ms
        });
    }

    /// The reader withdrew: drops every entry for this address (any newsletters, any target).
    /// Returns how many were dropped.
    pub fn withdraw(&mut self, email: &str) -> usize {
        let before = self.entries.len();
        self.entries.retain(|e| e.signup.email != email);
        before - self.entries.len()
    }

    /// Drops the entry with idempotency `key` (it was sent and answered). Returns whether it was
    /// there.
    pub fn remove(&mut self, key: &str) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| e.signup.key != key);
        before != self.entries.len()
    }

    /// Leases every entry for `target` that no other tab holds, to `owner` until
    /// `now_ms + lease_ms`, and returns them to send. Write the queue back before sending, so a
    /// second tab reading it sees the lease.
    ///
    /// ```
    /// use letterbox_core::pending::{Pending, PendingQueue};
    /// let mut q = PendingQueue::default();
    /// q.add(Pending::example());
    /// assert_eq!(q.claim("json /api/subscribe", "tab-a", 0, 30_000).len(), 1);
    /// assert!(q.claim("json /api/subscribe", "tab-b", 1_000, 30_000).is_empty());
    /// assert_eq!(q.claim("json /api/subscribe", "tab-b", 31_000, 30_000).len(), 1);
    /// ```
    pub fn claim(&mut self, target: &str, owner: &str, now_ms: u64, lease_ms: u64) -> Vec<Pending> {
        let mut claimed = Vec::new();
        for entry in self.entries.iter_mut().filter(|e| e.destination == target) {
            let free = match &entry.lease {
                None => true,
                Some((holder, until)) => holder == owner || *until <= now_ms,
            };
            if free {
                entry.lease = Some((owner.to_owned(), now_ms.saturating_add(lease_ms)));
                claimed.push(entry.clone());
            }
        }
        claimed
    }

    /// Gives back `key`'s lease (the send failed again and the entry should wait for the next
    /// chance).
    pub fn release(&mut self, key: &str) {
        for entry in self.entries.iter_mut().filter(|e| e.signup.key == key) {
            entry.lease = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 24 * 60 * 60 * 1000;

    fn entry(email: &str, newsletters: &[&str], target: &str, key: &str, at: u64) -> Pending {
        let mut e = Pending::example();
        e.signup.email = email.into();
        e.signup.newsletters = newsletters.iter().map(|s| (*s).to_owned()).collect();
        e.destination = target.into();
        e.signup.key = key.into();
        e.created_ms = at;
        e
    }

    #[test]
    fn a_signup_to_the_list_alone_is_kept_and_read_back() {
        // A slot whose interest groups are all optional, none ticked, queued while offline.
        let mut queue = PendingQueue::load(None, 0, PendingQueue::DEFAULT_MAX_AGE_MS);
        queue.add(entry(
            "jane@example.com",
            &[],
            "mailchimp https://x",
            "k1",
            5,
        ));
        let again = PendingQueue::load(
            Some(&queue.to_storage()),
            10,
            PendingQueue::DEFAULT_MAX_AGE_MS,
        );
        assert_eq!(again.entries().len(), 1);
        assert!(again.entries()[0].signup.newsletters.is_empty());
    }

    #[test]
    fn a_record_round_trips_through_storage_with_consent_and_lease() {
        let mut e = entry(
            "Jane@example.com",
            &["daily", "culture"],
            "ghost https://g",
            "k1",
            5,
        );
        e.signup.consent = Some(Consent {
            text: "Email me \"news\"".into(),
            version: "v3".into(),
            locale: "uk".into(),
            page: "https://news.example/a?b=1".into(),
            at_ms: 4,
        });
        e.lease = Some(("tab-1".into(), 99));
        e.signup.fields = vec![
            ("FNAME".into(), "Jane \"J\"".into()),
            ("LNAME".into(), "Doe".into()),
        ];
        e.max_age_ms = 3 * DAY;
        e.adapter = Some("0123456789abcdef".into());
        let mut q = PendingQueue::default();
        q.add(e.clone());
        let stored = q.to_storage();
        assert!(
            !stored.contains('\n') && !stored.contains(": "),
            "compact: {stored}"
        );
        let back = PendingQueue::load(Some(&stored), 10, PendingQueue::MAX_AGE_MS);
        assert_eq!(back.entries(), [e]);
        let v: serde_json::Value = serde_json::from_str(&stored).unwrap();
        assert_eq!(v[0]["v"], 1);
    }

    #[test]
    fn each_entry_waits_as_long_as_its_slot_allowed_and_never_past_the_cap() {
        let cap = PendingQueue::MAX_AGE_MS;
        let mut short = entry("a@example.com", &["daily"], "json /s", "k-short", 0);
        short.max_age_ms = DAY;
        let long = entry("b@example.com", &["daily"], "json /s", "k-long", 0);
        let mut q = PendingQueue::default();
        q.add(short);
        q.add(long);
        let keys = |now: u64| -> Vec<String> {
            PendingQueue::load(Some(&q.to_storage()), now, cap)
                .entries()
                .iter()
                .map(|e| e.signup.key.clone())
                .collect()
        };
        assert_eq!(keys(DAY), ["k-short", "k-long"]);
        assert_eq!(
            keys(DAY + 1),
            ["k-long"],
            "one day for the first, seven for the other"
        );
        assert_eq!(
            keys(PendingQueue::DEFAULT_MAX_AGE_MS + 1),
            Vec::<String>::new()
        );
        // A record that claims a longer wait than the cap is held to the cap.
        let stored = q.to_storage().replace(
            &format!("\"max_age_ms\":{}", PendingQueue::DEFAULT_MAX_AGE_MS),
            "\"max_age_ms\":999999999999999",
        );
        let kept = PendingQueue::load(Some(&stored), cap + 1, cap);
        assert!(kept.is_empty(), "{stored}");
        // A record written before the setting existed waits the default time.
        let old = q.to_storage().replace(",\"max_age_ms\":86400000", "");
        let loaded = PendingQueue::load(Some(&old), 0, cap);
        assert_eq!(
            loaded.entries()[0].max_age_ms,
            PendingQueue::DEFAULT_MAX_AGE_MS
        );
    }

    #[test]
    fn corrupted_and_foreign_values_are_dropped_without_a_panic() {
        let good = {
            let mut q = PendingQueue::default();
            q.add(entry("a@example.com", &["daily"], "json /s", "k", 0));
            q.to_storage()
        };
        let good_item = &good[1..good.len() - 1];
        for (stored, expected) in [
            ("", 0),
            ("not json", 0),
            ("{\"email\":\"a@example.com\"}", 0),
            ("[]", 0),
            ("[null, 3, \"x\", []]", 0),
            (&*format!("[{good_item}, 1, {{\"v\":1}}]"), 1),
            (&*good_item.replace("\"v\":1", "\"v\":2"), 0),
            (
                &*format!("[{}]", good_item.replace("\"v\":1", "\"v\":2")),
                0,
            ),
            (
                &*format!(
                    "[{}]",
                    good_item.replace("\"created_ms\":0", "\"created_ms\":-5")
                ),
                0,
            ),
            (
                &*format!(
                    "[{}]",
                    good_item.replace("\"created_ms\":0", "\"created_ms\":1e3")
                ),
                0,
            ),
            // A signup to the list alone (no newsletter ticked where none is required).
            (&*format!("[{}]", good_item.replace("[\"daily\"]", "[]")), 1),
            (
                &*format!("[{}]", good_item.replace("[\"daily\"]", "[7]")),
                0,
            ),
            (
                &*format!("[{}]", good_item.replace("a@example.com", "nobody")),
                0,
            ),
            (&good[..good.len() - 3], 0),
            (&*"[".repeat(10_000), 0),
        ] {
            let q = PendingQueue::load(Some(stored), 0, DAY);
            assert_eq!(q.entries().len(), expected, "{stored:.80}");
        }
        let broken_consent = good_item.replace("\"slot\"", "\"consent\":{\"text\":1},\"slot\"");
        assert!(PendingQueue::load(Some(&format!("[{broken_consent}]")), 0, DAY).is_empty());
    }

    #[test]
    fn entries_expire_after_the_configured_age_and_future_dates_are_dropped() {
        let mut q = PendingQueue::default();
        q.add(entry("old@example.com", &["d"], "t", "k1", 0));
        q.add(entry("new@example.com", &["d"], "t", "k2", 3 * DAY));
        q.add(entry("future@example.com", &["d"], "t", "k3", 30 * DAY));
        let loaded = PendingQueue::load(Some(&q.to_storage()), 4 * DAY, 2 * DAY);
        let emails: Vec<&str> = loaded
            .entries()
            .iter()
            .map(|e| e.signup.email.as_str())
            .collect();
        assert_eq!(emails, ["new@example.com"]);
        let mut kept = q.clone();
        kept.expire(4 * DAY, PendingQueue::DEFAULT_MAX_AGE_MS);
        assert_eq!(kept.entries().len(), 2);
    }

    #[test]
    fn the_same_signup_is_one_entry_whatever_the_newsletter_order() {
        let mut q = PendingQueue::default();
        q.add(entry(
            "a@example.com",
            &["daily", "culture"],
            "json /s",
            "first",
            0,
        ));
        let kept = q
            .add(entry(
                "a@example.com",
                &["culture", "daily"],
                "json /s",
                "second",
                1,
            ))
            .signup
            .key
            .clone();
        assert_eq!(
            kept, "first",
            "the first key stays, so the server can deduplicate"
        );
        q.add(entry("a@example.com", &["daily"], "json /s", "third", 2));
        q.add(entry(
            "a@example.com",
            &["daily", "culture"],
            "json /other",
            "fourth",
            3,
        ));
        q.add(entry(
            "A@example.com",
            &["daily", "culture"],
            "json /s",
            "fifth",
            4,
        ));
        assert_eq!(q.entries().len(), 4);
    }

    #[test]
    fn the_queue_is_bounded_and_drops_the_oldest() {
        let mut q = PendingQueue::default();
        for i in 0..(PendingQueue::MAX_ENTRIES + 5) {
            q.add(entry(
                &format!("r{i}@example.com"),
                &["d"],
                "t",
                &format!("k{i}"),
                i as u64,
            ));
        }
        assert_eq!(q.entries().len(), PendingQueue::MAX_ENTRIES);
        assert_eq!(q.entries()[0].signup.email, "r5@example.com");
    }

    #[test]
    fn withdrawing_drops_every_entry_for_the_address_and_remove_drops_one_key() {
        let mut q = PendingQueue::default();
        q.add(entry("a@example.com", &["d"], "t1", "k1", 0));
        q.add(entry("a@example.com", &["e"], "t2", "k2", 0));
        q.add(entry("b@example.com", &["d"], "t1", "k3", 0));
        assert_eq!(q.withdraw("a@example.com"), 2);
        assert_eq!(q.withdraw("a@example.com"), 0);
        assert!(q.remove("k3"));
        assert!(!q.remove("k3"));
        assert!(q.is_empty());
        assert_eq!(q.to_storage(), "[]");
    }

    #[test]
    fn a_lease_keeps_other_tabs_off_until_it_expires_or_is_released() {
        let mut q = PendingQueue::default();
        q.add(entry("a@example.com", &["d"], "t", "k1", 0));
        q.add(entry("b@example.com", &["d"], "other", "k2", 0));
        let a = q.claim("t", "tab-a", 100, 1_000);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].signup.key, "k1");
        let stored = q.to_storage();
        let mut seen_by_b = PendingQueue::load(Some(&stored), 200, DAY);
        assert!(seen_by_b.claim("t", "tab-b", 200, 1_000).is_empty());
        assert_eq!(
            q.claim("t", "tab-a", 300, 1_000).len(),
            1,
            "the holder may claim again"
        );
        q.release("k1");
        assert_eq!(q.claim("t", "tab-b", 400, 1_000).len(), 1);
        assert_eq!(seen_by_b.claim("t", "tab-b", 1_100, 1_000).len(), 1);
    }

    #[test]
    fn a_queued_signup_to_a_service_without_idempotency_is_not_kept_after_no_answer() {
        assert_eq!(
            settle(&Outcome::NetworkError, true, false),
            (Settlement::Drop, Outcome::MaybeSent)
        );
        assert_eq!(
            settle(&Outcome::NetworkError, false, false),
            (Settlement::Keep, Outcome::NetworkError),
            "offline, the request never left"
        );
        assert_eq!(
            settle(&Outcome::NetworkError, true, true),
            (Settlement::Keep, Outcome::NetworkError),
            "the JSON contract's key makes a repeat safe"
        );
        assert_eq!(
            settle(
                &Outcome::ChallengeFailed {
                    message: "x".into()
                },
                true,
                false
            )
            .0,
            Settlement::Keep
        );
    }

    #[test]
    fn a_queued_signup_keeps_its_key_and_never_its_challenge_token() {
        let mut envelope = crate::delivery::Envelope::example();
        envelope.challenge = Some("single-use-token".into());
        let mut q = PendingQueue::default();
        q.add(Pending::new(envelope.signup.clone(), "json /s", 9));
        let stored = q.to_storage();
        assert!(!stored.contains("single-use-token"), "{stored}");
        let again = PendingQueue::load(Some(&stored), 10, PendingQueue::DEFAULT_MAX_AGE_MS);
        assert_eq!(again.entries()[0].signup, envelope.signup);
    }
}
