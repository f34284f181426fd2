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
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most keys kept before full (idle) buckets are dropped.
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// A token-bucket limiter: `capacity` requests per `period`, as a burst, refilled evenly.
#[derive(Debug)]
pub struct Limiter {
    capacity: f64,
    per_second: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Limiter {
    /// `capacity` requests per `period`; a capacity of 0 turns the limiter off.
    pub fn new(capacity: u32, period: Duration) -> Limiter {
        let secs = period.as_secs_f64().max(0.001);
        Limiter {
            capacity: f64::from(capacity),
            per_second: f64::from(capacity) / secs,
            buckets: Mutex::new(HashMap::new()),
        }
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
        if buckets.len() >= MAX_KEYS && !buckets.contains_key(key) {
            let (capacity, rate) = (self.capacity, self.per_second);
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < capacity
            });
            if buckets.len() >= MAX_KEYS {
                // Still full of active keys: refuse newcomers briefly rather than grow without bound.
                return Err(1);
            }
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
}
