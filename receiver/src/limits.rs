//! In-memory rate limits: a token bucket per key (client IP, or address), refilled evenly, that
//! answers how many seconds to wait when empty. Per process: with several processes behind a load
//! balancer each keeps its own buckets (the daily cap on confirmation emails is in the database
//! and so holds across processes). With PostgreSQL, `limits.shared_per_ip = true` keeps the per-IP
//! buckets in the database instead ([`crate::db::Db::take_token`]).
//!
//! ```
//! use std::time::{Duration, Instant};
//! use letterbox_receiver::limits::Limiter;
//! let limiter = Limiter::new(2, Duration::from_secs(60));
//! let t = Instant::now();
//! assert_eq!(limiter.check_at("1.2.3.4", t), Ok(()));
//! assert_eq!(limiter.check_at("1.2.3.4", t), Ok(()));
//! assert_eq!(limiter.check_at("1.2.3.4", t), Err(30));
//! ```

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most keys a limiter keeps by default; beyond it the least recently used are forgotten.
pub const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// A token-bucket limiter: `capacity` requests per `period`, as a burst, refilled evenly.
///
/// Memory is bounded: it keeps at most `max_keys` buckets. When a new key arrives and the table
/// is full, buckets that have refilled completely are dropped (a missing bucket is a full one, so
/// that changes nothing); if that is not enough, the least recently used tenth is dropped. A new
/// key is therefore always admitted: a flood of distinct keys can make the limiter forget some
/// older keys (they start again with a full bucket) but can never lock innocent readers out.
#[derive(Debug)]
pub struct Limiter {
    capacity: f64,
    per_second: f64,
    max_keys: usize,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Limiter {
    /// `capacity` requests per `period`; a capacity of 0 turns the limiter off.
    pub fn new(capacity: u32, period: Duration) -> Limiter {
        Limiter::with_max_keys(capacity, period, MAX_KEYS)
    }

    /// [`Limiter::new`] keeping at most `max_keys` buckets (at least 16).
    pub fn with_max_keys(capacity: u32, period: Duration, max_keys: usize) -> Limiter {
        let secs = period.as_secs_f64().max(0.001);
        Limiter {
            capacity: f64::from(capacity),
            per_second: f64::from(capacity) / secs,
            max_keys: max_keys.max(16),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// How many keys it holds now.
    pub fn len(&self) -> usize {
        match self.buckets.lock() {
            Ok(b) => b.len(),
            Err(poisoned) => poisoned.into_inner().len(),
        }
    }

    /// Whether it holds no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes one token for `key` now; `Err(seconds)` to wait when there is none.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        self.check_at(key, Instant::now())
    }

    /// [`Limiter::check`] at a given instant (for tests).
    pub fn check_at(&self, key: &str, now: Instant) -> Result<(), u64> {
        if self.capacity <= 0.0 {
            return Ok(());
        }
        let mut buckets = match self.buckets.lock() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        };
        if buckets.len() >= self.max_keys && !buckets.contains_key(key) {
            self.evict(&mut buckets, now);
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.capacity,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - bucket.tokens) / self.per_second).ceil();
            Err((wait as u64).max(1))
        }
    }

    /// Makes room: drops full buckets, then (if still at least 90 % full) the least recently
    /// used buckets down to 90 % of `max_keys`. Linear in the table size, and run at most once
    /// per tenth of `max_keys` new keys, so constant per request on average.
    fn evict(&self, buckets: &mut HashMap<String, Bucket>, now: Instant) {
        let (capacity, rate) = (self.capacity, self.per_second);
        buckets.retain(|_, b| {
            b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < capacity
        });
        let keep = self.max_keys - self.max_keys / 10;
        if buckets.len() <= keep {
            return;
        }
        let mut ages: Vec<Instant> = buckets.values().map(|b| b.at).collect();
        let cut = buckets.len() - keep;
        let (_, nth, _) = ages.select_nth_unstable(cut - 1);
        let oldest_kept = *nth;
        let mut to_drop = cut;
        buckets.retain(|_, b| {
            if to_drop > 0 && b.at <= oldest_kept {
                to_drop -= 1;
                false
            } else {
                true
            }
        });
    }
}

/// The key a client address is limited under: an IPv4 address as is (also when written as an
/// IPv4-mapped IPv6 address), an IPv6 address cut to its first `ipv6_prefix` bits (64 by
/// default: one household or server usually holds a whole /64, so limiting single IPv6 addresses
/// limits nothing).
///
/// ```
/// use letterbox_receiver::limits::ip_key;
/// assert_eq!(ip_key("2001:db8:1:2:3:4:5:6".parse().unwrap(), 64), "2001:db8:1:2::/64");
/// assert_eq!(ip_key("::ffff:192.0.2.7".parse().unwrap(), 64), "192.0.2.7");
/// ```
pub fn ip_key(ip: IpAddr, ipv6_prefix: u8) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4.to_string();
            }
            let prefix = ipv6_prefix.clamp(1, 128);
            let bits = u128::from(v6);
            let mask = if prefix == 128 {
                u128::MAX
            } else {
                !(u128::MAX >> prefix)
            };
            let net = std::net::Ipv6Addr::from(bits & mask);
            format!("{net}/{prefix}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_refills_over_time() {
        let l = Limiter::new(1, Duration::from_secs(10));
        let t = Instant::now();
        assert_eq!(l.check_at("a", t), Ok(()));
        assert_eq!(l.check_at("a", t), Err(10));
        assert_eq!(l.check_at("b", t), Ok(()));
        assert_eq!(l.check_at("a", t + Duration::from_secs(10)), Ok(()));
    }

    #[test]
    fn zero_capacity_means_no_limit() {
        let l = Limiter::new(0, Duration::from_secs(1));
        for _ in 0..100 {
            assert_eq!(l.check("a"), Ok(()));
        }
    }

    #[test]
    fn a_flood_of_200k_distinct_keys_never_locks_a_new_key_out_and_memory_stays_bounded() {
        let l = Limiter::new(6, Duration::from_secs(3600));
        let t = Instant::now();
        // Every flood key has spent a token, so none of them is idle.
        for i in 0..200_000 {
            assert_eq!(l.check_at(&format!("flood{i}@example.com"), t), Ok(()));
        }
        assert!(l.len() <= MAX_KEYS, "{} keys kept", l.len());
        for i in 0..100 {
            assert_eq!(
                l.check_at(&format!("reader{i}@example.com"), t),
                Ok(()),
                "a new reader was refused after the flood"
            );
        }
        assert!(l.len() <= MAX_KEYS);
    }

    #[test]
    fn eviction_keeps_the_recently_used_buckets() {
        let l = Limiter::with_max_keys(1, Duration::from_secs(3600), 100);
        let t = Instant::now();
        assert_eq!(l.check_at("busy", t), Ok(()));
        for i in 0..99 {
            assert_eq!(
                l.check_at(&format!("k{i}"), t + Duration::from_secs(1)),
                Ok(())
            );
        }
        // "busy" is used again: it is now among the most recent and keeps its empty bucket.
        assert_eq!(l.check_at("busy", t + Duration::from_secs(2)), Err(3598));
        for i in 0..30 {
            let _ = l.check_at(&format!("n{i}"), t + Duration::from_secs(3));
        }
        assert!(l.len() <= 100);
        assert!(l.check_at("busy", t + Duration::from_secs(4)).is_err());
    }

    #[test]
    fn ipv6_addresses_share_a_bucket_per_prefix() {
        let a: IpAddr = "2001:db8:aa:bb:1::1".parse().unwrap();
        let b: IpAddr = "2001:db8:aa:bb:ffff::2".parse().unwrap();
        let c: IpAddr = "2001:db8:aa:bc::1".parse().unwrap();
        assert_eq!(ip_key(a, 64), ip_key(b, 64));
        assert_ne!(ip_key(a, 64), ip_key(c, 64));
        assert_eq!(ip_key(a, 48), ip_key(c, 48));
        assert_ne!(ip_key(a, 128), ip_key(b, 128));
        assert_eq!(ip_key("10.0.0.1".parse().unwrap(), 64), "10.0.0.1");
    }
}
